import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
});
