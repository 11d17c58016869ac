import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { importOrdersCsv } from '../../importers/orders-csv/index.js';
import { fixedClock } from '../../lib/clock.js';
import { describeEachDialect, expectOk, signUp, useServer, type Client } from '../../test/harness.js';

/**
 * Members CSV in and members/orders CSV out over real HTTP. Every expected value below is written by
 * hand from the fixture; exports are read back with csv-parse, not with the writer under test.
 */

const dir = mkdtempSync(join(tmpdir(), 'yutang-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Line numbers as in an editor: carol's name spans lines 5 and 6. The community's zone is Asia/Shanghai.
const FIXTURE = [
  'external_id,name,tags,joined_at,group', // 1
  'wx_alice,"王, 小明",vip;early,2026-03-01T09:00:00+08:00,读书会一群', // 2
  'wx_bob,"Bob ""the builder""",,2026-03-02 10:00,读书会一群', // 3
  ',nobody,,,', // 4: no external_id
  'wx_carol,"多行', // 5
  '名字",reader,,', // 6
  'wx_dave,Dave,,2026-13-01,读书会二群', // 7: no such month
  'wx_erin,Erin, a ; b ;a ,,', // 8
  'wx_frank,Frank,,2026-03-03T00:00:00Z,', // 9: a join needs a group
].join('\n');
const BAD_LINES = [4, 7, 9];

const byId = (rows: Record<string, string>[], key: string) => [...rows].sort((a, b) => (a[key]! < b[key]! ? -1 : 1));
const parseCsv = (text: string) => parse(text, { columns: true, bom: true }) as Record<string, string>[];

describeEachDialect('members CSV import and CSV exports', (dialect) => {
  const ctx = useServer(dialect, { clock: fixedClock(new Date('2026-03-10T00:00:00Z')) });
  let owner: Client;
  let c: string;
  let communityId: string;
  let other: Client;
  let otherC: string;

  beforeAll(async () => {
    const s = await signUp(ctx.server.url, 'owner@example.com');
    owner = s.client;
    const community = expectOk(await owner.post(`/api/v1/workspaces/${s.workspaceId}/communities`, { name: '读书会', slug: 'books', type: 'interest' }), 201);
    communityId = community.id;
    c = `/api/v1/communities/${community.id}`;
    const o = await signUp(ctx.server.url, 'other@example.com');
    other = o.client;
    otherC = `/api/v1/communities/${expectOk(await other.post(`/api/v1/workspaces/${o.workspaceId}/communities`, { name: 'Other', slug: 'other', type: 'interest' }), 201).id}`;
  });

  const exportMembers = async () => {
    const res = await owner.get(`${c}/members.csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    return res.body as string;
  };

  it('with strict imports nothing and names the bad lines', async () => {
    const r = expectOk(await owner.post(`${c}/members/import`, { csv: FIXTURE, strict: true }));
    expect(r).toEqual({ created: 0, updated: 0, unchanged: 0, joined: 0, skipped: 7, errors: expect.any(Array) });
    expect(r.errors.map((e: { line: number }) => e.line)).toEqual(BAD_LINES);
    expect(await exportMembers()).toBe('id,external_id,name,nickname,tags,status,group,joined_at,first_joined_at,left_at,channel,created_at\r\n');
    expect(expectOk(await owner.get(`${c}/groups`)).groups).toEqual([]);
  });

  it('imports the valid lines, reports each bad line with its number and reason, and seats members named with a group', async () => {
    const r = expectOk(await owner.post(`${c}/members/import`, { csv: FIXTURE }));
    expect(r).toEqual({
      created: 4,
      updated: 0,
      unchanged: 0,
      joined: 2,
      skipped: 3,
      errors: [
        { line: 4, reason: 'external_id is missing' },
        { line: 7, reason: expect.stringMatching(/^joined_at "2026-13-01" is not a valid date-time/) },
        { line: 9, reason: 'joined_at needs a group' },
      ],
    });
    const groups = expectOk(await owner.get(`${c}/groups`)).groups;
    expect(groups.map((g: { name: string }) => g.name)).toEqual(['读书会一群']);
    const joins = expectOk(await owner.get(`${c}/events?limit=1000`)).events.filter((e: { type: string }) => e.type === 'joined');
    expect(joins.map((e: { occurred_at: string }) => e.occurred_at).sort()).toEqual(['2026-03-01T01:00:00.000Z', '2026-03-02T02:00:00.000Z']);
  });

  it('re-imports without duplicating: the same file changes nothing, a changed name and tags update the member', async () => {
    const again = expectOk(await owner.post(`${c}/members/import`, { csv: FIXTURE }));
    expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 4, joined: 0, skipped: 3 });
    const changed = expectOk(await owner.post(`${c}/members/import`, { csv: 'external_id,name,tags\nwx_alice,"王, 小明 (Alice)",vip\nwx_bob,,\n' }));
    // Bob's empty name keeps his name; his empty tags were empty already.
    expect(changed).toEqual({ created: 0, updated: 1, unchanged: 1, joined: 0, skipped: 0, errors: [] });
    const rows = parseCsv(await exportMembers());
    expect(rows).toHaveLength(4);
    const listed = expectOk(await owner.get(`${c}/members?limit=200`)).members;
    const profiles = Object.fromEntries(listed.map((m: { external_id: string; display_name: string; profile: unknown }) => [m.external_id, [m.display_name, m.profile]]));
    expect(profiles).toEqual({
      wx_alice: ['王, 小明 (Alice)', { tags: 'vip' }],
      wx_bob: ['Bob "the builder"', {}],
      wx_carol: ['多行\n名字', { tags: 'reader' }],
      wx_erin: ['Erin', { tags: 'a;b' }],
    });
  });

  it('exports members as RFC 4180 CSV that parses back to what was imported, and imports again as unchanged', async () => {
    const text = await exportMembers();
    expect(text).toContain('"王, 小明 (Alice)"');
    expect(text).toContain('"Bob ""the builder"""');
    expect(text).toContain('"多行\n名字"');
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = byId(parseCsv(text), 'external_id').map(({ id, created_at, ...rest }) => {
      expect(id).toMatch(/^mem_/);
      expect(created_at).toBe('2026-03-10T00:00:00.000Z');
      return rest;
    });
    const member = { nickname: '', left_at: '', channel: 'import' };
    expect(rows).toEqual([
      { ...member, external_id: 'wx_alice', name: '王, 小明 (Alice)', tags: 'vip', status: 'active', group: '读书会一群', joined_at: '2026-03-01T01:00:00.000Z', first_joined_at: '2026-03-01T01:00:00.000Z' },
      { ...member, external_id: 'wx_bob', name: 'Bob "the builder"', tags: '', status: 'active', group: '读书会一群', joined_at: '2026-03-02T02:00:00.000Z', first_joined_at: '2026-03-02T02:00:00.000Z' },
      { ...member, external_id: 'wx_carol', name: '多行\n名字', tags: 'reader', status: 'left', group: '', joined_at: '', first_joined_at: '' },
      { ...member, external_id: 'wx_erin', name: 'Erin', tags: 'a;b', status: 'left', group: '', joined_at: '', first_joined_at: '' },
    ]);
    expect(expectOk(await owner.post(`${c}/members/import`, { csv: text }))).toEqual({ created: 0, updated: 0, unchanged: 4, joined: 0, skipped: 0, errors: [] });
  });

  it('exports orders with exact amounts, and the export imports again as duplicates', async () => {
    const file = join(dir, `orders-${dialect}.csv`);
    writeFileSync(file, 'member_external_id,paid_at,amount,currency,product\nwx_alice,2026-03-05T12:00:00+08:00,"1,299.50",CNY,"课程, ""进阶"""\nwx_gina,2026-03-06T00:00:00Z,1500,JPY,写作课\n');
    expect(await importOrdersCsv(ctx.db.deps, communityId, file)).toMatchObject({ imported: 2, duplicates: 0 });
    const res = await owner.get(`${c}/orders.csv`);
    expect(res.status).toBe(200);
    const rows = byId(parseCsv(res.body), 'paid_at').map(({ id, member_id, product_id, created_at, ...rest }) => {
      expect([id, member_id, product_id, created_at]).toEqual([expect.stringMatching(/^ord_/), expect.stringMatching(/^mem_/), expect.stringMatching(/^prd_/), '2026-03-10T00:00:00.000Z']);
      return rest;
    });
    expect(rows).toEqual([
      { member_external_id: 'wx_alice', member_name: '王, 小明 (Alice)', product: '课程, "进阶"', status: 'paid', amount: '1299.50', currency: 'CNY', amount_minor: '129950', refunded_minor: '0', paid_at: '2026-03-05T04:00:00.000Z', source: 'import' },
      { member_external_id: 'wx_gina', member_name: 'wx_gina', product: '写作课', status: 'paid', amount: '1500', currency: 'JPY', amount_minor: '1500', refunded_minor: '0', paid_at: '2026-03-06T00:00:00.000Z', source: 'import' },
    ]);
    const back = join(dir, `orders-back-${dialect}.csv`);
    writeFileSync(back, res.body);
    expect(await importOrdersCsv(ctx.db.deps, communityId, back)).toEqual({ imported: 0, duplicates: 2, skipped: 0, errors: [] });
  });

  it('pages through a community larger than one page', async () => {
    const n = 1203;
    const lines = Array.from({ length: n }, (_, i) => `bulk_${String(i).padStart(5, '0')},成员${i}`);
    expect(expectOk(await owner.post(`${c}/members/import`, { csv: `external_id,name\n${lines.join('\r\n')}\r\n` }))).toMatchObject({ created: n, skipped: 0 });
    const res = await owner.get(`${c}/members.csv`);
    // Streamed: written as it is read, so no length is known up front.
    expect([res.headers.get('transfer-encoding'), res.headers.get('content-length')]).toEqual(['chunked', null]);
    const rows = parseCsv(res.body);
    // 4 from the fixture, 1 buyer from the orders test, and the bulk ones, each exactly once.
    expect(rows).toHaveLength(4 + 1 + n);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    expect(rows.filter((r) => r.external_id!.startsWith('bulk_')).map((r) => r.name).sort()).toEqual(lines.map((l) => l.split(',')[1]).sort());
  });

  it('guards cells a spreadsheet would run as formulas, and reads them back unguarded', async () => {
    expect(expectOk(await owner.post(`${c}/members/import`, { csv: 'external_id,name,tags\nwx_formula,=1+2,@a;-b\n' }))).toMatchObject({ created: 1 });
    const text = await exportMembers();
    const row = parseCsv(text).find((r) => r.external_id === 'wx_formula')!;
    expect([row.name, row.tags]).toEqual(["'=1+2", "'@a;-b"]);
    const total = parseCsv(text).length;
    // Unchanged, not updated: the import dropped the guard, so the stored name is still =1+2.
    expect(expectOk(await owner.post(`${c}/members/import`, { csv: text }))).toEqual({ created: 0, updated: 0, unchanged: total, joined: 0, skipped: 0, errors: [] });
  });

  it('refuses a file without external_id, and another tenant', async () => {
    const res = await owner.post(`${c}/members/import`, { csv: 'id,name\n1,x\n' });
    expect([res.status, res.body.code, res.body.errors]).toEqual([400, 'validation_failed', [{ field: 'csv', message: 'the header line has no column external_id' }]]);
    for (const r of [await other.get(`${c}/members.csv`), await other.get(`${c}/orders.csv`), await other.post(`${c}/members/import`, { csv: 'external_id\nx\n' })]) {
      expect([403, 404]).toContain(r.status);
    }
    expect(expectOk(await other.get(`${otherC}/members.csv`))).toBe('id,external_id,name,nickname,tags,status,group,joined_at,first_joined_at,left_at,channel,created_at\r\n');
  });
});
