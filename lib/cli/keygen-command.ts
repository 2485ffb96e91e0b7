import { randomBytes } from 'node:crypto';
import { parseCommandArgs } from './args.js';

/** 32 random bytes each, base64url: 43 characters, above the 32-character minimum for `privateKey`. */
export function generateKeyPair(): { publicKey: string; privateKey: string } {
  return { publicKey: randomBytes(32).toString('base64url'), privateKey: randomBytes(32).toString('base64url') };
}

/** `socket-mesh keygen [--json]`: env-file lines by default, so `socket-mesh keygen > mesh.env` works. */
export function keygenCommand(args: string[]): void {
  const values = parseCommandArgs('keygen', args, { json: { type: 'boolean' } });
  const pair = generateKeyPair();
  if (values.json) process.stdout.write(`${JSON.stringify(pair)}\n`);
  else process.stdout.write(`MESH_PUBLIC_KEY=${pair.publicKey}\nMESH_PRIVATE_KEY=${pair.privateKey}\n`);
}
