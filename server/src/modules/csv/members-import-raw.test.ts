import { parse } from 'csv-parse/sync';
import { beforeAll, expect, it } from 'vitest';
import { MEMBERS_IMPORT_MAX_BYTES } from '../../../../contracts/src/index.js';
import { fixedClock } from '../../lib/clock.js';
import { describeEachDialect, expectOk, signUp, useServer, type Client } from '../../test/harness.js';

/**
 * The members import as a raw text/csv body, and the rule that a join dated before the member's
 * last leave is a bad line (docs/import.md). Expected values are written by hand from the files.
 */

const exported = (text: string) => parse(text, { columns: true, bom: true }) as Record<string, string>[];

describeEachDialect('members import: text/csv bodies and joins before the last leave', (dialect) => {
  const clock = fixedClock(new Date('2026-03-10T00:00:00Z'));
  const ctx = useServer(dialect, { clock });
  let owner: Client;
  let workspaceId: string;

  beforeAll(async () => {
    const s = await signUp(ctx.server.url, 'owner@example.com');
    owner = s.client;
    workspaceId = s.workspaceId;
  });

  let n = 0;
  /** A fresh community (Asia/Shanghai) per test, so that each starts from no members. */
  const community = async () => {
    const body = expectOk(await owner.post(`/api/v1/workspaces/${workspaceId}/communities`, { name: '读书会', slug: `books-${++n}`, type: 'interest' }), 201);
    return `/api/v1/communities/${body.id}`;
  };
  const postCsv = async (path: string, csv: string, type = 'text/csv; charset=utf-8') => {
    const res = await fetch(ctx.server.url + path, {
      method: 'POST',
      headers: { 'content-type': type, cookie: [...owner.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'x-csrf-token': owner.csrf! },
      body: csv,
    });
    return { status: res.status, body: await res.json() };
  };
  const members = async (c: string) => exported(expectOk(await owner.get(`${c}/members.csv`)));

  // Line 3 has no such month; line 4 is a member with a comma and a quote in its name.
  const FILE = ['external_id,name,tags,joined_at,group', 'wx_alice,王小明,vip;early,2026-03-01T09:00:00+08:00,读书会一群', 'wx_bob,Bob,,2026-13-01,读书会一群', 'wx_carol,"Carol ""C"", Li",reader,,'].join('\r\n');

  it('takes the file as a text/csv body: strict=true in the query imports nothing and names the bad line', async () => {
    const c = await community();
    const strict = await postCsv(`${c}/members/import?strict=true`, FILE);
    expect(strict.status).toBe(200);
    expect(strict.body).toEqual({ created: 0, updated: 0, unchanged: 0, joined: 0, skipped: 3, errors: [{ line: 3, reason: expect.stringMatching(/^joined_at "2026-13-01" is not a valid date-time/) }] });
    expect(await members(c)).toEqual([]);
    expect(expectOk(await owner.get(`${c}/groups`)).groups).toEqual([]);

    const loose = await postCsv(`${c}/members/import`, FILE);
    expect(loose.body).toEqual({ created: 2, updated: 0, unchanged: 0, joined: 1, skipped: 1, errors: [{ line: 3, reason: expect.stringMatching(/^joined_at "2026-13-01"/) }] });
    const rows = await members(c);
    expect(rows.map((r) => [r.external_id, r.name, r.tags, r.status, r.group, r.joined_at])).toEqual(
      expect.arrayContaining([
        ['wx_alice', '王小明', 'vip;early', 'active', '读书会一群', '2026-03-01T01:00:00.000Z'],
        ['wx_carol', 'Carol "C", Li', 'reader', 'left', '', ''],
      ]),
    );
    expect(rows).toHaveLength(2);
  });

  it('reads other header names from columns.<column> in the query, with a BOM and without a charset', async () => {
    const c = await community();
    const res = await postCsv(`${c}/members/import?columns.external_id=会员号&columns.name=${encodeURIComponent('姓名')}`, '\uFEFF会员号,姓名\nwx_dan,丹丹\n', 'text/csv');
    expect(res.body).toEqual({ created: 1, updated: 0, unchanged: 0, joined: 0, skipped: 0, errors: [] });
    expect((await members(c)).map((r) => [r.external_id, r.name])).toEqual([['wx_dan', '丹丹']]);
  });

  it('refuses query options with a JSON body, an empty or oversized text/csv body, unknown query fields, and other content types', async () => {
    const c = await community();
    const both = await owner.request('POST', `${c}/members/import?strict=true`, { csv: FILE });
    expect(both.status).toBe(400);
    expect(both.body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'query.strict', message: 'only with a text/csv body' }] });
    const empty = await postCsv(`${c}/members/import`, '');
    expect(empty.status).toBe(400);
    expect(empty.body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'body' }] });
    const unknown = await postCsv(`${c}/members/import?columns.email=x`, FILE);
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([{ field: 'query.columns.email', message: 'unknown field' }]);
    const big = await postCsv(`${c}/members/import`, `external_id\n${'x'.repeat(MEMBERS_IMPORT_MAX_BYTES)}\n`);
    expect(big.status).toBe(413);
    const noHeader = await postCsv(`${c}/members/import`, 'name\nAlice\n');
    expect(noHeader.status).toBe(400);
    expect(noHeader.body.errors).toEqual([{ field: 'body', message: expect.stringContaining('external_id') }]);
    const plain = await postCsv(`${c}/members/import`, FILE, 'text/plain');
    expect(plain.status).toBe(415);
    expect(await members(c)).toEqual([]);
  });

  it('reports a joined_at before the member’s last leave as an out-of-order line, and seats the member when the join comes after it', async () => {
    const c = await community();
    clock.set(new Date('2026-03-10T00:00:00Z'));
    expectOk(await owner.post(`${c}/members/import`, { csv: 'external_id,name,joined_at,group\nwx_gina,Gina,2026-03-01T09:00:00+08:00,读书会一群\n' }));
    const gina = expectOk(await owner.get(`${c}/members`)).members[0];
    expectOk(await owner.post(`${c}/members/${gina.id}/remove`, { reason: '发广告' }));
    clock.set(new Date('2026-03-20T00:00:00Z'));

    // Line 3 joins gina on 5 March, before she was removed on 10 March (08:00 in Shanghai).
    const file = 'external_id,name,joined_at,group\nwx_hank,Hank,2026-03-02 09:00,读书会一群\nwx_gina,Gina Li,2026-03-05 09:00,读书会一群\n';
    const outOfOrder = { line: 3, reason: 'out of order: the member left at 2026-03-10T00:00:00.000Z, after joined_at' };
    const strict = expectOk(await owner.post(`${c}/members/import`, { csv: file, strict: true }));
    expect(strict).toEqual({ created: 0, updated: 0, unchanged: 0, joined: 0, skipped: 2, errors: [outOfOrder] });
    expect((await members(c)).map((r) => [r.external_id, r.name, r.status, r.group, r.left_at])).toEqual([['wx_gina', 'Gina', 'removed', '', '2026-03-10T00:00:00.000Z']]);

    const loose = expectOk(await owner.post(`${c}/members/import`, { csv: file }));
    expect(loose).toEqual({ created: 1, updated: 0, unchanged: 0, joined: 1, skipped: 1, errors: [outOfOrder] });
    // The bad line changes nothing of gina's, not even the name it carries.
    const after = Object.fromEntries((await members(c)).map((r) => [r.external_id, [r.name, r.status, r.group, r.joined_at]]));
    expect(after).toEqual({ wx_gina: ['Gina', 'removed', '', ''], wx_hank: ['Hank', 'active', '读书会一群', '2026-03-02T01:00:00.000Z'] });

    const rejoin = expectOk(await owner.post(`${c}/members/import`, { csv: 'external_id,joined_at,group\nwx_gina,2026-03-15 09:00,读书会一群\n' }));
    expect(rejoin).toEqual({ created: 0, updated: 0, unchanged: 1, joined: 1, skipped: 0, errors: [] });
    const back = (await members(c)).find((r) => r.external_id === 'wx_gina')!;
    expect([back.status, back.group, back.joined_at, back.first_joined_at, back.left_at]).toEqual(['active', '读书会一群', '2026-03-15T01:00:00.000Z', '2026-03-01T01:00:00.000Z', '']);
  });
});
