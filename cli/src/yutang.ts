import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { ConfigError, loadConfig } from '../../server/src/config.js';
import { migrateToLatest, openDatabase } from '../../server/src/db/kysely.js';
import { serve } from '../../server/src/main.js';
import { createDemo } from '../../server/src/demo/demo.js';
import { findCommunityBySlug } from '../../server/src/modules/communities/index.js';
import { importOrdersCsv, ImportFileError, IMPORT_COLUMNS } from '../../server/src/importers/orders-csv/index.js';
import { importMembersCsv, MEMBER_COLUMNS } from '../../server/src/importers/members-csv/index.js';
import { membersCsvRecords, ordersCsvRecords } from '../../server/src/modules/csv/index.js';
import { importChatFile } from './import-chat.js';
import { communityFor, withDatabase } from './session.js';
import { communityMetrics, metricsCsv } from '../../server/src/modules/metrics/index.js';
import { classifyCommunityMembers, communityCohorts, communityFunnel, communityLifecycle, explainCsv, explainMetric, membersCsv, moneyFormula, rebuildRollups, referrers } from '../../server/src/modules/analytics/index.js';
import { AppError } from '../../server/src/lib/errors.js';
import { createApiKey } from '../../server/src/modules/apikeys/index.js';
import { checkLedger } from '../../server/src/modules/orders/index.js';
import { runMembershipJobs } from '../../server/src/modules/memberships/index.js';
import { createWebhook, dispatchWebhooks, listWebhooks, redeliver, webhookDeliveries } from '../../server/src/modules/webhooks/index.js';
import { systemClock } from '../../server/src/lib/clock.js';
import { ApiScope, CohortsQuery, CreateWebhook, ListWebhookDeliveriesQuery, ExplainQuery, FunnelQuery, MembersQuery, MetricsQuery, type CohortsOut, type ExplainOut, type FunnelOut, type LifecycleOut, type MembersOut, type MetricsOut, type MoneyFormulaOut, type ReferrersOut } from '../../contracts/src/index.js';
import { csvRecord } from '../../server/src/lib/csv.js';

const program = new Command();
program.name('yutang').description('Yutang (鱼塘): run an online community as a business').showHelpAfterError();

program
  .command('serve')
  .description('Serve the API (and console) on PORT; migrates and seeds the demo on first start')
  .option('--no-demo', 'do not create the demo community on first start')
  .action(async (opts: { demo: boolean }) => serve({ demo: opts.demo }));

program
  .command('migrate')
  .description('Apply pending database migrations')
  .action(async () => {
    const config = loadConfig();
    const handle = openDatabase(config.databaseUrl);
    try {
      const applied = await migrateToLatest(handle.db);
      console.log(applied.length ? `Applied ${applied.length} migrations:\n  ${applied.join('\n  ')}` : 'Database is up to date.');
    } finally {
      await handle.close();
    }
  });

program
  .command('demo')
  .description('Create the demo community (a 读书会 with 6 groups and ~2,000 people over 180 days)')
  .option('--seed <n>', 'random seed', '42')
  .action(async (opts: { seed: string }) =>
    withDatabase(async (handle) => {
      const r = await createDemo(handle, { seed: Number(opts.seed), log: (m) => process.stdout.write(m + '\n') });
      console.log(r ? `Demo community "${r.slug}" ready: ${r.members} people.` : 'The demo community already exists.');
    }),
  );

program
  .command('backup <file>')
  .description('Write a consistent backup of the database while it is in use')
  .action(async (file: string) =>
    withDatabase(async (handle, config) => {
      const target = resolve(file);
      if (existsSync(target)) throw new Error(`${target} exists; choose a new file name`);
      if (handle.sqlite) {
        await handle.sqlite.backup(target, {
          progress: ({ totalPages, remainingPages }) => {
            process.stdout.write(`\rBacking up: ${Math.round(((totalPages - remainingPages) / totalPages) * 100)}%`);
            return 200;
          },
        });
        process.stdout.write('\n');
      } else {
        const r = spawnSync('pg_dump', ['--format=custom', `--file=${target}`, config.databaseUrl], { stdio: 'inherit' });
        if (r.error || r.status !== 0) throw new Error(`pg_dump failed${r.error ? `: ${r.error.message}` : ''}; is the PostgreSQL client installed?`);
      }
      console.log(`Backup written to ${target}`);
    }),
  );

const apikey = program.command('apikey').description('Manage API keys');
apikey
  .command('create')
  .description('Create an API key for a community and print its secret once')
  .requiredOption('--community <slug>', 'community slug (created with defaults if it does not exist)')
  .option('--scopes <list>', 'comma-separated scopes: read, write, events:write', 'read')
  .option('--name <name>', 'key name', 'cli')
  .action(async (opts: { community: string; scopes: string; name: string }) =>
    withDatabase(async (handle, config) => {
      const scopes = ApiScope.array().parse(opts.scopes.split(',').map((s) => s.trim()));
      const deps = { db: handle.db, clock: systemClock, config };
      const community = await communityFor(deps, opts.community);
      const { secret } = await createApiKey(deps, community.id, opts.name, scopes, null);
      console.log(secret);
    }),
  );

/** The metrics as a readable table: one line per figure, rates with their numerator and denominator. */
function metricsTable(m: MetricsOut): string {
  const pct = (r: { value: number | null; numerator: number; denominator: number; reason?: string | undefined }) =>
    r.value === null ? `—  (${r.reason ?? `${r.numerator}/${r.denominator}`})` : `${(r.value * 100).toFixed(1)}%  (${r.numerator}/${r.denominator})`;
  const money = (minor: number) => `${(minor / 100).toFixed(2)} ${m.currency}`;
  const perPerson = (r: { value: number | null; numerator: number; denominator: number }) =>
    r.value === null ? `—  (${money(r.numerator)} / ${r.denominator})` : `${money(r.value)}  (${money(r.numerator)} / ${r.denominator})`;
  const rows: [string, string][] = [
    ['members at t0', String(m.members_t0)],
    ['members at t1', String(m.members_t1)],
    ['period members', String(m.period_members)],
    ['joins', String(m.joins)],
    ['leaves', String(m.leaves)],
    ['leave rate 退群率', pct(m.leave_rate)],
    ['active members', String(m.active_members)],
    ['active rate 活跃率', pct(m.active_rate)],
    ['paying members', String(m.paying_members)],
    ['paid rate 付费率', pct(m.paid_rate)],
    ['repurchase rate 复购率', pct(m.repurchase_rate)],
    ['renewal rate 续费率', pct(m.renewal_rate)],
    ['trial renewal rate 续班率', pct(m.trial_renewal_rate)],
    ['GMV', money(m.gmv.amount_minor)],
    ['refunds', money(m.refunds.amount_minor)],
    ['net revenue', money(m.net_revenue.amount_minor)],
    ['ARPU', perPerson(m.arpu)],
    ['ARPPU', perPerson(m.arppu)],
    ['K-factor', m.k_factor.value === null ? `—  (${m.k_factor.numerator}/${m.k_factor.denominator})` : `${m.k_factor.value.toFixed(3)}  (${m.k_factor.numerator}/${m.k_factor.denominator})`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const head = `Metrics ${m.period.from} → ${m.period.to} (to exclusive), ${m.time_zone}, definitions ${m.metrics_version}`;
  return [head, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join('\n');
}

type Flags = Record<string, string>;
const flagOf = (flags: Flags, field: string) => `--${flags[field] ?? field}`;

/** Parses a query from CLI flags, naming bad input by its flag (`--from`, `--explain`, …). */
function parseFlags<Q>(schema: { safeParse(v: unknown): { success: true; data: Q } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, raw: Record<string, unknown>, flags: Flags = {}): Q {
  const query = schema.safeParse(raw);
  if (!query.success) throw new Error(query.error.issues.map((i) => `${flagOf(flags, String(i.path[0]))}: ${i.message}`).join('; '));
  return query.data;
}

/** Runs a service call, turning its field errors (`query.to`) into flag errors (`--to`). */
async function byFlags<T>(run: () => Promise<T>, flags: Flags = {}): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof AppError && err.errors?.length) throw new Error(err.errors.map((e) => `${flagOf(flags, e.field.replace(/^query\./, ''))}: ${e.message}`).join('; '));
    throw err;
  }
}

/** CSV with a header line from plain rows (csvRecord), without the last line break. */
function toCsv(header: string[], rows: readonly (readonly unknown[])[]): string {
  return [header, ...rows].map(csvRecord).join('').trimEnd();
}

function explainTable(e: ExplainOut): string {
  const head = `${e.metric} ${e.part}: ${e.count} rows${e.amount_minor === null ? '' : `, ${(e.amount_minor / 100).toFixed(2)} ${e.currency}`} (${e.period.from} → ${e.period.to}, ${e.time_zone}, definitions ${e.metrics_version})`;
  return [head, ...e.rows.map((r) => `  ${r.member_id}  ${r.display_name ?? ''}${r.external_id ? ` [${r.external_id}]` : ''}${r.item ? `  ${r.item}` : ''}${r.at ? `  ${r.at}` : ''}${r.amount_minor === null ? '' : `  ${r.amount_minor}`}`)].join('\n');
}

program
  .command('metrics')
  .description('Core KPIs of a community for [from, to) in its time zone (see docs/metrics.md); --explain lists the members behind one figure')
  .requiredOption('--community <slug>', 'community slug (created with defaults if it does not exist)')
  .requiredOption('--from <date>', 'first day, YYYY-MM-DD')
  .requiredOption('--to <date>', 'day after the last, YYYY-MM-DD')
  .option('--json', 'print one JSON object, identical to the API response body')
  .option('--explain <metric>', 'list the members behind a figure (e.g. paying_members, paid_rate, gmv; see docs/analytics.md)')
  .option('--part <part>', 'with --explain: numerator or denominator', 'numerator')
  .option('--csv', 'print CSV with a header line: one line per figure, identical to GET …/metrics.csv (with --explain: the rows behind the figure)')
  .action(async (opts: { community: string; from: string; to: string; json?: boolean; explain?: string; part: string; csv?: boolean }) =>
    withDatabase(async (handle, config) => {
      const deps = { db: handle.db, clock: systemClock, config };
      if (opts.explain !== undefined) {
        const flags = { metric: 'explain' };
        const q = parseFlags(ExplainQuery, { from: opts.from, to: opts.to, metric: opts.explain, part: opts.part }, flags);
        const community = await communityFor(deps, opts.community);
        const e = await byFlags(() => explainMetric(deps, community.id, q), flags);
        process.stdout.write(opts.csv ? explainCsv(e) : `${opts.json ? JSON.stringify(e) : explainTable(e)}\n`);
        return;
      }
      const q = parseFlags(MetricsQuery, { from: opts.from, to: opts.to });
      const community = await communityFor(deps, opts.community);
      const m = await byFlags(() => communityMetrics(deps, community.id, q));
      if (opts.csv) process.stdout.write(metricsCsv(m));
      else console.log(opts.json ? JSON.stringify(m) : metricsTable(m));
    }),
  );

/** The classification as a table: one line per member, then the summary with progress to the true-fan goal. */
function membersTable(m: MembersOut): string {
  const rows = m.members.map((x) => [x.display_name || x.member_id, x.level, `${x.criteria_met}/${x.criteria.length}`, String(x.engagement_score), x.paid ? 'paid' : '-', x.archetype, x.archetype_reason]);
  const head = ['member', 'level', 'met', 'score', 'paid', 'archetype', 'reason'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const s = m.summary;
  return [
    `Members ${m.period.from} → ${m.period.to} (to exclusive), ${m.time_zone}, definitions ${m.metrics_version}`,
    line(head),
    ...rows.map(line),
    `${s.members} members: ${s.levels.true_fan} true fans, ${s.levels.fan} fans, ${s.levels.user} users; ` +
      Object.entries(s.archetypes).map(([k, v]) => `${k} ${v}`).join(', '),
    `True fans ${s.true_fans.count} / ${s.true_fans.goal.toLocaleString('en-US')} (${(s.true_fans.progress * 100).toFixed(1)}%), ${s.unpaid_true_fans.length} of them unpaid`,
  ].join('\n');
}

program
  .command('members')
  .description('Member analytics')
  .command('classify')
  .description('Engagement score, fan level and archetype of each member for [from, to) (see docs/analytics.md)')
  .requiredOption('--community <slug>', 'community slug (created with defaults if it does not exist)')
  .option('--from <date>', 'first day, YYYY-MM-DD (default: 30 days before --to)')
  .option('--to <date>', 'day after the last, YYYY-MM-DD (default: tomorrow, UTC)')
  .option('--json', 'print one JSON object, identical to the API response body')
  .option('--csv', 'print CSV, identical to the API with format=csv')
  .action(async (opts: { community: string; from?: string; to?: string; json?: boolean; csv?: boolean }) =>
    withDatabase(async (handle, config) => {
      const deps = { db: handle.db, clock: systemClock, config };
      const to = opts.to ?? new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
      const from = opts.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - 30 * 86_400_000).toISOString().slice(0, 10);
      const query = MembersQuery.safeParse({ from, to });
      if (!query.success) throw new Error(query.error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('; '));
      const community = await communityFor(deps, opts.community);
      try {
        const m = await classifyCommunityMembers(deps, community.id, query.data);
        console.log(opts.json ? JSON.stringify(m) : opts.csv ? membersCsv(m).trimEnd() : membersTable(m));
      } catch (err) {
        if (err instanceof AppError && err.errors?.length) throw new Error(err.errors.map((e) => `--${e.field.replace(/^query\./, '')}: ${e.message}`).join('; '));
        throw err;
      }
    }),
  );

const analyticsCmd = program.command('analytics').description('Analytics rollups and reports (see docs/analytics.md)');
analyticsCmd
  .command('rebuild')
  .description('Recompute the daily rollups from the event log (all communities, or one); progress on stderr')
  .option('--community <slug>', 'only this community')
  .action(async (opts: { community?: string }) =>
    withDatabase(async (handle, config) => {
      const deps = { db: handle.db, clock: systemClock, config };
      let communityId: string | undefined;
      if (opts.community !== undefined) {
        const c = await findCommunityBySlug(handle.db, opts.community);
        if (!c) throw new Error(`--community: no community with slug "${opts.community}"`);
        communityId = c.id;
      }
      let last = 0;
      const report = await rebuildRollups(deps, {
        communityId,
        onProgress: (p) => {
          if (p.days_done !== p.days_total && p.elapsed_ms - last < 1000) return;
          last = p.elapsed_ms;
          const rate = p.elapsed_ms > 0 ? Math.round((p.events_done * 1000) / p.elapsed_ms) : 0;
          process.stderr.write(`Rollups ${p.community_id}: ${p.days_done}/${p.days_total} days, ${p.events_done} events, ${rate} events/s\n`);
        },
      });
      const rate = report.elapsed_ms > 0 ? Math.round((report.events * 1000) / report.elapsed_ms) : report.events;
      console.log(`Rebuilt rollups of ${report.communities} ${report.communities === 1 ? 'community' : 'communities'}: ${report.days} days, ${report.events} events in ${(report.elapsed_ms / 1000).toFixed(1)} s (${rate} events/s)`);
    }),
  );
function moneyFormulaTable(m: MoneyFormulaOut): string {
  const fmt = (key: string, v: number | null) => (v === null ? '—' : key === 'reach' ? String(v) : key === 'arppu' ? `${(v / 100).toFixed(2)} ${m.currency}` : v.toFixed(3));
  const money = (minor: number) => `${(minor / 100).toFixed(2)} ${m.currency}`;
  const lines = [
    `Money formula ${m.period.from} → ${m.period.to} vs ${m.previous_period.from} → ${m.previous_period.to}, ${m.time_zone}, definitions ${m.metrics_version}`,
    `  revenue (GMV)  ${money(m.revenue.current)}  (was ${money(m.revenue.previous)}, change ${money(m.revenue.change)}); reach from ${m.reach_source}`,
    ...m.factors.map(
      (f) => `  ${f.label.padEnd(36)}  ${fmt(f.key, f.value).padStart(12)}  (${f.numerator}/${f.denominator})  was ${fmt(f.key, f.previous.value)}  contribution ${f.contribution === null ? '—' : money(Math.round(f.contribution))}`,
    ),
    `  paid rate 付费率 (for comparison)  ${m.paid_rate.current.numerator}/${m.paid_rate.current.denominator}`,
    m.top_factor ? `  moved revenue most: ${m.top_factor}` : `  ${m.reason ?? 'revenue did not change'}`,
  ];
  return lines.join('\n');
}

function referrersTable(r: ReferrersOut): string {
  const money = (minor: number) => `${(minor / 100).toFixed(2)}`;
  const head = `Referrers ${r.period.from} → ${r.period.to}, ${r.time_zone}, definitions ${r.metrics_version}; community K ${r.community_k_factor.numerator}/${r.community_k_factor.denominator}`;
  return [
    head,
    '  rank  kind    name                  invites  joins  paid    revenue   LTV       leave   verdict',
    ...r.referrers.map(
      (x) =>
        `  ${String(x.rank).padStart(4)}  ${x.kind.padEnd(6)}  ${x.name.slice(0, 20).padEnd(20)}  ${String(x.invites).padStart(7)}  ${String(x.joins).padStart(5)}  ${`${x.paid_conversion.numerator}/${x.paid_conversion.denominator}`.padStart(5)}  ${money(x.revenue_minor).padStart(9)}  ${(x.ltv.value === null ? '—' : money(x.ltv.value)).padStart(8)}  ${`${(x.group_leave_rate ?? x.leave_rate).numerator}/${(x.group_leave_rate ?? x.leave_rate).denominator}`.padStart(6)}  ${x.verdict}`,
    ),
  ].join('\n');
}

const analytics = analyticsCmd;
const periodOptions = (c: Command) =>
  c
    .requiredOption('--community <slug>', 'community slug (created with defaults if it does not exist)')
    .requiredOption('--from <date>', 'first day, YYYY-MM-DD')
    .requiredOption('--to <date>', 'day after the last, YYYY-MM-DD')
    .option('--json', 'print one JSON object, identical to the API response body')
    .option('--csv', 'print CSV with a header line');
periodOptions(analytics.command('money-formula').description('reach × join rate × payers per join × ARPPU = GMV against the previous period, with each factor’s share of the change')).action(
  async (opts: { community: string; from: string; to: string; json?: boolean; csv?: boolean }) =>
    withDatabase(async (handle, config) => {
      const deps = { db: handle.db, clock: systemClock, config };
      const q = parseFlags(MetricsQuery, { from: opts.from, to: opts.to });
      const community = await communityFor(deps, opts.community);
      const m = await byFlags(() => moneyFormula(deps, community.id, q));
      if (opts.csv) {
        const rows = m.factors.map((f) => [f.key, f.value, f.numerator, f.denominator, f.previous.value, f.previous.numerator, f.previous.denominator, f.change, f.contribution]);
        console.log(toCsv(['factor', 'value', 'numerator', 'denominator', 'previous_value', 'previous_numerator', 'previous_denominator', 'change', 'contribution_minor'], rows));
      } else console.log(opts.json ? JSON.stringify(m) : moneyFormulaTable(m));
    }),
);
periodOptions(analytics.command('referrers').description('Referral and KOL league: invites, joins, conversion, revenue, LTV, leave rate and a reward / keep / replace verdict')).action(
  async (opts: { community: string; from: string; to: string; json?: boolean; csv?: boolean }) =>
    withDatabase(async (handle, config) => {
      const deps = { db: handle.db, clock: systemClock, config };
      const q = parseFlags(MetricsQuery, { from: opts.from, to: opts.to });
      const community = await communityFor(deps, opts.community);
      const r = await byFlags(() => referrers(deps, community.id, q));
      if (opts.csv) {
        const rows = r.referrers.map((x) => [x.rank, x.kind, x.id, x.name, x.invites, x.joins, x.k, x.paid_conversion.numerator, x.paid_conversion.denominator, x.revenue_minor, x.people, x.ltv.value, x.leave_rate.value, x.group_leave_rate?.value ?? null, x.verdict]);
        console.log(toCsv(['rank', 'kind', 'id', 'name', 'invites', 'joins', 'k', 'paid', 'new_people', 'revenue_minor', 'people', 'ltv_minor', 'leave_rate', 'group_leave_rate', 'verdict'], rows));
      } else console.log(opts.json ? JSON.stringify(r) : referrersTable(r));
    }),
);
/** Parses CLI options with an API query schema, naming bad options as `--flag`. */
function queryFrom<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, raw: Record<string, unknown>): T {
  const q = schema.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
  if (!q.success) throw new Error(q.error.issues.map((i) => `--${String(i.path[0]).replace(/_/g, '-')}: ${i.message}`).join('; '));
  return q.data;
}

/** Runs an analytics call, turning field errors into `--flag: message`. */
async function fieldErrorsAsFlags<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError && err.errors?.length) throw new Error(err.errors.map((e) => `--${e.field.replace(/^query\./, '').replace(/_/g, '-')}: ${e.message}`).join('; '));
    throw err;
  }
}

const pct = (r: { value: number | null } | null) => (r === null ? '' : r.value === null ? '—' : `${(r.value * 100).toFixed(1)}%`);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c + ' '.repeat(widths[i]! - [...c].length) : ' '.repeat(widths[i]! - [...c].length) + c)).join('  ')).join('\n');
}

function cohortsTable(c: CohortsOut, l: LifecycleOut): string {
  const head = `Cohorts by first join, per ${c.granularity}, ${c.period.from} → ${c.period.to} (to exclusive), ${c.time_zone}, definitions ${c.metrics_version}`;
  const k = Array.from({ length: c.periods + 1 }, (_, i) => String(i));
  const matrix = table([['cohort', 'size', ...k], ...c.cohorts.map((r) => [r.start, String(r.size), ...r.cells.map(pct)])]);
  const life = table([['bucket', 'new', 'returning', 'resurrecting', 'dormant'], ...l.buckets.map((b) => [b.start, String(b.new), String(b.returning), String(b.resurrecting), String(b.dormant)])]);
  return `${head}\n${matrix}\n\nLifecycle\n${life}`;
}

function funnelTable(f: FunnelOut): string {
  const head = `Funnel${f.preset ? ` (${f.preset})` : ''} of people entering ${f.period.from} → ${f.period.to} (to exclusive), window ${f.window_days} days, ${f.time_zone}, definitions ${f.metrics_version}`;
  const block = (steps: FunnelOut['steps']) =>
    table([['step', 'count', 'from previous', 'from entrants'], ...steps.map((s) => [`${s.key}${s.unit === 'events' ? ' (events)' : ''}`, s.count === null ? '—' : String(s.count), pct(s.from_previous), pct(s.from_first)])]);
  const parts = [head, block(f.steps)];
  for (const row of f.split?.rows ?? []) parts.push(`\n${f.split!.by}: ${row.label}\n${block(row.steps)}`);
  return parts.join('\n');
}

program
  .command('cohorts')
  .description('Retention cohorts by first join and the lifecycle view, for [from, to) in the community time zone (see docs/analytics.md)')
  .requiredOption('--community <slug>', 'community slug (created with defaults if it does not exist)')
  .requiredOption('--from <date>', 'first day, YYYY-MM-DD')
  .requiredOption('--to <date>', 'day after the last, YYYY-MM-DD')
  .option('--granularity <unit>', 'day, week or month', 'week')
  .option('--periods <n>', 'last period shown (0..n)')
  .option('--json', 'print one JSON object: { cohorts, lifecycle }, each identical to its API response body')
  .option('--csv', 'print the cohort matrix as CSV: cohort, size, then retained/size per period')
  .action(async (opts: { community: string; from: string; to: string; granularity: string; periods?: string; json?: boolean; csv?: boolean }) =>
    withDatabase(async (handle, config) => {
      const deps = { db: handle.db, clock: systemClock, config };
      const query = queryFrom(CohortsQuery, { from: opts.from, to: opts.to, granularity: opts.granularity, periods: opts.periods });
      const community = await communityFor(deps, opts.community);
      const [cohorts, lifecycle] = await fieldErrorsAsFlags(() =>
        Promise.all([communityCohorts(deps, community.id, query), communityLifecycle(deps, community.id, { from: query.from, to: query.to, granularity: query.granularity })]),
      );
      if (opts.json) console.log(JSON.stringify({ cohorts, lifecycle }));
      else if (opts.csv) {
        const k = Array.from({ length: cohorts.periods + 1 }, (_, i) => `period_${i}`);
        console.log(toCsv(['cohort', 'size', ...k], cohorts.cohorts.map((r) => [r.start, r.size, ...r.cells.map((x) => (x === null ? '' : x.numerator))])));
      } else console.log(cohortsTable(cohorts, lifecycle));
    }),
  );

program
  .command('funnel')
  .description('Conversion funnel of people entering in [from, to), or the trial → full course funnel (see docs/analytics.md)')
  .requiredOption('--community <slug>', 'community slug (created with defaults if it does not exist)')
  .requiredOption('--from <date>', 'first day, YYYY-MM-DD')
  .requiredOption('--to <date>', 'day after the last, YYYY-MM-DD')
  .option('--window-days <n>', 'conversion window in days (default 14; 30 with --preset trial)')
  .option('--split <by>', 'channel, group or staff')
  .option('--preset <name>', 'trial: bought a trial product → engaged → bought the full product')
  .option('--json', 'print one JSON object, identical to the API response body')
  .option('--csv', 'print one line per split row and step: row, step, unit, count, from_previous, from_first')
  .action(async (opts: { community: string; from: string; to: string; windowDays?: string; split?: string; preset?: string; json?: boolean; csv?: boolean }) =>
    withDatabase(async (handle, config) => {
      const deps = { db: handle.db, clock: systemClock, config };
      const query = queryFrom(FunnelQuery, { from: opts.from, to: opts.to, window_days: opts.windowDays, split: opts.split, preset: opts.preset });
      const community = await communityFor(deps, opts.community);
      const f = await fieldErrorsAsFlags(() => communityFunnel(deps, community.id, query));
      if (opts.json) console.log(JSON.stringify(f));
      else if (opts.csv) {
        const lines = (row: string, steps: FunnelOut['steps']) => steps.map((s) => [row, s.key, s.unit, s.count, s.from_previous?.value, s.from_first?.value]);
        console.log(toCsv(['row', 'step', 'unit', 'count', 'from_previous', 'from_first'], [...lines('all', f.steps), ...(f.split?.rows ?? []).flatMap((r) => lines(`${f.split!.by}:${r.label}`, r.steps))]));
      } else console.log(funnelTable(f));
    }),
  );

const importCmd = program.command('import').description('Import data from elsewhere');

/** `--col-<column> <header>` for each column of a CSV import, read back as the importer's `columns`. */
function columnFlags<C extends string>(cmd: Command, cols: readonly C[]) {
  for (const col of cols) cmd.option(`--col-${col.replace(/_/g, '-')} <header>`, `header of the ${col} column`);
  return (opts: Record<string, unknown>) => {
    const columns: Partial<Record<C, string>> = {};
    for (const col of cols) {
      const v = opts[`col${col.replace(/(^|_)(\w)/g, (_m, _u: string, c: string) => c.toUpperCase())}`];
      if (typeof v === 'string') columns[col] = v;
    }
    return columns;
  };
}

/** Runs a CSV import with progress on stderr, then prints its bad lines (the first 100); exit code 1 when any line was bad. */
async function runCsvImport<S extends { errors: { line: number; reason: string }[] }>(file: string, run: (onProgress: (n: number) => void) => Promise<S>): Promise<S> {
  let summary: S;
  let progress = false;
  try {
    summary = await run((n) => {
      progress = true;
      process.stderr.write(`\rRead ${n} lines…`);
    });
  } catch (err) {
    if (err instanceof ImportFileError) throw new Error(`${file}: ${err.message}`);
    throw err;
  } finally {
    if (progress) process.stderr.write('\n');
  }
  for (const e of summary.errors.slice(0, 100)) console.error(`line ${e.line}: ${e.reason}`);
  if (summary.errors.length > 100) console.error(`… and ${summary.errors.length - 100} more bad lines`);
  if (summary.errors.length) process.exitCode = 1;
  return summary;
}

const orderImport = importCmd
  .command('orders <file>')
  .description('Import paid orders made elsewhere from a CSV file (see docs/import.md); re-importing a file adds nothing')
  .requiredOption('--community <slug>', 'community slug (created with defaults if it does not exist)')
  .option('--json', 'print one summary JSON object as the last line')
  .option('--strict', 'import nothing if any line is bad');
const orderColumns = columnFlags(orderImport, IMPORT_COLUMNS);
orderImport.action(async (file: string, opts: Record<string, string | boolean | undefined>) =>
  withDatabase(async (handle, config) => {
    const deps = { db: handle.db, clock: systemClock, config };
    if (!existsSync(file)) throw new Error(`${file}: no such file`);
    const community = await communityFor(deps, String(opts.community));
    const summary = await runCsvImport(file, (onProgress) => importOrdersCsv(deps, community.id, resolve(file), { columns: orderColumns(opts), strict: !!opts.strict }, onProgress));
    if (opts.json) console.log(JSON.stringify(summary));
    else {
      console.log(`Imported ${summary.imported} orders into "${community.slug}"; ${summary.duplicates} already imported; ${summary.skipped} lines skipped.`);
      if (opts.strict && summary.errors.length) console.log('Nothing was imported (--strict): fix the bad lines and run again.');
    }
  }),
);

const memberImport = importCmd
  .command('members <file>')
  .description('Import or update members from a CSV file keyed by external_id (see docs/import.md); re-importing a file adds nothing')
  .requiredOption('--community <slug>', 'community slug (created with defaults if it does not exist)')
  .option('--json', 'print one summary JSON object as the last line')
  .option('--strict', 'import nothing if any line is bad');
const memberColumns = columnFlags(memberImport, MEMBER_COLUMNS);
memberImport.action(async (file: string, opts: Record<string, string | boolean | undefined>) =>
  withDatabase(async (handle, config) => {
    const deps = { db: handle.db, clock: systemClock, config };
    if (!existsSync(file)) throw new Error(`${file}: no such file`);
    const community = await communityFor(deps, String(opts.community));
    const path = resolve(file);
    const summary = await runCsvImport(file, (onProgress) => importMembersCsv(deps, community.id, () => createReadStream(path), { columns: memberColumns(opts), strict: !!opts.strict }, onProgress));
    if (opts.json) console.log(JSON.stringify(summary));
    else {
      console.log(`Members of "${community.slug}": ${summary.created} created, ${summary.updated} updated, ${summary.unchanged} unchanged, ${summary.joined} seated in a group; ${summary.skipped} lines skipped.`);
      if (opts.strict && summary.errors.length) console.log('Nothing was imported (--strict): fix the bad lines and run again.');
    }
  }),
);

program
  .command('export <what>')
  .description('Write every member or order of a community as CSV (members: the import columns first, so the file can be imported again; see docs/import.md)')
  .requiredOption('--community <slug>', 'community slug (created with defaults if it does not exist)')
  .option('--out <file>', 'write to this file instead of stdout')
  .action(async (what: string, opts: { community: string; out?: string }) =>
    withDatabase(async (handle, config) => {
      const rows = what === 'members' ? membersCsvRecords : what === 'orders' ? ordersCsvRecords : null;
      if (!rows) throw new Error(`export: "${what}" is not members or orders (metrics: --csv on yutang metrics, with or without --explain, members classify, cohorts, funnel)`);
      const community = await communityFor({ db: handle.db, clock: systemClock, config }, opts.community);
      await pipeline(Readable.from(rows(handle.db, community.id)), opts.out ? createWriteStream(opts.out) : process.stdout, { end: !!opts.out });
    }),
  );

// One subcommand per chat-export parser of the registry (server/src/modules/imports/parsers.ts).
importChatFile(importCmd, withDatabase, communityFor);

const ledger = program.command('ledger').description('The money ledger');
ledger
  .command('check')
  .description('Verify that every order balances and matches its ledger entries and refunds; exit 1 on a violation')
  .action(async () =>
    withDatabase(async (handle) => {
      const r = await checkLedger(handle.db);
      console.log(`Orders: ${r.orders} (${r.paid_orders} paid or refunded)`);
      for (const [currency, t] of Object.entries(r.totals).sort()) {
        console.log(`  ${currency}: paid ${t.paid_minor}, refunded ${t.refunded_minor}, net ${t.net_minor}, provider fees ${t.fees_minor} (minor units)`);
      }
      if (r.violations.length) {
        console.log(`${r.violations.length} violation(s):`);
        for (const v of r.violations) console.log(`  ${v}`);
        process.exitCode = 1;
      } else {
        console.log('Ledger OK: every order balances.');
      }
    }),
  );

const jobs = program.command('jobs').description('Scheduled work (yutang serve runs it every minute)');
jobs
  .command('run')
  .description('Run the membership jobs once: time out unpaid orders, charge automatic renewals, end memberships past expiry and grace, send expiry reminders, send stalled refunds again')
  .action(async () =>
    withDatabase(async (handle, config) => {
      const r = await runMembershipJobs({ db: handle.db, clock: systemClock, config });
      console.log(`Unpaid orders expired: ${r.expired_orders}`);
      console.log(`Memberships expired: ${r.expired_memberships} (members removed from paid groups: ${r.removed_from_groups})`);
      console.log(`Expiry reminders recorded: ${r.reminders}`);
      console.log(`Automatic renewals charged: ${r.renewals_charged} (failed: ${r.renewals_failed})`);
      console.log(`Stalled refunds sent again: ${r.refunds_retried}`);
    }),
  );

const webhooks = program.command('webhooks').description('Outbound webhooks (docs/webhooks.md)');
webhooks
  .command('list')
  .description('List a community’s webhook subscriptions')
  .requiredOption('--community <slug>', 'community slug')
  .action(async (opts: { community: string }) =>
    withDatabase(async (handle, config) => {
      const deps = { db: handle.db, clock: systemClock, config };
      for (const w of await listWebhooks(deps, (await communityFor(deps, opts.community)).id)) {
        console.log(`${w.id}  ${w.status}${w.disabled_reason ? ` (${w.disabled_reason})` : ''}  ${w.url}  ${w.event_types.join(',')}`);
      }
    }),
  );
webhooks
  .command('create')
  .description('Subscribe a URL to event types; prints the id and the signing secret (shown once)')
  .requiredOption('--community <slug>', 'community slug (created with defaults if it does not exist)')
  .requiredOption('--url <url>', 'http(s) endpoint')
  .option('--events <list>', "comma-separated event types, or '*'", '*')
  .action(async (opts: { community: string; url: string; events: string }) =>
    withDatabase(async (handle, config) => {
      const deps = { db: handle.db, clock: systemClock, config };
      const input = CreateWebhook.parse({ url: opts.url, event_types: opts.events.split(',').map((s) => s.trim()) });
      const { webhook, secret } = await createWebhook(deps, (await communityFor(deps, opts.community)).id, input);
      console.log(`${webhook.id}\n${secret}`);
    }),
  );
webhooks
  .command('deliveries <webhookId>')
  .description('The delivery log of a subscription, newest first')
  .requiredOption('--community <slug>', 'community slug')
  .option('--status <status>', 'pending, succeeded or failed')
  .option('--json', 'print the API body')
  .action(async (webhookId: string, opts: { community: string; status?: string; json?: boolean }) =>
    withDatabase(async (handle, config) => {
      const deps = { db: handle.db, clock: systemClock, config };
      const q = ListWebhookDeliveriesQuery.parse({ status: opts.status, limit: 200 });
      const deliveries = await webhookDeliveries(deps, (await communityFor(deps, opts.community)).id, webhookId, q);
      if (opts.json) return console.log(JSON.stringify({ deliveries }));
      for (const d of deliveries) {
        const last = d.last_status_code ?? d.last_error ?? '';
        console.log(`${d.id}  ${d.event_id} ${d.event_type}  ${d.status}  attempts ${d.attempts}  ${last}${d.next_attempt_at ? `  next ${d.next_attempt_at}` : ''}`);
      }
    }),
  );
webhooks
  .command('redeliver <webhookId> <deliveryId>')
  .description('Send a delivery’s event again, as a new delivery (same event id); prints its id')
  .requiredOption('--community <slug>', 'community slug')
  .action(async (webhookId: string, deliveryId: string, opts: { community: string }) =>
    withDatabase(async (handle, config) => {
      const deps = { db: handle.db, clock: systemClock, config };
      console.log((await redeliver(deps, (await communityFor(deps, opts.community)).id, webhookId, deliveryId)).id);
    }),
  );
webhooks
  .command('dispatch')
  .description('Send the due deliveries once (yutang serve does it every 2 s) and print what happened')
  .action(async () =>
    withDatabase(async (handle, config) => {
      const r = await dispatchWebhooks({ db: handle.db, clock: systemClock, config });
      console.log(`Attempted: ${r.attempted}; succeeded: ${r.succeeded}; retrying: ${r.retrying}; failed: ${r.failed}; subscriptions disabled: ${r.disabled}`);
    }),
  );

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(`yutang: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
