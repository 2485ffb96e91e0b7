import { parseArgs } from 'node:util';
import { CliError } from './cli-error.js';

type Options = Record<string, { type: 'string' | 'boolean' }>;
/** The parsed flags: strings for string options, booleans for boolean ones, undefined when absent. */
export type ParsedArgs<O extends Options> = { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };

// Keys on a command line end up in `ps`, shell history and CI logs.
const KEY_FLAG = /^--?(public|private|secret)?[-_]?keys?(=|$)|^--?(public|private)[-_]?key/i;

/** node:util parseArgs with one clear line for every mistake, and keys refused. */
export function parseCommandArgs<O extends Options>(command: string, args: string[], options: O): ParsedArgs<O> {
  const keyFlag = args.find((a) => KEY_FLAG.test(a));
  if (keyFlag !== undefined) {
    throw new CliError(
      `socket-mesh ${command}: keys are not taken on the command line ('${keyFlag.split('=')[0]}'); ` +
        'set MESH_PUBLIC_KEY and MESH_PRIVATE_KEY in the environment',
    );
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as ParsedArgs<O>;
  } catch (err) {
    const e = err as Error & { code?: string };
    const name = /'([^']+)'/.exec(e.message)?.[1];
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
      throw new CliError(`socket-mesh ${command}: unknown option '${name}' (see socket-mesh --help)`);
    if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')
      throw new CliError(`socket-mesh ${command}: unexpected argument '${name}' (see socket-mesh --help)`);
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
      throw new CliError(`socket-mesh ${command}: option '${name}' needs a value (see socket-mesh --help)`);
    throw new CliError(`socket-mesh ${command}: ${e.message}`);
  }
}

/** A TCP port: an integer 0..65535 (0 picks a free one). */
export function portArg(command: string, flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(port) || port > 65535) {
    throw new CliError(`socket-mesh ${command}: --${flag} must be a port number 0-65535, got '${value}'`);
  }
  return port;
}

/** The value of environment variable `name`, named by a `--token-env` flag. */
export function tokenFromEnv(command: string, name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const token = process.env[name];
  if (!token) throw new CliError(`socket-mesh ${command}: --token-env names '${name}', which is not set in the environment`);
  return token;
}
