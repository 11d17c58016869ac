import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { AppError } from '../../lib/errors.js';

/** What the WeChat Pay and Alipay providers share: China time, CNY only, byte-bounded texts, keys, errors. */

/** China Standard Time: UTC+8, without daylight saving since 1991, so a fixed offset is exact. */
const CHINA_OFFSET_MS = 8 * 3_600_000;

/** The wall-clock time in China of an instant, `2026-03-01T20:15:00` (no offset). */
export function chinaWallClock(at: Date): string {
  return new Date(at.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 19);
}

/** `2026-03-01 20:15:00` read as China time; null when it is not exactly that shape or not a real date. */
export function parseChinaWallClock(text: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) return null;
  const at = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}+08:00`);
  return Number.isNaN(at.getTime()) || chinaWallClock(at) !== text.replace(' ', 'T') ? null : at;
}

/** The instant of an ISO timestamp handed to a provider, refused when it is not one. */
export function instantOf(iso: string, field: string): Date {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) throw new AppError('validation_failed', 400, `${field} is not a timestamp`, [{ field, message: 'not a timestamp' }]);
  return at;
}

/** WeChat Pay and Alipay settle in yuan only. */
export function requireCny(currency: string, provider: string): void {
  if (currency !== 'CNY') throw new AppError('currency_not_supported', 409, `${provider} takes CNY only, not ${currency}`);
}

export function requirePositiveMinor(amountMinor: number, field: string): void {
  if (!Number.isSafeInteger(amountMinor) || amountMinor < 1) {
    throw new AppError('validation_failed', 400, `${field} must be a positive whole number of fen`, [{ field, message: 'positive integer' }]);
  }
}

const graphemes = new Intl.Segmenter('zh', { granularity: 'grapheme' });

/** The longest prefix of `text` within `maxBytes` of UTF-8 that cuts no character (nor emoji sequence) in half. */
export function truncateUtf8(text: string, maxBytes: number): string {
  let out = '';
  let bytes = 0;
  for (const { segment } of graphemes.segment(text)) {
    bytes += Buffer.byteLength(segment, 'utf8');
    if (bytes > maxBytes) break;
    out += segment;
  }
  return out;
}

/** A private key from PEM (PKCS#1 or PKCS#8); thrown at start-up so a bad key fails loudly, not at the first payment. */
export function privateKeyFrom(pem: string, what: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new Error(`${what} is not a PEM private key: ${(err as Error).message}`);
  }
}

/** A public key from PEM: a bare key (SPKI or PKCS#1) or the certificate carrying it. */
export function publicKeyFrom(pem: string, what: string): KeyObject {
  try {
    return pem.includes('BEGIN CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem);
  } catch (err) {
    throw new Error(`${what} is not a PEM public key or certificate: ${(err as Error).message}`);
  }
}

/**
 * The provider could not be reached, failed, or answered something we could not verify. Nothing is
 * known about the outcome, so the caller keeps its state and may retry with the same merchant number.
 */
export const providerUnavailable = (provider: string, detail: string) => new AppError('provider_unavailable', 502, `${provider}: ${detail}`);
