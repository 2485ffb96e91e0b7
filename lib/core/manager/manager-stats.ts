/** What the manager counts, for benchmarks and monitoring (`manager.stats`). */
export class ManagerStats {
  /** Registrations accepted. */
  registrations = 0;
  /** Topology messages sent to workers (one per worker whose view changed). */
  topologyMessages = 0;
  /** Workers compared for a topology change (the work of a push, messages or not). */
  topologyChecks = 0;
}
