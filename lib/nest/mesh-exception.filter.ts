import { Catch, Optional, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { MeshError, MeshErrorCode } from '../core/errors.js';

/** Codes that mean "try again later": nobody to serve it now, or no room for it. */
const UNAVAILABLE: readonly string[] = [
  MeshErrorCode.NO_PEER,
  MeshErrorCode.OVERLOADED,
  MeshErrorCode.QUEUE_FULL,
  MeshErrorCode.QUEUE_UNAVAILABLE,
];

/**
 * The HTTP answer for a MeshError at a gateway: a remote HttpException keeps its status and
 * body; MESH_NO_PEER, MESH_OVERLOADED and the queue codes are 503, MESH_TIMEOUT is 504, the rest
 * 502. A remote error that is not an HttpException does not show its message (it is another
 * service's internals), only its code.
 */
export function meshErrorToHttp(error: MeshError): { status: number; body: unknown } {
  if (
    error.code === MeshErrorCode.REMOTE_ERROR &&
    typeof error.status === 'number' &&
    error.status >= 400 &&
    error.status <= 599
  ) {
    return { status: error.status, body: error.response ?? { statusCode: error.status, message: error.message } };
  }
  const status = UNAVAILABLE.includes(error.code) ? 503 : error.code === MeshErrorCode.TIMEOUT ? 504 : 502;
  const message = error.code === MeshErrorCode.REMOTE_ERROR ? 'Bad Gateway' : error.message;
  return { status, body: { statusCode: status, code: error.code, message } };
}

interface ExpressLike {
  status(code: number): { json(body: unknown): unknown };
}
interface FastifyLike {
  code(code: number): { send(body: unknown): unknown };
}

/**
 * For HTTP apps that call the mesh: turns a MeshError thrown by a route into the HTTP answer
 * of `meshErrorToHttp`. `app.useGlobalFilters(new MeshExceptionFilter())`, `APP_FILTER` or
 * `@UseFilters(MeshExceptionFilter)`. Other errors are not caught here.
 */
@Catch(MeshError)
export class MeshExceptionFilter implements ExceptionFilter<MeshError> {
  constructor(@Optional() private readonly adapterHost?: HttpAdapterHost) {}

  catch(error: MeshError, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw error; // not an HTTP request: leave it to its own context
    const { status, body } = meshErrorToHttp(error);
    const response: unknown = host.switchToHttp().getResponse();
    const adapter = this.adapterHost?.httpAdapter;
    if (adapter) {
      adapter.reply(response, body, status);
    } else if (typeof (response as Partial<ExpressLike>).status === 'function') {
      (response as ExpressLike).status(status).json(body);
    } else {
      (response as FastifyLike).code(status).send(body);
    }
  }
}
