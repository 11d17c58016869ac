import type { AppError } from '../../lib/errors.js';
import { alipayAck } from './alipay.js';
import { wechatPayAck } from './wechatpay.js';

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
  alipay: (r) => ({ status: 'error' in r ? r.error.status : 200, contentType: alipayAck.contentType, body: 'error' in r ? alipayAck.failure : alipayAck.success }),
  wechatpay: (r) =>
    'error' in r
      ? { status: r.error.status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(wechatPayAck.failure(r.error.message)) }
      : { status: wechatPayAck.status, contentType: TEXT, body: '' },
};

export const webhookAck = (provider: string): WebhookAck | undefined => ACKS[provider];
