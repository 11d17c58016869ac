// Migration-local helpers. Migrations may not import application code (they are frozen once
// merged), so the few dialect differences they need live here and must stay backwards compatible.
import { PostgresAdapter, sql, type Kysely, type ColumnDataType, type Expression } from 'kysely';

export const isPg = (db: Kysely<any>) => db.getExecutor().adapter instanceof PostgresAdapter;

/** Instants: timestamptz on PostgreSQL, ISO-8601 UTC text on SQLite (sorts lexicographically). */
export const tsType = (db: Kysely<any>): ColumnDataType => (isPg(db) ? 'timestamptz' : 'text');

/** Structured documents: jsonb on PostgreSQL, JSON text on SQLite. */
export const jsonType = (db: Kysely<any>): ColumnDataType => (isPg(db) ? 'jsonb' : 'text');

/** Money in minor units and other counters that may pass 2^31. */
export const bigType = (db: Kysely<any>): ColumnDataType => (isPg(db) ? 'bigint' : 'integer');

export const emptyJsonArray = (db: Kysely<any>): Expression<unknown> =>
  isPg(db) ? sql`'[]'::jsonb` : sql`'[]'`;
export const emptyJsonObject = (db: Kysely<any>): Expression<unknown> =>
  isPg(db) ? sql`'{}'::jsonb` : sql`'{}'`;

/** Whether a table has a column, so that ADD COLUMN can be re-run safely on SQLite. */
export async function hasColumn(db: Kysely<any>, table: string, column: string): Promise<boolean> {
  const tables = await db.introspection.getTables();
  return !!tables.find((t) => t.name === table)?.columns.some((c) => c.name === column);
}
