import { sql, type Kysely } from 'kysely';

/** Refunds recorded before refunds had a status succeeded when they were asked for. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.updateTable('refunds').set({ settled_at: sql`created_at` }).where('status', '=', 'succeeded').where('settled_at', 'is', null).execute();
}

export async function down(): Promise<void> {}
