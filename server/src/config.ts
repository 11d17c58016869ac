import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

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
  YUTANG_PAYMENT_PROVIDER: z.string().default('test').describe('Provider new orders are paid through unless the buyer picks another enabled one'),
});

/** Payment providers of the install. Each real provider is enabled by configuring its keys. */
export interface PaymentsConfig {
  /** Provider of new orders that name none. */
  default: string;
  test: {
    /** `instant`: refunds succeed when asked for; `webhook`: they stay pending until a refund webhook arrives, like real providers. */
    refunds: 'instant' | 'webhook';
  };
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

/** `X_FILE=/run/secrets/x` may stand in for `X` (Docker/Kubernetes secrets). */
function withFileSecrets(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  for (const key of ['YUTANG_DATABASE_URL', 'YUTANG_SECRET']) {
    const file = env[`${key}_FILE`];
    if (file && !env[key]) out[key] = readFileSync(file, 'utf8').trim();
  }
  return out;
}

export const isPostgresUrl = (url: string) => /^postgres(ql)?:\/\//i.test(url);

/**
 * Parses the environment once, at start. Every problem is reported together so an operator fixes
 * them in one go. Nothing else in the code reads `process.env`.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Env.safeParse(withFileSecrets(env));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
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
    payments: { default: e.YUTANG_PAYMENT_PROVIDER, test: { refunds: 'instant' } },
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
