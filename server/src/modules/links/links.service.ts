import QRCode from 'qrcode';
import type { CreateLink, UpdateLink } from '../../../../contracts/src/index.js';
import type { Db, Trx } from '../../db/kysely.js';
import { encodeJson } from '../../db/codecs.js';
import type { Deps } from '../../lib/deps.js';
import { AppError, invalid, notFound } from '../../lib/errors.js';
import { newId, shortCode } from '../../lib/ids.js';
import type { Actor } from '../../http/access.js';
import { insertEvent } from '../events/index.js';
import { findGroupsByIds } from '../groups/index.js';
import { findLink, findLinkByCode, listLinksOfCommunity, type EntryLink, type OverflowTemplate } from './links.repo.js';
import type { SegmentRule } from '../../../../contracts/src/index.js';

export const linkUrl = (deps: Deps, code: string) => `${deps.config.publicUrl}/j/${code}`;

async function assertPool(db: Db | Trx, communityId: string, ids: string[], field: string) {
  const groups = await findGroupsByIds(db, communityId, ids);
  if (groups.length !== new Set(ids).size) throw invalid(field, 'every id must name a group of this community');
}

async function assertOwnerMember(db: Db | Trx, communityId: string, memberId: string | undefined) {
  if (!memberId) return;
  const m = await db.selectFrom('members').select('id').where('community_id', '=', communityId).where('id', '=', memberId).executeTakeFirst();
  if (!m) throw invalid('owner_member_id', 'must name a member of this community');
}

export interface NewLink {
  name: string;
  channel: string;
  group_ids: string[];
  overflow_template?: OverflowTemplate | null | undefined;
  segment_rules?: SegmentRule[] | undefined;
  owner_user_id?: string | null | undefined;
  owner_member_id?: string | null | undefined;
  expires_at?: string | null | undefined;
  max_uses?: number | null | undefined;
}

/** Inserts a link with a fresh unique code; retries the rare code collision. */
export async function insertLink(trx: Trx | Db, communityId: string, l: NewLink, now: string): Promise<string> {
  const id = newId('lnk');
  for (let attempt = 0; ; attempt++) {
    const code = shortCode(attempt < 3 ? 8 : 12);
    const clash = await trx.selectFrom('entry_links').select('id').where('code', '=', code).executeTakeFirst();
    if (clash) continue;
    await trx
      .insertInto('entry_links')
      .values({
        id,
        community_id: communityId,
        code,
        name: l.name,
        channel: l.channel,
        owner_user_id: l.owner_user_id ?? null,
        owner_member_id: l.owner_member_id ?? null,
        group_ids: encodeJson(l.group_ids),
        overflow_template: l.overflow_template ? encodeJson(l.overflow_template) : null,
        segment_rules: encodeJson(l.segment_rules ?? []),
        expires_at: l.expires_at ? new Date(l.expires_at).toISOString() : null,
        max_uses: l.max_uses ?? null,
        status: 'active',
        created_at: now,
        updated_at: now,
      })
      .execute();
    return id;
  }
}

export async function createLink(deps: Deps, communityId: string, actor: Actor, input: CreateLink): Promise<EntryLink> {
  const now = deps.clock.now().toISOString();
  const id = await deps.db.transaction().execute(async (trx) => {
    await assertPool(trx, communityId, input.group_ids, 'group_ids');
    for (const [i, r] of input.segment_rules.entries()) await assertPool(trx, communityId, r.group_ids, `segment_rules.${i}.group_ids`);
    await assertOwnerMember(trx, communityId, input.owner_member_id);
    return insertLink(trx, communityId, { ...input, owner_user_id: input.owner_member_id ? null : actor.userId }, now);
  });
  return (await findLink(deps.db, communityId, id))!;
}

export async function updateLink(deps: Deps, communityId: string, id: string, input: UpdateLink): Promise<EntryLink> {
  const now = deps.clock.now().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    if (!(await findLink(trx, communityId, id))) throw notFound('link');
    if (input.group_ids) await assertPool(trx, communityId, input.group_ids, 'group_ids');
    for (const [i, r] of (input.segment_rules ?? []).entries()) await assertPool(trx, communityId, r.group_ids, `segment_rules.${i}.group_ids`);
    await trx
      .updateTable('entry_links')
      .set({
        ...(input.name !== undefined && { name: input.name }),
        ...(input.channel !== undefined && { channel: input.channel }),
        ...(input.group_ids !== undefined && { group_ids: encodeJson(input.group_ids) }),
        ...(input.overflow_template !== undefined && { overflow_template: input.overflow_template ? encodeJson(input.overflow_template) : null }),
        ...(input.segment_rules !== undefined && { segment_rules: encodeJson(input.segment_rules) }),
        ...(input.expires_at !== undefined && { expires_at: input.expires_at ? new Date(input.expires_at).toISOString() : null }),
        ...(input.max_uses !== undefined && { max_uses: input.max_uses }),
        ...(input.disabled !== undefined && { status: input.disabled ? 'disabled' : 'active' }),
        updated_at: now,
      })
      .where('id', '=', id)
      .where('community_id', '=', communityId)
      .execute();
  });
  return (await findLink(deps.db, communityId, id))!;
}

export async function getLink(deps: Deps, communityId: string, id: string) {
  const l = await findLink(deps.db, communityId, id);
  if (!l) throw notFound('link');
  return l;
}

export const listLinks = (deps: Deps, communityId: string) => listLinksOfCommunity(deps.db, communityId);

/** A link can be followed while it is active, not expired and under its use cap. */
export function assertUsable(link: EntryLink, now: Date) {
  if (link.status !== 'active') throw new AppError('link_disabled', 410, 'This entry link is no longer active');
  if (link.expires_at && link.expires_at <= now.toISOString()) throw new AppError('link_expired', 410, 'This entry link has expired');
  if (link.max_uses !== null && link.uses >= link.max_uses) throw new AppError('link_exhausted', 410, 'This entry link has reached its limit');
}

export async function getUsableLinkByCode(deps: Deps, code: string) {
  const link = await findLinkByCode(deps.db, code);
  if (!link) throw notFound('link');
  assertUsable(link, deps.clock.now());
  return link;
}

/** Records that someone opened the link, with its attribution: the top of every funnel. */
export async function recordVisit(deps: Deps, link: EntryLink, props: { visitor_id: string; referer?: string | undefined; source?: string }) {
  const now = deps.clock.now().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    await trx.updateTable('entry_links').set((eb) => ({ visits: eb('visits', '+', 1) })).where('id', '=', link.id).execute();
    await insertEvent(
      trx,
      {
        community_id: link.community_id,
        type: 'link_visited',
        occurred_at: now,
        entry_link_id: link.id,
        channel: link.channel,
        referrer_member_id: link.owner_member_id,
        props,
      },
      now,
    );
  });
}

export const qrSvg = (url: string) => QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
