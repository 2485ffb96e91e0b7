import type { NestContainer } from '@nestjs/core';
import type { ModulesContainer } from '@nestjs/core';
import { ExternalExceptionFilterContext } from '@nestjs/core/exceptions/external-exception-filter-context.js';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { firstValueFrom, isObservable } from 'rxjs';
import { MESH_CONTEXT_TYPE } from './socket-mesh.constants.js';

type Handler = (...args: unknown[]) => Promise<unknown>;

/**
 * Exception filters of mesh handlers: those bound with `@UseFilters()` to the provider class
 * or the method. The app's global filters (`useGlobalFilters`, `APP_FILTER`) are left out, as
 * Nest leaves them out of a hybrid app's microservice handlers by default: they are usually
 * written for HTTP (`host.switchToHttp().getResponse().status(...)`) and would break here.
 */
export class MeshHandlerFilters {
  private readonly filters: ExternalExceptionFilterContext;

  constructor(modules: ModulesContainer) {
    // The filter context reads only `getModules()` of the container (to find filter instances
    // in the host's module); no application config means no global filters.
    this.filters = new ExternalExceptionFilterContext({ getModules: () => modules } as unknown as NestContainer, undefined);
  }

  /** `run` with the filters of `callback` around it, and Nest RpcExceptions made to keep their error. */
  wrap(instance: object, callback: (...args: unknown[]) => unknown, moduleKey: string, run: Handler): Handler {
    const handler = this.filters.create(instance, callback as Parameters<ExternalExceptionFilterContext['create']>[1], moduleKey);
    return async (...args: unknown[]) => {
      try {
        return await run(...args);
      } catch (err) {
        try {
          const host = new ExecutionContextHost(args);
          host.setType(MESH_CONTEXT_TYPE);
          const result: unknown = handler.next(err as Error, host);
          return isObservable(result) ? await firstValueFrom(result, { defaultValue: undefined }) : await result;
        } catch (final) {
          throw keepRpcError(final);
        }
      }
    };
  }
}

/**
 * A Nest `RpcException` (duck-typed: `getError()`, no `getResponse()`) as an error whose
 * `getResponse()` is its error object, so it reaches the caller as `MeshError.response`.
 */
function keepRpcError(err: unknown): unknown {
  if (typeof err !== 'object' || err === null) return err;
  const e = err as { getError?: unknown; getResponse?: unknown; message?: unknown };
  if (typeof e.getError !== 'function' || typeof e.getResponse === 'function') return err;
  const error: unknown = (e.getError as () => unknown).call(err);
  const message = typeof error === 'string' ? error : typeof e.message === 'string' ? e.message : 'Rpc Exception';
  // RpcException leaves `name` as 'Error'; its class name says more.
  const name = (err as object).constructor?.name || 'RpcException';
  return Object.assign(new Error(message), { name, getResponse: () => error });
}
