export { metricsRoutes } from './metrics.routes.js';
export { metricsCsv, METRICS_CSV_COLUMNS } from './metrics.csv.js';
export { communityMetrics, loadPeriodFacts, localMidnight, resolvePeriod, type PeriodFacts } from './metrics.service.js';
export { METRICS_VERSION, TRIAL_CONVERSION_DAYS, computeMetrics, metricSets, staysOf, type MetricsFacts, type MembershipFact, type MetricSets, type PaidOrderFact, type SpanFact, type Stay } from './metrics.definitions.js';
export { findCommunitySpans, findPaidOrders, findTrialProducts } from './metrics.repo.js';
