import { z } from 'zod';
import { Id, ShortText, Timestamp } from './common.js';

export const OrderStatus = z.enum(['pending', 'paid', 'partially_refunded', 'refunded', 'cancelled', 'expired']);
export type OrderStatus = z.infer<typeof OrderStatus>;

/** Every request that creates money movements names itself, so that a retry finds its first result. */
export const IdempotencyHeaders = z.object({
  'idempotency-key': z.string().min(1).max(200).describe('Unique per request; a retry with the same key returns the first result'),
});

/** Payment providers Yutang knows; an install enables the real ones by configuring their keys. */
export const PaymentProviderName = z.enum(['test', 'stripe', 'wechatpay', 'alipay']);
export type PaymentProviderName = z.infer<typeof PaymentProviderName>;

/** A member buys one unit of a product; the price is the product's, never the client's. */
export const CreateOrder = z.strictObject({
  product_id: Id,
  provider: PaymentProviderName.optional().describe("Pays through this enabled provider; default: the install's"),
  allow_duplicate: z
    .boolean()
    .optional()
    .describe('Buy even though the member holds this product for good or has an order for it pending (otherwise 409 duplicate_purchase)'),
}).meta({ examples: [{ product_id: 'prd_0mx9qwwkg00007c88693a84f3e898', provider: 'wechatpay' }] });
export type CreateOrder = z.infer<typeof CreateOrder>;

export const CreateRefund = z.strictObject({
  amount_minor: z.number().int().min(1).describe('Amount to refund in minor units; at most what is left of the order'),
  reason: ShortText.min(1),
}).meta({ examples: [{ amount_minor: 9950, reason: '时间安排不开，退一半' }] });
export type CreateRefund = z.infer<typeof CreateRefund>;

export const RefundStatus = z.enum(['pending', 'succeeded', 'failed']);
export type RefundStatus = z.infer<typeof RefundStatus>;

export const RefundOut = z
  .object({
    id: z.string(),
    order_id: z.string(),
    amount_minor: z.number(),
    currency: z.string(),
    reason: z.string(),
    status: RefundStatus.describe('pending: the provider has not confirmed it yet, the amount stays claimed; failed: nothing went back, the amount can be refunded again'),
    failure_reason: z.string().nullable(),
    created_at: Timestamp,
    settled_at: Timestamp.nullable().describe('When the provider confirmed or refused it'),
  })
  .meta({
    id: 'Refund',
    examples: [
      {
        id: 'rfd_0mx9qwxq10000d2b4e7a1c3f59e08',
        order_id: 'ord_0mx9qwxmq000000f4e72e799059f8',
        amount_minor: 9950,
        currency: 'CNY',
        reason: '时间安排不开，退一半',
        status: 'succeeded',
        failure_reason: null,
        created_at: '2026-11-05T02:00:00.000Z',
        settled_at: '2026-11-05T02:00:03.000Z',
      },
    ],
  });

export const OrderOut = z
  .object({
    id: z.string(),
    community_id: z.string(),
    member_id: z.string(),
    product_id: z.string(),
    status: OrderStatus,
    amount_minor: z.number(),
    refunded_minor: z.number().describe('Refunds that succeeded'),
    refund_pending_minor: z.number().describe('Refunds the provider has not confirmed yet; they cannot be refunded again'),
    credit_minor: z.number().describe('Taken off the price: the unused part of the membership this order upgrades'),
    currency: z.string(),
    provider: z.string(),
    provider_ref: z.string().nullable(),
    membership_id: z.string().nullable(),
    upgrade_from_membership_id: z.string().nullable(),
    duplicate_of_order_id: z.string().nullable().describe('Set when this payment repeated another paid order of the member for the same product; it granted nothing'),
    paid_at: Timestamp.nullable(),
    cancelled_at: Timestamp.nullable(),
    created_at: Timestamp,
    checkout_url: z.string().nullable().describe('Where the member pays: the provider’s page (redirect providers), or our pay link while the provider has no checkout for the order; null once the order is no longer pending'),
    checkout_qr: z.string().nullable().describe('Text to show as a QR code that the member scans to pay (WeChat Pay Native); null for redirect providers and once the order is no longer pending'),
  })
  .meta({
    id: 'Order',
    examples: [
      {
        id: 'ord_0mx9qwxmq000000f4e72e799059f8',
        community_id: 'com_0mx9qwwjc000035b3232e876033f1',
        member_id: 'mem_0mx9qwwlh0000b784e09ed60ecb76',
        product_id: 'prd_0mx9qwwkg00007c88693a84f3e898',
        status: 'paid',
        amount_minor: 19900,
        refunded_minor: 0,
        refund_pending_minor: 0,
        credit_minor: 0,
        currency: 'CNY',
        provider: 'wechatpay',
        provider_ref: '4200002345202611031234567890',
        membership_id: 'msp_0mx9qwxn20000c1d0d5b0c1a7e3f2',
        upgrade_from_membership_id: null,
        duplicate_of_order_id: null,
        paid_at: '2026-11-03T12:20:00.000Z',
        cancelled_at: null,
        created_at: '2026-11-03T12:19:02.000Z',
        checkout_url: null,
        checkout_qr: null,
      },
    ],
  });

export const ListOrdersQuery = z.strictObject({
  status: OrderStatus.optional(),
  member_id: Id.optional(),
  flagged: z.enum(['duplicate']).optional().describe('duplicate: paid orders flagged as duplicate payments'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

/**
 * The `test` provider's webhook body. Signed in the `Yutang-Signature: t=<unix seconds>,v1=<hex>`
 * header: HMAC-SHA256 over `${t}.${raw body}` with the install's test-provider secret.
 */
export const TestWebhookEvent = z.strictObject({
  id: z.string().min(1).max(200),
  type: z.string().min(1).max(100),
  created: z.number().int(),
  data: z.strictObject({
    order_id: Id,
    provider_ref: z.string().min(1).max(200).optional(),
    payment_method_ref: z.string().min(1).max(200).optional().describe('payment.succeeded: the method the payer saved for later charges'),
    fee_minor: z.number().int().min(0).optional().describe("payment.succeeded: the provider's fee, when it reports one"),
    refund_ref: z.string().min(1).max(200).optional(),
    refund_id: Id.optional().describe('Our refund id, echoed back for refunds we asked for'),
    reason: z.string().max(200).optional(),
    amount_minor: z.number().int().min(0).optional(),
    currency: z.string().regex(/^[A-Z]{3}$/).optional(),
  }),
}).meta({
  examples: [
    {
      id: 'evt_test_0001',
      type: 'payment.succeeded',
      created: 1764159600,
      data: { order_id: 'ord_0mx9qwxmq000000f4e72e799059f8', provider_ref: 'tpay_0mx9qwxmq000121a1f26209ed1c28', amount_minor: 19900, currency: 'CNY' },
    },
  ],
});
export type TestWebhookEvent = z.infer<typeof TestWebhookEvent>;

/** The test checkout's Pay button; `save_method` keeps a method that later charges succeed with (`ok`) or that declines them (`declines`). */
export const TestCheckoutPay = z.strictObject({ save_method: z.enum(['ok', 'declines']).optional() }).meta({ examples: [{ save_method: 'ok' }] });
export type TestCheckoutPay = z.infer<typeof TestCheckoutPay>;

export const WebhookResult = z.object({ received: z.literal(true), outcome: z.string() }).meta({ examples: [{ received: true, outcome: 'order paid' }] });
