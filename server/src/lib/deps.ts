import type { Config } from '../config.js';
import type { Db } from '../db/kysely.js';
import type { Clock } from './clock.js';

/** What every service needs: the database, the time and the configuration. */
export interface Deps {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'publicUrl' | 'signup' | 'secret'>;
}
