export { refreshRollups, rebuildRollups, type RefreshReport, type RebuildReport, type RebuildProgress } from './rollups.service.js';
export { communityKpis } from './kpis.service.js';
export { kpisRoutes } from './kpis.routes.js';
export { classifyRoutes } from './classify.routes.js';
export { churnRoutes } from './churn.routes.js';
export { groupHealthRoutes } from './group-health.routes.js';
export { classifyCommunityMembers, membersCsv, analyticsSettings } from './classify.service.js';
export { communityChurnRisk } from './churn.service.js';
export { communityGroupHealth } from './group-health.service.js';
