import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { exampleOf, OrderStatus, TestCheckoutPay } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import { qrSvg } from '../links/index.js';
import { checkoutOrder, payAtCheckout, payLinkCheckout } from './orders.service.js';

const TokenParams = z.object({ token: z.string().min(1).max(100) });
const CheckoutResult = z.object({ order_id: z.string(), status: OrderStatus }).meta({ examples: [{ order_id: 'ord_0mx9qwxmq000000f4e72e799059f8', status: 'paid' }] });

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

const page = (body: string) => `<!doctype html><html><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Payment</title><body style="font-family:system-ui;max-width:28rem;margin:3rem auto">${body}</body></html>`;

const messagePage = (text: string) => page(`<p>${escapeHtml(text)}</p>`);

/** A QR-code provider's checkout (WeChat Pay Native): scanned with the provider's app. */
const qrPage = (o: { id: string; amount_minor: number; currency: string }, svg: string) =>
  page(`<h1>扫码支付 Scan to pay</h1><p>Order <code>${escapeHtml(o.id)}</code>: <strong>${escapeHtml(`${(o.amount_minor / 100).toFixed(2)} ${o.currency}`)}</strong></p>
<div style="width:16rem">${svg}</div><p>Open WeChat and scan the code. 请用微信扫一扫完成支付。</p>`);

/** Where a provider's payment page sends the member back; the order's state comes from the webhook, not from this visit. */
function returnPage(outcome: 'success' | 'cancelled' | undefined) {
  return messagePage(outcome === 'cancelled' ? 'The payment was cancelled. You can start it again from your order.' : 'Thank you. Your payment is being confirmed; you can close this page.');
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

    // The pay link of every order: the test checkout, or the real provider's (started on the visit if
    // the order has none yet, as for renewal orders the jobs open): a redirect, or a page with its QR code.
    app.get('/pay/:token', { config: pub, schema: { hide: true, params: TokenParams } }, async (req, reply) => {
      const order = await checkoutOrder(deps, req.params.token, null);
      const html = reply.type('text/html; charset=utf-8');
      if (order.provider === 'test') return html.send(checkoutPage({ ...order, amount_minor: Number(order.amount_minor) }, req.params.token));
      const checkout = await payLinkCheckout(deps, order);
      if (!checkout) return html.send(messagePage(`This order is ${order.status}: there is nothing to pay.`));
      if (checkout.kind === 'redirect') return reply.redirect(checkout.url, 303);
      return html.send(qrPage({ ...order, amount_minor: Number(order.amount_minor) }, await qrSvg(checkout.url)));
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
          body: TestCheckoutPay.nullish().meta({ examples: [exampleOf(TestCheckoutPay)] }),
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
