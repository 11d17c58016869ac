// Cases the API cannot produce yet (group moves, buyers who never joined), on the pure definitions.
import { describe, expect, it } from 'vitest';
import { computeMetrics, staysOf, type MetricsFacts } from './metrics.definitions.js';

const t = (iso: string) => Date.parse(iso);
const facts = (over: Partial<MetricsFacts>): MetricsFacts => ({
  t0: t('2026-02-01T00:00:00Z'),
  t1: t('2026-03-01T00:00:00Z'),
  currency: 'CNY',
  graceDays: 7,
  spans: [],
  paidOrders: [],
  refunds: [],
  engaged: [],
  memberships: [],
  trialOf: new Map(),
  trialWindowDays: 30,
  ...over,
});

describe('metric definitions', () => {
  it('treats a move between groups as one stay: no leave, no join', () => {
    const spans = [
      { member_id: 'm1', joined_at: t('2026-01-10T00:00:00Z'), left_at: t('2026-02-10T00:00:00Z'), referrer_member_id: null },
      { member_id: 'm1', joined_at: t('2026-02-10T00:00:00Z'), left_at: null, referrer_member_id: null },
    ];
    expect(staysOf(spans, [])).toEqual([{ member_id: 'm1', start: t('2026-01-10T00:00:00Z'), end: null, referred: false, referrer_member_id: null }]);
    const m = computeMetrics(facts({ spans }));
    expect([m.members_t0, m.members_t1, m.joins, m.leaves]).toEqual([1, 1, 0, 0]);
  });

  it('counts a rejoin as a leave and a join, and a buyer who never joined as a member from the first paid order', () => {
    const spans = [
      { member_id: 'm1', joined_at: t('2026-01-10T00:00:00Z'), left_at: t('2026-02-05T00:00:00Z'), referrer_member_id: null },
      { member_id: 'm1', joined_at: t('2026-02-07T00:00:00Z'), left_at: null, referrer_member_id: 'm0' },
    ];
    const paidOrders = [
      { id: 'o1', member_id: 'buyer', product_id: 'p1', amount_minor: 500, currency: 'CNY', paid_at: t('2026-02-20T00:00:00Z') },
      { id: 'o2', member_id: 'buyer', product_id: 'p1', amount_minor: 700, currency: 'USD', paid_at: t('2026-02-21T00:00:00Z') },
    ];
    const m = computeMetrics(facts({ spans, paidOrders }));
    expect([m.members_t0, m.members_t1, m.joins, m.leaves, m.period_members]).toEqual([1, 2, 2, 1, 2]);
    expect(m.members_t1).toBe(m.members_t0 + m.joins - m.leaves);
    expect(m.k_factor).toEqual({ value: 1, numerator: 1, denominator: 1 });
    expect(m.paid_rate).toEqual({ value: 0.5, numerator: 1, denominator: 2 });
    expect(m.repurchase_rate).toEqual({ value: 1, numerator: 1, denominator: 1 });
    expect(m.gmv).toEqual({ amount_minor: 500, currency: 'CNY' }); // other currencies are not summed
  });

  it('is a member just before the instant they leave, not at the instant they join', () => {
    const spans = [{ member_id: 'm1', joined_at: t('2026-02-01T00:00:00Z'), left_at: t('2026-03-01T00:00:00Z'), referrer_member_id: null }];
    const m = computeMetrics(facts({ spans }));
    expect([m.members_t0, m.members_t1, m.joins, m.leaves]).toEqual([0, 1, 1, 0]);
  });
});
