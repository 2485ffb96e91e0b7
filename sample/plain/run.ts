/** `npm run start:plain`: the same mesh as `npm start`, written with the plain Node.js API. */
import { runSample } from '../runner.js';

await runSample(import.meta.url, { tag: 'manager', script: './manager.js' }, [
  { tag: 'node-b-1', script: './node-b.js', env: { INSTANCE_ID: 'node-b-1' } },
  { tag: 'node-b-2', script: './node-b.js', env: { INSTANCE_ID: 'node-b-2' } },
  { tag: 'node-a', script: './node-a.js' },
]);
