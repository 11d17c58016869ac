import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/src/db/kysely.js';
import { communityMetrics } from '../../server/src/modules/metrics/index.js';
import { communityFunnel } from '../../server/src/modules/analytics/index.js';
import { systemClock } from '../../server/src/lib/clock.js';
import { FunnelOut, MetricsOut } from '../../contracts/src/index.js';
import { findCommunityBySlug } from '../../server/src/modules/communities/index.js';
import { ingestEvents } from '../../server/src/modules/ingest/index.js';

const dir = mkdtempSync(join(tmpdir(), 'yutang-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs the real CLI from source, with a clean environment pointing at a temp database. Not
 * spawnSync: a worker blocked for a minute misses Vitest's own messages and fails the run.
 */
function yutang(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    // Entered as bin/yutang.js enters it: `import …` through the lean chat-import entry.
    const entry = args[0] === 'import' ? 'cli/src/import-chat-main.ts' : 'cli/src/yutang.ts';
    const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
      env: { PATH: process.env.PATH ?? '', YUTANG_DATABASE_URL: join(dir, 'cli.db'), ...env },
      timeout: 120_000,
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('yutang CLI', () => {
  it('migrates once, then reports the database up to date', async () => {
    const first = await yutang(['migrate']);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/Applied 26 migrations/);
    const again = await yutang(['migrate']);
    expect(again.code).toBe(0);
    expect(again.out).toContain('up to date');
    const jobs = await yutang(['jobs', 'run']);
    expect(jobs.code).toBe(0);
    expect(jobs.out).toMatch(/Unpaid orders expired: 0\nMemberships expired: 0 \(members removed from paid groups: 0\)\nExpiry reminders recorded: 0\nAutomatic renewals charged: 0 \(failed: 0\)\nStalled refunds sent again: 0/);
  });

  it('refuses a bad configuration listing every problem', async () => {
    const r = await yutang(['migrate'], { PORT: 'eighty', YUTANG_SECRET: 'short' });
    expect(r.code).toBe(1);
    expect(r.err).toContain('PORT');
    expect(r.err).toContain('YUTANG_SECRET');
  });

  it('creates the demo, backs the database up consistently, and prints an API key', async () => {
    const demo = await yutang(['demo', '--seed', '3']);
    expect(demo.code).toBe(0);
    expect(demo.out).toMatch(/Demo community "demo-reading-club" ready: \d+ people/);
    expect((await yutang(['demo'])).out).toContain('already exists');

    const target = join(dir, 'backup.db');
    const backup = await yutang(['backup', target]);
    expect(backup.code).toBe(0);
    expect(existsSync(target)).toBe(true);
    const live = new SQLite(join(dir, 'cli.db'), { readonly: true });
    const copy = new SQLite(target, { readonly: true });
    const count = (d: SQLite.Database) => (d.prepare('select count(*) n from members').get() as { n: number }).n;
    expect(count(copy)).toBe(count(live));
    expect(count(copy)).toBeGreaterThan(1500);
    live.close();
    copy.close();
    expect((await yutang(['backup', target])).code).toBe(1); // never overwrites

    const key = await yutang(['apikey', 'create', '--community', 'demo-reading-club', '--scopes', 'events:write']);
    expect(key.code).toBe(0);
    expect(key.out.trim()).toMatch(/^yk_[\w-]{20,}$/);
    const missing = await yutang(['apikey', 'create', '--community', 'nope']);
    expect(missing.code).toBe(0);
    expect(missing.err).toContain('Created community "nope" with defaults');
    expect(missing.out.trim()).toMatch(/^yk_[\w-]{20,}$/);
    expect((await yutang(['apikey', 'create', '--community', 'nope'])).err).toBe('');
  });

  it('creates, lists and dispatches webhooks, shows the delivery log and redelivers', async () => {
    const created = await yutang(['webhooks', 'create', '--community', 'hooks', '--url', 'http://127.0.0.1:9/nobody-listens', '--events', 'message']);
    expect(created.code, created.err).toBe(0);
    const [id, secret] = created.out.trim().split('\n');
    expect([id, secret]).toEqual([expect.stringMatching(/^whk_/), expect.stringMatching(/^whsec_/)]);
    // One event written in-process through the ingest service, as the API would.
    const h = openDatabase(join(dir, 'cli.db'));
    const deps = { db: h.db, clock: systemClock, config: { publicUrl: 'http://x', signup: 'open' as const, secret: 'x'.repeat(32) } };
    const community = (await findCommunityBySlug(h.db, 'hooks'))!;
    const results = await ingestEvents(deps, community.id, [{ id: 'cli-1', type: 'message', member_external_id: 'wx_1', occurred_at: '2026-03-01T00:00:00Z' }]);
    await h.close();
    expect(results).toEqual([{ id: 'cli-1', status: 'accepted' }]);
    const dispatched = await yutang(['webhooks', 'dispatch']);
    expect(dispatched.out).toContain('Attempted: 1; succeeded: 0; retrying: 1');
    const log = JSON.parse((await yutang(['webhooks', 'deliveries', id!, '--community', 'hooks', '--json'])).out);
    expect(log.deliveries.map((d: any) => [d.event_type, d.status, d.attempts, d.log.length])).toEqual([['message', 'pending', 1, 1]]);
    const again = await yutang(['webhooks', 'redeliver', id!, log.deliveries[0].id, '--community', 'hooks']);
    expect(again.out.trim()).toMatch(/^whd_/);
    expect((await yutang(['webhooks', 'list', '--community', 'hooks'])).out).toContain(`${id}  active  http://127.0.0.1:9/nobody-listens  message`);
  });

  it('checks the ledger: clean when every order balances, exit 1 naming the order that does not', async () => {
    const clean = await yutang(['ledger', 'check']);
    expect([clean.code, clean.err]).toEqual([0, '']);
    expect(clean.out).toContain('Ledger OK');
    const [, orders, paid] = /Orders: (\d+) \((\d+) paid or refunded\)/.exec(clean.out)!.map(Number);

    // A paid order with no ledger entries at all, written behind the services' back.
    const db = new SQLite(join(dir, 'cli.db'));
    const c = db.prepare('select id from communities limit 1').get() as { id: string };
    const m = db.prepare('select id from members where community_id = ? limit 1').get(c.id) as { id: string };
    const at = new Date().toISOString();
    db.prepare(`insert into products (id, community_id, type, name, price_minor, currency, group_ids, status, created_at, updated_at)
      values ('prd_cli', ?, 'course', 'Course', 500, 'CNY', '[]', 'active', ?, ?)`).run(c.id, at, at);
    db.prepare(`insert into orders (id, community_id, member_id, product_id, status, amount_minor, currency, idempotency_key, request_hash, provider, provider_ref, checkout_token_hash, paid_at, created_at, updated_at)
      values ('ord_cli', ?, ?, 'prd_cli', 'paid', 500, 'CNY', 'k', 'h', 'test', 'tpay_1', 'x', ?, ?, ?)`).run(c.id, m.id, at, at, at);
    db.close();
    const broken = await yutang(['ledger', 'check']);
    expect(broken.code).toBe(1);
    expect(broken.out).toContain(`Orders: ${orders! + 1} (${paid! + 1} paid or refunded)`);
    expect(broken.out).toContain('order ord_cli (paid): ledger says 0 paid, the order 500');
  });
  it('prints metrics as a table or as the API body, creating a missing community and saying so', async () => {
    const json = await yutang(['metrics', '--community', 'demo-reading-club', '--from', '2026-01-01', '--to', '2027-01-01', '--json']);
    expect([json.code, json.err]).toEqual([0, '']);
    const body = JSON.parse(json.out);
    const handle = openDatabase(join(dir, 'cli.db'));
    try {
      const c = await handle.db.selectFrom('communities').select('id').where('slug', '=', 'demo-reading-club').executeTakeFirstOrThrow();
      const config = { publicUrl: '', signup: 'open' as const, secret: '' };
      const direct = await communityMetrics({ db: handle.db, clock: systemClock, config }, c.id, { from: '2026-01-01', to: '2027-01-01' });
      expect(body).toEqual(JSON.parse(JSON.stringify(MetricsOut.parse(direct))));
    } finally {
      await handle.close();
    }
    expect(body.members_t1).toBe(body.members_t0 + body.joins - body.leaves);

    const table = await yutang(['metrics', '--community', 'demo-reading-club', '--from', '2026-01-01', '--to', '2027-01-01']);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/leave rate 退群率\s+\S+/);
    expect(table.out).toContain(`members at t1`);

    const fresh = await yutang(['metrics', '--community', 'new-club', '--from', '2026-01-01', '--to', '2026-02-01', '--json']);
    expect(fresh.code).toBe(0);
    expect(fresh.err).toContain('Created community "new-club" with defaults');
    expect(JSON.parse(fresh.out)).toMatchObject({ members_t0: 0, time_zone: 'Asia/Shanghai', gmv: { amount_minor: 0, currency: 'CNY' } });
    expect((await yutang(['metrics', '--community', 'new-club', '--from', '2026-01-01', '--to', '2026-02-01'])).err).toBe('');

    const bad = await yutang(['metrics', '--community', 'new-club', '--from', '2026-02-01', '--to', '2026-01-01']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('--to');
  });

  it('explains a figure and prints the money formula and the referrer league', async () => {
    const args = ['--community', 'demo-reading-club', '--from', '2026-01-01', '--to', '2027-01-01'];
    const metrics = JSON.parse((await yutang(['metrics', ...args, '--json'])).out);
    const paying = await yutang(['metrics', ...args, '--explain', 'paid_rate', '--json']);
    expect([paying.code, paying.err]).toEqual([0, '']);
    expect(JSON.parse(paying.out).count).toBe(metrics.paid_rate.numerator);
    const csv = await yutang(['metrics', ...args, '--explain', 'paid_rate', '--part', 'denominator', '--csv']);
    const lines = csv.out.trimEnd().split('\r\n');
    expect(lines[0]).toBe('member_id,display_name,external_id,item,at,amount_minor');
    expect(lines.length - 1).toBe(metrics.paid_rate.denominator);
    // Without --explain, --csv prints every figure of the JSON body, one per line.
    const figures = await yutang(['metrics', ...args, '--csv']);
    const rows = parse(figures.out, { columns: true }) as Record<string, string>[];
    const byMetric = Object.fromEntries(rows.map((r) => [r.metric, r]));
    expect(rows.map((r) => r.metric)).toEqual(Object.keys(metrics).filter((k) => !['metrics_version', 'community_id', 'time_zone', 'currency', 'period'].includes(k)));
    expect([byMetric.joins!.kind, Number(byMetric.joins!.value)]).toEqual(['count', metrics.joins]);
    expect([byMetric.paid_rate!.kind, Number(byMetric.paid_rate!.numerator), Number(byMetric.paid_rate!.denominator)]).toEqual(['rate', metrics.paid_rate.numerator, metrics.paid_rate.denominator]);
    expect([byMetric.gmv!.kind, Number(byMetric.gmv!.value), byMetric.gmv!.currency]).toEqual(['money', metrics.gmv.amount_minor, 'CNY']);
    const bad = await yutang(['metrics', ...args, '--explain', 'joins', '--part', 'denominator']);
    expect([bad.code, bad.err]).toEqual([1, expect.stringContaining('--part')]);
    const unknown = await yutang(['metrics', ...args, '--explain', 'dau']);
    expect([unknown.code, unknown.err]).toEqual([1, expect.stringContaining('--explain')]);

    const formula = await yutang(['analytics', 'money-formula', ...args, '--json']);
    expect(formula.code).toBe(0);
    expect(JSON.parse(formula.out).revenue.current).toBe(metrics.gmv.amount_minor);
    const formulaCsv = await yutang(['analytics', 'money-formula', ...args, '--csv']);
    expect(formulaCsv.out.trimEnd().split('\r\n').map((l) => l.split(',')[0])).toEqual(['factor', 'reach', 'join_rate', 'paid_conversion', 'arppu']);
    expect((await yutang(['analytics', 'money-formula', ...args])).out).toContain('Money formula 2026-01-01 → 2027-01-01');
    const league = await yutang(['analytics', 'referrers', ...args, '--json']);
    expect(league.code).toBe(0);
    expect(JSON.parse(league.out).community_k_factor).toEqual(metrics.k_factor);
    expect((await yutang(['analytics', 'referrers', ...args])).out).toMatch(/^Referrers 2026-01-01/);
    const badTo = await yutang(['analytics', 'referrers', '--community', 'demo-reading-club', '--from', '2026-02-01', '--to', '2026-01-01']);
    expect([badTo.code, badTo.err]).toEqual([1, expect.stringContaining('--to')]);
  });

  it('prints the funnel as the API body, and cohorts as a table, creating a missing community and saying so', async () => {
    const args = ['--community', 'demo-reading-club', '--from', '2026-01-01', '--to', '2027-01-01'];
    const json = await yutang(['funnel', ...args, '--split', 'channel', '--window-days', '7', '--json']);
    expect([json.code, json.err]).toEqual([0, '']);
    const body = JSON.parse(json.out);
    const handle = openDatabase(join(dir, 'cli.db'));
    try {
      const c = await handle.db.selectFrom('communities').select('id').where('slug', '=', 'demo-reading-club').executeTakeFirstOrThrow();
      const config = { publicUrl: '', signup: 'open' as const, secret: '' };
      const direct = await communityFunnel({ db: handle.db, clock: systemClock, config }, c.id, { from: '2026-01-01', to: '2027-01-01', split: 'channel', window_days: 7 });
      expect(body).toEqual(JSON.parse(JSON.stringify(FunnelOut.parse(direct))));
    } finally {
      await handle.close();
    }
    expect(body.window_days).toBe(7);
    expect(body.split.rows.length).toBeGreaterThan(1);

    const cohorts = await yutang(['cohorts', ...args, '--granularity', 'month']);
    expect([cohorts.code, cohorts.err]).toEqual([0, '']);
    expect(cohorts.out).toMatch(/^cohort\s+size\s+0\s+1/m);
    expect(cohorts.out).toMatch(/^bucket\s+new\s+returning\s+resurrecting\s+dormant/m);

    const fresh = await yutang(['funnel', '--community', 'funnel-club', '--from', '2026-01-01', '--to', '2026-02-01', '--csv']);
    expect(fresh.code).toBe(0);
    expect(fresh.err).toContain('Created community "funnel-club" with defaults');
    expect(fresh.out.split('\r\n')[0]).toBe('row,step,unit,count,from_previous,from_first');
    const bad = await yutang(['cohorts', '--community', 'funnel-club', '--from', '2026-01-01', '--to', '2026-02-01', '--granularity', 'year']);
    expect([bad.code, bad.err]).toEqual([1, expect.stringContaining('--granularity')]);
  });

  it('imports orders from CSV into a new community, once, reporting bad lines', async () => {
    const file = join(dir, 'orders.csv');
    writeFileSync(
      file,
      '\uFEFF会员,paid_at,金额,currency,product\n' +
        'u1,2026-03-01T20:15:00+08:00,29.33,CNY,年度会员\n' +
        'u2,2026-03-02 09:00,"1,000.00",CNY,年度会员\n' +
        'u3,2026-03-03,12.345,CNY,年度会员\n',
    );
    const cols = ['--col-member-external-id', '会员', '--col-amount', '金额'];
    const strict = await yutang(['import', 'orders', file, '--community', 'csv-club', '--json', '--strict', ...cols]);
    expect(strict.code).toBe(1);
    expect(strict.err).toContain('Created community "csv-club" with defaults');
    expect(strict.err).toContain('line 4: amount 12.345 has more decimals than CNY allows (2)');
    expect(JSON.parse(strict.out.trim().split('\n').at(-1)!)).toEqual({ imported: 0, duplicates: 0, skipped: 3, errors: [{ line: 4, reason: 'amount 12.345 has more decimals than CNY allows (2)' }] });

    const first = await yutang(['import', 'orders', file, '--community', 'csv-club', '--json', ...cols]);
    expect(first.code).toBe(1);
    expect(first.err).not.toContain('Created community');
    expect(JSON.parse(first.out.trim().split('\n').at(-1)!)).toMatchObject({ imported: 2, duplicates: 0, skipped: 1 });
    const again = await yutang(['import', 'orders', file, '--community', 'csv-club', ...cols]);
    expect(again.out).toContain('Imported 0 orders into "csv-club"; 2 already imported; 1 lines skipped.');

    const db = new SQLite(join(dir, 'cli.db'), { readonly: true });
    const rows = db.prepare(`select o.amount_minor from orders o join communities c on c.id = o.community_id where c.slug = 'csv-club' order by o.paid_at`).all();
    db.close();
    expect(rows).toEqual([{ amount_minor: 2933 }, { amount_minor: 100000 }]);

    const missingCol = await yutang(['import', 'orders', file, '--community', 'csv-club']);
    expect(missingCol.code).toBe(1);
    expect(missingCol.err).toContain('the header line has no column member_external_id, amount');
  });

  it('imports members from CSV (renamed headers, strict, re-import) and exports members and orders as CSV', async () => {
    const file = join(dir, 'members.csv');
    writeFileSync(file, '\uFEFF会员号,name,标签,joined_at,group\nm1,"李, 雷",vip;早鸟,2026-03-01T09:00:00+08:00,一群\nm2,韩梅梅,,,\n,无名,,,\n');
    const cols = ['--col-external-id', '会员号', '--col-tags', '标签'];
    const strict = await yutang(['import', 'members', file, '--community', 'csv-members', '--json', '--strict', ...cols]);
    expect(strict.code).toBe(1);
    expect(strict.err).toContain('line 4: external_id is missing');
    expect(JSON.parse(strict.out.trim().split('\n').at(-1)!)).toEqual({ created: 0, updated: 0, unchanged: 0, joined: 0, skipped: 3, errors: [{ line: 4, reason: 'external_id is missing' }] });
    const first = await yutang(['import', 'members', file, '--community', 'csv-members', '--json', ...cols]);
    expect(JSON.parse(first.out.trim().split('\n').at(-1)!)).toMatchObject({ created: 2, joined: 1, skipped: 1 });
    const again = await yutang(['import', 'members', file, '--community', 'csv-members', ...cols]);
    expect(again.out).toContain('Members of "csv-members": 0 created, 0 updated, 2 unchanged, 0 seated in a group; 1 lines skipped.');

    const out = join(dir, 'members-out.csv');
    const exported = await yutang(['export', 'members', '--community', 'csv-members', '--out', out]);
    expect(exported.code).toBe(0);
    const rows = (parse(readFileSync(out, 'utf8'), { columns: true }) as Record<string, string>[]).map((r) => [r.external_id, r.name, r.tags, r.group, r.joined_at]);
    expect(rows.sort()).toEqual([
      ['m1', '李, 雷', 'vip;早鸟', '一群', '2026-03-01T01:00:00.000Z'],
      ['m2', '韩梅梅', '', '', ''],
    ]);
    const orders = await yutang(['export', 'orders', '--community', 'csv-club']);
    expect(orders.code).toBe(0);
    expect((parse(orders.out, { columns: true }) as Record<string, string>[]).map((r) => r.amount).sort()).toEqual(['1000.00', '29.33']);
    const unknown = await yutang(['export', 'payments', '--community', 'csv-club']);
    expect([unknown.code, unknown.err]).toEqual([1, expect.stringContaining('"payments" is not members or orders')]);
  });

  it('imports a Telegram export into a new community, reports it as JSON, and adds nothing the second time', async () => {
    const file = 'test/fixtures/telegram/single-chat.json';
    const first = await yutang(['import', 'telegram', file, '--community', 'tg-cli', '--json']);
    expect(first.code).toBe(0);
    expect(first.err).toContain('Created community "tg-cli" with defaults');
    expect(first.err).toMatch(/Read 27 records, 9 kB of 9 kB/);
    // Hand-counted in server/src/modules/imports/telegram-import.test.ts.
    const report = JSON.parse(first.out.trim().split('\n').at(-1)!);
    expect(report).toMatchObject({ format: 'telegram', messages: 14, authors: 9, joins: 9, leaves: 2, first_at: '2026-01-02T02:05:00.000Z', last_at: '2026-02-03T00:00:00.000Z', skipped: 2, imported: 25 });
    const again = await yutang(['import', 'telegram', file, '--community', 'tg-cli', '--group', 'ignored: every key is claimed']);
    expect(again.out).toContain('telegram → "tg-cli": 14 messages by 9 people, 9 joins, 2 leaves');
    expect(again.out).toContain('0 records written now, 25 already imported, 2 service lines, 0 problems (27 skipped).');

    const strict = await yutang(['import', 'telegram', 'test/fixtures/telegram/bad-record.json', '--community', 'tg-cli', '--strict', '--json']);
    expect(strict.code).toBe(1);
    expect(strict.err).toContain('messages[1]: message without a valid date');
    expect(JSON.parse(strict.out.trim().split('\n').at(-1)!)).toMatchObject({ aborted: true, imported: 0, problem_count: 1 });

    const db = new SQLite(join(dir, 'cli.db'), { readonly: true });
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    const members = count(`select count(*) n from members m join communities c on c.id = m.community_id where c.slug = 'tg-cli'`);
    const groups = count(`select count(*) n from groups g join communities c on c.id = g.community_id where c.slug = 'tg-cli'`);
    db.close();
    // 10 people, one group: the second run's --group made nothing, the strict run nothing either.
    expect([members, groups]).toEqual([10, 1]);
  });
});
