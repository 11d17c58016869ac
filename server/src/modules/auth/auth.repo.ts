import type { Db, Trx } from '../../db/kysely.js';

export const findUserByEmail = (db: Db | Trx, email: string) =>
  db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();

export const findUserById = (db: Db | Trx, id: string) =>
  db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();


export const findLiveSession = (db: Db, id: string, now: string) =>
  db
    .selectFrom('sessions')
    .select(['id', 'user_id', 'csrf_token'])
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();

export const findLoginAttempts = (db: Db | Trx, key: string) =>
  db.selectFrom('login_attempts').selectAll().where('key', '=', key).executeTakeFirst();
