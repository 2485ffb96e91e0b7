/**
 * What a node's ready() waits for: its first registration with a manager. It fails when a
 * manager refuses the node, or the node closes, before that; later refusals and registrations
 * change nothing. Never reported as unhandled: a plain node that only serves may not await it.
 */
export class FirstRegistration {
  readonly promise: Promise<void>;
  #settled = false;
  #resolve!: () => void;
  #reject!: (err: Error) => void;

  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.promise.catch(() => undefined);
  }

  registered(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve();
  }

  failed(err: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(err);
  }
}
