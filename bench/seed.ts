import { randomBytes } from 'node:crypto';
import type SQLite from 'better-sqlite3';
import { sha256 } from '../server/src/lib/hash.js';
import { newId } from '../server/src/lib/ids.js';

const CITIES = ['上海', '北京', '深圳', '杭州', '成都', '广州', '南京', '武汉'];
const INDUSTRIES = ['互联网', '金融', '教育', '医疗', '制造', '设计', '咨询', '零售'];

export interface SeedInput {
  communityId: string;
  linkId: string;
  channel: string;
  /** Group created through the API; the seed adds the others and fills them all. */
  firstGroupId: string;
  members: number;
  groupCapacity: number;
}

export interface SeedResult {
  memberIds: string[];
  groupIds: string[];
  ms: number;
}

/**
 * Seats `members` people the way joins through an entry link leave them (member row, passed
 * application, membership span, `applied`/`joined` events, full groups, link uses), but with direct
 * inserts in one transaction: tens of thousands of joins through the service would take minutes.
 * A tenth were referred by an earlier member; most have finished onboarding.
 */
export function seedMembers(sqlite: SQLite.Database, s: SeedInput): SeedResult {
  const started = performance.now();
  const groups = Math.ceil(s.members / s.groupCapacity);
  const groupIds = [s.firstGroupId];
  const memberIds: string[] = [];
  const yearAgo = Date.now() - 365 * 86_400_000;

  const insertGroup = sqlite.prepare(
    `INSERT INTO groups (id, community_id, name, tags, capacity, seated_count, status, created_from_link_id, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, 0, 'open', ?, ?, ?)`,
  );
  const fillGroup = sqlite.prepare(`UPDATE groups SET seated_count = ?, status = CASE WHEN ? >= capacity THEN 'full' ELSE 'open' END, capacity = ? WHERE id = ?`);
  const insertMember = sqlite.prepare(
    `INSERT INTO members (id, community_id, external_id, display_name, nickname, status, profile, token_hash, entry_link_id, channel,
       referrer_member_id, current_group_id, introduction, rules_accepted_at, introduced_at, onboarded_at, first_joined_at, last_joined_at,
       left_at, removal_reason, banned, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, 0, ?, ?)`,
  );
  const insertApplication = sqlite.prepare(
    `INSERT INTO applications (id, community_id, member_id, entry_link_id, threshold, answers, reviews, status, created_at, updated_at, decided_at)
     VALUES (?, ?, ?, ?, '{"mode":"all","criteria":[]}', '{}', '{}', 'passed', ?, ?, ?)`,
  );
  const insertSpan = sqlite.prepare(
    `INSERT INTO member_spans (id, community_id, member_id, group_id, entry_link_id, referrer_member_id, joined_at, left_at, left_kind)
     VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)`,
  );
  const insertEvent = sqlite.prepare(
    `INSERT INTO events (community_id, type, occurred_at, member_id, group_id, entry_link_id, channel, referrer_member_id, actor_user_id, props, recorded_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
  );

  sqlite.transaction(() => {
    const seatedIn = new Map<string, number>();
    for (let g = 1; g < groups; g++) {
      const id = newId('grp');
      const at = new Date(yearAgo + g * 3_600_000).toISOString();
      insertGroup.run(id, s.communityId, `成员群(${g + 1})`, JSON.stringify({ city: CITIES[g % CITIES.length] }), s.groupCapacity, s.linkId, at, at);
      groupIds.push(id);
    }
    for (let i = 0; i < s.members; i++) {
      const id = newId('mem');
      const groupId = groupIds[Math.floor(i / s.groupCapacity)]!;
      seatedIn.set(groupId, (seatedIn.get(groupId) ?? 0) + 1);
      const joined = new Date(yearAgo + Math.floor((i / s.members) * 360 * 86_400_000)).toISOString();
      const onboarded = i % 10 < 7;
      const referrer = i > 100 && i % 10 === 3 ? memberIds[(i * 7919) % memberIds.length]! : null;
      const city = CITIES[i % CITIES.length]!;
      const industry = INDUSTRIES[(i >> 3) % INDUSTRIES.length]!;
      const name = `成员${i}`;
      insertMember.run(
        id,
        s.communityId,
        `wx_${i.toString(36)}`,
        name,
        onboarded ? `${city}-${industry}-${name}` : null,
        onboarded ? 'active' : 'onboarding',
        JSON.stringify({ city, industry }),
        sha256(randomBytes(32).toString('base64url')),
        s.linkId,
        s.channel,
        referrer,
        groupId,
        onboarded ? `我是${name}，来自${city}，做${industry}` : null,
        onboarded ? joined : null,
        onboarded ? joined : null,
        onboarded ? joined : null,
        joined,
        joined,
        joined,
        joined,
      );
      insertApplication.run(newId('app'), s.communityId, id, s.linkId, joined, joined, joined);
      insertSpan.run(newId('spn'), s.communityId, id, groupId, s.linkId, referrer, joined);
      insertEvent.run(s.communityId, 'applied', joined, id, null, s.linkId, s.channel, referrer, '{}', joined);
      insertEvent.run(s.communityId, 'joined', joined, id, groupId, s.linkId, s.channel, referrer, '{"rejoin":false}', joined);
      memberIds.push(id);
    }
    for (const [groupId, seated] of seatedIn) fillGroup.run(seated, seated, s.groupCapacity, groupId);
    sqlite
      .prepare('UPDATE entry_links SET group_ids = ?, uses = uses + ? WHERE id = ?')
      .run(JSON.stringify(groupIds), s.members, s.linkId);
  })();
  sqlite.pragma('optimize');
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  return { memberIds, groupIds, ms: performance.now() - started };
}
