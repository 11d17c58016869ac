import { json } from '../../db/codecs.js';
import type { Db } from '../../db/kysely.js';
import { csvRecord } from '../../lib/csv.js';
import { CURRENCY_MINOR_UNITS } from '../../importers/orders-csv/index.js';
import { membersPage, ordersPage } from './csv.repo.js';

/** Rows per query of an export: the file is written page by page, never held whole. */
const PAGE = 500;

export const MEMBER_EXPORT_COLUMNS = ['id', 'external_id', 'name', 'nickname', 'tags', 'status', 'group', 'joined_at', 'first_joined_at', 'left_at', 'channel', 'created_at'];

/**
 * The community's members as CSV records, header first. `external_id, name, tags, joined_at, group`
 * are the import's columns, so an export can be imported again; `joined_at` is when the member took
 * their current seat (empty when not seated).
 */
export async function* membersCsvRecords(db: Db, communityId: string): AsyncGenerator<string> {
  yield csvRecord(MEMBER_EXPORT_COLUMNS);
  for (let after = '', page = await membersPage(db, communityId, after, PAGE); page.length; page = await membersPage(db, communityId, after, PAGE)) {
    for (const m of page) {
      const tags = json<Record<string, string> | null>(m.profile)?.tags;
      const seated = !!m.current_group_id;
      yield csvRecord([
        m.id,
        m.external_id,
        m.display_name,
        m.nickname,
        tags ?? '',
        m.status,
        seated ? m.group_name : null,
        seated ? m.last_joined_at : null,
        m.first_joined_at,
        m.left_at,
        m.channel,
        m.created_at,
      ]);
    }
    after = page.at(-1)!.id;
  }
}

export const ORDER_EXPORT_COLUMNS = ['id', 'member_id', 'member_external_id', 'member_name', 'product_id', 'product', 'status', 'amount', 'currency', 'amount_minor', 'refunded_minor', 'paid_at', 'source', 'created_at'];

/** `2933` CNY → `29.33`: the import's `amount`, exact (no floating point). */
export function majorUnits(minor: number, currency: string): string {
  const digits = CURRENCY_MINOR_UNITS[currency] ?? 2;
  if (!digits) return String(minor);
  const s = String(Math.abs(minor)).padStart(digits + 1, '0');
  return `${minor < 0 ? '-' : ''}${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

/** Every order of the community (all statuses), header first. */
export async function* ordersCsvRecords(db: Db, communityId: string): AsyncGenerator<string> {
  yield csvRecord(ORDER_EXPORT_COLUMNS);
  for (let after = '', page = await ordersPage(db, communityId, after, PAGE); page.length; page = await ordersPage(db, communityId, after, PAGE)) {
    for (const o of page) {
      const minor = Number(o.amount_minor);
      yield csvRecord([o.id, o.member_id, o.external_id, o.display_name, o.product_id, o.product_name, o.status, majorUnits(minor, o.currency), o.currency, minor, Number(o.refunded_minor), o.paid_at, o.source, o.created_at]);
    }
    after = page.at(-1)!.id;
  }
}
