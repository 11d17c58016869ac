export { classifyRoutes } from './classify.routes.js';
export { churnRoutes } from './churn.routes.js';
export { groupHealthRoutes } from './group-health.routes.js';
export { classifyCommunityMembers, membersCsv, analyticsSettings } from './classify.service.js';
export { communityChurnRisk } from './churn.service.js';
export { communityGroupHealth } from './group-health.service.js';
