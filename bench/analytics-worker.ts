/**
 * Runs one of the analytics layer's read calls in a worker thread on its own connection, posting
 * each call's duration, so that the bench can stop a call that outlives its time limit (a
 * synchronous better-sqlite3 read cannot be interrupted any other way).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../server/src/db/kysely.js';
import { systemClock } from '../server/src/lib/clock.js';
import type { Deps } from '../server/src/lib/deps.js';
import { layer } from './analytics-layer.js';
import { BENCH_CONFIG } from './config.js';

export interface WorkerJob {
  url: string;
  call: 'cohorts';
  communityId: string;
  from: string;
  to: string;
  repeats: number;
}

const job = workerData as WorkerJob;
const handle = openDatabase(job.url);
const deps: Deps = { db: handle.db, clock: systemClock, config: BENCH_CONFIG };
try {
  const fn = layer[job.call];
  if (!fn) throw new Error(`${job.call} is not wired`);
  for (let i = 0; i < job.repeats; i++) {
    const t = performance.now();
    await fn(deps, job.communityId, job.from, job.to);
    parentPort!.postMessage({ sampleMs: performance.now() - t });
  }
} finally {
  await handle.close();
}
