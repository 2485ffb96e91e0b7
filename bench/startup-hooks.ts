/** Module hooks for `startup.ts --list`: reports every URL the ESM loader resolves. */
import type { MessagePort } from 'node:worker_threads';

let port: MessagePort | undefined;

export function initialize(data: { port: MessagePort }): void {
  port = data.port;
}

type Resolve = (
  specifier: string,
  context: unknown,
  next: (s: string, c: unknown) => Promise<{ url: string }>,
) => Promise<{ url: string }>;

export const resolve: Resolve = async (specifier, context, next) => {
  const result = await next(specifier, context);
  port?.postMessage(result.url);
  return result;
};
