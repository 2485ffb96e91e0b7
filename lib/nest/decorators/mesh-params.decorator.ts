import type { PipeTransform, Type } from '@nestjs/common';
import { MESH_ARGS_METADATA } from '../socket-mesh.constants.js';

/**
 * Parameter kinds of a mesh handler. The payload uses the number of Nest's `@Body()`, so pipes
 * see `type: 'body'` and a default `ValidationPipe` validates it; the context is `'custom'`.
 */
export const MeshParamType = { PAYLOAD: 3, CONTEXT: 1001 } as const;

type Pipe = Type<PipeTransform> | PipeTransform;

interface MeshParamMetadata {
  index: number;
  data: string | undefined;
  pipes: Pipe[];
}

function meshParam(type: number, data: string | undefined, pipes: Pipe[]): ParameterDecorator {
  return (target, key, index) => {
    if (key === undefined) return;
    const host = target.constructor;
    const args = (Reflect.getMetadata(MESH_ARGS_METADATA, host, key) as Record<string, MeshParamMetadata> | undefined) ?? {};
    Reflect.defineMetadata(MESH_ARGS_METADATA, { ...args, [`${type}:${index}`]: { index, data, pipes } }, host, key);
  };
}

/**
 * The payload of a mesh command (or one property of it: `@MeshPayload('id')`), with optional
 * pipes. Without any decorator the first parameter is the payload too. Pipes see it as
 * `type: 'body'` with the parameter's class as `metatype`, so `ValidationPipe` validates DTOs.
 */
export function MeshPayload(...pipes: Pipe[]): ParameterDecorator;
export function MeshPayload(property: string, ...pipes: Pipe[]): ParameterDecorator;
export function MeshPayload(propertyOrPipe?: string | Pipe, ...pipes: Pipe[]): ParameterDecorator {
  if (typeof propertyOrPipe === 'string') return meshParam(MeshParamType.PAYLOAD, propertyOrPipe, pipes);
  return meshParam(MeshParamType.PAYLOAD, undefined, propertyOrPipe === undefined ? pipes : [propertyOrPipe, ...pipes]);
}

/**
 * The mesh context of the running command: `{ worker, command, kind, caller: { worker, variant },
 * metadata }` (see `MeshHandlerContext`). Guards and interceptors get the same object from
 * `context.switchToRpc().getContext()`.
 */
export function MeshContext(): ParameterDecorator {
  return meshParam(MeshParamType.CONTEXT, undefined, []);
}
