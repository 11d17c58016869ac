export { evaluateThreshold, type ApplicantFacts, type Evaluation, type Review } from './thresholds.evaluate.js';
export { assertThresholdRefs } from './thresholds.refs.js';
