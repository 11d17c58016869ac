import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header value of a delivery: Stripe's scheme, `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + '.' + body)>`. */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * Checks a `Yutang-Signature` header against the raw body as received (not re-serialized JSON):
 * one of its `v1` values must be the HMAC of `t.body`, and `t` within `toleranceSec` of `now`
 * (unix seconds; the receiver's clock by default), which stops replays of an old delivery.
 */
export function verifyWebhookSignature(secret: string, header: string | null | undefined, body: string, toleranceSec = 300, now = Math.floor(Date.now() / 1000)): boolean {
  if (!header) return false;
  let t: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [k, v] = part.trim().split('=', 2);
    if (k === 't' && v && /^\d+$/.test(v)) t = Number(v);
    else if (k === 'v1' && v) signatures.push(v);
  }
  if (t === null || !signatures.length || Math.abs(now - t) > toleranceSec) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
  return signatures.some((s) => {
    const given = Buffer.from(s);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
