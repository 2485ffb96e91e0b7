// The topology page served from the installed package (its HTML and script are files the bundle
// reads at run time), and one MeshError class whichever entry point it is imported from.
import { MeshError as MainMeshError } from 'socket-mesh';
import { Manager, MeshError } from 'socket-mesh/plain';
import { keys, schema } from './schema.mjs';

if (MeshError !== MainMeshError || !(new MeshError('MESH_TIMEOUT', 'x') instanceof MainMeshError)) {
  throw new Error("MeshError from 'socket-mesh/plain' is not the one from 'socket-mesh'");
}
const manager = new Manager({ schema, ...keys, port: 0, host: '127.0.0.1', discoveryPort: 0, logLevel: 'warn' });
await manager.ready();
try {
  const base = `http://127.0.0.1:${manager.discoveryPort}/socket-mesh`;
  for (const [path, type, text] of [
    ['/ui', 'text/html', '<html'],
    ['/ui.js', 'text/javascript', '/socket-mesh/events'],
  ]) {
    const res = await fetch(base + path);
    const body = await res.text();
    if (res.status !== 200 || !res.headers.get('content-type')?.startsWith(type) || !body.includes(text)) {
      throw new Error(`GET ${path}: ${res.status} ${res.headers.get('content-type')}, ${body.length} bytes`);
    }
  }
  console.log('TOPOLOGY_OK');
} finally {
  await manager.close();
}
