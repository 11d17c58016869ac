import { DateTime } from 'luxon';

/**
 * Pure parsing of one CSV order row: amounts as decimal strings into integer minor units (never
 * through floating point), times with or without an offset. See docs/import.md.
 */

/** Currencies an import accepts, with their minor unit (ISO 4217 exponent). */
export const CURRENCY_MINOR_UNITS: Readonly<Record<string, number>> = {
  CNY: 2,
  USD: 2,
  EUR: 2,
  GBP: 2,
  HKD: 2,
  SGD: 2,
  TWD: 2,
  JPY: 0,
  KRW: 0,
};

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };
const fail = (reason: string): Parsed<never> => ({ ok: false, reason });

/** A currency code the import knows, upper-cased. */
export function parseCurrency(raw: string): Parsed<string> {
  const code = raw.trim().toUpperCase();
  if (!code) return fail('currency is missing');
  if (!(code in CURRENCY_MINOR_UNITS)) return fail(`unknown currency "${raw.trim()}" (known: ${Object.keys(CURRENCY_MINOR_UNITS).join(', ')})`);
  return { ok: true, value: code };
}

/**
 * `29.33` → 2933 in a 2-decimal currency. Accepts `1,000.00` (commas only as thousands separators
 * in groups of three), refuses signs, exponents, zero, and more decimals than the currency has.
 */
export function parseAmount(raw: string, currency: string): Parsed<number> {
  const s = raw.trim();
  if (!s) return fail('amount is missing');
  if (/^-/.test(s)) return fail(`amount ${s} is negative`);
  const m = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d*))?$/.exec(s);
  if (!m) return fail(`amount "${s}" is not a decimal number such as 29.33`);
  const digits = CURRENCY_MINOR_UNITS[currency]!;
  const whole = m[1]!.replace(/,/g, '');
  const frac = (m[2] ?? '').replace(/0+$/, '');
  if (frac.length > digits) return fail(`amount ${s} has more decimals than ${currency} allows (${digits})`);
  const minor = BigInt(whole) * 10n ** BigInt(digits) + BigInt(frac.padEnd(digits, '0') || '0');
  if (minor <= 0n) return fail('amount must be greater than 0');
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) return fail(`amount ${s} is too large`);
  return { ok: true, value: Number(minor) };
}

const WITH_OFFSET = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;
const ISO_SHAPE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * ISO-8601 with an offset (`2026-03-01T20:15:00+08:00`, `…Z`) is that instant; without one
 * (`2026-03-01 20:15`, `2026-03-01`) it is local time in `zone`. Returns ISO UTC.
 */
export function parsePaidAt(raw: string, zone: string): Parsed<string> {
  return parseInstant(raw, zone, 'paid_at');
}

/** `parsePaidAt` for any column: reasons name `field`. */
export function parseInstant(raw: string, zone: string, field: string): Parsed<string> {
  const s = raw.trim();
  if (!s) return fail(`${field} is missing`);
  if (!ISO_SHAPE.test(s)) return fail(`${field} "${s}" is not an ISO-8601 date-time such as 2026-03-01T20:15:00+08:00`);
  const iso = s.replace(' ', 'T');
  const hasOffset = iso.includes('T') && WITH_OFFSET.test(iso);
  const d = hasOffset ? DateTime.fromISO(iso, { setZone: true }) : DateTime.fromISO(iso, { zone });
  if (!d.isValid) return fail(`${field} "${s}" is not a valid date-time (${d.invalidExplanation ?? d.invalidReason})`);
  return { ok: true, value: d.toUTC().toISO()! };
}
