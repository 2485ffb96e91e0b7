import type { RegistryEntry } from '../core/manager/registry.js';
import { parseCommandArgs, tokenFromEnv } from './args.js';
import { CliError } from './cli-error.js';

const COLUMNS = ['WORKER', 'VARIANT', 'ADDRESS', 'SINCE', 'CONNECT', 'ALLOW', 'COMMANDS'] as const;

const list = (value: string[] | 'anyNode') => (value === 'anyNode' ? 'anyNode' : value.join(',') || '-');
const address = (e: RegistryEntry) => `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;

/** The registry as a plain-text table, columns padded to their widest cell. */
export function formatNodesTable(entries: readonly RegistryEntry[]): string {
  if (entries.length === 0) return 'no instance registered\n';
  const rows = [...entries]
    .sort((a, b) => a.worker.localeCompare(b.worker) || a.variant.localeCompare(b.variant))
    .map((e) => [e.worker, e.variant, address(e), e.registeredAt, list(e.connect), list(e.allow), e.commands.join(',') || '-']);
  const table = [[...COLUMNS], ...rows];
  const widths = COLUMNS.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  return table.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

/** `socket-mesh nodes --url http://manager:3000 [--token-env NAME] [--json]`. */
export async function nodesCommand(args: string[]): Promise<void> {
  const values = parseCommandArgs('nodes', args, {
    url: { type: 'string' },
    'token-env': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.url === undefined)
    throw new CliError("socket-mesh nodes: --url is required (the manager's HTTP address, http://host:port)");
  let base: URL;
  try {
    base = new URL(values.url);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new CliError(`socket-mesh nodes: --url must be an http(s) URL such as http://manager:3000, got '${values.url}'`);
  }
  const token = tokenFromEnv('nodes', values['token-env']);
  const url = new URL('socket-mesh/nodes', base.href.endsWith('/') ? base.href : `${base.href}/`);
  let res: Response;
  try {
    res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    throw new CliError(`socket-mesh nodes: cannot reach ${url.href}: ${e.cause?.code ?? e.cause?.message ?? e.message}`, 1);
  }
  if (res.status === 401)
    throw new CliError(`socket-mesh nodes: ${url.href} answered 401 unauthorized (give the token with --token-env NAME)`, 1);
  if (!res.ok) throw new CliError(`socket-mesh nodes: ${url.href} answered HTTP ${res.status}`, 1);
  const entries = (await res.json()) as RegistryEntry[];
  process.stdout.write(values.json ? `${JSON.stringify(entries, null, 2)}\n` : formatNodesTable(entries));
}
