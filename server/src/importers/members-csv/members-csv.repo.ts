import type { Trx } from '../../db/kysely.js';

export async function updateImportedMember(trx: Trx, id: string, set: { display_name: string; profile: string; updated_at: string }): Promise<void> {
  await trx.updateTable('members').set(set).where('id', '=', id).execute();
}
