import { Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { isAuthorized } from '../core/manager-http/http-auth.js';
import type { ResolvedManagerOptions } from './socket-mesh.providers.js';
import { SOCKET_MESH_MANAGER_OPTIONS } from './socket-mesh.constants.js';

/**
 * The manager's `httpAuth: { token }` for the Nest routes that show the registry. The app's own
 * global guards run before it, so an app may protect these routes its own way instead.
 */
@Injectable()
export class MeshHttpAuthGuard implements CanActivate {
  constructor(@Inject(SOCKET_MESH_MANAGER_OPTIONS) private readonly options: ResolvedManagerOptions) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>();
    const header = request.headers.authorization;
    if (isAuthorized(this.options.httpAuth, Array.isArray(header) ? header[0] : header)) return true;
    throw new UnauthorizedException('a bearer token is required');
  }
}
