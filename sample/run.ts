/** `npm start`: the Nest sample. One manager, two NodeB instances, one NodeA calling them. */
import { runSample } from './runner.js';

await runSample(import.meta.url, { tag: 'manager', script: './manager/main.js' }, [
  { tag: 'node-b-1', script: './node-b/main.js', env: { INSTANCE_ID: 'node-b-1' } },
  { tag: 'node-b-2', script: './node-b/main.js', env: { INSTANCE_ID: 'node-b-2' } },
  { tag: 'node-a', script: './node-a/main.js' },
]);
