/**
 * The one interface every payment provider implements (`test`, Stripe, WeChat Pay, Alipay). A
 * provider starts a checkout for an order, turns a webhook delivery into a verified, normalized
 * event, refunds, and (where it keeps a saved payment method) charges again for a renewal.
 */

/** A webhook delivery reduced to what the order flow acts on. */
export type PaymentEvent =
  | {
      id: string;
      type: 'payment.succeeded';
      orderId: string;
      providerRef: string;
      amountMinor: number;
      currency: string;
      feeMinor?: number | undefined;
      paymentMethodRef?: string | undefined;
      /** The `idempotencyKey` of the `chargeSaved` call this payment answers (a charge reported by webhook). */
      chargeKey?: string | undefined;
    }
  | {
      id: string;
      type: 'payment.failed';
      orderId: string;
      reason?: string | undefined;
      /** The checkout ran out before the payer paid (Stripe's session expiry): nothing was declined. */
      checkoutExpired?: boolean | undefined;
      /** The `idempotencyKey` of the `chargeSaved` call this failure answers, its method and whether retrying may help. */
      charge?: { key: string; paymentMethodRef: string; retryable: boolean } | undefined;
    }
  | {
      id: string;
      type: 'refund.succeeded';
      orderId: string;
      refundRef: string;
      /** Our refund id when the provider echoes it back (out_refund_no, metadata); absent for refunds made at the provider. */
      refundId?: string | undefined;
      amountMinor: number;
      /** `amountMinor` is the total refunded on the payment so far, not this refund (Alipay's `refund_fee`). */
      amountIsCumulative?: boolean | undefined;
      currency: string;
    }
  | { id: string; type: 'refund.failed'; orderId: string; refundRef: string; refundId?: string | undefined; reason?: string | undefined }
  /**
   * A genuine delivery with nothing to do: a subscribed event in a state we do not act on (a
   * refund still pending, a checkout completed but not yet paid) or about a payment that is not
   * ours (no order id). Recorded once and acknowledged, so the provider stops redelivering it.
   */
  | { id: string; type: 'ignored'; orderId: string | null; reason: string };

export interface RefundRequest {
  /** Our refund id; providers that take a merchant refund number get this one. */
  refundId: string;
  orderId: string;
  providerRef: string;
  amountMinor: number;
  /** What the order charged in total; WeChat Pay and Alipay want it with every refund. */
  totalMinor: number;
  currency: string;
  reason: string;
  /** Sent to the provider so that a retried refund call cannot refund twice. */
  idempotencyKey: string;
}

/**
 * A refund the provider finished at once (`succeeded`) or accepted and will confirm by webhook
 * (`pending`: the money stays claimed until `refund.succeeded` or `refund.failed` arrives).
 */
export interface RefundResult {
  refundRef: string;
  status: 'succeeded' | 'pending';
}

export interface CheckoutRequest {
  orderId: string;
  amountMinor: number;
  currency: string;
  /** Shown to the payer: the product name. */
  description: string;
  /** Where the payer lands after paying (browser providers). */
  returnUrl: string;
  /** The webhook URL of this provider on this install. */
  notifyUrl: string;
  /** When the checkout stops accepting payment (the unpaid-order timeout). */
  expiresAt: string;
  /** The server's clock, for providers that bound `expiresAt` relative to now. */
  now: Date;
  /** The order renews (a membership with a term): providers that can save the method for later charges do. */
  saveForRenewal?: boolean | undefined;
}

/** How the payer pays: open a URL, or scan a QR code holding `codeUrl` (WeChat Pay Native). */
export type Checkout = { kind: 'redirect'; url: string; providerRef?: string | undefined } | { kind: 'qr'; codeUrl: string; providerRef?: string | undefined };

export interface ChargeRequest {
  orderId: string;
  paymentMethodRef: string;
  amountMinor: number;
  currency: string;
  description: string;
  idempotencyKey: string;
}

export type ChargeResult = { status: 'succeeded'; providerRef: string } | { status: 'pending'; providerRef: string } | { status: 'failed'; reason: string; retryable: boolean };

export interface PaymentProvider {
  readonly name: string;
  /** Currencies the provider takes (ISO 4217, upper case); absent: any. Orders in others are refused. */
  readonly currencies?: readonly string[];
  /** Starts paying an order. */
  startCheckout(req: CheckoutRequest): Promise<Checkout>;
  /**
   * Verifies a webhook delivery (signature, freshness) and normalizes it. Throws AppError
   * `invalid_signature` / `stale_signature` (401) or `unknown_event_type` (400).
   */
  verifyWebhook(rawBody: string, headers: Record<string, string | string[] | undefined>, now: Date): PaymentEvent;
  /** Refunds part or all of a captured payment. */
  refund(req: RefundRequest): Promise<RefundResult>;
  /**
   * Charges a saved payment method without the payer present (automatic renewal); absent when the
   * provider keeps none. Refusals are results; a provider out of reach throws (outcome unknown).
   */
  chargeSaved?(req: ChargeRequest): Promise<ChargeResult>;
}
