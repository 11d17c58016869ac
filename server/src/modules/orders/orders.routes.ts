import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CreateOrder, CreateRefund, IdempotencyHeaders, IdParams, ListOrdersQuery, OrderOut, RefundOut } from '../../../../contracts/src/index.js';
import { requireActor, requireMember } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { createOrder, getOrder, listOrders, ordersOfMember, refundOrder } from './orders.service.js';
import { presentOrder, presentRefund } from './orders.present.js';

const OrderWithRefunds = OrderOut.extend({ refunds: z.array(RefundOut) });

/** Members buy (member token); staff read orders and refund them. */
export const orderRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['orders'];
    const member = { access: { kind: 'member' } } as const;
    const admin = { access: { kind: 'community', role: 'admin' } } as const;

    app.post(
      '/api/v1/member/orders',
      {
        config: member,
        schema: {
          tags,
          summary: 'Buy a product: creates a pending order priced by the server, with its checkout URL',
          description: 'Idempotent: a retry with the same Idempotency-Key returns the same order (200); the same key with a different body is refused (409).',
          headers: IdempotencyHeaders,
          body: CreateOrder,
          response: { 200: OrderOut, 201: OrderOut },
        },
      },
      async (req, reply) => {
        const me = requireMember(req);
        const { order, created } = await createOrder(deps, me.communityId, me.memberId, req.body, req.headers['idempotency-key']);
        return reply.code(created ? 201 : 200).send(presentOrder(deps, order));
      },
    );
    app.get('/api/v1/member/orders', { config: member, schema: { tags, summary: 'My orders, newest first', response: { 200: z.object({ orders: z.array(OrderOut) }) } } }, async (req) => {
      const me = requireMember(req);
      return { orders: (await ordersOfMember(deps, me.communityId, me.memberId)).map((o) => presentOrder(deps, o)) };
    });

    app.get(
      '/api/v1/communities/:communityId/orders',
      {
        config: admin,
        schema: { tags, summary: 'Orders, newest first (cursor: the last id)', params: IdParams('communityId'), querystring: ListOrdersQuery, response: { 200: z.object({ orders: z.array(OrderOut), next_cursor: z.string().nullable() }) } },
      },
      async (req) => {
        const rows = await listOrders(deps, requireActor(req).communityId, req.query);
        return { orders: rows.map((o) => presentOrder(deps, o)), next_cursor: rows.length === req.query.limit ? rows.at(-1)!.id : null };
      },
    );
    app.get(
      '/api/v1/communities/:communityId/orders/:orderId',
      { config: admin, schema: { tags, summary: 'One order and its refunds', params: IdParams('communityId', 'orderId'), response: { 200: OrderWithRefunds } } },
      async (req) => {
        const { order, refunds } = await getOrder(deps, requireActor(req).communityId, req.params.orderId);
        return { ...presentOrder(deps, order), refunds: refunds.map(presentRefund) };
      },
    );
    app.post(
      '/api/v1/communities/:communityId/orders/:orderId/refunds',
      {
        config: admin,
        schema: {
          tags,
          summary: 'Refund part or all of a paid order through its provider',
          description: 'Idempotent by Idempotency-Key. Never more than what is left; a full refund returns the unit and ends the membership the order bought.',
          params: IdParams('communityId', 'orderId'),
          headers: IdempotencyHeaders,
          body: CreateRefund,
          response: { 200: RefundOut, 201: RefundOut },
        },
      },
      async (req, reply) => {
        const { actor, communityId } = requireActor(req);
        const { refund, created } = await refundOrder(deps, communityId, actor, req.params.orderId, req.body, req.headers['idempotency-key']);
        return reply.code(created ? 201 : 200).send(presentRefund(refund));
      },
    );
  };
