import type { CreateProduct } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import { encodeJson } from '../../db/codecs.js';
import { invalid } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { getCommunity } from '../communities/index.js';
import { findGroupsByIds } from '../groups/index.js';

export async function createProduct(deps: Deps, communityId: string, input: CreateProduct) {
  const community = await getCommunity(deps, communityId);
  const groups = await findGroupsByIds(deps.db, communityId, input.group_ids);
  if (groups.length !== new Set(input.group_ids).size) throw invalid('group_ids', 'every id must name a group of this community');
  if (input.trial_of_product_id !== undefined) {
    const full = await deps.db.selectFrom('products').select(['id', 'trial_of_product_id']).where('id', '=', input.trial_of_product_id).where('community_id', '=', communityId).executeTakeFirst();
    if (!full) throw invalid('trial_of_product_id', 'must name a product of this community');
    if (full.trial_of_product_id !== null) throw invalid('trial_of_product_id', 'must name a full product, not another trial');
  }
  const now = deps.clock.now().toISOString();
  const id = newId('prd');
  await deps.db
    .insertInto('products')
    .values({
      id,
      community_id: communityId,
      type: input.type,
      name: input.name,
      price_minor: input.price_minor,
      currency: input.currency ?? community.currency,
      term: input.type === 'membership' ? (input.term ?? null) : null,
      term_days: input.term === 'days' ? (input.term_days ?? null) : null,
      group_ids: encodeJson(input.group_ids),
      stock: input.stock ?? null,
      trial_of_product_id: input.trial_of_product_id ?? null,
      status: 'active',
      created_at: now,
      updated_at: now,
    })
    .execute();
  return deps.db.selectFrom('products').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

export const listProducts = (deps: Deps, communityId: string) =>
  deps.db.selectFrom('products').selectAll().where('community_id', '=', communityId).orderBy('created_at').execute();
