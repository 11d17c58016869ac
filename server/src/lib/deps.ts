import type { Config } from '../config.js';
import type { Db } from '../db/kysely.js';
import type { Clock } from './clock.js';
import type { AuthCache } from '../http/auth-cache.js';

/** What every service needs: the database, the time and the configuration. */
export interface Deps {
  db: Db;
  clock: Clock;
  /** `payments` absent: only the test provider, refunding at once (demo, bench); `renewals` absent: DEFAULT_RENEWALS. */
  config: Pick<Config, 'publicUrl' | 'signup' | 'secret'> & Partial<Pick<Config, 'payments' | 'renewals'>>;
  /** Present in the HTTP server; services tell it when sessions or roles change. */
  authCache?: AuthCache;
}
