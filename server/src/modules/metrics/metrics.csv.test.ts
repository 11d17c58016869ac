import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { importOrdersCsv } from '../../importers/orders-csv/index.js';
import { fixedClock } from '../../lib/clock.js';
import { Client, describeEachDialect, expectOk, signUp, useServer } from '../../test/harness.js';

/**
 * GET …/metrics.csv over a small community whose figures are counted by hand below; the body is read
 * back with csv-parse, not with the writer under test.
 */

const dir = mkdtempSync(join(tmpdir(), 'yutang-metrics-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Period [2026-03-01, 2026-04-01) in Asia/Shanghai.
//   a joined 20 Feb, b 25 Feb (both members at t0); c joined 5 Mar, d 12 Mar; b removed 15 Mar.
//   Paid: a 199.00 (2 Mar) and 29.90 (20 Mar), c 29.90 (6 Mar), b 29.90 (26 Feb, before the period).
//   Messages: a on 3 Mar, c on 7 and 8 Mar.
// members_t0 = 2 (a, b); joins = 2 (c, d); leaves = 1 (b); members_t1 = 2 + 2 − 1 = 3;
// period members = 4 (a, b, c, d); leave rate = 1 ÷ (2 + 2); active = 2 (a, c) of 4; paying = 2 (a, c) of 4;
// repurchase = 1 (a has two) ÷ 3 (a, b, c paid by t1); no memberships expire, no trial products;
// GMV = 19900 + 2990 + 2990 = 25880 fen, no refunds; ARPU = 25880 ÷ 4; ARPPU = 25880 ÷ 2; no referrals.
const EXPECTED = [
  ['metric', 'kind', 'value', 'numerator', 'denominator', 'currency', 'reason'],
  ['members_t0', 'count', '2', '', '', '', ''],
  ['members_t1', 'count', '3', '', '', '', ''],
  ['period_members', 'count', '4', '', '', '', ''],
  ['joins', 'count', '2', '', '', '', ''],
  ['leaves', 'count', '1', '', '', '', ''],
  ['leave_rate', 'rate', '0.25', '1', '4', '', ''],
  ['active_members', 'count', '2', '', '', '', ''],
  ['active_rate', 'rate', '0.5', '2', '4', '', ''],
  ['paying_members', 'count', '2', '', '', '', ''],
  ['paid_rate', 'rate', '0.5', '2', '4', '', ''],
  ['repurchase_rate', 'rate', String(1 / 3), '1', '3', '', ''],
  ['renewal_rate', 'rate', '', '0', '0', '', ''],
  ['trial_renewal_rate', 'rate', '', '0', '0', '', 'No trial products: mark a product as the trial of a full product (trial_of_product_id)'],
  ['gmv', 'money', '25880', '', '', 'CNY', ''],
  ['refunds', 'money', '0', '', '', 'CNY', ''],
  ['net_revenue', 'money', '25880', '', '', 'CNY', ''],
  ['arpu', 'money_per_person', '6470', '25880', '4', 'CNY', ''],
  ['arppu', 'money_per_person', '12940', '25880', '2', 'CNY', ''],
  ['k_factor', 'rate', '0', '0', '2', '', ''],
];

describeEachDialect('metrics as CSV', (dialect) => {
  const clock = fixedClock(new Date('2026-03-13T00:00:00Z'));
  const ctx = useServer(dialect, { clock });
  let owner: Client;
  let c: string;

  beforeAll(async () => {
    const s = await signUp(ctx.server.url, 'owner@example.com');
    owner = s.client;
    const community = expectOk(await owner.post(`/api/v1/workspaces/${s.workspaceId}/communities`, { name: '读书会', slug: 'books', type: 'knowledge' }), 201);
    c = `/api/v1/communities/${community.id}`;
    const joins = ['external_id,name,joined_at,group', 'a,A,2026-02-20 09:00,一群', 'b,B,2026-02-25 09:00,一群', 'c,C,2026-03-05 09:00,一群', 'd,D,2026-03-12 09:00,一群'];
    expect(expectOk(await owner.post(`${c}/members/import`, { csv: joins.join('\n') }))).toMatchObject({ created: 4, joined: 4, errors: [] });
    clock.set(new Date('2026-03-15T02:00:00Z'));
    const b = expectOk(await owner.get(`${c}/members`)).members.find((m: { external_id: string }) => m.external_id === 'b');
    expectOk(await owner.post(`${c}/members/${b.id}/remove`, { reason: '发广告' }));
    clock.set(new Date('2026-04-05T00:00:00Z'));
    const orders = join(dir, `${dialect}-orders.csv`);
    writeFileSync(
      orders,
      ['member_external_id,paid_at,amount,currency,product', 'a,2026-03-02 20:15,199.00,CNY,年度会员', 'a,2026-03-20 08:00,29.90,CNY,月度会员', 'c,2026-03-06 12:00,29.90,CNY,月度会员', 'b,2026-02-26 12:00,29.90,CNY,月度会员'].join('\n'),
    );
    expect(await importOrdersCsv(ctx.db.deps, community.id, orders)).toMatchObject({ imported: 4, errors: [] });
    const key = expectOk(await owner.post(`${c}/api-keys`, { name: 'bot', scopes: ['events:write'] }), 201).secret;
    const messages = [
      ['a', '2026-03-03T10:00:00+08:00'],
      ['c', '2026-03-07T10:00:00+08:00'],
      ['c', '2026-03-08T10:00:00+08:00'],
    ].map(([who, at], i) => ({ id: `m${i}`, type: 'message', member_external_id: who, occurred_at: at, group: '一群' }));
    const ingested = expectOk(await new Client(ctx.server.url, key).post('/api/v1/events', { events: messages }));
    expect(ingested.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);
  });

  it('writes one line per figure with its kind, value, numerator, denominator and currency', async () => {
    const res = await owner.get(`${c}/metrics.csv?from=2026-03-01&to=2026-04-01`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="metrics-2026-03-01-2026-04-01.csv"');
    expect(res.body).toMatch(/^metric,kind,value,numerator,denominator,currency,reason\r\n/);
    expect(parse(res.body as string)).toEqual(EXPECTED);
  });

  it('answers a bad period as the JSON route does', async () => {
    const bad = await owner.get(`${c}/metrics.csv?from=2026-04-01&to=2026-03-01`);
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('validation_failed');
    const missing = await owner.get(`${c}/metrics.csv?from=2026-03-01`);
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([{ field: 'query.to', message: expect.any(String) }]);
  });
});
