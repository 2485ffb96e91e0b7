import { readFileSync } from 'node:fs';
import { Manager } from '../core/manager.js';
import type { MeshTlsOptions } from '../core/tls/tls-options.js';
import type { LogLevel } from '../core/logger.js';
import type { MeshSchema } from '../core/schema.js';
import { parseCommandArgs, portArg, tokenFromEnv } from './args.js';
import { CliError } from './cli-error.js';
import { loadSchemaFile } from './schema-file.js';

const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'silent'];

/**
 * `socket-mesh manager --port 4000 [--http 3000] [--host h] [--schema file] [--token-env NAME]
 * [--tls-key f --tls-cert f --tls-ca f]`:
 * a plain Manager with its keys from MESH_PUBLIC_KEY / MESH_PRIVATE_KEY. Runs until SIGTERM or
 * SIGINT, then closes (workers keep their peer links) and exits 0.
 */
export async function managerCommand(args: string[]): Promise<void> {
  const values = parseCommandArgs('manager', args, {
    port: { type: 'string' },
    http: { type: 'string' },
    host: { type: 'string' },
    schema: { type: 'string' },
    'token-env': { type: 'string' },
    'log-level': { type: 'string' },
    'tls-key': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-ca': { type: 'string' },
  });
  const port = portArg('manager', 'port', values.port);
  if (port === undefined) throw new CliError('socket-mesh manager: --port is required (the socket port workers connect to)');
  const http = portArg('manager', 'http', values.http);
  const logLevel = (values['log-level'] ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel))
    throw new CliError(`socket-mesh manager: --log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const token = tokenFromEnv('manager', values['token-env']);
  const { MESH_PUBLIC_KEY: publicKey, MESH_PRIVATE_KEY: privateKey } = process.env;
  if (!publicKey || !privateKey) {
    throw new CliError(
      'socket-mesh manager: set MESH_PUBLIC_KEY and MESH_PRIVATE_KEY in the environment (`socket-mesh keygen` makes a pair)',
    );
  }
  const schema: MeshSchema | undefined = values.schema === undefined ? undefined : await loadSchemaFile(values.schema);
  const tls = readTlsFiles(values['tls-key'], values['tls-cert'], values['tls-ca']);

  let manager: Manager;
  try {
    manager = new Manager({
      publicKey,
      privateKey,
      port,
      host: values.host,
      schema,
      discoveryPort: http ?? false,
      httpAuth: token === undefined ? undefined : { token },
      logLevel,
      ...(tls ? { tls } : {}),
    });
  } catch (err) {
    throw new CliError(`socket-mesh manager: ${(err as Error).message}`, 1);
  }
  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
    if (stopping) {
      process.exit(1); // a second signal: do not wait any longer
    }
    process.stderr.write(`socket-mesh manager: ${signal}, closing\n`);
    stopping = manager.close().then(
      () => process.exit(0),
      (err: Error) => {
        process.stderr.write(`socket-mesh manager: close failed: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    await manager.ready();
  } catch (err) {
    await manager.close().catch(() => undefined);
    throw new CliError(`socket-mesh manager: cannot start: ${(err as Error).message}`, 1);
  }
  const where = values.host ?? 'localhost';
  const httpLine =
    manager.discoveryPort === undefined
      ? 'no HTTP port'
      : `HTTP on http://${where}:${manager.discoveryPort} (page: /socket-mesh/ui)`;
  const tlsLine = tls ? ', TLS identities on' : '';
  process.stdout.write(`socket-mesh manager ready: sockets on port ${manager.port}, ${httpLine}${tlsLine}\n`);
}

/** `--tls-key`, `--tls-cert`, `--tls-ca`: PEM files, all three or none. */
function readTlsFiles(key?: string, cert?: string, ca?: string): MeshTlsOptions | undefined {
  const given = [key, cert, ca].filter((f) => f !== undefined).length;
  if (given === 0) return undefined;
  if (given !== 3) throw new CliError('socket-mesh manager: --tls-key, --tls-cert and --tls-ca go together (PEM files)');
  const read = (flag: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new CliError(`socket-mesh manager: --${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
  };
  return { key: read('tls-key', key!), cert: read('tls-cert', cert!), ca: read('tls-ca', ca!) };
}
