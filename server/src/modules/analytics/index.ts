export { refreshRollups, rebuildRollups, type RefreshReport, type RebuildReport, type RebuildProgress } from './rollups.service.js';
export { communityKpis } from './kpis.service.js';
export { kpisRoutes } from './kpis.routes.js';
export { cohortsRoutes } from './cohorts.routes.js';
export { communityCohorts, communityLifecycle } from './cohorts.service.js';
export { funnelRoutes } from './funnel.routes.js';
export { communityFunnel } from './funnel.service.js';
