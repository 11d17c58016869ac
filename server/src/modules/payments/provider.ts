/**
 * The one interface every payment provider implements (the `test` provider now; Stripe, WeChat Pay
 * and Alipay later). A provider turns a delivery into a verified, normalized event, and refunds.
 */

/** A webhook delivery reduced to what the order flow acts on. */
export type PaymentEvent =
  | { id: string; type: 'payment.succeeded'; orderId: string; providerRef: string; amountMinor: number; currency: string }
  | { id: string; type: 'payment.failed'; orderId: string }
  | { id: string; type: 'refund.succeeded'; orderId: string; refundRef: string; amountMinor: number; currency: string };

export interface RefundRequest {
  orderId: string;
  providerRef: string;
  amountMinor: number;
  currency: string;
  /** Sent to the provider so that a retried refund call cannot refund twice. */
  idempotencyKey: string;
}

export interface PaymentProvider {
  readonly name: string;
  /**
   * Verifies a webhook delivery (signature, freshness) and normalizes it. Throws AppError
   * `invalid_signature` / `stale_signature` (401) or `unknown_event_type` (400).
   */
  verifyWebhook(rawBody: string, headers: Record<string, string | string[] | undefined>, now: Date): PaymentEvent;
  /** Refunds part or all of a captured payment; resolves with the provider's refund reference. */
  refund(req: RefundRequest): Promise<{ refundRef: string }>;
}
