// A stand-in for api.stripe.com that the real `stripe` client talks to, and signed deliveries to
// our Stripe webhook endpoint: for the Stripe suites.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

/** One request the Stripe client sent, as the fake API received it. */
export interface StripeCall {
  method: string;
  /** Without the query string. */
  path: string;
  query: Record<string, string>;
  idempotencyKey: string | undefined;
  /** The form body, flattened the way Stripe encodes it (`line_items[0][quantity]`). */
  form: Record<string, string>;
}

/**
 * How the customer's card answers an off-session charge, like Stripe's test cards: `succeeds`,
 * `processing` (settled later by webhook), declined for `insufficient_funds` (worth retrying) or
 * `authentication_required` (the bank wants the member present), `no_card` (none saved), or
 * `unreachable` (Stripe answers 500: the charge is made, the answer lost).
 */
export type CardBehaviour = 'succeeds' | 'processing' | 'insufficient_funds' | 'authentication_required' | 'no_card' | 'unreachable';

/** The card the fake keeps for a customer. */
export const cardOf = (customer: string) => `pm_card_of_${customer}`;

/**
 * Records every request and answers with Checkout Session, Refund, PaymentMethod and PaymentIntent
 * objects. `state.failCheckouts` makes the next session requests fail; `state.refundStatus` is the
 * status of the refunds it creates; `cards` says how each customer's card is charged (default:
 * `succeeds`).
 */
export async function startFakeStripe() {
  const calls: StripeCall[] = [];
  const state = { failCheckouts: 0, refundStatus: 'succeeded' };
  const cards = new Map<string, CardBehaviour>();
  let n = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://fake');
      const form = Object.fromEntries(new URLSearchParams(body));
      const path = url.pathname;
      calls.push({ method: req.method!, path, query: Object.fromEntries(url.searchParams), idempotencyKey: req.headers['idempotency-key'] as string | undefined, form });
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${++n}`, ...headers });
        res.end(JSON.stringify(payload));
      };
      // Told not to retry, so that the failure reaches our code.
      const unavailable = () => send(500, { error: { type: 'api_error', message: 'Stripe is having a bad day' } }, { 'stripe-should-retry': 'false' });
      const metadata = Object.fromEntries(Object.entries(form).flatMap(([k, v]) => (k.startsWith('metadata[') ? [[k.slice(9, -1), v]] : [])));

      if (req.method === 'POST' && path === '/v1/checkout/sessions') {
        if (state.failCheckouts > 0) {
          state.failCheckouts--;
          return unavailable();
        }
        const id = `cs_test_${++n}`;
        return send(200, {
          id,
          object: 'checkout.session',
          mode: 'payment',
          url: `https://checkout.stripe.test/c/pay/${id}`,
          client_reference_id: form.client_reference_id,
          metadata,
          customer: null,
          amount_total: Number(form['line_items[0][price_data][unit_amount]']),
          currency: form['line_items[0][price_data][currency]'],
          payment_status: 'unpaid',
          status: 'open',
          expires_at: Number(form.expires_at),
        });
      }
      if (req.method === 'POST' && path === '/v1/refunds') {
        return send(200, {
          id: `re_${++n}`,
          object: 'refund',
          status: state.refundStatus,
          amount: Number(form.amount),
          currency: 'cny',
          payment_intent: form.payment_intent,
          metadata,
          failure_reason: state.refundStatus === 'failed' ? 'expired_or_canceled_card' : null,
        });
      }
      if (req.method === 'GET' && path === '/v1/payment_methods') {
        const customer = url.searchParams.get('customer')!;
        const data = cards.get(customer) === 'no_card' ? [] : [{ id: cardOf(customer), object: 'payment_method', type: 'card', customer, card: { brand: 'visa', last4: '4242' } }];
        return send(200, { object: 'list', data, has_more: false, url: '/v1/payment_methods' });
      }
      if (req.method === 'POST' && path === '/v1/payment_intents') {
        const behaviour = cards.get(form.customer!) ?? 'succeeds';
        const intent = {
          id: `pi_test_${++n}`,
          object: 'payment_intent',
          amount: Number(form.amount),
          amount_received: behaviour === 'succeeds' || behaviour === 'unreachable' ? Number(form.amount) : 0,
          currency: form.currency,
          customer: form.customer,
          payment_method: form.payment_method,
          metadata,
          status: behaviour === 'succeeds' || behaviour === 'unreachable' ? 'succeeded' : behaviour === 'processing' ? 'processing' : 'requires_payment_method',
        };
        if (behaviour === 'unreachable') return unavailable();
        if (behaviour === 'insufficient_funds' || behaviour === 'authentication_required') {
          const code = behaviour === 'insufficient_funds' ? 'card_declined' : 'authentication_required';
          return send(402, { error: { type: 'card_error', code, decline_code: behaviour, message: 'Your card was declined.', payment_intent: intent } });
        }
        return send(200, intent);
      }
      send(404, { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${req.method}: ${req.url})` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    state,
    cards,
    callsTo: (method: string, path: string) => calls.filter((c) => c.method === method && c.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
export type FakeStripe = Awaited<ReturnType<typeof startFakeStripe>>;

/** An event as Stripe sends it, around one API object. */
export const stripeEvent = (id: string, type: string, object: Record<string, unknown>, created: number) => ({
  id,
  object: 'event',
  api_version: '2026-10-28.endive',
  created,
  livemode: false,
  pending_webhooks: 1,
  request: { id: null, idempotency_key: null },
  type,
  data: { object },
});

/** Delivers an event to our Stripe endpoint, signed as Stripe signs it unless told otherwise. */
export async function deliverToStripeEndpoint(
  serverUrl: string,
  event: unknown,
  opts: { secret: string; timestamp: number; header?: string | null | undefined; raw?: string | undefined },
): Promise<{ status: number; body: any }> {
  const payload = JSON.stringify(event);
  const header = opts.header !== undefined ? opts.header : Stripe.webhooks.generateTestHeaderString({ payload, secret: opts.secret, timestamp: opts.timestamp });
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (header !== null) headers['stripe-signature'] = header;
  const res = await fetch(`${serverUrl}/api/v1/webhooks/stripe`, { method: 'POST', headers, body: opts.raw ?? payload });
  return { status: res.status, body: await res.json() };
}
