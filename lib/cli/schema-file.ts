import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MeshSchema } from '../core/schema.js';
import { CliError } from './cli-error.js';

const COMMAND_GROUPS = ['_balanced', '_broadcast'];
const noop = () => undefined;

/**
 * A manager only checks names and rights, so JSON (which has no functions) may write a
 * command as `true`, `{}` or `{ responds, queued, timeout, retries }`: it gets a stand-in method.
 */
function withStandInMethods(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null) return schema;
  for (const worker of Object.values(schema as Record<string, unknown>)) {
    const commands = (worker as { _commands?: unknown } | null)?._commands;
    if (typeof commands !== 'object' || commands === null) continue;
    for (const group of COMMAND_GROUPS) {
      const table = (commands as Record<string, unknown>)[group];
      if (typeof table !== 'object' || table === null) continue;
      for (const [name, value] of Object.entries(table as Record<string, unknown>)) {
        if (value === true) (table as Record<string, unknown>)[name] = noop;
        else if (typeof value === 'object' && value !== null && !Array.isArray(value) && !('method' in value)) {
          (table as Record<string, unknown>)[name] = { ...value, method: noop };
        }
      }
    }
  }
  return schema;
}

/** Reads `--schema`: a .json file, or a .js/.mjs module whose default (or `schema`) export is the schema. */
export async function loadSchemaFile(file: string): Promise<MeshSchema> {
  const path = resolve(file);
  const ext = extname(path).toLowerCase();
  try {
    if (ext === '.json') return withStandInMethods(JSON.parse(await readFile(path, 'utf8'))) as MeshSchema;
    if (ext === '.js' || ext === '.mjs' || ext === '.cjs') {
      const mod = (await import(pathToFileURL(path).href)) as { default?: unknown; schema?: unknown };
      const schema = mod.default ?? mod.schema;
      if (schema === undefined) throw new Error('the module has neither a default nor a `schema` export');
      return withStandInMethods(schema) as MeshSchema;
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message.split('\n')[0];
    throw new CliError(`socket-mesh manager: cannot read the schema file '${file}': ${why}`, 1);
  }
  throw new CliError(`socket-mesh manager: the schema file '${file}' must end in .json, .js or .mjs`);
}
