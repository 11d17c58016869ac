export { metricsRoutes } from './metrics.routes.js';
export { communityMetrics } from './metrics.service.js';
export { METRICS_VERSION } from './metrics.definitions.js';
