import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  CreateWebhook,
  IdParams,
  listOf,
  ListWebhookDeliveriesQuery,
  Ok,
  UpdateWebhook,
  WebhookCreatedOut,
  WebhookDeliveryOut,
  WebhookOut,
} from '../../../../contracts/src/index.js';
import { requireActor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { createWebhook, getWebhook, listWebhooks, redeliver, removeWebhook, updateWebhook, webhookDeliveries } from './webhooks.service.js';

export const webhookSubscriptionRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['webhooks'];
    const config = { access: { kind: 'community', role: 'admin' } } as const;
    const base = '/api/v1/communities/:communityId/webhooks';
    app.get(base, { config, schema: { tags, summary: 'Outbound webhook subscriptions', params: IdParams('communityId'), response: { 200: listOf('webhooks', WebhookOut) } } }, async (req) => ({
      webhooks: await listWebhooks(deps, requireActor(req).communityId),
    }));
    app.post(
      base,
      { config, schema: { tags, summary: 'Subscribe a URL to event types; the signing secret is shown once', params: IdParams('communityId'), body: CreateWebhook, response: { 201: WebhookCreatedOut } } },
      async (req, reply) => reply.code(201).send(await createWebhook(deps, requireActor(req).communityId, req.body)),
    );
    app.get(`${base}/:webhookId`, { config, schema: { tags, params: IdParams('communityId', 'webhookId'), response: { 200: WebhookOut } } }, async (req) =>
      getWebhook(deps, requireActor(req).communityId, req.params.webhookId),
    );
    app.patch(
      `${base}/:webhookId`,
      { config, schema: { tags, summary: 'Change the URL or types, or disable / enable', params: IdParams('communityId', 'webhookId'), body: UpdateWebhook, response: { 200: WebhookOut } } },
      async (req) => updateWebhook(deps, requireActor(req).communityId, req.params.webhookId, req.body),
    );
    app.delete(`${base}/:webhookId`, { config, schema: { tags, params: IdParams('communityId', 'webhookId'), response: { 200: Ok } } }, async (req) => {
      await removeWebhook(deps, requireActor(req).communityId, req.params.webhookId);
      return { ok: true as const };
    });
    app.get(
      `${base}/:webhookId/deliveries`,
      {
        config,
        schema: { tags, summary: 'The delivery log, newest first, each with its attempts', params: IdParams('communityId', 'webhookId'), querystring: ListWebhookDeliveriesQuery, response: { 200: listOf('deliveries', WebhookDeliveryOut) } },
      },
      async (req) => ({ deliveries: await webhookDeliveries(deps, requireActor(req).communityId, req.params.webhookId, req.query) }),
    );
    app.post(
      `${base}/:webhookId/deliveries/:deliveryId/redeliver`,
      { config, schema: { tags, summary: 'Send a delivery’s event again (new delivery id, same event id)', params: IdParams('communityId', 'webhookId', 'deliveryId'), response: { 202: WebhookDeliveryOut } } },
      async (req, reply) => reply.code(202).send(await redeliver(deps, requireActor(req).communityId, req.params.webhookId, req.params.deliveryId)),
    );
  };
