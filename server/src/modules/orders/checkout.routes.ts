import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { OrderStatus, TestCheckoutPay, TestWebhookEvent, WebhookResult } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import { checkoutOrder, payAtCheckout } from './orders.service.js';
import { handleWebhook } from './orders.webhooks.js';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
  }
}

const TokenParams = z.object({ token: z.string().min(1).max(100) });
const CheckoutResult = z.object({ order_id: z.string(), status: OrderStatus });

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function checkoutPage(o: { id: string; amount_minor: number; currency: string; status: string }, token: string) {
  const amount = `${(o.amount_minor / 100).toFixed(2)} ${o.currency}`;
  const base = `/api/v1/public/checkout/${encodeURIComponent(token)}`;
  return `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Test checkout</title><body style="font-family:system-ui;max-width:28rem;margin:3rem auto">
<h1>Test payment</h1><p>Order <code>${escapeHtml(o.id)}</code>: <strong>${escapeHtml(amount)}</strong> (${escapeHtml(o.status)})</p>
<p>This is the <em>test</em> provider: no money moves.</p>
<p><label><input type="checkbox" id="save"> Save this payment method for automatic renewal</label><br>
<label><input type="checkbox" id="declines"> …as a method that declines later charges</label></p>
<button id="pay">Pay</button> <button id="fail">Fail the payment</button><p id="out"></p>
<script>
for (const k of ['pay', 'fail']) document.getElementById(k).onclick = async () => {
  const save = k === 'pay' && document.getElementById('save').checked;
  const body = save ? { save_method: document.getElementById('declines').checked ? 'declines' : 'ok' } : undefined;
  const r = await fetch(${JSON.stringify(base)} + '/' + k, body ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : { method: 'POST' });
  const b = await r.json();
  document.getElementById('out').textContent = r.ok ? 'Order ' + b.status : (b.detail || b.code);
};
</script></body></html>`;
}

/**
 * Public money routes: the test provider's checkout page (reached by the order's unguessable
 * token, never by its id) and the providers' webhooks (authenticated by their signatures).
 */
export const checkoutRoutes =
  (deps: Deps, limits: { publicPerMinute: number }): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['payments'];
    const pub = { access: { kind: 'public' }, rateLimit: { max: limits.publicPerMinute, timeWindow: '1 minute' } } as const;

    app.get('/pay/:token', { config: pub, schema: { hide: true, params: TokenParams } }, async (req, reply) => {
      const order = await checkoutOrder(deps, req.params.token);
      return reply.type('text/html; charset=utf-8').send(checkoutPage({ ...order, amount_minor: Number(order.amount_minor) }, req.params.token));
    });
    const result = (order: { id: string; status: string }) => ({ order_id: order.id, status: order.status as z.infer<typeof OrderStatus> });
    app.post(
      '/api/v1/public/checkout/:token/pay',
      {
        config: pub,
        schema: {
          tags,
          summary: 'Test provider: pay the order',
          description: '`save_method` keeps the method for later charges (automatic renewal): `ok` ones succeed, `declines` ones are declined.',
          params: TokenParams,
          // The page posts no body unless a method is saved: Fastify hands that on as null.
          body: TestCheckoutPay.nullish(),
          response: { 200: CheckoutResult },
        },
      },
      async (req) => result(await payAtCheckout(deps, req.params.token, 'pay', req.body ?? {})),
    );
    app.post(
      '/api/v1/public/checkout/:token/fail',
      {
        config: pub,
        schema: { tags, summary: 'Test provider: fail the payment (cancels the order; a renewal order stays payable)', params: TokenParams, response: { 200: CheckoutResult } },
      },
      async (req) => result(await payAtCheckout(deps, req.params.token, 'fail')),
    );

    // The signature covers the exact bytes received, so this route keeps the raw body.
    await app.register(async (hooks) => {
      hooks.removeContentTypeParser('application/json');
      hooks.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
        req.rawBody = body as string;
        try {
          done(null, JSON.parse(body as string));
        } catch (err) {
          done(err as Error, undefined);
        }
      });
      hooks.withTypeProvider<ZodTypeProvider>().post(
        '/api/v1/webhooks/test',
        {
          config: { access: { kind: 'public' } },
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
  };
