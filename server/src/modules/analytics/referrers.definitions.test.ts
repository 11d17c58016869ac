// The verdict rules of the referrer league on the pure definitions.
import { describe, expect, it } from 'vitest';
import { referrerLeague, type ReferrersFacts } from './referrers.definitions.js';

const t = (iso: string) => Date.parse(iso);
const span = (member_id: string, referrer: string | null, joined: string, left: string | null = null, group_id = 'g1') => ({
  member_id,
  group_id,
  entry_link_id: null,
  referrer_member_id: referrer,
  joined_at: t(joined),
  left_at: left === null ? null : t(left),
});

describe('referrer league', () => {
  it('rewards the top quartile of revenue and joins among referrers of the same kind, replaces referrers with no joins whose people leave', () => {
    const facts: ReferrersFacts = {
      t0: t('2026-02-01T00:00:00Z'),
      t1: t('2026-03-01T00:00:00Z'),
      currency: 'CNY',
      spans: [
        span('a1', 'kol', '2026-02-02T00:00:00Z'),
        span('a2', 'kol', '2026-02-03T00:00:00Z'),
        span('b1', 'quiet', '2026-01-02T00:00:00Z', '2026-02-10T00:00:00Z'),
        span('c1', 'steady', '2026-02-04T00:00:00Z'),
        span('d1', 'old', '2026-01-04T00:00:00Z'),
      ],
      paidOrders: [
        { member_id: 'a1', amount_minor: 5000, currency: 'CNY', paid_at: t('2026-02-05T00:00:00Z') },
        { member_id: 'c1', amount_minor: 100, currency: 'CNY', paid_at: t('2026-02-05T00:00:00Z') },
      ],
      refunds: [],
      visits: [],
      linkOwner: new Map(),
      groupStaff: new Map([['g1', { leader_user_id: null, monitor_user_id: null }]]),
    };
    const rows = referrerLeague(facts);
    expect(rows.map((r) => [r.id, r.rank, r.verdict])).toEqual([
      ['kol', 1, 'reward'],
      ['steady', 2, 'keep'],
      ['old', 3, 'keep'], // no joins, nobody left
      ['quiet', 4, 'replace'], // no joins, 1 of 1 left
    ]);
    expect(rows[0]!.paid_conversion).toEqual({ value: 0.5, numerator: 1, denominator: 2 });
  });
});
