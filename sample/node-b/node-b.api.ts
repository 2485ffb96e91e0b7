/**
 * NodeB as its callers see it: what `mesh.node<NodeBApi>('NodeB')` returns. Note the
 * broadcast's type: one answer per NodeB instance, not the handler's single value.
 */
export interface StatusAnswer {
  status: string;
  variant: string;
}

export interface CollectAnswer {
  command: string;
  variant: string;
}

export interface NodeBApi {
  status(payload: { test: string }): Promise<StatusAnswer>;
  collect(payload: { test: string }): Promise<CollectAnswer[]>;
  ingest(payload: { seq: number }): Promise<{ queued: number }>;
}
