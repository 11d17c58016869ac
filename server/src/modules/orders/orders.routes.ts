import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CreateOrder,
  CreateRefund,
  exampleOf,
  IdempotencyHeaders,
  IdParams,
  listOf,
  ListOrdersQuery,
  OrderOut,
  RefundOut,
  UpgradeMembership,
} from '../../../../contracts/src/index.js';
import { requireActor, requireMember } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { createOrder, getOrder, listOrders, ordersOfMember } from './orders.service.js';
import { presentOrder, presentRefund } from './orders.present.js';
import { refundOrder } from './refunds.service.js';
import { upgradeMembership } from './upgrades.service.js';

const OrderWithRefunds = OrderOut.extend({ refunds: z.array(RefundOut) }).meta({
  examples: [{ ...exampleOf(OrderOut), status: 'partially_refunded', refunded_minor: 9950, refunds: [exampleOf(RefundOut)] }],
});

/** Members buy and upgrade (member token); staff read orders, refund them and upgrade for a member. */
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
          description:
            'Idempotent: a retry with the same Idempotency-Key returns the same order (200); the same key with a different body is refused (409). A product with stock is held for the order until it is paid or ends unpaid (409 out_of_stock when none is left). Buying what the member holds for good, or while an order of theirs for it is pending, answers 409 duplicate_purchase unless allow_duplicate is true.',
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
    app.get('/api/v1/member/orders', { config: member, schema: { tags, summary: 'My orders, newest first', response: { 200: listOf('orders', OrderOut) } } }, async (req) => {
      const me = requireMember(req);
      return { orders: (await ordersOfMember(deps, me.communityId, me.memberId)).map((o) => presentOrder(deps, o)) };
    });

    app.get(
      '/api/v1/communities/:communityId/orders',
      {
        config: admin,
        schema: { tags, summary: 'Orders, newest first (cursor: the last id); flagged=duplicate lists duplicate payments to refund', params: IdParams('communityId'), querystring: ListOrdersQuery, response: { 200: z.object({ orders: z.array(OrderOut), next_cursor: z.string().nullable() }).meta({ examples: [{ orders: [exampleOf(OrderOut)], next_cursor: null }] }) } },
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
          description:
            'Idempotent by Idempotency-Key. Never more than what is left (refunded and pending together). The refund is succeeded when the provider refunded at once, pending until its webhook confirms or refuses it otherwise; a refusal answers 502 refund_failed and frees the amount; a call that got no answer stays pending and is sent again by the jobs. A full refund returns the unit and ends the membership the order bought once it succeeds.',
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

    const upgrade = { tags: ['memberships'], headers: IdempotencyHeaders, body: UpgradeMembership, response: { 200: OrderOut, 201: OrderOut } };
    const upgradeInfo =
      'Creates an order for the target membership product priced at its price less credit_minor, the unused paid-for part of the current chain (rounded down). Paying it ends the old chain now (revoked, reason upgraded) and starts the new membership; an order with nothing to pay is paid at once. Idempotent by Idempotency-Key.';
    app.post(
      '/api/v1/member/memberships/:membershipId/upgrade',
      { config: member, schema: { ...upgrade, summary: 'Upgrade my membership to another membership product, crediting the unused part', description: upgradeInfo, params: IdParams('membershipId') } },
      async (req, reply) => {
        const me = requireMember(req);
        const { order, created } = await upgradeMembership(deps, me.communityId, req.params.membershipId, req.body.product_id, req.headers['idempotency-key'], me.memberId);
        return reply.code(created ? 201 : 200).send(presentOrder(deps, order));
      },
    );
    app.post(
      '/api/v1/communities/:communityId/memberships/:membershipId/upgrade',
      { config: admin, schema: { ...upgrade, summary: 'Upgrade a member’s membership: creates the order they pay', description: upgradeInfo, params: IdParams('communityId', 'membershipId') } },
      async (req, reply) => {
        const { order, created } = await upgradeMembership(deps, requireActor(req).communityId, req.params.membershipId, req.body.product_id, req.headers['idempotency-key']);
        return reply.code(created ? 201 : 200).send(presentOrder(deps, order));
      },
    );
  };
