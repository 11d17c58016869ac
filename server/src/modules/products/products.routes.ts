import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { type z } from 'zod';
import type { Selectable } from 'kysely';
import { CreateProduct, IdParams, listOf, ProductOut } from '../../../../contracts/src/index.js';
import { requireActor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { json } from '../../db/codecs.js';
import type { ProductsTable } from '../../db/types.js';
import { createProduct, listProducts } from './products.service.js';

export const presentProduct = (p: Selectable<ProductsTable>) => ({
  id: p.id,
  community_id: p.community_id,
  type: p.type as z.infer<typeof ProductOut>['type'],
  name: p.name,
  price_minor: Number(p.price_minor),
  currency: p.currency,
  term: p.term as z.infer<typeof ProductOut>['term'],
  term_days: p.term_days,
  group_ids: json<string[]>(p.group_ids),
  stock: p.stock === null ? null : Number(p.stock),
  trial_of_product_id: p.trial_of_product_id ?? null,
  status: p.status,
  created_at: p.created_at,
});

export const productRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['products'];
    app.get(
      '/api/v1/communities/:communityId/products',
      { config: { access: { kind: 'community', role: 'admin' } }, schema: { tags, params: IdParams('communityId'), response: { 200: listOf('products', ProductOut) } } },
      async (req) => ({ products: (await listProducts(deps, requireActor(req).communityId)).map(presentProduct) }),
    );
    app.post(
      '/api/v1/communities/:communityId/products',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: { tags, summary: 'Create a product record (memberships back paid thresholds)', params: IdParams('communityId'), body: CreateProduct, response: { 201: ProductOut } },
      },
      async (req, reply) => reply.code(201).send(presentProduct(await createProduct(deps, requireActor(req).communityId, req.body))),
    );
  };
