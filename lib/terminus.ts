// 'socket-mesh/terminus': the health indicator for @nestjs/terminus (an optional peer
// dependency). Apps that do not import this entry point load nothing of Terminus.

export { MeshHealthIndicator } from './nest/health/mesh-health.indicator.js';
export type { MeshHealthCheckOptions } from './nest/health/mesh-health.indicator.js';
