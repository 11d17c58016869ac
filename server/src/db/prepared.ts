import { CompiledQuery, type Compilable } from 'kysely';
import type SQLite from 'better-sqlite3';
import { isPostgres } from './dialect.js';
import type { Db, Trx } from './kysely.js';

type Reader = (sql: string, parameters: readonly unknown[]) => unknown[];
const readers = new WeakMap<object, Reader>();

/**
 * SQLite installs get a second, read-only connection for hot reads: in WAL mode it sees exactly the
 * committed data, and better-sqlite3 runs it synchronously, without waiting for the one write
 * connection that Kysely serializes every query (and open transaction) through.
 */
export function attachReader(db: Db, file: string, open: (file: string) => SQLite.Database): () => void {
  const conn = open(file);
  const statements = new Map<string, SQLite.Statement>();
  readers.set(db, (sql, parameters) => {
    let stmt = statements.get(sql);
    if (!stmt) {
      stmt = conn.prepare(sql);
      statements.set(sql, stmt);
    }
    return stmt.all(parameters as unknown[]);
  });
  return () => conn.close();
}

/**
 * A query built with Kysely once per dialect and then run with new arguments: building and
 * compiling a query cost more than running it on SQLite (bench/). `build` must pass every argument
 * as a bound value (never into identifiers or `sql.raw`), which is checked on first use.
 * Outside a transaction, SQLite runs it on the read connection.
 */
export function prepared<A extends unknown[], R>(build: (db: Db, ...args: A) => Compilable<R>) {
  const compiled = new Map<string, { sql: string; order: number[] }>();
  return async (db: Db | Trx, ...args: A): Promise<R[]> => {
    const dialect = isPostgres(db) ? 'pg' : 'sqlite';
    let entry = compiled.get(dialect);
    if (!entry) {
      const markers = args.map((_, i) => `\u0000arg${i}\u0000`);
      const q = build(db as Db, ...(markers as A)).compile();
      const order = q.parameters.map((p) => markers.indexOf(p as string));
      if (order.includes(-1) || new Set(order).size !== args.length) {
        throw new Error(`prepared query must bind each argument exactly once: ${q.sql}`);
      }
      entry = { sql: q.sql, order };
      compiled.set(dialect, entry);
    }
    const parameters = entry.order.map((i) => args[i]);
    const reader = readers.get(db);
    if (reader) return reader(entry.sql, parameters) as R[];
    return (await db.executeQuery<R>(CompiledQuery.raw(entry.sql, parameters))).rows;
  };
}
