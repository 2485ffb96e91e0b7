import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { MeshHandlerContext } from '../../lib/index.js';

/**
 * Lets only the listed workers run NodeB's commands, by the caller the handshake proved (not by
 * anything in the payload). A refusal reaches the caller as MESH_REMOTE_ERROR with status 403.
 */
@Injectable()
export class CallersGuard implements CanActivate {
  private static readonly allowed = new Set(['NodeA']);

  canActivate(context: ExecutionContext): boolean {
    if (context.getType<string>() !== 'mesh') return true;
    return CallersGuard.allowed.has(context.switchToRpc().getContext<MeshHandlerContext>().caller.worker);
  }
}
