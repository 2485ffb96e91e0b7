import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import {
  DiscoveryService,
  ExternalContextCreator,
  MetadataScanner,
  ModuleRef,
  ModulesContainer,
  type ContextId,
  type ParamsFactory,
} from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/internal';
import { firstValueFrom, isObservable } from 'rxjs';
import type { CommandHandler, CommandKind, LocalCommand } from '../core/command-spec.js';
import type { MeshEventPayload } from '../core/mesh-node.js';
import { normalizeCommandSpec } from '../core/schema.js';
import { MeshError, MeshErrorCode } from '../core/errors.js';
import { handlerContext } from '../core/handler-context.js';
import { MeshParamType } from './decorators/mesh-params.decorator.js';
import type { MeshHandlerContext, MeshRequest } from './mesh-handler-context.js';
import { MeshHandlerFilters } from './mesh-handler-errors.js';
import { ScopedInstances } from './scoped-instances.js';
import {
  BALANCED_METADATA,
  BROADCAST_METADATA,
  MESH_ARGS_METADATA,
  MESH_CONTEXT_TYPE,
  MESH_EVENTS,
  ON_MESH_EVENT_METADATA,
  SOCKET_MESH_LOGGER_CONTEXT,
  SOCKET_MESH_WORKER_NAME,
  type MeshEventName,
} from './socket-mesh.constants.js';
import { bothKindsMessage, duplicateCommandMessage, unknownEventMessage } from './socket-mesh.messages.js';

/** A provider method listening to a mesh event. */
export interface MeshEventListener {
  event: MeshEventName;
  /** `Class.method`, for logs. */
  label: string;
  handler: (payload: MeshEventPayload) => unknown;
}

/** Argument 0 of a mesh handler is the payload, argument 1 the MeshHandlerContext. */
const MESH_PARAMS_FACTORY: ParamsFactory = {
  exchangeKeyForValue: (type: number, data: unknown, args: unknown[]) => {
    if (type === MeshParamType.CONTEXT) return args?.[1];
    const payload = args?.[0];
    return typeof data === 'string' && typeof payload === 'object' && payload !== null
      ? (payload as Record<string, unknown>)[data]
      : payload;
  },
};

type Methods = Record<string, (...args: unknown[]) => unknown>;

/**
 * At `onModuleInit`, finds every `@Balanced`, `@Broadcast` and `@OnMeshEvent` method of the
 * app's singleton providers and controllers and builds this worker's command table. Handlers
 * run through Nest's ExternalContextCreator with context type 'mesh', so guards, pipes,
 * interceptors and exception filters apply as for a controller route.
 */
@Injectable()
export class SocketMeshExplorer implements OnModuleInit {
  private readonly logger = new Logger(SOCKET_MESH_LOGGER_CONTEXT);
  private commandList: LocalCommand[] = [];
  private listenerList: MeshEventListener[] = [];
  private settle!: { resolve(): void; reject(err: unknown): void };
  private readonly filters: MeshHandlerFilters;
  private readonly scoped: ScopedInstances;
  /** Resolves once the command table is built (rejects when it could not be). */
  readonly explored: Promise<void>;

  constructor(
    @Inject(SOCKET_MESH_WORKER_NAME) private readonly worker: string,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly contextCreator: ExternalContextCreator,
    modules: ModulesContainer,
    moduleRef: ModuleRef,
  ) {
    this.filters = new MeshHandlerFilters(modules);
    this.scoped = new ScopedInstances(moduleRef);
    this.explored = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.explored.catch(() => undefined);
  }

  get commands(): readonly LocalCommand[] {
    return this.commandList;
  }

  get listeners(): readonly MeshEventListener[] {
    return this.listenerList;
  }

  onModuleInit(): void {
    try {
      this.explore();
      this.settle.resolve();
    } catch (err) {
      this.settle.reject(err);
      throw err;
    }
  }

  private explore(): void {
    const commands: LocalCommand[] = [];
    const owners = new Map<string, string>();
    const listeners: MeshEventListener[] = [];
    const seen = new Set<object>();
    const wrappers: InstanceWrapper[] = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    for (const wrapper of wrappers) {
      const instance: unknown = wrapper.instance;
      if (wrapper.isAlias || !instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as Methods | null;
      if (!prototype || seen.has(instance)) continue;
      const names = this.scanner.getAllMethodNames(prototype).filter((name) => this.isMeshMethod(prototype[name]));
      if (names.length === 0) continue;
      const className = (instance as object).constructor?.name || String(wrapper.name);
      // Request-scoped and transient providers get an instance per call, as in HTTP controllers.
      const perCall = !wrapper.isDependencyTreeStatic() || wrapper.isTransient ? wrapper : undefined;
      seen.add(instance);
      for (const name of names) {
        const method = prototype[name];
        const label = `${className}.${name}`;
        this.collectListeners(instance, method, label, listeners, perCall);
        const command = this.commandOf(instance, prototype, name, label, String(wrapper.host?.token ?? ''), perCall);
        if (!command) continue;
        const first = owners.get(command.name);
        if (first !== undefined) {
          throw new MeshError(MeshErrorCode.SCHEMA_INVALID, duplicateCommandMessage(this.worker, command.name, first, label));
        }
        owners.set(command.name, label);
        commands.push(command);
      }
    }
    this.commandList = commands;
    this.listenerList = listeners;
    if (commands.length > 0) {
      this.logger.log(`worker '${this.worker}' serves ${commands.map((c) => `${c.name} (${describeKind(c)})`).join(', ')}`);
    }
  }

  private isMeshMethod(method: unknown): boolean {
    if (typeof method !== 'function') return false;
    return (
      Reflect.hasOwnMetadata(BALANCED_METADATA, method) ||
      Reflect.hasOwnMetadata(BROADCAST_METADATA, method) ||
      Reflect.hasOwnMetadata(ON_MESH_EVENT_METADATA, method)
    );
  }

  private collectListeners(
    instance: object,
    method: (...args: unknown[]) => unknown,
    label: string,
    into: MeshEventListener[],
    perCall: InstanceWrapper | undefined,
  ): void {
    const events = Reflect.getOwnMetadata(ON_MESH_EVENT_METADATA, method) as unknown[] | undefined;
    for (const event of events ?? []) {
      if (!(MESH_EVENTS as readonly unknown[]).includes(event)) {
        throw new MeshError(MeshErrorCode.SCHEMA_INVALID, unknownEventMessage(label, event, MESH_EVENTS));
      }
      const handler = perCall
        ? async (payload: MeshEventPayload) =>
            method.call((await this.scoped.forRequest(perCall, { event, ...payload })).instance, payload)
        : (payload: MeshEventPayload) => method.call(instance, payload);
      into.push({ event: event as MeshEventName, label, handler });
    }
  }

  private commandOf(
    instance: object,
    prototype: Methods,
    methodName: string,
    label: string,
    moduleKey: string,
    perCall: InstanceWrapper | undefined,
  ): LocalCommand | undefined {
    const method = prototype[methodName];
    const balanced: unknown = Reflect.getOwnMetadata(BALANCED_METADATA, method);
    const broadcast: unknown = Reflect.getOwnMetadata(BROADCAST_METADATA, method);
    if (balanced === undefined && broadcast === undefined) return undefined;
    if (balanced !== undefined && broadcast !== undefined) {
      throw new MeshError(MeshErrorCode.SCHEMA_INVALID, bothKindsMessage(this.worker, label));
    }
    const kind: CommandKind = balanced !== undefined ? 'balanced' : 'broadcast';
    const options = balanced ?? broadcast;
    const rename = (options as { name?: unknown } | null)?.name;
    const name = typeof rename === 'string' && rename.length > 0 ? rename : methodName;
    // Names the worker and the command; refuses responds + queued, bad timeouts, unknown keys.
    const spec = normalizeCommandSpec(this.worker, name, kind, options as Parameters<typeof normalizeCommandSpec>[3]);
    // The same context as the plain API's handlers get (MeshHandlerContext has its shape).
    let handler: CommandHandler;
    if (perCall) {
      handler = async (payload, call) => {
        const context = handlerContext(this.worker, name, kind, call);
        const request: MeshRequest = { ...context, payload };
        const scoped = await this.scoped.forRequest(perCall, request);
        const run = this.createContextualHandler(scoped.instance, method, methodName, moduleKey, scoped.contextId, perCall.id);
        return run(payload, context);
      };
    } else {
      const run = this.createContextualHandler(instance, method, methodName, moduleKey);
      handler = (payload, call) => run(payload, handlerContext(this.worker, name, kind, call));
    }
    return { name, ...spec, handler };
  }

  private createContextualHandler(
    instance: object,
    method: (...args: unknown[]) => unknown,
    methodName: string,
    moduleKey: string,
    contextId?: ContextId,
    inquirerId?: string,
  ): (payload: unknown, context: MeshHandlerContext) => Promise<unknown> {
    const host = instance.constructor;
    // An undecorated first parameter is the payload, typed 'body' for pipes like ValidationPipe.
    const params =
      (Reflect.getMetadata(MESH_ARGS_METADATA, host, methodName) as Record<string, { index: number }> | undefined) ?? {};
    if (!Object.values(params).some((param) => param.index === 0)) {
      const payload = { index: 0, data: undefined, pipes: [] };
      Reflect.defineMetadata(MESH_ARGS_METADATA, { ...params, [`${MeshParamType.PAYLOAD}:0`]: payload }, host, methodName);
    }
    const callback = firstValueOf(method);
    const run = this.contextCreator.create(
      instance,
      callback,
      methodName,
      MESH_ARGS_METADATA,
      MESH_PARAMS_FACTORY,
      contextId,
      inquirerId,
      { guards: true, interceptors: true, filters: false },
      MESH_CONTEXT_TYPE,
    );
    return this.filters.wrap(instance, callback, moduleKey, run as (...args: unknown[]) => Promise<unknown>);
  }
}

/**
 * The method, with an Observable result replaced by its first value (undefined when it
 * completes empty). It carries the method's metadata, so method-level guards, pipes,
 * interceptors and filters, and `Reflector` lookups on `context.getHandler()`, still find it.
 */
function firstValueOf(method: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    const result = method.apply(this, args);
    return isObservable(result) ? firstValueFrom(result, { defaultValue: undefined }) : result;
  };
  for (const key of Reflect.getOwnMetadataKeys(method)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, method), wrapped);
  }
  Object.defineProperty(wrapped, 'name', { value: method.name });
  return wrapped;
}

function describeKind(command: LocalCommand): string {
  if (command.kind === 'balanced') return 'balanced';
  return command.responds ? 'broadcast, responds' : command.queued ? 'broadcast, queued' : 'broadcast';
}
