export { metricsRoutes } from './metrics.routes.js';
export { communityMetrics } from './metrics.service.js';
export { METRICS_VERSION } from './metrics.definitions.js';
export { staysOf, TRIAL_CONVERSION_DAYS, type EngagementFact, type PaidOrderFact, type SpanFact } from './metrics.definitions.js';
export { localMidnight } from './metrics.service.js';
export { findCommunitySpans, findPaidOrders, findTrialProducts } from './metrics.repo.js';
