import { IngestEvent, LIMITS } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import { appendEvents, claimEventKeys, releaseEventKeys, type NewEvent } from '../events/index.js';
import { addGroup, findGroupByName } from '../groups/index.js';
import { lockCommunityIngest } from './ingest.repo.js';
import { findMemberByExternalId, insertOutsideMember, joinedElsewhere, leftElsewhere, outsideLifecycleProblem } from '../members/index.js';

export interface IngestResult {
  id: string | null;
  status: 'accepted' | 'duplicate' | 'rejected';
  reason?: string;
  field?: string;
}

/** The idempotency-key namespace of the ingest API in `event_keys`. */
export const INGEST_SOURCE = 'api';
/** Clocks drift; events further in the future than this are refused as mistakes. */
const FUTURE_SLACK_MS = 24 * 3600_000;

type Parsed = { index: number; ev: IngestEvent; at: string };
type Member = NonNullable<Awaited<ReturnType<typeof findMemberByExternalId>>>;

const rejected = (id: string | null, field: string, reason: string): IngestResult => ({ id, status: 'rejected', field, reason });

/**
 * Validates the items of a batch one by one, then writes the valid ones in one transaction: their
 * idempotency keys are claimed in it (a key seen before answers `duplicate`), joins and leaves move
 * the member's spans as a native join or leave would, and every accepted event is appended to the
 * event log (which feeds rollups and the webhook outbox). Results are in the items' order.
 */
export async function ingestEvents(deps: Deps, communityId: string, items: readonly unknown[]): Promise<IngestResult[]> {
  const now = deps.clock.now();
  const results: IngestResult[] = new Array(items.length);
  const valid: Parsed[] = [];
  const seen = new Set<string>();
  items.forEach((item, index) => {
    const rawId = item && typeof item === 'object' && typeof (item as { id?: unknown }).id === 'string' ? (item as { id: string }).id : null;
    const parsed = IngestEvent.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.code === 'unrecognized_keys' ? issue.keys.join(',') : issue.path.join('.') || 'event';
      results[index] = rejected(rawId, field, issue.message);
      return;
    }
    const ev = parsed.data;
    const at = new Date(ev.occurred_at);
    if (at.getTime() > now.getTime() + FUTURE_SLACK_MS) {
      results[index] = rejected(ev.id, 'occurred_at', 'more than a day in the future');
      return;
    }
    if (seen.has(ev.id)) {
      results[index] = { id: ev.id, status: 'duplicate' };
      return;
    }
    seen.add(ev.id);
    valid.push({ index, ev, at: at.toISOString() });
  });
  if (!valid.length) return results;

  const recordedAt = now.toISOString();
  await deps.db.transaction().execute(async (trx) => {
    await lockCommunityIngest(trx, communityId);
    const fresh = await claimEventKeys(trx, communityId, INGEST_SOURCE, valid.map((p) => p.ev.id), recordedAt);
    const members = new Map<string, Member>();
    const groups = new Map<string, string>();
    const events: NewEvent[] = [];
    const unwritten: string[] = [];

    const member = async (externalId: string, name: string | undefined, create: boolean): Promise<Member | undefined> => {
      let m = members.get(externalId) ?? (await findMemberByExternalId(trx, communityId, externalId));
      if (!m && create) m = await insertOutsideMember(trx, communityId, externalId, (name ?? externalId).slice(0, LIMITS.name), recordedAt);
      if (m) members.set(externalId, m);
      return m;
    };
    const refresh = async (m: Member) => {
      const again = (await findMemberByExternalId(trx, communityId, m.external_id!))!;
      members.set(m.external_id!, again);
    };
    const group = async (name: string) => {
      let id = groups.get(name) ?? (await findGroupByName(trx, communityId, name))?.id;
      id ??= await addGroup(trx, communityId, { name, tags: {}, capacity: LIMITS.defaultGroupCapacity }, recordedAt, null);
      groups.set(name, id);
      return id;
    };

    for (const { index, ev, at } of valid) {
      if (!fresh.has(ev.id)) {
        results[index] = { id: ev.id, status: 'duplicate' };
        continue;
      }
      const props: Record<string, unknown> = { ...(ev.props ?? {}), ingest_id: ev.id };
      const name = typeof ev.props?.name === 'string' && ev.props.name.trim() ? ev.props.name.trim() : undefined;
      const lifecycle = ev.type === 'joined' || ev.type === 'left' || ev.type === 'removed' ? ev.type : null;
      if (lifecycle === 'joined' && !ev.group) {
        results[index] = rejected(ev.id, 'group', 'a join names the group joined');
        unwritten.push(ev.id);
        continue;
      }
      let m = await member(ev.member_external_id, name, lifecycle !== 'left' && lifecycle !== 'removed');
      if (lifecycle) {
        const problem = await outsideLifecycleProblem(trx, m, lifecycle, at);
        if (problem) {
          results[index] = rejected(ev.id, lifecycle === 'joined' ? 'type' : 'member_external_id', problem);
          unwritten.push(ev.id);
          continue;
        }
      }
      m = m!;
      const toExternal = ev.props?.to_member_external_id;
      if (typeof toExternal === 'string' && toExternal.trim()) props.to_member_id = (await member(toExternal.trim(), undefined, true))!.id;
      const groupId = ev.group ? await group(ev.group) : m.current_group_id;
      if (lifecycle === 'joined') {
        props.rejoin = !!m.first_joined_at;
        await joinedElsewhere(trx, m, groupId!, at);
        await refresh(m);
      } else if (lifecycle) {
        await leftElsewhere(trx, m, lifecycle, at);
        await refresh(m);
      }
      events.push({ community_id: communityId, type: ev.type, occurred_at: at, member_id: m.id, group_id: lifecycle && lifecycle !== 'joined' ? m.current_group_id : groupId, props });
      results[index] = { id: ev.id, status: 'accepted' };
    }
    if (unwritten.length) await releaseEventKeys(trx, communityId, INGEST_SOURCE, unwritten);
    if (events.length) await appendEvents(trx, events, recordedAt);
  });
  return results;
}

