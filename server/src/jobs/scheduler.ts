import type { Deps } from '../lib/deps.js';
import { runMembershipJobs, type MembershipJobsReport } from '../modules/memberships/index.js';
import { refreshRollups, type RefreshReport } from '../modules/analytics/index.js';

export interface JobLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Runs `runMembershipJobs` every `intervalMs` (a minute in `yutang serve`) until the returned stop
 * function is called. The timer is unref'd (it never keeps the process alive), a run still going
 * when the next is due is not doubled, and a failing run is logged and retried on the next tick.
 * `stop()` resolves once a run in progress has finished.
 */
export function scheduleMembershipJobs(deps: Deps, log: JobLog, intervalMs = 60_000, run: (deps: Deps) => Promise<MembershipJobsReport> = runMembershipJobs) {
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return;
    running = run(deps)
      .then((report) => {
        if (Object.values(report).some((n) => n > 0)) log.info({ report }, 'membership jobs');
      })
      .catch((err: unknown) => log.error({ err }, 'membership jobs failed; retrying on the next tick'))
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

/**
 * Refreshes the analytics rollups of every community with new events every `intervalMs` (5 s in
 * `yutang serve`); same timer rules as scheduleMembershipJobs.
 */
export function scheduleRollupJobs(deps: Deps, log: JobLog, intervalMs = 5_000, run: (deps: Deps) => Promise<RefreshReport> = refreshRollups) {
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return;
    running = run(deps)
      .then(() => undefined)
      .catch((err: unknown) => log.error({ err }, 'rollup refresh failed; retrying on the next tick'))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    tick,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
