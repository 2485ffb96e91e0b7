import { SocketNode } from 'socket-mesh/plain';
import { closeOnSigterm, keys, port, schema } from './schema.mjs';

closeOnSigterm(new SocketNode({ worker: 'NodeB', schema, ...keys, ip: '127.0.0.1', port, logLevel: 'warn' }));
