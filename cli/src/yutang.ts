import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { ConfigError, loadConfig } from '../../server/src/config.js';
import { migrateToLatest, openDatabase } from '../../server/src/db/kysely.js';
import { serve } from '../../server/src/main.js';
import { createDemo } from '../../server/src/demo/demo.js';
import { ensureCommunityBySlug, findCommunityBySlug } from '../../server/src/modules/communities/index.js';
import { importOrdersCsv, ImportFileError, IMPORT_COLUMNS, type ImportColumn } from '../../server/src/importers/orders-csv/index.js';
import type { Deps } from '../../server/src/lib/deps.js';
import { communityMetrics } from '../../server/src/modules/metrics/index.js';
import { rebuildRollups } from '../../server/src/modules/analytics/index.js';
import { AppError } from '../../server/src/lib/errors.js';
import { createApiKey } from '../../server/src/modules/apikeys/index.js';
import { checkLedger } from '../../server/src/modules/orders/index.js';
import { runMembershipJobs } from '../../server/src/modules/memberships/index.js';
import { systemClock } from '../../server/src/lib/clock.js';
import { ApiScope, MetricsQuery, type MetricsOut } from '../../contracts/src/index.js';

const program = new Command();
program.name('yutang').description('Yutang (鱼塘): run an online community as a business').showHelpAfterError();

/** The community named by `--community`, created with defaults when missing (said on stderr). */
async function communityFor(deps: Deps, slug: string) {
  const { community, created } = await ensureCommunityBySlug(deps, slug);
  if (created) console.error(`Created community "${community.slug}" with defaults (time zone ${community.time_zone}, currency ${community.currency}).`);
  return community;
}

async function withDatabase<T>(fn: (h: ReturnType<typeof openDatabase>, config: ReturnType<typeof loadConfig>) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const handle = openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(handle.db);
    return await fn(handle, config);
  } finally {
    await handle.close();
  }
}

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

program
  .command('metrics')
  .description('Core KPIs of a community for [from, to) in its time zone (see docs/metrics.md)')
  .requiredOption('--community <slug>', 'community slug (created with defaults if it does not exist)')
  .requiredOption('--from <date>', 'first day, YYYY-MM-DD')
  .requiredOption('--to <date>', 'day after the last, YYYY-MM-DD')
  .option('--json', 'print one JSON object, identical to the API response body')
  .action(async (opts: { community: string; from: string; to: string; json?: boolean }) =>
    withDatabase(async (handle, config) => {
      const deps = { db: handle.db, clock: systemClock, config };
      const query = MetricsQuery.safeParse({ from: opts.from, to: opts.to });
      if (!query.success) throw new Error(query.error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('; '));
      const community = await communityFor(deps, opts.community);
      try {
        const m = await communityMetrics(deps, community.id, query.data);
        console.log(opts.json ? JSON.stringify(m) : metricsTable(m));
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

const importCmd = program.command('import').description('Import data from elsewhere');
const orderImport = importCmd
  .command('orders <file>')
  .description('Import paid orders made elsewhere from a CSV file (see docs/import.md); re-importing a file adds nothing')
  .requiredOption('--community <slug>', 'community slug (created with defaults if it does not exist)')
  .option('--json', 'print one summary JSON object as the last line')
  .option('--strict', 'import nothing if any line is bad');
for (const col of IMPORT_COLUMNS) orderImport.option(`--col-${col.replace(/_/g, '-')} <header>`, `header of the ${col} column`);
orderImport.action(async (file: string, opts: Record<string, string | boolean | undefined>) =>
  withDatabase(async (handle, config) => {
    const deps = { db: handle.db, clock: systemClock, config };
    const columns: Partial<Record<ImportColumn, string>> = {};
    for (const col of IMPORT_COLUMNS) {
      const v = opts[`col${col.replace(/(^|_)(\w)/g, (_m, _u: string, c: string) => c.toUpperCase())}`];
      if (typeof v === 'string') columns[col] = v;
    }
    if (!existsSync(file)) throw new Error(`${file}: no such file`);
    const community = await communityFor(deps, String(opts.community));
    let summary;
    let progress = false;
    try {
      summary = await importOrdersCsv(deps, community.id, resolve(file), { columns, strict: !!opts.strict }, (n) => {
        progress = true;
        process.stderr.write(`\rRead ${n} lines…`);
      });
    } catch (err) {
      if (err instanceof ImportFileError) throw new Error(`${file}: ${err.message}`);
      throw err;
    } finally {
      if (progress) process.stderr.write('\n');
    }
    if (summary.errors.length) {
      for (const e of summary.errors.slice(0, 100)) console.error(`line ${e.line}: ${e.reason}`);
      if (summary.errors.length > 100) console.error(`… and ${summary.errors.length - 100} more bad lines`);
    }
    if (opts.json) console.log(JSON.stringify(summary));
    else {
      console.log(`Imported ${summary.imported} orders into "${community.slug}"; ${summary.duplicates} already imported; ${summary.skipped} lines skipped.`);
      if (opts.strict && summary.errors.length) console.log('Nothing was imported (--strict): fix the bad lines and run again.');
    }
    if (summary.errors.length) process.exitCode = 1;
  }),
);

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

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(`yutang: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
