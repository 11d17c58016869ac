import { AppError } from '../../lib/errors.js';
import type { PaymentProvider } from './provider.js';
import { testProvider } from './test-provider.js';

export type { PaymentEvent, PaymentProvider, RefundRequest } from './provider.js';
export { signTestWebhook, testWebhookSecret, SIGNATURE_HEADER, SIGNATURE_TOLERANCE_SECONDS } from './test-provider.js';

/** Providers of this install by name. Only `test` so far. */
export function paymentProviders(configSecret: string): Map<string, PaymentProvider> {
  return new Map([['test', testProvider(configSecret)]]);
}

export function providerOf(providers: Map<string, PaymentProvider>, name: string): PaymentProvider {
  const p = providers.get(name);
  if (!p) throw new AppError('route_not_found', 404, `No payment provider ${name}`);
  return p;
}
