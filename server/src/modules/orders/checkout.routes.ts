import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { OrderStatus, TestCheckoutPay } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import { checkoutOrder, payAtCheckout } from './orders.service.js';

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

const ReturnQuery = z.object({ checkout: z.enum(['success', 'cancelled']).optional() });

/** Where a provider's payment page sends the member back; the order's state comes from the webhook, not from this visit. */
function returnPage(outcome: 'success' | 'cancelled' | undefined) {
  const text = outcome === 'cancelled' ? 'The payment was cancelled. You can start it again from your order.' : 'Thank you. Your payment is being confirmed; you can close this page.';
  return `<!doctype html><html><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Payment</title><body style="font-family:system-ui;max-width:28rem;margin:3rem auto"><p>${escapeHtml(text)}</p></body></html>`;
}

/**
 * Public checkout routes: the test provider's checkout page (reached by the order's unguessable
 * token, never by its id) and the page real providers send the member back to.
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
    app.get('/pay/return', { config: pub, schema: { hide: true, querystring: ReturnQuery } }, async (req, reply) =>
      reply.type('text/html; charset=utf-8').send(returnPage(req.query.checkout)),
    );
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

  };
