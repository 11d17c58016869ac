import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDb, describeEachDialect, type TestDb } from '../../test/harness.js';
import { ensureCommunityBySlug } from '../../modules/communities/index.js';
import { communityMetrics } from '../../modules/metrics/index.js';
import { checkLedger } from '../../modules/orders/index.js';
import { importOrdersCsv, parseAmount, parsePaidAt } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'yutang-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const csvFile = (text: string) => {
  const file = join(dir, `orders-${n++}.csv`);
  writeFileSync(file, text);
  return file;
};

const HEADER = 'member_external_id,paid_at,amount,currency,product\n';
// Minor units by hand: 29.33 CNY → 2933; "1,000.00" CNY → 100000; 699 CNY → 69900; 1500 JPY → 1500.
const GOOD = [
  'u1,2026-03-01T20:15:00+08:00,29.33,CNY,年度会员',
  'u2,2026-03-02 09:00,"1,000.00",CNY,年度会员',
  'u1,2026-03-05,699,cny,写作课',
  'u2,2026-03-06T00:00:00Z,1500,JPY,写作课',
].join('\n');

describe('orders CSV: amounts and times', () => {
  it('converts decimal strings to minor units exactly', () => {
    expect(parseAmount('29.33', 'CNY')).toEqual({ ok: true, value: 2933 });
    expect(parseAmount('0.1', 'CNY')).toEqual({ ok: true, value: 10 });
    expect(parseAmount('19.90', 'USD')).toEqual({ ok: true, value: 1990 });
    expect(parseAmount('1,000.00', 'CNY')).toEqual({ ok: true, value: 100000 });
    expect(parseAmount('1234567.89', 'EUR')).toEqual({ ok: true, value: 123456789 });
    expect(parseAmount('1500', 'JPY')).toEqual({ ok: true, value: 1500 });
    expect(parseAmount('1500.0', 'JPY')).toEqual({ ok: true, value: 1500 });
    expect(parseAmount('15.5', 'JPY')).toMatchObject({ ok: false, reason: expect.stringContaining('more decimals than JPY allows (0)') });
    expect(parseAmount('1.234', 'CNY')).toMatchObject({ ok: false });
    expect(parseAmount('-5', 'CNY')).toMatchObject({ ok: false, reason: expect.stringContaining('negative') });
    for (const bad of ['1e3', '12,34', '1,0000.00', '¥5', 'abc', '.5', '0', '0.00']) expect(parseAmount(bad, 'CNY').ok).toBe(false);
  });

  it('reads times with an offset as given and without one in the community time zone', () => {
    expect(parsePaidAt('2026-03-01T20:15:00+08:00', 'UTC')).toEqual({ ok: true, value: '2026-03-01T12:15:00.000Z' });
    expect(parsePaidAt('2026-03-01T12:15:00Z', 'Asia/Shanghai')).toEqual({ ok: true, value: '2026-03-01T12:15:00.000Z' });
    expect(parsePaidAt('2026-03-01 20:15', 'Asia/Shanghai')).toEqual({ ok: true, value: '2026-03-01T12:15:00.000Z' });
    expect(parsePaidAt('2026-03-01', 'Asia/Shanghai')).toEqual({ ok: true, value: '2026-02-28T16:00:00.000Z' });
    for (const bad of ['2026-02-30', '01/03/2026', 'yesterday', '2026-03-01T25:00:00Z']) expect(parsePaidAt(bad, 'UTC').ok).toBe(false);
  });
});

describeEachDialect('orders CSV import', (dialect) => {
  let t: TestDb;
  let communityId: string;
  beforeEach(async () => {
    t = await createTestDb(dialect);
    communityId = (await ensureCommunityBySlug(t.deps, 'shop')).community.id;
  });
  afterEach(async () => t.close());

  it('imports paid orders in minor units, counts them in the metrics, keeps the ledger clean, and adds nothing on re-import', async () => {
    const file = csvFile(HEADER + GOOD + '\n');
    const first = await importOrdersCsv(t.deps, communityId, file, { batchSize: 3 });
    expect(first).toEqual({ imported: 4, duplicates: 0, skipped: 0, errors: [] });

    const orders = await t.handle.db.selectFrom('orders').selectAll().where('community_id', '=', communityId).orderBy('paid_at').execute();
    expect(orders.map((o) => [Number(o.amount_minor), o.currency, o.status, o.source, o.paid_at])).toEqual([
      [2933, 'CNY', 'paid', 'import', '2026-03-01T12:15:00.000Z'],
      [100000, 'CNY', 'paid', 'import', '2026-03-02T01:00:00.000Z'],
      [69900, 'CNY', 'paid', 'import', '2026-03-04T16:00:00.000Z'],
      [1500, 'JPY', 'paid', 'import', '2026-03-06T00:00:00.000Z'],
    ]);
    const members = await t.handle.db.selectFrom('members').select(['external_id', 'current_group_id']).where('community_id', '=', communityId).orderBy('external_id').execute();
    expect(members).toEqual([
      { external_id: 'u1', current_group_id: null },
      { external_id: 'u2', current_group_id: null },
    ]);
    const products = await t.handle.db.selectFrom('products').select(['name', 'type', 'status']).where('community_id', '=', communityId).orderBy('name').execute();
    expect(products).toHaveLength(2);
    expect(products.every((p) => p.type === 'course' && p.status === 'imported')).toBe(true);
    const events = await t.handle.db.selectFrom('events').select(['occurred_at', 'props']).where('community_id', '=', communityId).where('type', '=', 'order_paid').execute();
    expect(events).toHaveLength(4);
    expect(events.every((e) => (typeof e.props === 'string' ? JSON.parse(e.props) : e.props).imported === true)).toBe(true);

    const ledger = await checkLedger(t.handle.db);
    expect(ledger.violations).toEqual([]);
    expect(ledger.totals).toMatchObject({ CNY: { paid_minor: 172833, net_minor: 172833 }, JPY: { paid_minor: 1500 } });

    const m = await communityMetrics(t.deps, communityId, { from: '2026-03-01', to: '2026-04-01' });
    expect(m.gmv).toEqual({ amount_minor: 172833, currency: 'CNY' });
    expect(m.paying_members).toBe(2);
    expect(m.members_t1).toBe(2); // a buyer who never joined is a member from their first paid order

    const again = await importOrdersCsv(t.deps, communityId, file);
    expect(again).toEqual({ imported: 0, duplicates: 4, skipped: 0, errors: [] });
    const count = await t.handle.db.selectFrom('orders').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(4);
  });

  it('reads a BOM, renamed headers, and an existing product by id', async () => {
    const product = await importOrdersCsv(t.deps, communityId, csvFile(HEADER + 'u9,2026-01-01T00:00:00Z,5,CNY,试听课\n'));
    expect(product.imported).toBe(1);
    const { id } = await t.handle.db.selectFrom('products').select('id').where('name', '=', '试听课').executeTakeFirstOrThrow();
    const file = csvFile(`\uFEFF会员,付款时间,金额,币种,商品\nu1,2026-03-01T20:15:00+08:00,9.90,CNY,${id}\nu2,2026-03-01T21:00:00+08:00,9.90,CNY,试听课\n`);
    const r = await importOrdersCsv(t.deps, communityId, file, { columns: { member_external_id: '会员', paid_at: '付款时间', amount: '金额', currency: '币种', product: '商品' } });
    expect(r).toEqual({ imported: 2, duplicates: 0, skipped: 0, errors: [] });
    const ids = await t.handle.db.selectFrom('orders').select('product_id').distinct().execute();
    expect(ids).toEqual([{ product_id: id }]);
  });

  it('reports bad lines with their numbers, imports the rest, and with strict imports nothing', async () => {
    const file = csvFile(
      HEADER +
        [
          'u1,2026-03-01T20:15:00+08:00,29.33,CNY,课', // line 2: good
          ',2026-03-01T20:15:00+08:00,10,CNY,课', // 3: no member
          'u2,2026-13-01,10,CNY,课', // 4: bad date
          'u2,2026-03-01,-10,CNY,课', // 5: negative
          'u2,2026-03-01,ten,CNY,课', // 6: malformed
          'u2,2026-03-01,10,XYZ,课', // 7: unknown currency
          '',
          'u2,2026-03-01,10.001,CNY,课', // 9: too many decimals
          'u2,2026-03-01,10,CNY,prd_nope', // 10: unknown product id
          'u3,2026-03-02,10,CNY,课', // 11: good
        ].join('\n'),
    );
    const strict = await importOrdersCsv(t.deps, communityId, file, { strict: true });
    expect(strict.imported).toBe(0);
    expect(strict.skipped).toBe(9);
    expect(strict.errors.map((e) => e.line)).toEqual([3, 4, 5, 6, 7, 9, 10]);
    expect(await t.handle.db.selectFrom('orders').selectAll().execute()).toEqual([]);

    const r = await importOrdersCsv(t.deps, communityId, file);
    expect([r.imported, r.duplicates, r.skipped]).toEqual([2, 0, 7]);
    expect(r.errors).toEqual([
      { line: 3, reason: 'member_external_id is missing' },
      { line: 4, reason: expect.stringContaining('paid_at') },
      { line: 5, reason: 'amount -10 is negative' },
      { line: 6, reason: expect.stringContaining('not a decimal number') },
      { line: 7, reason: expect.stringContaining('unknown currency "XYZ"') },
      { line: 9, reason: 'amount 10.001 has more decimals than CNY allows (2)' },
      { line: 10, reason: 'no product with id prd_nope in this community' },
    ]);
    expect((await checkLedger(t.handle.db)).violations).toEqual([]);
  });

  it('streams a larger file in batches, reporting progress', async () => {
    const lines = Array.from({ length: 1200 }, (_, i) => `p${i % 300},2026-04-01T00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z,${(i % 50) + 1}.05,CNY,批量课`);
    const progress: number[] = [];
    const r = await importOrdersCsv(t.deps, communityId, csvFile(HEADER + lines.join('\r\n') + '\r\n'), { batchSize: 250, progressEvery: 500 }, (n) => progress.push(n));
    expect(r).toEqual({ imported: 1200, duplicates: 0, skipped: 0, errors: [] });
    expect(progress).toEqual([500, 1000]);
    const sum = lines.reduce((s, _, i) => s + ((i % 50) + 1) * 100 + 5, 0);
    expect((await checkLedger(t.handle.db)).totals.CNY).toMatchObject({ paid_minor: sum });
    const members = await t.handle.db.selectFrom('members').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(members.n)).toBe(300);
  });

  it('refuses a file without the needed columns', async () => {
    await expect(importOrdersCsv(t.deps, communityId, csvFile('member,paid_at\nu1,2026-01-01\n'))).rejects.toThrow(/no column member_external_id, amount, currency, product/);
  });
});
