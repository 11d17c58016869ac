import type { Deps } from '../lib/deps.js';
import { runMembershipJobs, type MembershipJobsReport } from '../modules/memberships/index.js';
import { refreshRollups, type RefreshReport } from '../modules/rollups/index.js';
import { dispatchWebhooks, type DispatchReport } from '../modules/webhooks/index.js';

export interface JobLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Runs `job` every `intervalMs` until the returned stop function is called. The timer is unref'd (it
 * never keeps the process alive), a run still going when the next is due is not doubled, and a
 * failing run is logged and retried on the next tick. `stop()` resolves once a run in progress has
 * finished.
 */
function every(intervalMs: number, job: () => Promise<void>, onError: (err: unknown) => void) {
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return;
    running = job()
      .catch(onError)
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    /** Runs once now (the interval keeps going). */
    tick,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** Runs `runMembershipJobs` every `intervalMs` (a minute in `yutang serve`), logging what it did. */
export function scheduleMembershipJobs(deps: Deps, log: JobLog, intervalMs = 60_000, run: (deps: Deps) => Promise<MembershipJobsReport> = runMembershipJobs) {
  return every(
    intervalMs,
    async () => {
      const report = await run(deps);
      if (Object.values(report).some((n) => n > 0)) log.info({ report }, 'membership jobs');
    },
    (err) => log.error({ err }, 'membership jobs failed; retrying on the next tick'),
  );
}

/** Refreshes the analytics rollups of every community with new events every `intervalMs` (5 s in `yutang serve`). */
export function scheduleRollupJobs(deps: Deps, log: JobLog, intervalMs = 5_000, run: (deps: Deps) => Promise<RefreshReport> = refreshRollups) {
  return every(
    intervalMs,
    async () => {
      await run(deps);
    },
    (err) => log.error({ err }, 'rollup refresh failed; retrying on the next tick'),
  );
}

/** Sends due webhook deliveries every `intervalMs` (2 s in `yutang serve`); every node may run it, leases keep sends single. */
export function scheduleWebhookDispatch(deps: Deps, log: JobLog, intervalMs = 2_000, run: (deps: Deps) => Promise<DispatchReport> = dispatchWebhooks) {
  return every(
    intervalMs,
    async () => {
      const report = await run(deps);
      if (report.failed || report.disabled) log.info({ report }, 'webhook deliveries');
    },
    (err) => log.error({ err }, 'webhook dispatch failed; retrying on the next tick'),
  );
}
