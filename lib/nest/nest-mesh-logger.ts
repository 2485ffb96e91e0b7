import { Logger } from '@nestjs/common';
import type { MeshLogger } from '../core/logger.js';
import { SOCKET_MESH_LOGGER_CONTEXT } from './socket-mesh.constants.js';

/** The core's small logger on top of a Nest `Logger('SocketMesh')`: trace → verbose, info → log. */
export function createNestMeshLogger(logger: Logger = new Logger(SOCKET_MESH_LOGGER_CONTEXT)): MeshLogger {
  return {
    trace: (message) => logger.verbose(message),
    debug: (message) => logger.debug(message),
    info: (message) => logger.log(message),
    warn: (message) => logger.warn(message),
    error: (message) => logger.error(message),
  };
}
