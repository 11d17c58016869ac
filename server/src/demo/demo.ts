import seedrandom from 'seedrandom';
import type { Insertable } from 'kysely';
import type { EventsTable } from '../db/types.js';
import type { DatabaseHandle } from '../db/kysely.js';
import { fixedClock } from '../lib/clock.js';
import type { Deps } from '../lib/deps.js';
import { newId } from '../lib/ids.js';
import type { Actor } from '../http/access.js';
import { encodeJson } from '../db/codecs.js';
import { DEFAULT_RENEWAL_GRACE_DAYS } from '../../../contracts/src/index.js';
import { assignStaff, createCommunity, findCommunityBySlug } from '../modules/communities/index.js';
import { createGroup } from '../modules/groups/index.js';
import { createLink, type EntryLink } from '../modules/links/index.js';
import { joinThroughLink, leave, memberInviteLink, onboardingStep, reviewApplication } from '../modules/members/index.js';
import { createProduct } from '../modules/products/index.js';
import { checkoutToken, createOrder, payAtCheckout, refundOrder } from '../modules/orders/index.js';
import { runMembershipJobs } from '../modules/memberships/index.js';
import { markRollupHours } from '../modules/events/index.js';
import { createWorkspaceForUser } from '../modules/workspaces/index.js';

export const DEMO_SLUG = 'demo-reading-club';
const DAY = 86400_000;
const HOUR = 3600_000;

const SURNAMES = [...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈'];
const GIVEN = [...'伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉宇浩凯健俊帆琳晨欣怡佳雪梅婷'];
const CITIES = ['上海', '北京', '杭州', '深圳', '广州', '成都', '南京', '武汉', '苏州', '西安'];
const CITY_WEIGHTS = [15, 12, 12, 11, 10, 9, 9, 8, 7, 7];
const INDUSTRIES = ['教育', '互联网', '金融', '医疗', '设计', '制造', '零售', '咨询', '媒体', '法律'];
const REASONS = ['想养成每月读两本书的习惯', '找到一起读书的朋友', '工作太忙，需要有人督促我读书', '喜欢讨论历史和哲学', '朋友推荐来的，想多读经典', '希望提升写作和表达'];
const CHANNELS = [
  { name: '公众号菜单', channel: '公众号', weight: 40 },
  { name: '朋友圈海报', channel: '朋友圈', weight: 25 },
  { name: '合作伙伴·书店联名', channel: '合作伙伴', weight: 15 },
  { name: '视频号直播间', channel: '视频号', weight: 10 },
];

type Action = { at: number; run: () => Promise<void> };

/** A time-ordered queue of things that happen in the demo's simulated 180 days. */
class Timeline {
  private items: Action[] = [];
  add(at: number, run: () => Promise<void>) {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.items[mid]!.at <= at) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, { at, run });
  }
  shift() {
    return this.items.shift();
  }
  get size() {
    return this.items.length;
  }
}

/**
 * Creates the demo community: a 读书会 (knowledge community) with 6 groups and about 2,000 people
 * who arrive over 180 days through 4 channels and through members' invites, answer the entry
 * questionnaire, go through onboarding, read, check in, and sometimes leave. Everything goes
 * through the same services as the API, with a simulated clock; the same seed gives the same story.
 */
export async function createDemo(
  handle: DatabaseHandle,
  opts: { seed?: number; people?: number; days?: number; log?: (m: string) => void } = {},
): Promise<{ slug: string; members: number } | null> {
  if (await findCommunityBySlug(handle.db, DEMO_SLUG)) return null;
  const rng = seedrandom(String(opts.seed ?? 42));
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rng() * xs.length)]!;
  const weighted = <T>(xs: readonly T[], ws: readonly number[]) => {
    let r = rng() * ws.reduce((a, b) => a + b, 0);
    for (let i = 0; i < xs.length; i++) if ((r -= ws[i]!) < 0) return xs[i]!;
    return xs[xs.length - 1]!;
  };
  const days = opts.days ?? 180;
  const people = opts.people ?? 2000;
  const log = opts.log ?? (() => {});

  const startOfToday = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()) - 8 * HOUR;
  const start = startOfToday - days * DAY;
  const clock = fixedClock(new Date(start));
  const deps: Deps = { db: handle.db, clock, config: { publicUrl: '', signup: 'open', secret: '' } };
  // Demo rows are not money: skip the per-commit fsync while seeding, restore it afterwards.
  handle.sqlite?.pragma('synchronous = NORMAL');
  try {
    const at = clock.now().toISOString();
    const owner = await handle.db.selectFrom('users').select('id').where('is_install_owner', '=', 1).executeTakeFirst();
    const workspaceId = owner
      ? await createWorkspaceForUser(handle.db, owner.id, '演示工作区 Demo', at, true)
      : await ownerlessWorkspace(deps, at);
    const actor: Actor = { userId: null, apiKeyId: null, role: 'owner', groupIds: null };

    const community = await createCommunity(
      deps,
      workspaceId,
      {
        name: '鱼塘读书会（演示）',
        slug: DEMO_SLUG,
        value_proposition: '每月共读两本好书，有人督促、有人讨论、有人同行：把读书变成习惯。',
        values: ['终身学习', '真诚分享', '长期主义'],
        type: 'knowledge',
        monetization_modes: ['membership', 'product'],
        time_zone: 'Asia/Shanghai',
        currency: 'CNY',
        renewal_grace_days: DEFAULT_RENEWAL_GRACE_DAYS,
        rules: {
          announcement: '欢迎来到鱼塘读书会！本群每月共读两本书，每天打卡，周日晚八点线上分享。禁止广告、政治、宗教话题。',
          introduction_template: '我是{姓名}，来自{城市}，从事{行业}，最近在读{书名}，希望在读书会{收获}。',
          nickname_format: '城市-行业-姓名',
          perks: ['每月共读书单', '周日领读直播', '读书笔记模板'],
          welcome_message: '欢迎加入鱼塘读书会！请先看群公告，明天开始打卡吧。',
          banned_topics: ['politics', 'religion', 'ads'],
        },
        threshold: {
          mode: 'all',
          criteria: [
            {
              type: 'questionnaire',
              questions: [{ id: 'reason', text: '你为什么想加入读书会？', kind: 'text', required: true }],
              auto_accept: [{ question_id: 'reason', min_length: 6 }],
              on_mismatch: 'review',
            },
          ],
        },
      },
      { isDemo: true },
    );

    const staff: string[] = [];
    for (const [i, name] of ['周班长', '吴班长', '郑组长', '王组长', '冯组长', '陈组长'].entries()) {
      const id = newId('usr');
      // '!' is not an argon2 hash: demo staff accounts exist for the org tree but cannot sign in.
      await handle.db
        .insertInto('users')
        .values({ id, email: `staff${i + 1}@demo.yutang.invalid`, name, password_hash: '!', created_at: at, password_changed_at: at })
        .execute();
      await assignStaff(deps, community.id, actor, { email: `staff${i + 1}@demo.yutang.invalid`, role: i < 2 ? 'monitor' : 'leader' });
      staff.push(id);
    }
    const general = [];
    for (let i = 0; i < 4; i++) {
      general.push(
        await createGroup(deps, community.id, actor, {
          name: `鱼塘读书会${i + 1}群`,
          tags: { theme: '共读', tier: '免费', cohort: `2026-${i < 2 ? 'H1' : 'H2'}` },
          capacity: 500,
          monitor_user_id: staff[i < 2 ? 0 : 1]!,
          leader_user_id: staff[2 + i]!,
        }),
      );
    }
    const shanghai = await createGroup(deps, community.id, actor, { name: '上海分会', tags: { city: '上海', theme: '线下读书会' }, capacity: 400, monitor_user_id: staff[0]! });
    const beijing = await createGroup(deps, community.id, actor, { name: '北京分会', tags: { city: '北京', theme: '线下读书会' }, capacity: 400, monitor_user_id: staff[1]! });
    const annual = await createProduct(deps, community.id, { type: 'membership', name: '年度会员', price_minor: 19900, term: 'annual', group_ids: [] });
    const monthly = await createProduct(deps, community.id, { type: 'membership', name: '月度会员', price_minor: 2990, term: 'days', term_days: 30, group_ids: [] });
    const fullCourse = await createProduct(deps, community.id, { type: 'course', name: '21天深度阅读训练营', price_minor: 69900, group_ids: [] });
    const trialCourse = await createProduct(deps, community.id, { type: 'course', name: '深度阅读体验课', price_minor: 990, group_ids: [], trial_of_product_id: fullCourse.id });
    // Orders go through the orders module and the test provider's checkout, on the simulated clock.
    let orders = 0;
    const buy = async (memberId: string, productId: string, key: string) => {
      const { order } = await createOrder(deps, community.id, memberId, { product_id: productId }, key);
      orders++;
      return payAtCheckout(deps, checkoutToken(deps.config.secret, order.id), 'pay');
    };
    const refundLater = (orderId: string, amount: number, at0: number, key: string) =>
      timeline.add(at0 + (1 + Math.floor(rng() * 5)) * DAY, async () => {
        await refundOrder(deps, community.id, actor, orderId, { amount_minor: amount, reason: pick(['不想学了', '买错了', '时间安排不开']) }, key);
      });
    /** A member's purchases over the demo: annual or monthly memberships (renewed or lapsing), and the 引流课 → 续班 path. */
    const shop = (memberId: string, p: number, at0: number) => {
      const r = rng();
      if (r < 0.07) {
        timeline.add(at0 + Math.floor(rng() * 10 * DAY), async () => {
          const o = await buy(memberId, annual.id, `demo-${p}-annual`);
          if (rng() < 0.08) refundLater(o.id, o.amount_minor, clock.now().getTime(), `demo-${p}-annual-refund`);
        });
      } else if (r < 0.13) {
        const month = (k: number, t: number) =>
          timeline.add(t, async () => {
            await buy(memberId, monthly.id, `demo-${p}-month-${k}`);
            // Most renew within a few days of expiry; some lapse.
            if (rng() < 0.75) month(k + 1, clock.now().getTime() + (27 + Math.floor(rng() * 8)) * DAY);
          });
        month(1, at0 + Math.floor(rng() * 5 * DAY));
      }
      if (rng() < 0.1) {
        timeline.add(at0 + Math.floor(rng() * 14 * DAY) + HOUR, async () => {
          await buy(memberId, trialCourse.id, `demo-${p}-trial`);
          const now = clock.now().getTime();
          const c = rng();
          const after = c < 0.45 ? (1 + Math.floor(rng() * 25)) * DAY : c < 0.55 ? (35 + Math.floor(rng() * 20)) * DAY : null;
          if (after !== null) {
            timeline.add(now + after, async () => {
              const o = await buy(memberId, fullCourse.id, `demo-${p}-full`);
              if (rng() < 0.1) refundLater(o.id, 20000, clock.now().getTime(), `demo-${p}-full-refund`);
            });
          }
        });
      }
    };

    const links: EntryLink[] = [];
    for (const c of CHANNELS) {
      links.push(
        await createLink(deps, community.id, actor, {
          name: c.name,
          channel: c.channel,
          group_ids: general.map((g) => g.id),
          segment_rules: [
            { field: 'city', in: ['上海'], group_ids: [shanghai.id] },
            { field: 'city', in: ['北京'], group_ids: [beijing.id] },
          ],
        }),
      );
    }

    const timeline = new Timeline();
    const active: string[] = [];
    const engagement: { member: string; group: string | null; from: number; to: number }[] = [];
    let joined = 0;
    let done = 0;

    for (let p = 0; p < people; p++) {
      // Arrivals grow over the period, like a community that is catching on.
      const u = rng();
      const day = Math.floor(days * Math.sqrt(u));
      const t = start + day * DAY + 8 * HOUR + Math.floor(rng() * 14 * HOUR);
      timeline.add(t, async () => {
        const city = weighted(CITIES, CITY_WEIGHTS);
        const industry = pick(INDUSTRIES);
        const name = pick(SURNAMES) + pick(GIVEN) + (rng() < 0.5 ? pick(GIVEN) : '');
        let code = weighted(links, CHANNELS.map((c) => c.weight)).code;
        if (active.length > 20 && rng() < 0.15) {
          code = (await memberInviteLink(deps, community.id, pick(active))).code;
        }
        const answer = rng() < 0.08 ? '看看' : pick(REASONS);
        const out = await joinThroughLink(deps, code, { name, external_id: `wx_demo_${p}`, profile: { city, industry }, answers: { reason: answer } }, null);
        const onJoined = (at0: number) => {
          joined++;
          active.push(out.memberId);
          shop(out.memberId, p, at0);
          if (rng() < 0.88) {
            const steps = at0 + Math.floor(rng() * 6 * HOUR) + 10 * 60_000;
            timeline.add(steps, async () => {
              await onboardingStep(deps, community.id, out.memberId, 'rules', '');
              await onboardingStep(deps, community.id, out.memberId, 'nickname', `${city}-${industry}-${name}`);
              await onboardingStep(deps, community.id, out.memberId, 'introduction', `我是${name}，来自${city}，从事${industry}，最近在读《人类简史》，希望在读书会${pick(REASONS)}。`);
            });
          }
          const end = rng() < 0.14 ? at0 + (3 + Math.floor(rng() * 60)) * DAY : Infinity;
          if (end < start + days * DAY) {
            timeline.add(end, async () => {
              await leave(deps, community.id, out.memberId, pick(['没时间读', '群消息太多', '换了学习方式', undefined]));
              active.splice(active.indexOf(out.memberId), 1);
            });
          }
        };
        if (out.next === 'onboarding') onJoined(clock.now().getTime());
        else if (out.next === 'wait_for_threshold') {
          timeline.add(clock.now().getTime() + 2 * HOUR + Math.floor(rng() * 20 * HOUR), async () => {
            const approve = rng() < 0.8;
            const view = await reviewApplication(deps, community.id, actor, out.applicationId, approve ? 'approve' : 'reject');
            if (view.status === 'passed') onJoined(clock.now().getTime());
          });
        }
      });
    }

    // The housekeeping `yutang serve` runs every minute, here once a simulated day: reminders before
    // expiry, lapsed memberships ending after their grace, unpaid orders timing out.
    for (let d = 1; d <= days; d++) timeline.add(start + d * DAY - 5 * HOUR, () => runMembershipJobs(deps).then(() => undefined));

    let n = 0;
    while (timeline.size) {
      const next = timeline.shift()!;
      if (next.at >= start + days * DAY) continue;
      clock.set(new Date(next.at));
      await next.run();
      if (++n % 1000 === 0) log(`Demo: day ${Math.floor((next.at - start) / DAY)} of ${days} (${joined} joined)`);
      done++;
    }

    // Reading activity: check-ins and messages while people are members, as an import would bring.
    const members = await handle.db
      .selectFrom('members')
      .select(['id', 'first_joined_at', 'current_group_id', 'status', 'left_at'])
      .where('community_id', '=', community.id)
      .where('first_joined_at', 'is not', null)
      // Member ids are random: a stable order keeps the generated activity the same for a seed.
      .orderBy('first_joined_at')
      .orderBy('external_id')
      .execute();
    for (const m of members) {
      const from = Date.parse(m.first_joined_at!);
      const to = m.left_at ? Date.parse(m.left_at) : start + days * DAY;
      engagement.push({ member: m.id, group: m.current_group_id, from, to });
    }
    const rows: Insertable<EventsTable>[] = [];
    const recorded = new Date(start + days * DAY).toISOString();
    for (const e of engagement) {
      const keen = rng();
      const perDay = keen < 0.3 ? 0.02 : keen < 0.8 ? 0.15 : 0.6;
      const span = Math.max(0, Math.floor((e.to - e.from) / DAY));
      for (let d = 0; d < span; d++) {
        if (rng() >= perDay) continue;
        const t = e.from + d * DAY + Math.floor(rng() * DAY);
        if (t >= e.to) continue;
        rows.push({
          community_id: community.id,
          type: rng() < 0.55 ? 'check_in' : 'message',
          occurred_at: new Date(t).toISOString(),
          member_id: e.member,
          group_id: e.group,
          entry_link_id: null,
          channel: null,
          referrer_member_id: null,
          actor_user_id: null,
          props: encodeJson({ demo: true }),
          recorded_at: recorded,
        });
      }
    }
    rows.sort((a, b) => a.occurred_at.localeCompare(b.occurred_at));
    for (let i = 0; i < rows.length; i += 500) {
      const batch = rows.slice(i, i + 500);
      await handle.db.transaction().execute(async (trx) => {
        await trx.insertInto('events').values(batch).execute();
        await markRollupHours(trx, community.id, batch.map((r) => r.occurred_at));
      });
    }
    log(`Demo: 100% (${joined} joined, ${orders} orders, ${rows.length} reading events, ${done} steps)`);
    return { slug: DEMO_SLUG, members: joined };
  } finally {
    handle.sqlite?.pragma('synchronous = FULL');
  }
}

async function ownerlessWorkspace(deps: Deps, at: string) {
  const id = newId('ws');
  await deps.db.insertInto('workspaces').values({ id, name: '演示工作区 Demo', is_demo: 1, created_at: at }).execute();
  return id;
}

/** On the very first start of an install, create the demo unless asked not to. */
export async function ensureDemoOnFirstStart(handle: DatabaseHandle, opts: { demo: boolean; log: (m: string) => void }) {
  const initialized = await handle.db.selectFrom('install_settings').select('key').where('key', '=', 'initialized_at').executeTakeFirst();
  if (initialized) return false;
  let created = false;
  if (opts.demo) {
    opts.log('First start: creating the demo community (use --no-demo to skip)…');
    created = !!(await createDemo(handle, { log: opts.log }));
  }
  await handle.db
    .insertInto('install_settings')
    .values({ key: 'initialized_at', value: encodeJson(new Date().toISOString()) })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  return created;
}
