import type { Readable } from 'node:stream';
import { type z } from 'zod';
import { LIMITS } from '../../../../contracts/src/index.js';
import { encodeJson, json } from '../../db/codecs.js';
import type { Trx } from '../../db/kysely.js';
import type { Deps } from '../../lib/deps.js';
import { findCommunityById } from '../../modules/communities/index.js';
import { insertEvent } from '../../modules/events/index.js';
import { addGroup, findGroupByName } from '../../modules/groups/index.js';
import { findMemberByExternalId, insertOutsideMemberRow, joinedElsewhere, outsideLifecycleProblem } from '../../modules/members/index.js';
import { csvImportOptions, readCsvLines } from '../csv-lines.js';
import { parseInstant } from '../orders-csv/index.js';
import { updateImportedMember } from './members-csv.repo.js';

/** The CSV columns a member import reads; only external_id is required. */
export const MEMBER_COLUMNS = ['external_id', 'name', 'tags', 'joined_at', 'group'] as const;
export type MemberColumn = (typeof MEMBER_COLUMNS)[number];

export const ImportMembersOptions = csvImportOptions(MEMBER_COLUMNS);
export type ImportMembersOptions = z.input<typeof ImportMembersOptions>;

export interface ImportMembersSummary {
  /** Members added by this run. */
  created: number;
  /** Existing members (same external_id) whose name or tags changed. */
  updated: number;
  /** Valid lines that changed nothing. */
  unchanged: number;
  /** Members seated in a group by this run (a line with `group`, for a member not seated yet). */
  joined: number;
  /** Lines not imported: the bad ones, or with --strict and any bad line, every line. */
  skipped: number;
  errors: { line: number; reason: string }[];
}

interface ValidRow {
  line: number;
  externalId: string;
  name: string | undefined;
  /** undefined when the file has no tags column: the stored tags are kept. */
  tags: string[] | undefined;
  group: string | undefined;
  joinedAt: string | undefined;
}
type LineResult = { line: number; row: ValidRow } | { line: number; reason: string };

const MAX_EXTERNAL_ID = 200;
const MAX_TAG = 50;

function parseLine(line: number, get: (c: MemberColumn) => string | undefined, zone: string): LineResult {
  const externalId = get('external_id') ?? '';
  if (!externalId) return { line, reason: 'external_id is missing' };
  if (externalId.length > MAX_EXTERNAL_ID) return { line, reason: `external_id is longer than ${MAX_EXTERNAL_ID} characters` };
  const name = get('name') || undefined;
  if (name && name.length > LIMITS.name) return { line, reason: `name is longer than ${LIMITS.name} characters` };
  const rawTags = get('tags');
  const tags = rawTags === undefined ? undefined : [...new Set(rawTags.split(';').map((t) => t.trim()).filter(Boolean))];
  if (tags?.some((t) => t.length > MAX_TAG)) return { line, reason: `a tag is longer than ${MAX_TAG} characters` };
  if (tags && tags.length > LIMITS.listItems) return { line, reason: `more than ${LIMITS.listItems} tags` };
  const group = get('group') || undefined;
  if (group && group.length > LIMITS.name) return { line, reason: `group is longer than ${LIMITS.name} characters` };
  const rawJoined = get('joined_at') || undefined;
  let joinedAt: string | undefined;
  if (rawJoined) {
    if (!group) return { line, reason: 'joined_at needs a group' };
    const p = parseInstant(rawJoined, zone, 'joined_at');
    if (!p.ok) return { line, reason: p.reason };
    joinedAt = p.value;
  }
  return { line, row: { line, externalId, name, tags, group, joinedAt } };
}

/**
 * Imports or updates members from a CSV (see docs/import.md). `external_id` is the key: a line for a
 * known member updates its name and tags, never a second member. Tags are kept as one `a;b` string in
 * `profile.tags`, because profile fields are strings (MemberOut, segment rules). A line
 * with `group` seats a member who is not seated yet, as the ingest API does (span, seat, `joined`
 * event at `joined_at`, default now). `open` is called once, or twice with `strict` (check, then write).
 */
export async function importMembersCsv(
  deps: Deps,
  communityId: string,
  open: () => Readable,
  options: ImportMembersOptions = {},
  onProgress?: (linesRead: number) => void,
): Promise<ImportMembersSummary> {
  const opts = ImportMembersOptions.parse(options);
  const community = await findCommunityById(deps.db, communityId);
  if (!community) throw new Error(`No community ${communityId}`);
  const summary: ImportMembersSummary = { created: 0, updated: 0, unchanged: 0, joined: 0, skipped: 0, errors: [] };
  const lines = async function* () {
    for await (const l of readCsvLines(open(), MEMBER_COLUMNS.filter((c) => c === 'external_id'), MEMBER_COLUMNS.filter((c) => c !== 'external_id'), opts.columns)) {
      yield parseLine(l.line, l.get, community.time_zone);
    }
  };

  const check = async (r: LineResult): Promise<ValidRow | null> => {
    if ('reason' in r) {
      summary.errors.push({ line: r.line, reason: r.reason });
      return null;
    }
    if (r.row.group && r.row.joinedAt) {
      // The same rule the write applies, checked up front so that --strict can refuse the file.
      const m = await findMemberByExternalId(deps.db, communityId, r.row.externalId);
      if (m && !m.current_group_id && m.left_at && m.left_at > r.row.joinedAt) {
        summary.errors.push({ line: r.line, reason: `out of order: the member left at ${m.left_at}, after joined_at` });
        return null;
      }
    }
    return r.row;
  };

  let dataLines = 0;
  if (opts.strict) {
    for await (const r of lines()) {
      dataLines++;
      await check(r);
      if (onProgress && dataLines % opts.progressEvery === 0) onProgress(dataLines);
    }
    if (summary.errors.length) return { ...summary, skipped: dataLines };
    summary.errors = [];
  }

  const groups = new Map<string, string>();
  let batch: ValidRow[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const rows = batch;
    batch = [];
    const resolved = new Map<string, string>();
    const counts = await deps.db.transaction().execute(async (trx) => {
      const c = { created: 0, updated: 0, unchanged: 0, joined: 0 };
      const at = deps.clock.now().toISOString();
      for (const row of rows) {
        const outcome = await writeRow(trx, communityId, row, at, async (name) => {
          let id = groups.get(name) ?? resolved.get(name) ?? (await findGroupByName(trx, communityId, name))?.id;
          id ??= await addGroup(trx, communityId, { name, tags: {}, capacity: LIMITS.defaultGroupCapacity }, at, null);
          resolved.set(name, id);
          return id;
        });
        c[outcome.member]++;
        if (outcome.joined) c.joined++;
      }
      return c;
    });
    // Groups created in this transaction join the cache only once it commits.
    for (const [k, v] of resolved) groups.set(k, v);
    summary.created += counts.created;
    summary.updated += counts.updated;
    summary.unchanged += counts.unchanged;
    summary.joined += counts.joined;
  };

  let seen = 0;
  for await (const r of lines()) {
    seen++;
    const row = await check(r);
    if (row) batch.push(row);
    if (batch.length >= opts.batchSize) await flush();
    if (onProgress && seen % opts.progressEvery === 0) onProgress(seen);
  }
  await flush();
  summary.skipped = summary.errors.length;
  return summary;
}

async function writeRow(
  trx: Trx,
  communityId: string,
  row: ValidRow,
  at: string,
  groupId: (name: string) => Promise<string>,
): Promise<{ member: 'created' | 'updated' | 'unchanged'; joined: boolean }> {
  let m = await findMemberByExternalId(trx, communityId, row.externalId);
  let member: 'created' | 'updated' | 'unchanged';
  if (!m) {
    // Never seated until a line names a group: like an imported buyer, a member of the metrics only through what they do.
    const id = await insertOutsideMemberRow(trx, { communityId, externalId: row.externalId, displayName: row.name ?? row.externalId, status: 'left', channel: 'import', at });
    if (row.tags?.length) await updateImportedMember(trx, id, { display_name: row.name ?? row.externalId, profile: encodeJson({ tags: row.tags.join(';') }), updated_at: at });
    member = 'created';
  } else {
    const profile = json<Record<string, string>>(m.profile) ?? {};
    const name = row.name ?? m.display_name;
    const tags = row.tags?.join(';');
    const sameTags = tags === undefined || (profile.tags ?? '') === tags;
    if (name === m.display_name && sameTags) member = 'unchanged';
    else {
      const next = tags === undefined ? profile : { ...profile, tags };
      await updateImportedMember(trx, m.id, { display_name: name, profile: encodeJson(next), updated_at: at });
      member = 'updated';
    }
  }
  if (!row.group) return { member, joined: false };
  m = (await findMemberByExternalId(trx, communityId, row.externalId))!;
  const joinedAt = row.joinedAt ?? at;
  // A member already seated stays where they are, so re-importing the same file seats nobody twice.
  if (m.current_group_id || (await outsideLifecycleProblem(trx, m, 'joined', joinedAt))) return { member, joined: false };
  const group = await groupId(row.group);
  await joinedElsewhere(trx, m, group, joinedAt);
  await insertEvent(trx, { community_id: communityId, type: 'joined', occurred_at: joinedAt, member_id: m.id, group_id: group, props: { rejoin: !!m.first_joined_at, imported: true } }, at);
  return { member, joined: true };
}
