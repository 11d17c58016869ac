import type { Config } from '../../config.js';
import { AppError } from '../../lib/errors.js';
import type { PaymentProvider } from './provider.js';
import { alipayProvider } from './alipay.js';
import { stripeProvider } from './stripe.js';
import { testProvider } from './test-provider.js';
import { wechatPayProvider } from './wechatpay.js';

export type { Checkout, CheckoutRequest, ChargeRequest, ChargeResult, PaymentEvent, PaymentProvider, RefundRequest, RefundResult } from './provider.js';
export { checkoutToken, signTestWebhook, testCheckoutUrl, testPaymentMethodRef, TEST_REFUND_ERROR_SUFFIX, TEST_REFUND_UNANSWERED_SUFFIX, testWebhookSecret, SIGNATURE_HEADER, SIGNATURE_TOLERANCE_SECONDS } from './test-provider.js';
export { webhookAck, type WebhookAck, type WebhookReply } from './acks.js';
export { STRIPE_CURRENCIES, type StripeOptions } from './stripe.js';
export type { WechatPayOptions } from './wechatpay.js';
export type { AlipayOptions } from './alipay.js';

type ProvidersConfig = Pick<Config, 'secret' | 'publicUrl'> & Partial<Pick<Config, 'payments'>>;

const built = new WeakMap<object, Map<string, PaymentProvider>>();

/** Where a provider delivers its webhooks on this install. */
export const webhookUrl = (publicUrl: string, provider: string) => `${publicUrl.replace(/\/$/, '')}/api/v1/webhooks/${provider}`;

/**
 * Providers of this install by name: `test` always (orders paid through it keep their webhooks and
 * refunds), the real ones whose keys are configured. Built once per configuration object.
 */
export function paymentProviders(config: ProvidersConfig): Map<string, PaymentProvider> {
  let providers = built.get(config);
  if (!providers) {
    const p = config.payments;
    const list = [testProvider(config.secret, config.publicUrl, p?.test ?? { refunds: 'instant' })];
    if (p?.stripe) list.push(stripeProvider(p.stripe));
    // WeChat Pay answers most refunds PROCESSING and reports the outcome to the request's notify_url, else to one set
    // in the merchant platform (often none): so ours, unless another is configured.
    if (p?.wechatpay) list.push(wechatPayProvider({ ...p.wechatpay, refundNotifyUrl: p.wechatpay.refundNotifyUrl ?? webhookUrl(config.publicUrl, 'wechatpay') }));
    if (p?.alipay) list.push(alipayProvider(p.alipay)); // Alipay: payments/alipay.ts
    providers = new Map(list.map((provider) => [provider.name, provider]));
    built.set(config, providers);
  }
  return providers;
}

export function providerOf(providers: Map<string, PaymentProvider>, name: string): PaymentProvider {
  const p = providers.get(name);
  if (!p) throw new AppError('route_not_found', 404, `No payment provider ${name}`);
  return p;
}

/**
 * The provider a new order pays through: the buyer's pick, else the install's default. The test
 * provider pays with play money, so it is offered only while it is the default (no real provider
 * chosen). Refuses a provider that does not take the order's currency.
 */
export function checkoutProvider(config: ProvidersConfig, name: string | undefined, currency: string): PaymentProvider {
  const fallback = config.payments?.default ?? 'test';
  const chosen = name ?? fallback;
  const provider = paymentProviders(config).get(chosen);
  if (!provider || (chosen === 'test' && fallback !== 'test')) {
    throw new AppError('provider_not_enabled', 400, `Payment provider ${chosen} is not enabled on this install`, [{ field: 'provider', message: 'not enabled' }]);
  }
  if (provider.currencies && !provider.currencies.includes(currency)) {
    throw new AppError('currency_not_supported', 409, `${provider.name} does not take ${currency}; it takes ${provider.currencies.join(', ')}`, undefined, { currencies: provider.currencies });
  }
  return provider;
}
