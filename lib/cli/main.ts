#!/usr/bin/env node
// The `socket-mesh` command: manager, nodes, keygen. One clear line and a non-zero exit on bad input.
import { CliError } from './cli-error.js';
import { keygenCommand } from './keygen-command.js';
import { managerCommand } from './manager-command.js';
import { nodesCommand } from './nodes-command.js';

const USAGE = `Usage: socket-mesh <command> [options]

Commands:
  manager   run a manager
              --port <n>          socket port workers connect to (required; 0 picks a free one)
              --http <n>          HTTP port: /socket-mesh/port, /nodes, /topology, /events and the page /socket-mesh/ui
              --host <addr>       bind address (default all interfaces)
              --schema <file>     the whole schema (.json, or .js/.mjs exporting it) to hold workers to
              --token-env <NAME>  protect the HTTP data routes with the bearer token in env var NAME
              --tls-key <file> --tls-cert <file> --tls-ca <file>
                                  identities with TLS: workers need a certificate from the CA (PEM files)
              --log-level <l>     trace | debug | info | warn | error | silent (default info)
            keys come from MESH_PUBLIC_KEY and MESH_PRIVATE_KEY, never from the command line.
            SIGTERM / SIGINT close it and exit 0.
  nodes     print the registry of a running manager as a table
              --url <url>         the manager's HTTP address, e.g. http://manager:3000 (required)
              --token-env <NAME>  bearer token from env var NAME
              --json              print JSON instead of a table
  keygen    print a new key pair as MESH_PUBLIC_KEY=… / MESH_PRIVATE_KEY=… lines (--json: as JSON)

  socket-mesh --help | -h    this text
`;

const commands: Record<string, (args: string[]) => void | Promise<void>> = {
  manager: managerCommand,
  nodes: nodesCommand,
  keygen: keygenCommand,
};

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (
    name === undefined ||
    name === '--help' ||
    name === '-h' ||
    name === 'help' ||
    rest.includes('--help') ||
    rest.includes('-h')
  ) {
    process.stdout.write(USAGE);
    if (name === undefined) process.exitCode = 2;
    return;
  }
  const command = commands[name];
  if (!command)
    throw new CliError(
      `socket-mesh: unknown command '${name}' (commands: ${Object.keys(commands).join(', ')}; see socket-mesh --help)`,
    );
  await command(rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const line = err instanceof CliError ? err.message : `socket-mesh: ${(err as Error).stack ?? String(err)}`;
  process.stderr.write(`${line}\n`);
  process.exit(err instanceof CliError ? err.exitCode : 1);
});
