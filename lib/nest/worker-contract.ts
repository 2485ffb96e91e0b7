import type { Observable } from 'rxjs';
import type { CallOptions } from '../core/mesh-node.js';
import type { MeshHandlerContext } from './mesh-handler-context.js';

/** How a declared command answers its caller. */
export type ContractKind = 'balanced' | 'responds' | 'queued' | 'broadcast';

/** One command of a worker contract: its kind at run time, payload and answer as types only. */
export interface ContractCommand<P, R, K extends ContractKind> {
  readonly kind: K;
  /** Carries the types; never set. */
  readonly types?: { payload: P; result: R };
}

/** Declares the commands of a contract: `balanced<P, R>()`, `responds<P, R>()`, `queued<P>()`, `broadcast<P>()`. */
export const command = {
  balanced: <P, R>(): ContractCommand<P, R, 'balanced'> => ({ kind: 'balanced' }),
  responds: <P, R>(): ContractCommand<P, R, 'responds'> => ({ kind: 'responds' }),
  queued: <P>(): ContractCommand<P, unknown, 'queued'> => ({ kind: 'queued' }),
  broadcast: <P>(): ContractCommand<P, unknown, 'broadcast'> => ({ kind: 'broadcast' }),
} as const;

type AnyCommand = ContractCommand<never, unknown, ContractKind> | ContractCommand<unknown, unknown, ContractKind>;

/** One declaration of a worker's commands, shared by the worker (implements) and its callers (`mesh.node(contract)`). */
export interface WorkerContract<N extends string = string, C extends Record<string, AnyCommand> = Record<string, AnyCommand>> {
  readonly name: N;
  readonly commands: C;
}

/** `defineWorker('NodeB', { status: command.balanced<{ test: string }, { status: string }>(), … })`. */
export function defineWorker<const N extends string, const C extends Record<string, AnyCommand>>(
  name: N,
  commands: C,
): WorkerContract<N, C> {
  return { name, commands };
}

type PayloadOf<C> = C extends { types?: { payload: infer P } } ? P : never;
type ResultOf<C> = C extends { types?: { result: infer R } } ? R : never;

/** What the caller gets for one command: the answer, an array of answers, `{ queued }` or `{ delivered }`. */
export type ContractAnswer<C> = C extends { kind: 'balanced' }
  ? ResultOf<C>
  : C extends { kind: 'responds' }
    ? ResultOf<C>[]
    : C extends { kind: 'queued' }
      ? { queued: number }
      : { delivered: number };

/** The caller's view of a contract: `mesh.node(NodeB).status(payload, options?)`. */
export type MeshContractProxy<W extends WorkerContract> = {
  readonly [K in keyof W['commands']]: (
    ...args: undefined extends PayloadOf<W['commands'][K]>
      ? [payload?: PayloadOf<W['commands'][K]>, options?: CallOptions]
      : [payload: PayloadOf<W['commands'][K]>, options?: CallOptions]
  ) => Promise<ContractAnswer<W['commands'][K]>>;
};

/**
 * What the worker's provider must have: `class StatusService implements MeshImplementation<typeof NodeB>`
 * makes tsc check every command's payload and answer against the contract.
 */
export type MeshImplementation<W extends WorkerContract> = {
  [K in keyof W['commands']]: (
    payload: PayloadOf<W['commands'][K]>,
    context: MeshHandlerContext,
  ) => W['commands'][K] extends { kind: 'balanced' | 'responds' }
    ? ResultOf<W['commands'][K]> | Promise<ResultOf<W['commands'][K]>> | Observable<ResultOf<W['commands'][K]>>
    : unknown;
};
