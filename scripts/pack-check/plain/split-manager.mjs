import { Manager } from 'socket-mesh/plain';
import { closeOnSigterm, keys, port, schema } from './schema.mjs';

closeOnSigterm(new Manager({ schema, ...keys, port, discoveryPort: false, logLevel: 'warn' }));
console.log('MANAGER_READY');
