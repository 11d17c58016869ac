export { moneyFormulaRoutes } from './money-formula.routes.js';
export { moneyFormula } from './money-formula.service.js';
export { referrersRoutes } from './referrers.routes.js';
export { referrers } from './referrers.service.js';
export { explainRoutes } from './explain.routes.js';
export { explainMetric, explainCsv } from './explain.service.js';
