import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';
import { TestWebhookEvent, WebhookResult } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import { answerWebhook, handleWebhook } from './orders.webhooks.js';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
  }
}

/** The real providers' endpoints; each answers 404 until its provider is configured. */
const PROVIDER_WEBHOOKS = [
  {
    name: 'stripe',
    summary: 'Webhook of Stripe',
    description: 'Verified with the `Stripe-Signature` header and YUTANG_STRIPE_WEBHOOK_SECRET; refused when older than 300 s. Subscribe the events listed in docs/money.md.',
  },
  {
    name: 'wechatpay',
    summary: 'Notifications of WeChat Pay (API v3)',
    description: 'Answers 204 when accepted, else a 4xx/5xx with `{code: "FAIL", message}`, as WeChat Pay expects.',
  },
  {
    name: 'alipay',
    summary: 'Asynchronous notifications of Alipay',
    description: 'A form (`application/x-www-form-urlencoded`); answers the plain text `success` when accepted, as Alipay expects.',
  },
] as const;

/**
 * The payment providers' webhooks, public and authenticated by their signatures. Signatures cover
 * the exact bytes received, so these routes keep the raw body.
 */
export const webhookRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['payments'];
    const access = { access: { kind: 'public' } } as const;

    // The test provider's events are ours: validated as JSON before their signature is checked.
    await app.register(async (json) => {
      json.removeContentTypeParser('application/json');
      json.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
        req.rawBody = body as string;
        try {
          done(null, JSON.parse(body as string));
        } catch (err) {
          done(err as Error, undefined);
        }
      });
      json.withTypeProvider<ZodTypeProvider>().post(
        '/api/v1/webhooks/test',
        {
          config: access,
          schema: {
            tags,
            summary: 'Webhook of the test provider',
            description: 'Signed in `Yutang-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`; refused outside ±300 s. Each event id applies once.',
            body: TestWebhookEvent,
            response: { 200: WebhookResult },
          },
        },
        async (req) => handleWebhook(deps, 'test', req.rawBody ?? '', req.headers),
      );
    });

    // Real providers' bodies are theirs, of any content type: nothing is parsed before verification.
    await app.register(async (raw) => {
      raw.removeAllContentTypeParsers();
      raw.addContentTypeParser('*', { parseAs: 'string' }, (req, body, done) => {
        req.rawBody = body as string;
        done(null, body);
      });
      for (const w of PROVIDER_WEBHOOKS) {
        raw.post(`/api/v1/webhooks/${w.name}`, { config: access, schema: { tags, summary: w.summary, description: w.description } }, async (req, reply) => {
          const answer = await answerWebhook(deps, w.name, req.rawBody ?? '', req.headers);
          return reply.code(answer.status).type(answer.contentType).send(answer.body);
        });
      }
    });
  };
