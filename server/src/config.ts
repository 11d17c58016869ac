import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { PaymentProviderName } from '../../contracts/src/index.js';
import type { AlipayOptions } from './modules/payments/alipay.js';
import type { StripeOptions } from './modules/payments/stripe.js';
import type { WechatPayOptions } from './modules/payments/wechatpay.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Automatic renewal: charge this long before expiry; retry a failed renewal these days after the first failure. */
export interface RenewalsConfig {
  leadHours: number;
  retryDays: number[];
}
export const DEFAULT_RENEWALS: RenewalsConfig = { leadHours: 24, retryDays: [1, 3, 5] };

const RetryDays = z
  .string()
  .regex(/^\s*\d{1,2}(\s*,\s*\d{1,2}){0,9}\s*$/, 'up to 10 comma-separated whole days, e.g. 1,3,5')
  .transform((v) => v.split(',').map(Number))
  .refine((days) => days.every((d, i) => d >= 1 && (i === 0 || d > days[i - 1]!)), 'days of at least 1, increasing');

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** PEM text; literal `\n` escapes are accepted, since keys often travel in one-line variables. */
const pem = (kind: 'private' | 'public') =>
  z
    .string()
    .transform((v) => v.replace(/\\n/g, '\n').trim())
    .refine((v) => {
      // A private key would also yield a public one: refuse it where the other party's public key belongs.
      if (!v.startsWith('-----BEGIN ') || (kind === 'public' && v.includes('PRIVATE KEY'))) return false;
      try {
        (kind === 'private' ? createPrivateKey : createPublicKey)(v);
        return true;
      } catch {
        return false;
      }
    }, `must be a ${kind} key in PEM format`);

const Env = z.object({
  YUTANG_DATABASE_URL: z
    .string()
    .min(1)
    .default('./data/yutang.db')
    .describe('SQLite file path (default ./data/yutang.db) or postgres:// URL'),
  YUTANG_DATA_DIR: z.string().optional(),
  YUTANG_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('127.0.0.1'),
  YUTANG_PUBLIC_URL: z.url().optional(),
  YUTANG_SIGNUP: z.enum(['open', 'closed']).default('open'),
  YUTANG_TRUST_PROXY: bool.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  YUTANG_RENEWAL_LEAD_HOURS: z.coerce.number().int().min(1).max(720).default(DEFAULT_RENEWALS.leadHours).describe('Hours before expiry at which an auto-renewing membership is charged'),
  YUTANG_RENEWAL_RETRY_DAYS: RetryDays.default([...DEFAULT_RENEWALS.retryDays]).describe('Days after a failed automatic renewal at which it is retried, inside the grace window'),
  YUTANG_PAYMENT_PROVIDER: PaymentProviderName.default('test').describe('Provider new orders are paid through unless the buyer picks another enabled one'),
  YUTANG_STRIPE_SECRET_KEY: z.string().optional(),
  YUTANG_STRIPE_WEBHOOK_SECRET: z.string().optional(),
  // The Stripe client takes a scheme, a host and a port, so there is no room for a path.
  YUTANG_STRIPE_API_BASE: httpUrl.refine((u) => new URL(u).pathname === '/', 'must have no path').optional(),
  YUTANG_WECHATPAY_MCHID: z.string().optional(),
  YUTANG_WECHATPAY_APPID: z.string().optional(),
  YUTANG_WECHATPAY_SERIAL_NO: z.string().optional(),
  YUTANG_WECHATPAY_PRIVATE_KEY: pem('private').optional(),
  YUTANG_WECHATPAY_APIV3_KEY: z.string().length(32, 'must be exactly 32 characters').optional(),
  YUTANG_WECHATPAY_PLATFORM_PUBLIC_KEY: pem('public').optional(),
  YUTANG_WECHATPAY_PLATFORM_SERIAL: z.string().optional(),
  YUTANG_WECHATPAY_API_BASE: httpUrl.optional(),
  YUTANG_ALIPAY_APP_ID: z.string().optional(),
  YUTANG_ALIPAY_PRIVATE_KEY: pem('private').optional(),
  YUTANG_ALIPAY_PUBLIC_KEY: pem('public').optional(),
  YUTANG_ALIPAY_GATEWAY: httpUrl.optional(),
});
type EnvKey = keyof z.input<typeof Env>;

/** The variables of each real provider; it is enabled when every required one is set. */
const PROVIDER_VARS = {
  stripe: { label: 'Stripe', required: ['YUTANG_STRIPE_SECRET_KEY', 'YUTANG_STRIPE_WEBHOOK_SECRET'], optional: ['YUTANG_STRIPE_API_BASE'] },
  wechatpay: {
    label: 'WeChat Pay',
    required: [
      'YUTANG_WECHATPAY_MCHID',
      'YUTANG_WECHATPAY_APPID',
      'YUTANG_WECHATPAY_SERIAL_NO',
      'YUTANG_WECHATPAY_PRIVATE_KEY',
      'YUTANG_WECHATPAY_APIV3_KEY',
      'YUTANG_WECHATPAY_PLATFORM_PUBLIC_KEY',
      'YUTANG_WECHATPAY_PLATFORM_SERIAL',
    ],
    optional: ['YUTANG_WECHATPAY_API_BASE'],
  },
  alipay: { label: 'Alipay', required: ['YUTANG_ALIPAY_APP_ID', 'YUTANG_ALIPAY_PRIVATE_KEY', 'YUTANG_ALIPAY_PUBLIC_KEY'], optional: ['YUTANG_ALIPAY_GATEWAY'] },
} as const satisfies Record<Exclude<PaymentProviderName, 'test'>, { label: string; required: readonly EnvKey[]; optional: readonly EnvKey[] }>;

/** Secrets and keys that may come from files (`X_FILE`). */
const FILE_VARS = [
  'YUTANG_DATABASE_URL',
  'YUTANG_SECRET',
  'YUTANG_STRIPE_SECRET_KEY',
  'YUTANG_STRIPE_WEBHOOK_SECRET',
  'YUTANG_WECHATPAY_PRIVATE_KEY',
  'YUTANG_WECHATPAY_APIV3_KEY',
  'YUTANG_WECHATPAY_PLATFORM_PUBLIC_KEY',
  'YUTANG_ALIPAY_PRIVATE_KEY',
  'YUTANG_ALIPAY_PUBLIC_KEY',
] as const satisfies readonly EnvKey[];

const PAYMENT_VARS: readonly EnvKey[] = ['YUTANG_PAYMENT_PROVIDER', ...Object.values(PROVIDER_VARS).flatMap((p) => [...p.required, ...p.optional])];

/** Payment providers of the install. Each real provider is enabled by configuring its keys; null when it is not. */
export interface PaymentsConfig {
  /** Provider of new orders that name none; always an enabled one. */
  default: PaymentProviderName;
  test: {
    /** `instant`: refunds succeed when asked for; `webhook`: they stay pending until a refund webhook arrives, like real providers. */
    refunds: 'instant' | 'webhook';
  };
  stripe: StripeOptions | null;
  wechatpay: WechatPayOptions | null;
  alipay: AlipayOptions | null;
}

export interface Config {
  databaseUrl: string;
  dialect: 'sqlite' | 'postgres';
  dataDir: string;
  secret: string;
  port: number;
  host: string;
  publicUrl: string;
  signup: 'open' | 'closed';
  trustProxy: boolean;
  logLevel: z.infer<typeof Env>['LOG_LEVEL'];
  payments: PaymentsConfig;
  renewals: RenewalsConfig;
}

export class ConfigError extends Error {}

/**
 * `X_FILE=/run/secrets/x` may stand in for `X` (Docker/Kubernetes secrets). An empty payment
 * variable counts as unset, as compose files often leave them blank.
 */
function withFileSecrets(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  for (const key of PAYMENT_VARS) if (out[key] === '') delete out[key];
  for (const key of FILE_VARS) {
    const file = env[`${key}_FILE`];
    if (file && !out[key]) out[key] = readFileSync(file, 'utf8').trim();
  }
  return out;
}

const isSet = (env: Record<string, string | undefined>, key: EnvKey) => env[key] !== undefined;
const enabled = (env: Record<string, string | undefined>, p: keyof typeof PROVIDER_VARS) => PROVIDER_VARS[p].required.every((k) => isSet(env, k));

/** A provider configured in part, or a default provider that is not configured, as `  VAR: problem` lines. */
function paymentProblems(env: Record<string, string | undefined>): string[] {
  const lines: string[] = [];
  for (const vars of Object.values(PROVIDER_VARS)) {
    const given = [...vars.required, ...vars.optional].filter((k) => isSet(env, k));
    if (!given.length) continue;
    for (const k of vars.required.filter((k) => !isSet(env, k))) lines.push(`  ${k}: required to enable ${vars.label} (${given.join(', ')} ${given.length > 1 ? 'are' : 'is'} set)`);
  }
  const chosen = env.YUTANG_PAYMENT_PROVIDER;
  if (chosen && chosen in PROVIDER_VARS && !enabled(env, chosen as keyof typeof PROVIDER_VARS)) {
    const vars = PROVIDER_VARS[chosen as keyof typeof PROVIDER_VARS];
    lines.push(`  YUTANG_PAYMENT_PROVIDER: ${chosen} is not enabled; set ${vars.required.join(', ')}`);
  }
  return lines;
}

export const isPostgresUrl = (url: string) => /^postgres(ql)?:\/\//i.test(url);

/**
 * Parses the environment once, at start. Every problem is reported together so an operator fixes
 * them in one go. Nothing else in the code reads `process.env`.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = withFileSecrets(env);
  const parsed = Env.safeParse(raw);
  const lines = [...(parsed.error?.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`) ?? []), ...paymentProblems(raw)];
  if (!parsed.success || lines.length) throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  const e = parsed.data;
  const dialect = isPostgresUrl(e.YUTANG_DATABASE_URL) ? 'postgres' : 'sqlite';
  const databaseUrl =
    dialect === 'sqlite' && e.YUTANG_DATABASE_URL !== ':memory:'
      ? resolve(e.YUTANG_DATABASE_URL)
      : e.YUTANG_DATABASE_URL;
  const dataDir = resolve(
    e.YUTANG_DATA_DIR ?? (dialect === 'sqlite' && databaseUrl !== ':memory:' ? dirname(databaseUrl) : './data'),
  );
  return {
    databaseUrl,
    dialect,
    dataDir,
    secret: e.YUTANG_SECRET ?? loadOrCreateSecret(dataDir),
    port: e.PORT,
    host: e.HOST,
    publicUrl: (e.YUTANG_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, ''),
    signup: e.YUTANG_SIGNUP,
    trustProxy: e.YUTANG_TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
    payments: {
      default: e.YUTANG_PAYMENT_PROVIDER,
      test: { refunds: 'instant' },
      // paymentProblems() refused partial sets, so every required variable of an enabled provider is here.
      stripe: enabled(raw, 'stripe') ? { secretKey: e.YUTANG_STRIPE_SECRET_KEY!, webhookSecret: e.YUTANG_STRIPE_WEBHOOK_SECRET!, apiBase: e.YUTANG_STRIPE_API_BASE } : null,
      wechatpay: enabled(raw, 'wechatpay')
        ? {
            mchId: e.YUTANG_WECHATPAY_MCHID!,
            appId: e.YUTANG_WECHATPAY_APPID!,
            serialNo: e.YUTANG_WECHATPAY_SERIAL_NO!,
            privateKeyPem: e.YUTANG_WECHATPAY_PRIVATE_KEY!,
            apiV3Key: e.YUTANG_WECHATPAY_APIV3_KEY!,
            platformPublicKeyPem: e.YUTANG_WECHATPAY_PLATFORM_PUBLIC_KEY!,
            platformSerial: e.YUTANG_WECHATPAY_PLATFORM_SERIAL!,
            apiBase: e.YUTANG_WECHATPAY_API_BASE,
          }
        : null,
      alipay: enabled(raw, 'alipay')
        ? { appId: e.YUTANG_ALIPAY_APP_ID!, privateKeyPem: e.YUTANG_ALIPAY_PRIVATE_KEY!, alipayPublicKeyPem: e.YUTANG_ALIPAY_PUBLIC_KEY!, gateway: e.YUTANG_ALIPAY_GATEWAY }
        : null,
    },
    renewals: { leadHours: e.YUTANG_RENEWAL_LEAD_HOURS, retryDays: e.YUTANG_RENEWAL_RETRY_DAYS },
  };
}

/** The secret is generated once per install and kept next to the data, readable only by its owner. */
function loadOrCreateSecret(dataDir: string): string {
  const file = join(dataDir, 'secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
