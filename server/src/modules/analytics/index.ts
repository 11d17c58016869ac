export { refreshRollups, rebuildRollups, type RefreshReport, type RebuildReport, type RebuildProgress } from './rollups.service.js';
export { communityKpis } from './kpis.service.js';
export { kpisRoutes } from './kpis.routes.js';
