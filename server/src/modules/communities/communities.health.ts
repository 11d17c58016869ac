import { sql } from 'kysely';
import type { Db } from '../../db/kysely.js';
import { ENGAGEMENT_TYPES } from '../../../../contracts/src/index.js';
import type { Community } from './communities.repo.js';

type Status = 'ok' | 'weak' | 'missing';
interface Item {
  key: string;
  label: string;
  status: Status;
  reason: string;
}

const WINDOW_DAYS = 30;
/** Below this share of active members engaging in the window, interaction is weak. */
const WEAK_ACTIVE_SHARE = 0.2;

/**
 * The seeds' checklist: five elements a community needs (价值观念, 规章制度, 组织机构, 交互式活动, 收益)
 * and four operating pillars (价值, 门槛, 规则, KOL). Each comes with the reason for its status, so
 * the operator knows what to do next.
 */
export async function communityHealth(db: Db, c: Community, now: Date) {
  const groups = await db
    .selectFrom('groups')
    .select(['id', 'monitor_user_id', 'leader_user_id', 'threshold'])
    .where('community_id', '=', c.id)
    .where('status', '!=', 'archived')
    .execute();
  const since = new Date(now.getTime() - WINDOW_DAYS * 86400_000).toISOString();
  const engaged = await db
    .selectFrom('events')
    .select(sql<number>`count(distinct member_id)`.as('n'))
    .where('community_id', '=', c.id)
    .where('type', 'in', [...ENGAGEMENT_TYPES])
    .where('occurred_at', '>=', since)
    .executeTakeFirstOrThrow();
  const active = await db
    .selectFrom('members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('community_id', '=', c.id)
    .where('status', 'in', ['active', 'onboarding'])
    .executeTakeFirstOrThrow();
  const products = await db
    .selectFrom('products')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('community_id', '=', c.id)
    .where('status', '=', 'active')
    .executeTakeFirstOrThrow();

  const withMonitor = groups.filter((g) => g.monitor_user_id).length;
  const withLeader = groups.filter((g) => g.leader_user_id).length;
  const led = groups.filter((g) => g.monitor_user_id || g.leader_user_id).length;
  const engagedN = Number(engaged.n);
  const activeN = Number(active.n);
  const r = c.rules;
  const gaps = [
    !r.announcement && 'announcement',
    !r.introduction_template && 'introduction template',
    !r.nickname_format && 'nickname format',
    r.banned_topics.length === 0 && 'banned topics',
  ].filter((x): x is string => !!x);
  const gatedGroups = groups.filter((g) => g.threshold !== null).length;
  const freeEntry = c.threshold.criteria.length === 0 || c.threshold.criteria.some((k) => k.type === 'free' && c.threshold.mode === 'any');

  const item = (key: string, label: string, status: Status, reason: string): Item => ({ key, label, status, reason });

  const elements: Item[] = [
    c.values.length === 0
      ? item('values', '价值观念', 'missing', 'No values are written down: members share no stated beliefs.')
      : c.values.length < 2
        ? item('values', '价值观念', 'weak', 'Only one value is stated; most strong communities name two or more.')
        : item('values', '价值观念', 'ok', `${c.values.length} values are stated.`),
    gaps.length >= 3
      ? item('rules', '规章制度', 'missing', `Missing: ${gaps.join(', ')}.`)
      : gaps.length > 0
        ? item('rules', '规章制度', 'weak', `Missing: ${gaps.join(', ')}.`)
        : item('rules', '规章制度', 'ok', 'Announcement, introduction template, nickname format and banned topics are set.'),
    withMonitor === 0 && withLeader === 0
      ? item('organization', '组织机构', 'missing', 'Only HQ runs the community: no group has a monitor (班长) or leader (组长).')
      : withMonitor === 0 || withLeader === 0
        ? item('organization', '组织机构', 'weak', `Only one level below HQ: ${withMonitor} groups have a monitor, ${withLeader} a leader.`)
        : item('organization', '组织机构', 'ok', `${withMonitor} groups have a monitor and ${withLeader} a leader.`),
    engagedN === 0
      ? item('interaction', '交互式活动', 'missing', `No messages, check-ins, attendance or other engagement in the last ${WINDOW_DAYS} days.`)
      : activeN > 0 && engagedN / activeN < WEAK_ACTIVE_SHARE
        ? item('interaction', '交互式活动', 'weak', `Only ${engagedN} of ${activeN} members engaged in the last ${WINDOW_DAYS} days.`)
        : item('interaction', '交互式活动', 'ok', `${engagedN} members engaged in the last ${WINDOW_DAYS} days.`),
    Number(products.n) === 0
      ? item('revenue', '收益', c.monetization_modes.length ? 'weak' : 'missing',
          c.monetization_modes.length
            ? 'A monetization mode is chosen but nothing is for sale yet.'
            : 'No monetization mode and nothing for sale: the community earns nothing.')
      : item('revenue', '收益', 'ok', `${Number(products.n)} products are for sale.`),
  ];

  const vp = c.value_proposition.trim();
  const pillars: Item[] = [
    !vp
      ? item('value', '价值', 'missing', 'No value proposition: say what a member gets from joining.')
      : vp.length < 10
        ? item('value', '价值', 'weak', 'The value proposition is very short; say concretely what members get.')
        : item('value', '价值', 'ok', 'A value proposition is stated.'),
    freeEntry && gatedGroups === 0
      ? item('threshold', '门槛', 'missing', 'Anyone can join: no threshold filters for the right people.')
      : freeEntry
        ? item('threshold', '门槛', 'weak', `Community entry is free; only ${gatedGroups} groups have their own threshold.`)
        : item('threshold', '门槛', 'ok', `Entry requires: ${c.threshold.criteria.map((k) => k.type).join(` ${c.threshold.mode === 'all' ? 'and' : 'or'} `)}.`),
    !r.announcement && !r.nickname_format
      ? item('rules', '规则', 'missing', 'No announcement and no nickname rule: newcomers are told nothing.')
      : gaps.length > 0
        ? item('rules', '规则', 'weak', `Newcomers meet no ${gaps.join(', ')}.`)
        : item('rules', '规则', 'ok', 'Rules, banned topics and onboarding are in place.'),
    groups.length === 0 || led === 0
      ? item('kol', 'KOL', 'missing', 'No group has a monitor or leader to lead the conversation.')
      : led < groups.length
        ? item('kol', 'KOL', 'weak', `${groups.length - led} of ${groups.length} groups have neither a monitor nor a leader.`)
        : item('kol', 'KOL', 'ok', 'Every group has a monitor or leader.'),
  ];
  const all = [...elements, ...pillars];
  return {
    community_id: c.id,
    elements,
    pillars,
    missing: all.filter((i) => i.status === 'missing').length,
    weak: all.filter((i) => i.status === 'weak').length,
  };
}
