import type { PaymentProvider } from './provider.js';

/** Alipay open platform settings (`YUTANG_ALIPAY_*`). */
export interface AlipayOptions {
  appId: string;
  /** The application's private key (PEM), signs requests (RSA2). */
  privateKeyPem: string;
  /** Alipay's public key (PEM), verifies notifications. */
  alipayPublicKeyPem: string;
  /** Default https://openapi.alipay.com/gateway.do. */
  gateway?: string | undefined;
}

/** Placeholder until the Alipay provider lands. */
export function alipayProvider(_opts: AlipayOptions): PaymentProvider {
  throw new Error('not implemented');
}
