import type { AppError } from '../../lib/errors.js';

/** The HTTP answer to one webhook delivery. */
export interface WebhookReply {
  status: number;
  contentType: string;
  body: string;
}

/** Turns the outcome of a delivery, or the reason it was refused, into the answer its provider expects. */
export type WebhookAck = (result: { outcome: string } | { error: AppError }) => WebhookReply;

const TEXT = 'text/plain; charset=utf-8';

/**
 * Providers that want their own acknowledgement, by name. The others get `200 {received, outcome}`
 * or a problem+json; any 2xx is success to them.
 */
const ACKS: Readonly<Record<string, WebhookAck>> = {
  // Alipay redelivers a notification until the body is exactly `success`.
  alipay: (r) => ('error' in r ? { status: r.error.status, contentType: TEXT, body: 'fail' } : { status: 200, contentType: TEXT, body: 'success' }),
  // WeChat Pay: 200/204 is success; a refusal is a 4xx/5xx with {code: 'FAIL', message}.
  wechatpay: (r) =>
    'error' in r
      ? { status: r.error.status, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ code: 'FAIL', message: r.error.message }) }
      : { status: 204, contentType: TEXT, body: '' },
};

export const webhookAck = (provider: string): WebhookAck | undefined => ACKS[provider];
