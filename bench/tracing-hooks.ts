/** Module hooks for `tracing.ts`'s "absent" mode: '@opentelemetry/*' resolves as if not installed. */
type Next = (specifier: string, context: unknown) => Promise<{ url: string }>;

export async function resolve(specifier: string, context: unknown, next: Next): Promise<{ url: string }> {
  if (specifier.startsWith('@opentelemetry/')) {
    throw Object.assign(new Error(`Cannot find package '${specifier}' (bench: absent mode)`), { code: 'ERR_MODULE_NOT_FOUND' });
  }
  return next(specifier, context);
}
