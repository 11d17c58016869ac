import type { Db, Trx } from '../../db/kysely.js';

export const findUserByEmail = (db: Db | Trx, email: string) =>
  db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();

export const findUserById = (db: Db | Trx, id: string) =>
  db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();


export const findUnrevokedSession = (db: Db, id: string) =>
  db
    .selectFrom('sessions')
    .select(['user_id', 'csrf_token', 'expires_at'])
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();

export const findLoginAttempts = (db: Db | Trx, key: string) =>
  db.selectFrom('login_attempts').selectAll().where('key', '=', key).executeTakeFirst();
