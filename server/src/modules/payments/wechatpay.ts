import type { PaymentProvider } from './provider.js';

/** WeChat Pay API v3 merchant settings (`YUTANG_WECHATPAY_*`). */
export interface WechatPayOptions {
  mchId: string;
  appId: string;
  /** Serial number of the merchant API certificate. */
  serialNo: string;
  /** The merchant API private key (PEM). */
  privateKeyPem: string;
  /** APIv3 key: 32 characters, decrypts notification resources (AES-256-GCM). */
  apiV3Key: string;
  /** WeChat Pay's platform public key (PEM), verifies notification signatures. */
  platformPublicKeyPem: string;
  platformSerial: string;
  /** Default https://api.mch.weixin.qq.com. */
  apiBase?: string | undefined;
}

/** Placeholder until the WeChat Pay provider lands. */
export function wechatPayProvider(_opts: WechatPayOptions): PaymentProvider {
  throw new Error('not implemented');
}
