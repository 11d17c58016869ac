import { buildApp } from './app.js';
import { loadConfig, type Config } from './config.js';
import { migrateToLatest, openDatabase, type DatabaseHandle } from './db/kysely.js';
import { ensureDemoOnFirstStart } from './demo/demo.js';
import { scheduleMembershipJobs, scheduleRollupJobs, scheduleWebhookDispatch } from './jobs/scheduler.js';

export async function openAndMigrate(config: Config): Promise<DatabaseHandle> {
  const database = openDatabase(config.databaseUrl);
  await migrateToLatest(database.db);
  return database;
}

/**
 * `yutang serve`: migrate, seed the demo on first start, listen, run the membership jobs every
 * minute, and shut down cleanly on signals.
 */
export async function serve(options: { demo: boolean }) {
  const config = loadConfig();
  const database = await openAndMigrate(config);
  const seeded = await ensureDemoOnFirstStart(database, { demo: options.demo, log: (m) => console.log(m) });
  const app = await buildApp({ database, config });
  // Order timeouts, membership expiry and reminders, every minute; failures are logged, never fatal.
  const jobs = scheduleMembershipJobs(app.deps, app.log);
  // Analytics rollups of new events, every 5 s (queries also refresh their community first).
  const rollups = scheduleRollupJobs(app.deps, app.log);
  // Outbound webhooks from the outbox, every 2 s.
  const webhooks = scheduleWebhookDispatch(app.deps, app.log);
  const close = async () => {
    await jobs.stop();
    await rollups.stop();
    await webhooks.stop();
    await app.close();
    await database.close();
    process.exit(0);
  };
  process.once('SIGINT', close);
  process.once('SIGTERM', close);
  await app.listen({ port: config.port, host: config.host });
  console.log(`Yutang is serving ${config.publicUrl} (${database.dialect}${seeded ? ', demo community created' : ''}); API docs at ${config.publicUrl}/docs`);
}

export { loadConfig };
