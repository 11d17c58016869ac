export { metricsRoutes } from './metrics.routes.js';
export { communityMetrics, loadPeriodFacts, localMidnight, type PeriodFacts } from './metrics.service.js';
export { METRICS_VERSION, computeMetrics, metricSets, staysOf, type MetricsFacts, type MetricSets, type Stay } from './metrics.definitions.js';
