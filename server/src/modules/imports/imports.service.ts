import type { Trx } from '../../db/kysely.js';
import type { Deps } from '../../lib/deps.js';
import { newId } from '../../lib/ids.js';
import { LIMITS } from '../../../../contracts/src/index.js';
import { appendEvents, claimEventKeys, type NewEvent } from '../events/index.js';
import { addGroup } from '../groups/index.js';
import type { ChatParser, ImportIdentity, ImportPlatform, ImportRecord, ParsedItem, ParseOptions } from './records.js';
import { detached } from './parse-support.js';
import {
  adjustSeats,
  closeSpan,
  findGroupIdByName,
  findIdentitiesByExternalIds,
  findIdentitiesByName,
  findImportedAuthors,
  findMemberFacts,
  findOpenSpans,
  insertIdentity,
  insertImportedMember,
  insertSpans,
  renameExternalId,
  updateIdentitiesSeen,
  updateMemberState,
  type Identity,
  type NewSpan,
} from './imports.repo.js';

/** Records per transaction: big enough to amortize the round trips, small enough for constant memory. */
export const IMPORT_BATCH = 2000;
/** Problems kept in the report; the rest are only counted (`problem_count`). */
export const MAX_REPORTED_PROBLEMS = 1000;
/** Message keys remembered per run to point replies at their author without a query. */
const REPLY_MEMORY = 100_000;

/**
 * Author of each of the last REPLY_MEMORY messages, by chat source and message key. The largest
 * state of an import, so it is kept compact: a map per source (keys are the records' own strings,
 * not source-prefixed copies), member ids interned (each batch reads them afresh from the
 * database), and one ring of source numbers giving the global order of eviction.
 */
class ReplyMemory {
  private sources = new Map<string, number>();
  private maps: Map<string, string>[] = [];
  private ring = new Uint32Array(REPLY_MEMORY);
  private head = 0;
  private size = 0;
  private interned = new Map<string, string>();

  get(source: string, key: string): string | undefined {
    const n = this.sources.get(source);
    return n === undefined ? undefined : this.maps[n]!.get(key);
  }

  set(source: string, key: string, memberId: string): void {
    let n = this.sources.get(source);
    if (n === undefined) {
      this.sources.set(source, (n = this.maps.length));
      this.maps.push(new Map());
    }
    let id = this.interned.get(memberId);
    if (id === undefined) {
      if (this.interned.size >= REPLY_MEMORY) this.interned.clear();
      this.interned.set(memberId, (id = memberId));
    }
    const map = this.maps[n]!;
    if (map.has(key)) {
      map.set(key, id);
      return;
    }
    map.set(key, id);
    if (this.size === REPLY_MEMORY) {
      // Each source's map is in insertion order, as are its entries in the ring.
      const old = this.maps[this.ring[this.head]!]!;
      old.delete(old.keys().next().value!);
    } else this.size++;
    this.ring[this.head] = n;
    this.head = (this.head + 1) % REPLY_MEMORY;
  }
}
/** External ids starting with this name a person by display name only (Telegram's invite lists). */
export const NAME_ONLY_PREFIX = 'name:';

export interface ImportReport {
  format: ImportPlatform;
  /** Messages written by people in the file (not service lines), imported now or before. */
  messages: number;
  /** Distinct people (platform identities) who wrote those messages. */
  authors: number;
  joins: number;
  leaves: number;
  first_at: string | null;
  last_at: string | null;
  /** Records that changed nothing now: service lines, problems, and records imported before. */
  skipped: number;
  /** Records (messages, joins, leaves) written by this run; 0 on a repeated import. */
  imported: number;
  /** Messages, joins and leaves whose key was already imported (or repeated in the file). */
  duplicates: number;
  service: number;
  problem_count: number;
  problems: { location: string; reason: string }[];
  /** True when --strict found problems and nothing was written. */
  aborted: boolean;
  /** Display names of joins and leaves that more than one identity with an id used (first
   *  MAX_REPORTED_PROBLEMS): not matched to any of them, so the name stays a person of its own. */
  ambiguous_names: { name: string; external_ids: string[] }[];
}

export interface ImportOptions {
  format: ImportPlatform;
  parser: ChatParser;
  /** Opens the input; called twice in strict mode (check, then import), so it must re-read. */
  open: () => AsyncIterable<Uint8Array>;
  parse: ParseOptions;
  /** Put every chat into this group instead of one group per chat. */
  group?: string | undefined;
  strict?: boolean | undefined;
  batchSize?: number | undefined;
  /** Called after each batch with the records read so far. */
  onProgress?: ((records: number) => void) | undefined;
}

const idKey = (i: ImportIdentity) => `${i.platform}\u0000${i.external_id}`;
const sourceOf = (format: string, chat: string) => `import:${format}:${chat}`;
const reactionKey = (key: string, emoji: string, by: ImportIdentity) => `${key}/reaction/${emoji}/${by.external_id}`;

/** Checks what the pipeline relies on, whatever the parser: a record failing it is a problem. */
function invalidReason(r: ImportRecord): string | null {
  if (typeof r.key !== 'string' || !r.key) return 'no message key';
  if (typeof r.chat !== 'string' || !r.chat.trim()) return 'no chat name';
  if (typeof r.at !== 'string' || Number.isNaN(Date.parse(r.at))) return 'no valid timestamp';
  const people = r.kind === 'message' ? [r.author] : r.kind === 'join' || r.kind === 'leave' ? [r.member] : [];
  for (const p of people) if (!p || typeof p.external_id !== 'string' || !p.external_id) return 'no identity for the person';
  return null;
}

class Tally {
  report: ImportReport;
  private authors = new Set<string>();
  constructor(format: ImportPlatform) {
    this.report = { format, messages: 0, authors: 0, joins: 0, leaves: 0, first_at: null, last_at: null, skipped: 0, imported: 0, duplicates: 0, service: 0, problem_count: 0, problems: [], aborted: false, ambiguous_names: [] };
  }
  problem(location: string, reason: string) {
    this.report.problem_count++;
    if (this.report.problems.length < MAX_REPORTED_PROBLEMS) this.report.problems.push({ location, reason });
  }
  record(r: ImportRecord) {
    const rep = this.report;
    if (r.kind === 'message') {
      rep.messages++;
      this.authors.add(idKey(r.author));
      const at = new Date(r.at).toISOString();
      if (!rep.first_at || at < rep.first_at) rep.first_at = at;
      if (!rep.last_at || at > rep.last_at) rep.last_at = at;
    } else if (r.kind === 'join') rep.joins++;
    else if (r.kind === 'leave') rep.leaves++;
    else rep.service++;
  }
  private ambiguousSeen = new Set<string>();
  ambiguous(name: string, externalIds: readonly string[]) {
    if (this.ambiguousSeen.has(name)) return;
    this.ambiguousSeen.add(name);
    if (this.report.ambiguous_names.length < MAX_REPORTED_PROBLEMS) this.report.ambiguous_names.push({ name, external_ids: [...externalIds].sort() });
  }
  done(): ImportReport {
    const rep = this.report;
    rep.authors = this.authors.size;
    rep.skipped = rep.service + rep.problem_count + rep.duplicates;
    return rep;
  }
}

/** Formats whose joins and leaves name people by display name only while their messages carry
 *  ids (WeChat group notices): names are matched to ids over the whole file before importing. */
const NAMES_MATCHED_IN_FILE: ReadonlySet<ImportPlatform> = new Set(['wechat']);

/**
 * Which identities with an id used each display name in a file, to put the joins and leaves that
 * name a person only by display name on that person. A name used by two or more ids is ambiguous
 * and matched to none. Kept per name (up to two ids each), so its size follows the number of
 * people, not of messages.
 */
class NameIndex {
  private ids = new Map<string, string[]>();

  see(r: ImportRecord): void {
    if (r.kind !== 'message') return;
    this.add(r.author);
    this.add(r.reply_to_author);
    for (const re of r.reactions ?? []) for (const by of re.by) this.add(by);
    for (const m of r.mentions ?? []) this.add(m);
  }

  private add(i: ImportIdentity | undefined): void {
    if (!i || i.external_id.startsWith(NAME_ONLY_PREFIX)) return;
    const name = (i.display_name ?? '').trim();
    // An export without a name column gives the id as the name: nothing learnt.
    if (!name || name === i.external_id) return;
    const ids = this.ids.get(name);
    if (!ids) this.ids.set(detached(name), [detached(i.external_id)]);
    else if (ids.length < 2 && !ids.includes(i.external_id)) ids.push(detached(i.external_id));
  }

  /** The ids that used this name (none, one, or two when it is ambiguous). */
  idsOf(name: string): readonly string[] {
    return this.ids.get(name) ?? [];
  }

  /** A name-only identity as the one identity with an id that used the name, else unchanged. */
  resolve(i: ImportIdentity | undefined, tally: Tally): ImportIdentity | undefined {
    if (!i || !i.external_id.startsWith(NAME_ONLY_PREFIX)) return i;
    const name = i.external_id.slice(NAME_ONLY_PREFIX.length);
    const ids = this.idsOf(name);
    if (ids.length === 1) return { platform: i.platform, external_id: ids[0]!, display_name: i.display_name };
    if (ids.length > 1) tally.ambiguous(name, ids);
    return i;
  }

  resolveRecord(r: ImportRecord, tally: Tally): ImportRecord {
    if (r.kind === 'join' || r.kind === 'leave') {
      const member = this.resolve(r.member, tally)!;
      const by = this.resolve(r.by, tally);
      return member === r.member && by === r.by ? r : { ...r, member, ...(by ? { by } : {}) };
    }
    if (r.kind === 'service' && r.actor) {
      const actor = this.resolve(r.actor, tally);
      return actor === r.actor ? r : { ...r, actor: actor! };
    }
    return r;
  }
}

/** Parser items, with the pipeline's own checks turning bad records into problems. */
async function* checked(opts: ImportOptions): AsyncGenerator<ParsedItem> {
  for await (const item of opts.parser(opts.open(), opts.parse)) {
    if (item.kind === 'problem') yield item;
    else {
      const reason = invalidReason(item);
      yield reason ? { kind: 'problem', location: item.location, reason } : item;
    }
  }
}

/**
 * Imports a chat export into a community: people become members through identities, joins and
 * leaves become membership spans with `joined` / `left` / `removed` events, messages become
 * `message` / `reply` / `reaction` events. Every record's key is claimed in the transaction that
 * writes it, so re-importing a file, or an overlapping later export, adds nothing twice. Writes in
 * batches of IMPORT_BATCH records; with `strict`, the whole input is checked first and nothing is
 * written when any problem is found. See docs/imports.md.
 */
export async function importChat(deps: Deps, communityId: string, opts: ImportOptions): Promise<ImportReport> {
  const names = NAMES_MATCHED_IN_FILE.has(opts.format) ? new NameIndex() : null;
  // A first pass: the --strict check, or (for names) a read of its own.
  if (opts.strict || names) {
    const check = new Tally(opts.format);
    let n = 0;
    for await (const item of checked(opts)) {
      if (item.kind === 'problem') check.problem(item.location, item.reason);
      else {
        check.record(item);
        names?.see(item);
      }
      if (opts.strict && ++n % (opts.batchSize ?? IMPORT_BATCH) === 0) opts.onProgress?.(n);
    }
    if (opts.strict && check.report.problem_count) {
      check.report.aborted = true;
      return check.done();
    }
  }
  const tally = new Tally(opts.format);
  const run = new ImportRun(deps, communityId, opts, tally, names);
  let batch: ImportRecord[] = [];
  let n = 0;
  for await (const item of checked(opts)) {
    n++;
    if (item.kind === 'problem') {
      tally.problem(item.location, item.reason);
      continue;
    }
    tally.record(item);
    batch.push(names ? names.resolveRecord(item, tally) : item);
    if (batch.length >= (opts.batchSize ?? IMPORT_BATCH)) {
      await run.apply(batch);
      batch = [];
      opts.onProgress?.(n);
    }
  }
  if (batch.length) await run.apply(batch);
  opts.onProgress?.(n);
  return tally.done();
}

interface SpanState {
  span: NewSpan;
  /** Already in the database (opened by an earlier batch or run). */
  stored: boolean;
}

/** State one import keeps across its batches: groups by chat and recent message authors. */
class ImportRun {
  private groups = new Map<string, string>();
  private authorsByKey = new ReplyMemory();

  constructor(
    private deps: Deps,
    private communityId: string,
    private opts: ImportOptions,
    private tally: Tally,
    private names: NameIndex | null = null,
  ) {}

  private sources = new Map<string, string>();
  /** The key scope of a chat's records, made once per chat rather than once per record. */
  private sourceOf(chat: string): string {
    let source = this.sources.get(chat);
    if (source === undefined) this.sources.set(detached(chat), (source = sourceOf(this.opts.format, chat)));
    return source;
  }

  private rememberAuthor(source: string, key: string, memberId: string) {
    this.authorsByKey.set(source, key, memberId);
  }

  private async groupFor(trx: Trx, chat: string, at: string): Promise<string> {
    const name = [...(this.opts.group ?? chat).trim()].slice(0, LIMITS.name).join('');
    const known = this.groups.get(name);
    if (known) return known;
    const id =
      (await findGroupIdByName(trx, this.communityId, name)) ??
      (await addGroup(trx, this.communityId, { name, tags: {}, capacity: LIMITS.groupCapacityMax }, at, null));
    this.groups.set(name, id);
    return id;
  }

  /** One transaction: claims the batch's keys, then writes what was new. */
  async apply(records: ImportRecord[]): Promise<void> {
    const now = this.deps.clock.now().toISOString();
    try {
      await this.deps.db.transaction().execute((trx) => this.applyIn(trx, records, now));
    } catch (err) {
      // Groups created by the rolled-back batch no longer exist.
      this.groups.clear();
      throw err;
    }
  }

  private async applyIn(trx: Trx, records: ImportRecord[], now: string): Promise<void> {
    const { communityId } = this;
    const format = this.opts.format;
    const instants = records.map((r) => new Date(r.at).toISOString());

    // Keys: the record's own, and one per known reactor (reactions accrue between exports).
    const keysBySource = new Map<string, string[]>();
    const addKey = (source: string, key: string) => {
      let list = keysBySource.get(source);
      if (!list) keysBySource.set(source, (list = []));
      list.push(key);
    };
    for (const r of records) {
      const source = this.sourceOf(r.chat);
      addKey(source, r.key);
      if (r.kind === 'message') for (const re of r.reactions ?? []) for (const by of re.by) addKey(source, reactionKey(r.key, re.emoji, by));
    }
    const fresh = new Set<string>();
    for (const [source, keys] of keysBySource) {
      for (const k of await claimEventKeys(trx, communityId, source, keys, now)) fresh.add(`${source}\u0000${k}`);
    }
    const take = (source: string, key: string) => fresh.delete(`${source}\u0000${key}`);

    // People: every identity the batch names, with the names and times it was seen under.
    const seen = new Map<string, { identity: ImportIdentity; names: string[]; first: string; last: string }>();
    const see = (i: ImportIdentity | undefined, at: string) => {
      if (!i || !i.external_id) return;
      const k = idKey(i);
      const s = seen.get(k);
      const name = (i.display_name ?? '').trim();
      if (!s) seen.set(k, { identity: i, names: name ? [name] : [], first: at, last: at });
      else {
        if (name && !s.names.includes(name)) s.names.push(name);
        if (at < s.first) s.first = at;
        if (at > s.last) s.last = at;
      }
    };
    for (const [i, r] of records.entries()) {
      const at = instants[i]!;
      if (r.kind === 'message') {
        see(r.author, at);
        see(r.reply_to_author, at);
        for (const re of r.reactions ?? []) for (const by of re.by) see(by, at);
      } else if (r.kind === 'join' || r.kind === 'leave') {
        see(r.member, at);
        see(r.by, at);
      }
    }
    const memberOf = await this.resolveIdentities(trx, [...seen.values()], now);

    // Membership: open spans of everyone involved, kept per (member, group) while the batch runs.
    const memberIds = [...new Set(memberOf.values())];
    const open = new Map<string, SpanState>();
    for (const s of await findOpenSpans(trx, communityId, memberIds)) {
      open.set(`${s.member_id}|${s.group_id}`, { span: { ...s, referrer_member_id: null, left_at: null, left_kind: null }, stored: true });
    }
    const newSpans: NewSpan[] = [];
    const closed: { id: string; member_id: string; at: string; kind: string }[] = [];
    const seats = new Map<string, number>();
    const touched = new Set<string>();
    const events: NewEvent[] = [];
    const seat = (groupId: string, d: number) => seats.set(groupId, (seats.get(groupId) ?? 0) + d);

    const openSpan = (memberId: string, groupId: string, at: string, referrer: string | null) => {
      const span: NewSpan = { id: newId('spn'), member_id: memberId, group_id: groupId, referrer_member_id: referrer, joined_at: at, left_at: null, left_kind: null };
      newSpans.push(span);
      open.set(`${memberId}|${groupId}`, { span, stored: false });
      seat(groupId, 1);
      touched.add(memberId);
      this.joinedBefore.add(memberId);
      return span;
    };
    const base = (source: string, key: string, who: ImportIdentity) => ({ source: 'import', platform: format, import_source: source, key, identity: who.external_id });

    // Replies whose target is not in this run's memory: one query for the batch.
    const missing = new Map<string, Set<string>>();
    const inBatch = new Set(records.map((r) => `${this.sourceOf(r.chat)}\u0000${r.key}`));
    for (const r of records) {
      if (r.kind !== 'message' || !r.reply_to || r.reply_to_author) continue;
      const source = this.sourceOf(r.chat);
      if (this.authorsByKey.get(source, r.reply_to) !== undefined || inBatch.has(`${source}\u0000${r.reply_to}`)) continue;
      let set = missing.get(source);
      if (!set) missing.set(source, (set = new Set()));
      set.add(r.reply_to);
    }
    for (const [source, keys] of missing) {
      for (const [k, m] of await findImportedAuthors(trx, communityId, source, [...keys])) this.rememberAuthor(source, k, m);
    }

    for (const [i, r] of records.entries()) {
      const at = instants[i]!;
      const source = this.sourceOf(r.chat);
      const isNew = take(source, r.key);
      if (r.kind === 'service') continue;
      if (!isNew) this.tally.report.duplicates++;
      // Looked up (or made) only for what is written: a repeated import makes no group.
      let gid: string | undefined;
      const group = async () => (gid ??= await this.groupFor(trx, r.chat, now));
      if (r.kind === 'message') {
        const memberId = memberOf.get(idKey(r.author))!;
        this.rememberAuthor(source, r.key, memberId);
        if (isNew) {
          this.tally.report.imported++;
          const groupId = await group();
          if (!open.has(`${memberId}|${groupId}`)) {
            // Someone writing in the chat is in it: a member from their first message.
            openSpan(memberId, groupId, at, null);
            events.push({ community_id: communityId, type: 'joined', occurred_at: at, member_id: memberId, group_id: groupId, props: { ...base(source, r.key, r.author), via: 'first_message' } });
          }
          const replyTo = r.reply_to_author ? memberOf.get(idKey(r.reply_to_author)) : r.reply_to ? this.authorsByKey.get(source, r.reply_to) : undefined;
          const props: Record<string, unknown> = { ...base(source, r.key, r.author), chars: [...(r.text ?? '')].length };
          if (r.reply_to) props.reply_to = r.reply_to;
          if (replyTo) props.to_member_id = replyTo;
          if (r.attachment) props.attachment = r.attachment;
          if (r.edited) props.edited = true;
          events.push({ community_id: communityId, type: r.reply_to ? 'reply' : 'message', occurred_at: at, member_id: memberId, group_id: groupId, props });
        }
        for (const re of r.reactions ?? []) {
          for (const by of re.by) {
            if (!take(source, reactionKey(r.key, re.emoji, by))) continue;
            events.push({
              community_id: communityId,
              type: 'reaction',
              occurred_at: at,
              member_id: memberOf.get(idKey(by)) ?? null,
              group_id: await group(),
              props: { ...base(source, reactionKey(r.key, re.emoji, by), by), emoji: re.emoji, message_key: r.key, to_member_id: memberId },
            });
          }
        }
        continue;
      }
      const memberId = memberOf.get(idKey(r.member))!;
      const byId = r.by ? memberOf.get(idKey(r.by)) : undefined;
      if (!isNew) continue;
      const groupId = await group();
      const state = open.get(`${memberId}|${groupId}`);
      if (r.kind === 'join') {
        // Already in the group (seen writing first, or a repeated invite): nothing changes.
        if (state) continue;
        this.tally.report.imported++;
        const referrer = r.via === 'added' && byId && byId !== memberId ? byId : null;
        const rejoin = await this.hasJoinedBefore(trx, memberId);
        openSpan(memberId, groupId, at, referrer);
        events.push({ community_id: communityId, type: 'joined', occurred_at: at, member_id: memberId, group_id: groupId, referrer_member_id: referrer, props: { ...base(source, r.key, r.member), via: r.via, rejoin, ...(byId ? { by_member_id: byId } : {}) } });
      } else {
        this.tally.report.imported++;
        const kind = r.by && byId !== memberId ? 'removed' : 'left';
        // Someone leaving who was never seen joining was a member since before the export began;
        // without a start, the stay is recorded from the leave itself (a join and a leave at once).
        const span = state?.span ?? openSpan(memberId, groupId, at, null);
        if (!state) events.push({ community_id: communityId, type: 'joined', occurred_at: at, member_id: memberId, group_id: groupId, props: { ...base(source, r.key, r.member), via: 'unknown' } });
        span.left_at = at < span.joined_at ? span.joined_at : at;
        span.left_kind = kind;
        if (state?.stored) closed.push({ id: span.id, member_id: memberId, at: span.left_at, kind });
        open.delete(`${memberId}|${groupId}`);
        seat(groupId, -1);
        touched.add(memberId);
        events.push({
          community_id: communityId,
          type: kind,
          occurred_at: at,
          member_id: memberId,
          group_id: groupId,
          props: { ...base(source, r.key, r.member), ...(byId ? { by_member_id: byId } : {}) },
        });
      }
    }

    await insertSpans(trx, communityId, newSpans);
    for (const c of closed) await closeSpan(trx, c.id, c.at, c.kind);
    for (const [groupId, d] of seats) await adjustSeats(trx, groupId, d, now);
    await appendEvents(trx, events, now);
    await this.settleMembers(trx, [...touched], newSpans, closed, now);
  }

  private joinedBefore = new Set<string>();
  private async hasJoinedBefore(trx: Trx, memberId: string): Promise<boolean> {
    if (this.joinedBefore.has(memberId)) return true;
    const [m] = await findMemberFacts(trx, this.communityId, [memberId]);
    if (m?.first_joined_at) this.joinedBefore.add(memberId);
    return !!m?.first_joined_at;
  }

  /** Members' status and current group follow their spans: active while any is open. */
  private async settleMembers(trx: Trx, memberIds: string[], newSpans: NewSpan[], closed: { member_id: string; at: string; kind: string }[], now: string) {
    if (!memberIds.length) return;
    const facts = new Map((await findMemberFacts(trx, this.communityId, memberIds)).map((m) => [m.id, m]));
    const openNow = new Map<string, { group_id: string; joined_at: string }[]>();
    for (const s of await findOpenSpans(trx, this.communityId, memberIds)) {
      let l = openNow.get(s.member_id);
      if (!l) openNow.set(s.member_id, (l = []));
      l.push(s);
    }
    for (const id of memberIds) {
      const m = facts.get(id)!;
      const mine = newSpans.filter((s) => s.member_id === id);
      const joins = mine.map((s) => s.joined_at).sort();
      const leaves = [...mine.filter((s) => s.left_at).map((s) => ({ at: s.left_at!, kind: s.left_kind! })), ...closed.filter((c) => c.member_id === id)];
      const first = [m.first_joined_at, joins[0]].filter((x): x is string => !!x).sort()[0] ?? null;
      const last = [m.last_joined_at, joins.at(-1)].filter((x): x is string => !!x).sort().at(-1) ?? null;
      const current = (openNow.get(id) ?? []).sort((a, b) => (a.joined_at < b.joined_at ? 1 : -1))[0];
      const lastLeave = leaves.sort((a, b) => (a.at < b.at ? -1 : 1)).at(-1);
      await updateMemberState(
        trx,
        id,
        {
          status: current ? 'active' : lastLeave ? (lastLeave.kind === 'removed' ? 'removed' : 'left') : m.status,
          current_group_id: current?.group_id ?? null,
          first_joined_at: first,
          last_joined_at: last,
          left_at: current ? null : (lastLeave?.at ?? m.left_at),
        },
        now,
      );
      if (first) this.joinedBefore.add(id);
    }
  }

  /**
   * Maps identities to members: a known identity keeps its member (and gains the new names); a
   * new one joins the member of a name-only identity of the same name, or a new name-only one the
   * member of an identity seen under that name; otherwise it gets a new member.
   */
  private async resolveIdentities(trx: Trx, seen: { identity: ImportIdentity; names: string[]; first: string; last: string }[], now: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const byPlatform = new Map<string, typeof seen>();
    for (const s of seen) {
      let l = byPlatform.get(s.identity.platform);
      if (!l) byPlatform.set(s.identity.platform, (l = []));
      l.push(s);
    }
    const changed: Identity[] = [];
    for (const [platform, list] of byPlatform) {
      const known = new Map((await findIdentitiesByExternalIds(trx, this.communityId, platform, list.map((s) => s.identity.external_id))).map((i) => [i.external_id, i]));
      for (const s of list) {
        const k = known.get(s.identity.external_id);
        if (k) {
          const names = [...k.display_names, ...s.names.filter((n) => !k.display_names.includes(n))];
          const first = s.first < k.first_seen_at ? s.first : k.first_seen_at;
          const last = s.last > k.last_seen_at ? s.last : k.last_seen_at;
          if (names.length !== k.display_names.length || first !== k.first_seen_at || last !== k.last_seen_at) changed.push({ ...k, display_names: names, first_seen_at: first, last_seen_at: last });
          out.set(idKey(s.identity), k.member_id);
          continue;
        }
        const ext = s.identity.external_id;
        const nameOnly = ext.startsWith(NAME_ONLY_PREFIX);
        const lookupName = nameOnly ? ext.slice(NAME_ONLY_PREFIX.length) : undefined;
        let memberId: string | undefined;
        if (lookupName !== undefined && (this.names?.idsOf(lookupName).length ?? 0) < 2) {
          // Rare (invite and remove lists): a scan of the names seen, for an identity with an id.
          // Its member only when it is the one: two people of that name are not guessed between.
          const same = (await findIdentitiesByName(trx, this.communityId, platform, lookupName)).filter((i) => !i.external_id.startsWith(NAME_ONLY_PREFIX));
          const owners = new Set(same.map((i) => i.member_id));
          if (owners.size === 1) memberId = same[0]!.member_id;
          else if (owners.size > 1) this.tally.ambiguous(lookupName, same.map((i) => i.external_id));
        } else if (lookupName === undefined) {
          // An identity with an id: is one of its names a name-only identity already? (An exact key.)
          // Not a name that other ids of this file used as well.
          const placeholders = s.names.filter((n) => (this.names?.idsOf(n).length ?? 0) < 2).map((n) => `${NAME_ONLY_PREFIX}${n}`);
          const match = placeholders.map((p) => known.get(p)).find(Boolean) ?? (await findIdentitiesByExternalIds(trx, this.communityId, platform, placeholders))[0];
          memberId = match?.member_id;
          // The member was known by name only until now: their platform id names them better.
          if (match) await renameExternalId(trx, this.communityId, match.member_id, `${platform}:${match.external_id}`, `${platform}:${ext}`);
        }
        memberId ??= await insertImportedMember(trx, this.communityId, `${platform}:${ext}`, s.names[0] ?? lookupName ?? ext, now);
        const row = { community_id: this.communityId, platform, external_id: ext, member_id: memberId, display_names: s.names, first_seen_at: s.first, last_seen_at: s.last };
        const id = await insertIdentity(trx, row);
        known.set(ext, { ...row, id });
        out.set(idKey(s.identity), memberId);
      }
    }
    await updateIdentitiesSeen(trx, changed);
    return out;
  }
}

/**
 * Settings for a process that only imports (`yutang import`, the import bench): SQLite's page cache
 * at 4 MiB instead of better-sqlite3's 16 MiB. An import touches far more pages than any cache holds,
 * so the larger cache only fills up; the pages it drops stay in the OS cache. Measured on a
 * 1,000,000-message Telegram import: peak RSS 303 → 269 MB, at the same speed.
 */
export function tuneForImport(handle: { sqlite?: { pragma: (source: string) => unknown } }): void {
  handle.sqlite?.pragma('cache_size = -4096');
}
