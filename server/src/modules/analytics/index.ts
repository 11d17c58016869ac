export { cohortsRoutes } from './cohorts.routes.js';
export { communityCohorts, communityLifecycle } from './cohorts.service.js';
export { funnelRoutes } from './funnel.routes.js';
export { communityFunnel } from './funnel.service.js';
