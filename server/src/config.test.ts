import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { generateKeyPairSync } from 'node:crypto';
import { isAbsolute, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const SECRET = 'x'.repeat(32);

describe('loadConfig', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'yutang-config-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
  });

  /** The ConfigError loadConfig throws for this environment. */
  const configError = (env: NodeJS.ProcessEnv): ConfigError => {
    try {
      loadConfig(env);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return e as ConfigError;
    }
    throw new Error('loadConfig accepted the environment');
  };

  it('defaults: SQLite at ./data/yutang.db made absolute, port 8080, localhost', () => {
    // A secret is given so that nothing is written into the working directory.
    const c = loadConfig({ YUTANG_SECRET: SECRET });
    expect(c.dialect).toBe('sqlite');
    expect(isAbsolute(c.databaseUrl)).toBe(true);
    expect(c.databaseUrl).toBe(join(process.cwd(), 'data', 'yutang.db'));
    expect(c.dataDir).toBe(join(process.cwd(), 'data'));
    expect(c.port).toBe(8080);
    expect(c.host).toBe('127.0.0.1');
    expect(c.publicUrl).toBe('http://localhost:8080');
    expect(c.signup).toBe('open');
    expect(c.trustProxy).toBe(false);
    expect(c.logLevel).toBe('info');
    expect(c.secret).toBe(SECRET);
  });

  it('relative SQLite paths resolve against the working directory; the data dir follows the file', () => {
    const c = loadConfig({ YUTANG_SECRET: SECRET, YUTANG_DATABASE_URL: 'var/db/app.sqlite', PORT: '3000', YUTANG_PUBLIC_URL: 'https://club.example.com/' });
    expect(c.databaseUrl).toBe(join(process.cwd(), 'var', 'db', 'app.sqlite'));
    expect(c.dataDir).toBe(join(process.cwd(), 'var', 'db'));
    expect(c.port).toBe(3000);
    expect(c.publicUrl).toBe('https://club.example.com');
  });

  it('detects PostgreSQL URLs (postgres:// and postgresql://, any case) and leaves them as given', () => {
    for (const url of ['postgres://u:p@db.internal:5432/yutang', 'postgresql://u@localhost/yutang', 'POSTGRES://u@h/d']) {
      const c = loadConfig({ YUTANG_SECRET: SECRET, YUTANG_DATABASE_URL: url });
      expect(c.dialect, url).toBe('postgres');
      expect(c.databaseUrl, url).toBe(url);
      expect(c.dataDir, url).toBe(join(process.cwd(), 'data'));
    }
    // Look-alikes are SQLite file names.
    const notPg = loadConfig({ YUTANG_SECRET: SECRET, YUTANG_DATABASE_URL: 'postgres.db' });
    expect(notPg.dialect).toBe('sqlite');
    expect(notPg.databaseUrl).toBe(join(process.cwd(), 'postgres.db'));
  });

  it('reports every invalid variable in one ConfigError', () => {
    const err = configError({ PORT: 'eighty', YUTANG_SECRET: 'too-short' });
    expect(err.message).toMatch(/^Invalid configuration:/);
    const lines = err.message.split('\n').slice(1);
    expect(lines.some((l) => l.trim().startsWith('PORT:'))).toBe(true);
    expect(lines.some((l) => l.trim().startsWith('YUTANG_SECRET:') && l.includes('at least 32 characters'))).toBe(true);

    expect(configError({ YUTANG_SECRET: SECRET, PORT: '70000' }).message).toContain('PORT');
    expect(configError({ YUTANG_SECRET: SECRET, PORT: '80.5' }).message).toContain('PORT');
    expect(configError({ YUTANG_SECRET: SECRET, YUTANG_SIGNUP: 'maybe' }).message).toContain('YUTANG_SIGNUP');
    expect(configError({ YUTANG_SECRET: SECRET, YUTANG_TRUST_PROXY: 'sometimes' }).message).toContain('YUTANG_TRUST_PROXY');
  });

  it('renewal schedule: 24 h lead and retries 1, 3, 5 days by default; set by environment; checked', () => {
    expect(loadConfig({ YUTANG_SECRET: SECRET }).renewals).toEqual({ leadHours: 24, retryDays: [1, 3, 5] });
    expect(loadConfig({ YUTANG_SECRET: SECRET, YUTANG_RENEWAL_LEAD_HOURS: '48', YUTANG_RENEWAL_RETRY_DAYS: ' 2, 4 ,10' }).renewals).toEqual({ leadHours: 48, retryDays: [2, 4, 10] });
    for (const days of ['3,1', '0,2', '1,1', 'one', '1,,3', '']) {
      expect(configError({ YUTANG_SECRET: SECRET, YUTANG_RENEWAL_RETRY_DAYS: days }).message, days).toContain('YUTANG_RENEWAL_RETRY_DAYS');
    }
    expect(configError({ YUTANG_SECRET: SECRET, YUTANG_RENEWAL_LEAD_HOURS: '0' }).message).toContain('YUTANG_RENEWAL_LEAD_HOURS');
  });

  it('creates YUTANG_SECRET once in the data dir, readable only by its owner, and reuses it', () => {
    const dir = tempDir();
    const env = { YUTANG_DATABASE_URL: join(dir, 'db', 'yutang.db') };
    const file = join(dir, 'db', 'secret');
    expect(existsSync(file)).toBe(false);

    const first = loadConfig(env);
    expect(first.dataDir).toBe(join(dir, 'db'));
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first.secret.length).toBeGreaterThanOrEqual(32);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.secret);

    const second = loadConfig(env);
    expect(second.secret).toBe(first.secret);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.secret);

    // Another install gets another secret.
    const other = tempDir();
    expect(loadConfig({ YUTANG_DATABASE_URL: join(other, 'yutang.db') }).secret).not.toBe(first.secret);
  });

  it('YUTANG_DATA_DIR decides where the secret lives', () => {
    const dir = tempDir();
    const data = join(dir, 'state');
    const c = loadConfig({ YUTANG_DATA_DIR: data, YUTANG_DATABASE_URL: join(dir, 'elsewhere', 'yutang.db') });
    expect(c.dataDir).toBe(data);
    expect(readFileSync(join(data, 'secret'), 'utf8').trim()).toBe(c.secret);
    expect(existsSync(join(dir, 'elsewhere', 'secret'))).toBe(false);
  });

  it('reads YUTANG_SECRET_FILE; YUTANG_SECRET wins over it; its content is validated too', () => {
    const dir = tempDir();
    const secretFile = join(dir, 'yutang_secret');
    const fromFile = 'f'.repeat(40);
    writeFileSync(secretFile, `${fromFile}\n`);
    const dataDir = join(dir, 'data');

    const c = loadConfig({ YUTANG_SECRET_FILE: secretFile, YUTANG_DATA_DIR: dataDir });
    expect(c.secret).toBe(fromFile);
    // A given secret is not written anywhere.
    expect(existsSync(join(dataDir, 'secret'))).toBe(false);

    expect(loadConfig({ YUTANG_SECRET_FILE: secretFile, YUTANG_SECRET: SECRET, YUTANG_DATA_DIR: dataDir }).secret).toBe(SECRET);

    const shortFile = join(dir, 'short');
    writeFileSync(shortFile, 'short\n');
    expect(configError({ YUTANG_SECRET_FILE: shortFile, YUTANG_DATA_DIR: dataDir }).message).toContain('YUTANG_SECRET');

    const dbFile = join(dir, 'db_url');
    writeFileSync(dbFile, 'postgres://u@db/yutang\n');
    const pgc = loadConfig({ YUTANG_DATABASE_URL_FILE: dbFile, YUTANG_SECRET: SECRET });
    expect([pgc.dialect, pgc.databaseUrl]).toEqual(['postgres', 'postgres://u@db/yutang']);
  });

  describe('payment providers', () => {
    const pair = () => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return { privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string };
    };
    const merchant = pair();
    const platform = pair();
    const stripe = { YUTANG_STRIPE_SECRET_KEY: 'sk_test_123', YUTANG_STRIPE_WEBHOOK_SECRET: 'whsec_123' };
    const wechatpay = {
      YUTANG_WECHATPAY_MCHID: '1900000001',
      YUTANG_WECHATPAY_APPID: 'wx8888888888888888',
      YUTANG_WECHATPAY_SERIAL_NO: '444F4864EA9B34415',
      YUTANG_WECHATPAY_PRIVATE_KEY: merchant.privateKey,
      YUTANG_WECHATPAY_APIV3_KEY: 'a'.repeat(32),
      YUTANG_WECHATPAY_PLATFORM_PUBLIC_KEY: platform.publicKey,
      YUTANG_WECHATPAY_PLATFORM_SERIAL: 'PUB_KEY_ID_0000000001',
    };
    /** The problem lines of a ConfigError, without the heading. */
    const problems = (env: NodeJS.ProcessEnv) => configError({ YUTANG_SECRET: SECRET, ...env }).message.split('\n').slice(1).map((l) => l.trim());

    it('enables only the test provider by default; a real one once all its keys are set', () => {
      expect(loadConfig({ YUTANG_SECRET: SECRET }).payments).toEqual({ default: 'test', test: { refunds: 'instant' }, stripe: null, wechatpay: null, alipay: null });
      const c = loadConfig({ YUTANG_SECRET: SECRET, ...stripe, YUTANG_STRIPE_API_BASE: 'http://127.0.0.1:12111', YUTANG_PAYMENT_PROVIDER: 'stripe' });
      expect(c.payments).toEqual({
        default: 'stripe',
        test: { refunds: 'instant' },
        stripe: { secretKey: 'sk_test_123', webhookSecret: 'whsec_123', apiBase: 'http://127.0.0.1:12111' },
        wechatpay: null,
        alipay: null,
      });
      // Blank variables, as compose files leave them, count as unset.
      expect(loadConfig({ YUTANG_SECRET: SECRET, YUTANG_STRIPE_SECRET_KEY: '', YUTANG_ALIPAY_GATEWAY: '' }).payments.stripe).toBeNull();
    });

    it('reads keys from files and one-line PEM with \\n escapes', () => {
      const dir = tempDir();
      const keyFile = join(dir, 'apiclient_key.pem');
      writeFileSync(keyFile, merchant.privateKey);
      const { YUTANG_WECHATPAY_PRIVATE_KEY: _inline, ...rest } = wechatpay;
      const c = loadConfig({ YUTANG_SECRET: SECRET, ...rest, YUTANG_WECHATPAY_PRIVATE_KEY_FILE: keyFile, YUTANG_PAYMENT_PROVIDER: 'wechatpay' });
      expect(c.payments.wechatpay).toEqual({
        mchId: '1900000001',
        appId: 'wx8888888888888888',
        serialNo: '444F4864EA9B34415',
        privateKeyPem: merchant.privateKey.trim(),
        apiV3Key: 'a'.repeat(32),
        platformPublicKeyPem: platform.publicKey.trim(),
        platformSerial: 'PUB_KEY_ID_0000000001',
        apiBase: undefined,
      });
      const oneLine = (pem: string) => pem.trim().replace(/\n/g, '\\n');
      const alipay = loadConfig({
        YUTANG_SECRET: SECRET,
        YUTANG_ALIPAY_APP_ID: '2021000000000000',
        YUTANG_ALIPAY_PRIVATE_KEY: oneLine(merchant.privateKey),
        YUTANG_ALIPAY_PUBLIC_KEY: oneLine(platform.publicKey),
        YUTANG_ALIPAY_GATEWAY: 'https://openapi-sandbox.dl.alipaydev.com/gateway.do',
      }).payments.alipay;
      expect(alipay).toEqual({
        appId: '2021000000000000',
        privateKeyPem: merchant.privateKey.trim(),
        alipayPublicKeyPem: platform.publicKey.trim(),
        gateway: 'https://openapi-sandbox.dl.alipaydev.com/gateway.do',
      });
    });

    it('refuses a partial set, naming each missing variable, and a default provider that is not enabled', () => {
      expect(problems({ YUTANG_STRIPE_SECRET_KEY: 'sk_test_123' })).toEqual(['YUTANG_STRIPE_WEBHOOK_SECRET: required to enable Stripe (YUTANG_STRIPE_SECRET_KEY is set)']);
      expect(problems({ YUTANG_ALIPAY_GATEWAY: 'https://openapi.alipay.com/gateway.do' })).toEqual([
        'YUTANG_ALIPAY_APP_ID: required to enable Alipay (YUTANG_ALIPAY_GATEWAY is set)',
        'YUTANG_ALIPAY_PRIVATE_KEY: required to enable Alipay (YUTANG_ALIPAY_GATEWAY is set)',
        'YUTANG_ALIPAY_PUBLIC_KEY: required to enable Alipay (YUTANG_ALIPAY_GATEWAY is set)',
      ]);
      expect(problems({ YUTANG_PAYMENT_PROVIDER: 'stripe' })).toEqual(['YUTANG_PAYMENT_PROVIDER: stripe is not enabled; set YUTANG_STRIPE_SECRET_KEY, YUTANG_STRIPE_WEBHOOK_SECRET']);
      expect(problems({ YUTANG_PAYMENT_PROVIDER: 'paypal' })[0]).toMatch(/^YUTANG_PAYMENT_PROVIDER: /);
    });

    it('refuses malformed keys and URLs, together with every other problem', () => {
      const lines = problems({
        ...wechatpay,
        PORT: 'eighty',
        YUTANG_WECHATPAY_APIV3_KEY: 'a'.repeat(31),
        // Our own private key where WeChat Pay's public key belongs.
        YUTANG_WECHATPAY_PLATFORM_PUBLIC_KEY: merchant.privateKey,
        YUTANG_WECHATPAY_PRIVATE_KEY: 'not a key',
        YUTANG_WECHATPAY_API_BASE: 'ftp://api.mch.weixin.qq.com',
        ...stripe,
        YUTANG_STRIPE_API_BASE: 'https://proxy.example.com/stripe',
      });
      expect(lines.map((l) => l.split(':')[0]).sort()).toEqual(
        ['PORT', 'YUTANG_STRIPE_API_BASE', 'YUTANG_WECHATPAY_APIV3_KEY', 'YUTANG_WECHATPAY_API_BASE', 'YUTANG_WECHATPAY_PLATFORM_PUBLIC_KEY', 'YUTANG_WECHATPAY_PRIVATE_KEY'].sort(),
      );
      expect(lines).toContain('YUTANG_WECHATPAY_APIV3_KEY: must be exactly 32 characters');
      expect(lines).toContain('YUTANG_WECHATPAY_PLATFORM_PUBLIC_KEY: must be a public key in PEM format');
      expect(lines).toContain('YUTANG_STRIPE_API_BASE: must have no path');
    });
  });
});
