/**
 * One dialect's whole analytics bench in a worker thread, so that SQLite's synchronous calls and
 * PostgreSQL's client run side by side, one core each (see `parallel` in AnalyticsOptions).
 * Log lines and the result go back to the parent as messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { planCommunity } from './analytics-gen.js';
import { runDialect, type AnalyticsOptions, type BenchDialect } from './analytics.bench.js';

const { dialect, options } = workerData as { dialect: BenchDialect; options: Omit<AnalyticsOptions, 'log'> };
const plan = planCommunity({ scale: options.scale, seed: options.seed });
const result = await runDialect(plan, dialect, { ...options, log: (line) => parentPort!.postMessage({ log: line }) });
parentPort!.postMessage({ result });
