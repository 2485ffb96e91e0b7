import { ContextIdFactory, type ModuleRef } from '@nestjs/core';
import type { ContextId } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/internal';

/**
 * Instances of a request-scoped or transient provider, one per mesh call (or per event), as
 * Nest's HTTP and microservice layers make them: a context id per request (so a global
 * `ContextIdStrategy` can make trees durable), the request registered as `REQUEST` under it,
 * and the provider resolved in that context with its own scoped dependencies.
 */
export class ScopedInstances {
  constructor(private readonly moduleRef: ModuleRef) {}

  /** The provider's instance for this request, and the context id its enhancers must use. */
  async forRequest(wrapper: InstanceWrapper, request: object): Promise<{ instance: object; contextId: ContextId }> {
    const contextId = ContextIdFactory.getByRequest(request);
    const payload = (contextId as { payload?: object }).payload;
    // As @nestjs/microservices does: a durable tree sees the strategy's payload as REQUEST.
    const value = wrapper.isDependencyTreeDurable() && payload !== undefined ? payload : Object.assign(request, payload);
    this.moduleRef.registerRequestByContextId(value, contextId);
    const instance = await this.moduleRef.resolve<object>(wrapper.token as never, contextId, { strict: false });
    return { instance, contextId };
  }
}
