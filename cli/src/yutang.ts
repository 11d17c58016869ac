import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { ConfigError, loadConfig } from '../../server/src/config.js';
import { migrateToLatest, openDatabase } from '../../server/src/db/kysely.js';
import { serve } from '../../server/src/main.js';
import { createDemo } from '../../server/src/demo/demo.js';
import { findCommunityBySlug } from '../../server/src/modules/communities/index.js';
import { createApiKey } from '../../server/src/modules/apikeys/index.js';
import { checkLedger } from '../../server/src/modules/orders/index.js';
import { runMembershipJobs } from '../../server/src/modules/memberships/index.js';
import { systemClock } from '../../server/src/lib/clock.js';
import { ApiScope } from '../../contracts/src/index.js';

const program = new Command();
program.name('yutang').description('Yutang (鱼塘): run an online community as a business').showHelpAfterError();

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
  .requiredOption('--community <slug>', 'community slug')
  .option('--scopes <list>', 'comma-separated scopes: read, write, events:write', 'read')
  .option('--name <name>', 'key name', 'cli')
  .action(async (opts: { community: string; scopes: string; name: string }) =>
    withDatabase(async (handle, config) => {
      const scopes = ApiScope.array().parse(opts.scopes.split(',').map((s) => s.trim()));
      const community = await findCommunityBySlug(handle.db, opts.community);
      if (!community) throw new Error(`No community with slug "${opts.community}"`);
      const { secret } = await createApiKey({ db: handle.db, clock: systemClock, config }, community.id, opts.name, scopes, null);
      console.log(secret);
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
        console.log(`  ${currency}: paid ${t.paid_minor}, refunded ${t.refunded_minor}, net ${t.net_minor} (minor units)`);
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
  .description('Run the membership jobs once: time out unpaid orders, end memberships past expiry and grace, send expiry reminders')
  .action(async () =>
    withDatabase(async (handle, config) => {
      const r = await runMembershipJobs({ db: handle.db, clock: systemClock, config });
      console.log(`Unpaid orders expired: ${r.expired_orders}`);
      console.log(`Memberships expired: ${r.expired_memberships} (members removed from paid groups: ${r.removed_from_groups})`);
      console.log(`Expiry reminders recorded: ${r.reminders}`);
    }),
  );

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(`yutang: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
