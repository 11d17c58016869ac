import type { Config } from '../../config.js';
import { AppError } from '../../lib/errors.js';
import type { PaymentProvider } from './provider.js';
import { testProvider } from './test-provider.js';

export type { Checkout, CheckoutRequest, ChargeRequest, ChargeResult, PaymentEvent, PaymentProvider, RefundRequest, RefundResult } from './provider.js';
export { checkoutToken, signTestWebhook, TEST_REFUND_ERROR_SUFFIX, testCheckoutUrl, testWebhookSecret, SIGNATURE_HEADER, SIGNATURE_TOLERANCE_SECONDS } from './test-provider.js';

type ProvidersConfig = Pick<Config, 'secret' | 'publicUrl'> & Partial<Pick<Config, 'payments'>>;

const built = new WeakMap<object, Map<string, PaymentProvider>>();

/** Providers of this install by name, built once per configuration. Only `test` so far; the configuration object is the cache key, so build it once. */
export function paymentProviders(config: ProvidersConfig): Map<string, PaymentProvider> {
  let providers = built.get(config);
  if (!providers) {
    providers = new Map([['test', testProvider(config.secret, config.publicUrl, config.payments?.test ?? { refunds: 'instant' })]]);
    built.set(config, providers);
  }
  return providers;
}

export function providerOf(providers: Map<string, PaymentProvider>, name: string): PaymentProvider {
  const p = providers.get(name);
  if (!p) throw new AppError('route_not_found', 404, `No payment provider ${name}`);
  return p;
}
