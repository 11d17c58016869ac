import { afterAll, beforeAll, expect, it } from 'vitest';
import { fixedClock } from '../lib/clock.js';
import { createTestDb, describeEachDialect, type TestDb } from '../test/harness.js';
import { scheduleMembershipJobs } from './scheduler.js';

describeEachDialect('the membership jobs timer', (dialect) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb(dialect, fixedClock(new Date('2026-05-01T08:00:00.000Z')));
  });
  afterAll(async () => db?.close());

  const logger = () => {
    const lines: string[] = [];
    return { lines, log: { info: (_: object, msg: string) => lines.push(`info ${msg}`), error: (_: object, msg: string) => lines.push(`error ${msg}`) } };
  };

  it('runs on every tick, logs a failure and carries on, and stops cleanly', async () => {
    const { lines, log } = logger();
    let calls = 0;
    const jobs = scheduleMembershipJobs(db.deps, log, 10, async () => {
      calls++;
      if (calls === 1) throw new Error('database is locked');
      return { expired_orders: 1, expired_memberships: 0, removed_from_groups: 0, reminders: 0, renewals_charged: 0, renewals_failed: 0, refunds_retried: 0 };
    });
    for (let i = 0; i < 500 && calls < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await jobs.stop();
    const after = calls;
    await new Promise((r) => setTimeout(r, 40));
    expect(calls).toBe(after);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toBe('error membership jobs failed; retrying on the next tick');
    expect(lines[1]).toBe('info membership jobs');
  });

  it('runs the real jobs against the database without logging when there is nothing to do', async () => {
    const { lines, log } = logger();
    const jobs = scheduleMembershipJobs(db.deps, log, 60_000);
    jobs.tick();
    jobs.tick(); // not doubled while the first is running
    await jobs.stop();
    expect(lines).toEqual([]);
  });
});
