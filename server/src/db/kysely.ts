import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type SqliteDatabase, type Transaction } from 'kysely';
import { migrations } from '../migrations/index.js';
import { isPostgresUrl } from '../config.js';
import { attachReader } from './prepared.js';
import type { Database } from './types.js';

export type Db = Kysely<Database>;
export type Trx = Transaction<Database>;
export type Dialect = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Db;
  dialect: Dialect;
  /** The raw better-sqlite3 handle, for online backups. */
  sqlite?: SQLite.Database;
  close(): Promise<void>;
}

let pgParsersInstalled = false;
/**
 * Make PostgreSQL rows look like SQLite rows at the driver: timestamps as ISO-8601 UTC text and
 * 64-bit integers (money in minor units, counts) as numbers. Values beyond 2^53 would be a bug.
 */
function installPgParsers() {
  if (pgParsersInstalled) return;
  pgParsersInstalled = true;
  const parseTimestamptz = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ);
  pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, (v) => (parseTimestamptz(v) as Date).toISOString());
  pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
  pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));
}

export function openDatabase(url: string, options: { poolSize?: number } = {}): DatabaseHandle {
  if (isPostgresUrl(url)) {
    installPgParsers();
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 });
    // UTC sessions so that date arithmetic in SQL never depends on the server's zone.
    pool.on('connect', (client) => void client.query("SET TIME ZONE 'UTC'"));
    // An idle connection can die (server restart, admin command); the pool replaces it. Without a
    // listener the error would be thrown and take the whole process down.
    pool.on('error', (err) => console.error(`yutang: idle PostgreSQL connection lost: ${err.message}`));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', close: () => db.destroy() };
  }
  if (url !== ':memory:') mkdirSync(dirname(url), { recursive: true });
  const sqlite = new SQLite(url);
  sqlite.pragma('journal_mode = WAL');
  // Money, orders and memberships are written through this handle: a commit must survive power loss.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  // An in-memory database is private to its connection, so it cannot have a separate reader.
  const closeReader = url === ':memory:' ? () => {} : attachReader(db, url, openReader);
  return {
    db,
    dialect: 'sqlite',
    sqlite,
    close: async () => {
      closeReader();
      await db.destroy();
    },
  };
}

function openReader(file: string) {
  const reader = new SQLite(file, { readonly: true });
  reader.pragma('busy_timeout = 5000');
  return reader;
}

/** SQL text (UTF-16 units) of the statements kept prepared, all together: see withStatementCache. */
const STATEMENT_CACHE_CHARS = 512 * 1024;

/**
 * Kysely's SQLite driver prepares every query anew; parsing and planning was a fifth of the CPU of
 * a member lookup under load (bench/). One prepared statement per distinct SQL text, bounded, is
 * safe because Kysely runs one query at a time on this connection and never iterates (streams).
 * Least recently used goes first. The bound is on SQL size as well as count: a prepared statement
 * holds SQLite memory outside the JS heap in proportion to its text (a 1,000-row INSERT about
 * 1 MB), and a statement dropped from the cache keeps it until V8 collects the handle, which it
 * does not hurry to do. Multi-row statements come in few sizes (db/chunks.ts) so that they are reused.
 */
export function withStatementCache(sqlite: SQLite.Database, max = 1000): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  let chars = 0;
  return {
    close: () => sqlite.close(),
    prepare(sql) {
      let stmt = cache.get(sql);
      if (stmt) {
        cache.delete(sql);
        cache.set(sql, stmt);
        return stmt;
      }
      stmt = sqlite.prepare(sql);
      while (cache.size && (cache.size >= max || chars + sql.length > STATEMENT_CACHE_CHARS)) {
        const oldest = cache.keys().next().value!;
        chars -= oldest.length;
        cache.delete(oldest);
      }
      cache.set(sql, stmt);
      chars += sql.length;
      return stmt;
    },
  };
}

export { isPostgres } from './dialect.js';

/** Runs every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'yutang_migrations',
    migrationLockTableName: 'yutang_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Migration ${failed?.migrationName ?? ''} failed: ${reason}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
