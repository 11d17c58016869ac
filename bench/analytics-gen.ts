/**
 * Seeded, deterministic synthetic community for the analytics bench: at scale 1, 1,000,000 members
 * joining over 12 months into ~2,000 groups of 500 through a dozen channels and a few hundred KOL
 * referral links, ~15 % leaving and some coming back, a few hundred thousand orders (trial course →
 * full course, monthly memberships that renew), and exactly 20,000,000 events over the 12 months in
 * the community's time zone (Asia/Shanghai, UTC+8 all year).
 *
 * The plan (who joins when, who pays what) lives in typed arrays; events are materialized one local
 * day at a time in time order by `eventDays`, so the whole log never sits in memory as objects. The
 * same seed and scale give the same community, ids included, on every run and dialect.
 */

export const TIME_ZONE = 'Asia/Shanghai';
/** Shanghai has no daylight saving: local time is UTC+8 all year. */
export const TZ_OFFSET_MS = 8 * 3_600_000;
export const START_DATE = '2025-12-01';
export const DAYS = 365;
const DAY = 86_400_000;
/** UTC instant of local midnight of START_DATE. */
export const T0 = Date.parse(`${START_DATE}T00:00:00Z`) - TZ_OFFSET_MS;
export const T_END = T0 + DAYS * DAY;

export const ENGAGEMENT = ['message', 'post', 'reply', 'reaction', 'check_in', 'event_attended'] as const;

/** Local date (YYYY-MM-DD) `d` days after START_DATE. */
export const localDate = (d: number) => new Date(Date.parse(`${START_DATE}T00:00:00Z`) + d * DAY).toISOString().slice(0, 10);

/** Small fast seeded PRNG (sfc32); `next()` is uniform in [0, 1). */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.next();
  }
  next(): number {
    let { a, b, c, d } = this;
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
    return (t >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  exp(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }
  pick<T>(items: readonly T[], cumulative: readonly number[]): T {
    const u = this.next() * cumulative[cumulative.length - 1]!;
    let i = 0;
    while (cumulative[i]! <= u) i++;
    return items[i]!;
  }
}

const cumulate = (w: readonly number[]) => {
  let s = 0;
  return w.map((x) => (s += x));
};

export interface LinkPlan {
  id: string;
  code: string;
  name: string;
  channel: string;
  /** Index into `staff`, or -1. */
  ownerStaff: number;
  /** Member index of the KOL who owns the link, or -1. */
  ownerMember: number;
}

export interface ProductPlan {
  id: string;
  name: string;
  type: 'course' | 'membership';
  priceMinor: number;
  termDays: number | null;
  trialOf: string | null;
}

export interface Plan {
  seed: number;
  scale: number;
  communityId: string;
  staff: { id: string; email: string; name: string }[];
  groups: { id: string; name: string; openedAt: number; monitorStaff: number }[];
  links: LinkPlan[];
  products: ProductPlan[];
  members: {
    count: number;
    id: (i: number) => string;
    joinAt: Float64Array;
    group1: Int32Array;
    link: Int32Array;
    referrer: Int32Array;
    onboarded: Uint8Array;
    /** 0 when the member never left. */
    leaveAt: Float64Array;
    /** 0 when the member never came back. */
    rejoinAt: Float64Array;
    group2: Int32Array;
  };
  orders: {
    count: number;
    member: Int32Array;
    product: Uint8Array;
    paidAt: Float64Array;
    /** 0 when not refunded. */
    refundedAt: Float64Array;
  };
  events: {
    total: number;
    engagement: number;
    byKind: Record<string, number>;
    /** Event records bucketed by local day: `dayStart[d]..dayStart[d+1]` index `t`/`kind`/`who`/`aux`. */
    dayStart: Int32Array;
    t: Float64Array;
    kind: Uint8Array;
    who: Int32Array;
    aux: Int32Array;
  };
  planMs: number;
}

// Event record kinds; engagement kinds get their concrete type when materialized.
const K_ENGAGE = 0;
const K_VISIT = 1;
const K_APPLIED = 2;
const K_JOINED = 3;
const K_REJOINED = 4;
const K_ONBOARDED = 5;
const K_LEFT = 6;
const K_PAID = 7;
const K_REFUNDED = 8;
const KIND_NAMES = ['engagement', 'link_visited', 'applied', 'joined', 'joined', 'onboarded', 'left', 'order_paid', 'order_refunded'];

const CHANNELS: { name: string; channel: string; weight: number; staffOwned: boolean }[] = [
  { name: '公众号菜单', channel: '公众号', weight: 22, staffOwned: false },
  { name: '公众号文章', channel: '公众号', weight: 12, staffOwned: true },
  { name: '朋友圈海报', channel: '朋友圈', weight: 14, staffOwned: true },
  { name: '视频号直播', channel: '视频号', weight: 10, staffOwned: true },
  { name: '小红书笔记', channel: '小红书', weight: 9, staffOwned: false },
  { name: '抖音主页', channel: '抖音', weight: 8, staffOwned: false },
  { name: '知乎专栏', channel: '知乎', weight: 4, staffOwned: false },
  { name: '合作伙伴A', channel: '合作伙伴', weight: 5, staffOwned: true },
  { name: '合作伙伴B', channel: '合作伙伴', weight: 3, staffOwned: true },
  { name: '线下活动', channel: '线下', weight: 3, staffOwned: true },
  { name: '老带新', channel: '老带新', weight: 0, staffOwned: false },
];
const REFERRAL_LINK = CHANNELS.length - 1;

const pad = (i: number) => i.toString(36).padStart(7, '0');
export const memberId = (i: number) => `mem_bench${pad(i)}`;
export const orderId = (i: number) => `ord_bench${pad(i)}`;
export const membershipId = (i: number) => `msh_bench${pad(i)}`;
/** When member `i`, who joined at `joinAt`, finished onboarding (if they did). */
export const onboardedAt = (joinAt: number, i: number) => joinAt + 60_000 + (i % 7_200) * 1_000;

/**
 * Plans the community. Costs a few seconds at scale 1 and ~0.5 GB of typed arrays, no objects per
 * member or event.
 */
export function planCommunity(o: { scale: number; seed: number }): Plan {
  const started = performance.now();
  const rng = new Rng(o.seed);
  const M = Math.max(1000, Math.round(1_000_000 * o.scale));
  const TOTAL_EVENTS = Math.max(20_000, Math.round(20_000_000 * o.scale));
  const ORDERS = Math.max(300, Math.round(300_000 * o.scale));
  const GROUP_SIZE = 500;
  const communityId = `com_bench${o.seed.toString(36)}`;

  const staff = Array.from({ length: 12 }, (_, s) => ({ id: `usr_bench${pad(s)}`, email: `staff${s}@bench.test`, name: `运营${s + 1}` }));

  // ── Members join on a rising curve (density ∝ 1 + 2t over the year), in index order.
  const joinAt = new Float64Array(M);
  const group1 = new Int32Array(M);
  for (let i = 0; i < M; i++) {
    const u = (i + 0.5) / M;
    const t = (-1 + Math.sqrt(1 + 8 * u)) / 2; // inverse of F(t) = (t + t²) / 2
    joinAt[i] = Math.floor(T0 + t * DAYS * DAY);
    group1[i] = Math.floor(i / GROUP_SIZE);
  }
  const groupCount = Math.ceil(M / GROUP_SIZE);
  const groups = Array.from({ length: groupCount }, (_, g) => ({
    id: `grp_bench${pad(g)}`,
    name: `学习群${g + 1}`,
    openedAt: joinAt[g * GROUP_SIZE]!,
    monitorStaff: g % 3 === 0 ? -1 : g % staff.length,
  }));
  const joinedBy = (t: number) => {
    let lo = 0;
    let hi = M;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (joinAt[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  // ── Links: channels, then KOL referral links owned by early, active members.
  const links: LinkPlan[] = CHANNELS.map((c, k) => ({
    id: `lnk_bench${pad(k)}`,
    code: `bench${o.seed}c${k}`,
    name: c.name,
    channel: c.channel,
    ownerStaff: c.staffOwned ? k % staff.length : -1,
    ownerMember: -1,
  }));
  const kols = Math.max(5, Math.round(200 * o.scale));
  for (let k = 0; k < kols; k++) {
    const owner = Math.floor(((k + 0.5) / kols) * M * 0.3);
    links.push({ id: `lnk_bench${pad(CHANNELS.length + k)}`, code: `bench${o.seed}k${k}`, name: `KOL ${k + 1} 邀请`, channel: '老带新', ownerStaff: -1, ownerMember: owner });
  }
  const channelCum = cumulate(CHANNELS.map((c) => c.weight));
  const channelIdx = CHANNELS.map((_, k) => k);

  const link = new Int32Array(M);
  const referrer = new Int32Array(M).fill(-1);
  const onboarded = new Uint8Array(M);
  const leaveAt = new Float64Array(M);
  const rejoinAt = new Float64Array(M);
  const group2 = new Int32Array(M).fill(-1);
  for (let i = 0; i < M; i++) {
    const referred = i > 2000 && rng.next() < 0.12;
    if (referred) {
      // 60 % through a KOL's own link (if that KOL had joined), else the generic referral link.
      const k = rng.int(kols);
      const kolLink = links[CHANNELS.length + k]!;
      if (rng.next() < 0.6 && kolLink.ownerMember < i) {
        link[i] = CHANNELS.length + k;
        referrer[i] = kolLink.ownerMember;
      } else {
        link[i] = REFERRAL_LINK;
        referrer[i] = rng.int(i);
      }
    } else {
      link[i] = rng.pick(channelIdx, channelCum);
    }
    onboarded[i] = rng.next() < 0.72 ? 1 : 0;
    // ~15 % of all members leave within the year; three in ten of those come back.
    if (rng.next() < 0.2) {
      const leave = joinAt[i]! + DAY * (0.2 + rng.exp(40));
      if (leave < T_END) {
        leaveAt[i] = Math.floor(leave);
        if (rng.next() < 0.3) {
          const back = leave + DAY * (3 + rng.exp(30));
          if (back < T_END) {
            rejoinAt[i] = Math.floor(back);
            group2[i] = group1[Math.floor(rng.next() * joinedBy(back))]!;
          }
        }
      }
    }
  }

  // ── Orders: trial course → full course, and monthly memberships that renew.
  const products: ProductPlan[] = [
    { id: 'prd_benchcourse', name: '系统课（续班）', type: 'course', priceMinor: 199_900, termDays: null, trialOf: null },
    { id: 'prd_benchtrial', name: '引流课', type: 'course', priceMinor: 990, termDays: null, trialOf: 'prd_benchcourse' },
    { id: 'prd_benchmonthly', name: '月度会员', type: 'membership', priceMinor: 4_900, termDays: 30, trialOf: null },
  ];
  const oMember = new Int32Array(ORDERS + 64);
  const oProduct = new Uint8Array(ORDERS + 64);
  const oPaid = new Float64Array(ORDERS + 64);
  const oRefunded = new Float64Array(ORDERS + 64);
  let nOrders = 0;
  const endOf = (i: number) => (leaveAt[i] && !rejoinAt[i] ? leaveAt[i]! : T_END);
  const addOrder = (i: number, p: number, at: number) => {
    oMember[nOrders] = i;
    oProduct[nOrders] = p;
    oPaid[nOrders] = Math.floor(at);
    const refund = rng.next() < 0.02 ? at + DAY * (1 + rng.exp(3)) : 0;
    oRefunded[nOrders] = refund && refund < T_END ? Math.floor(refund) : 0;
    nOrders++;
  };
  for (let guard = 0; nOrders < ORDERS && guard < M * 20; guard++) {
    const i = rng.int(M);
    const end = endOf(i);
    if (rng.next() < 0.45) {
      const trial = joinAt[i]! + DAY * rng.exp(7);
      if (trial >= end) continue;
      addOrder(i, 1, trial);
      if (rng.next() < 0.3 && nOrders < ORDERS) {
        const full = trial + DAY * (7 + rng.exp(20));
        if (full < end) addOrder(i, 0, full);
      }
    } else {
      let at = joinAt[i]! + DAY * rng.exp(14);
      while (at < end && nOrders < ORDERS) {
        addOrder(i, 2, at);
        if (rng.next() >= 0.75) break;
        at += 30 * DAY + rng.next() * 3 * DAY;
      }
    }
  }

  // ── Non-engagement events, counted first so that engagement makes up the rest exactly.
  let joins = M;
  let leaves = 0;
  let onboards = 0;
  let refunds = 0;
  for (let i = 0; i < M; i++) {
    if (rejoinAt[i]) joins++;
    if (leaveAt[i]) leaves++;
    onboards += onboarded[i]!;
  }
  for (let n = 0; n < nOrders; n++) if (oRefunded[n]) refunds++;
  const strayVisits = Math.round(joins * 0.5);
  const visits = joins + strayVisits;
  const nonEngagement = visits + joins /* applied */ + joins + onboards + leaves + nOrders + refunds;
  const E = TOTAL_EVENTS - nonEngagement;
  if (E < M) throw new Error(`scale ${o.scale}: ${nonEngagement} lifecycle events leave too few for engagement`);

  // ── Engagement: 35 % of members silent; the others Pareto-distributed, half fading with tenure.
  const weight = new Float64Array(M);
  const tau = new Float64Array(M);
  let wsum = 0;
  for (let i = 0; i < M; i++) {
    if (rng.next() < 0.35) continue;
    const w = Math.min(300, Math.pow(1 - rng.next(), -1 / 1.3));
    const active = (leaveAt[i] || T_END) - joinAt[i]! + (rejoinAt[i] ? T_END - rejoinAt[i]! : 0);
    const days = Math.max(0.5, active / DAY);
    weight[i] = w * days;
    tau[i] = rng.next() < 0.5 ? 20 + rng.next() * 130 : 0;
    wsum += weight[i]!;
  }
  const counts = new Int32Array(M);
  let assigned = 0;
  for (let i = 0; i < M; i++) {
    if (!weight[i]) continue;
    const x = (weight[i]! / wsum) * E;
    const n = Math.floor(x) + (rng.next() < x - Math.floor(x) ? 1 : 0);
    counts[i] = n;
    assigned += n;
  }
  // Make the total exact: add to or take from random active members.
  while (assigned !== E) {
    const i = rng.int(M);
    if (!weight[i]) continue;
    if (assigned < E) {
      counts[i]!++;
      assigned++;
    } else if (counts[i]! > 0) {
      counts[i]!--;
      assigned--;
    }
  }

  // ── Fill the records, then bucket them by local day.
  const N = TOTAL_EVENTS;
  const rt = new Float64Array(N);
  const rk = new Uint8Array(N);
  const rw = new Int32Array(N);
  const ra = new Int32Array(N);
  let r = 0;
  const put = (t: number, k: number, who: number, aux: number) => {
    rt[r] = Math.min(T_END - 1, Math.max(T0, Math.floor(t)));
    rk[r] = k;
    rw[r] = who;
    ra[r] = aux;
    r++;
  };
  for (let i = 0; i < M; i++) {
    const j = joinAt[i]!;
    put(j - 60_000 - rng.next() * 600_000, K_VISIT, i, link[i]!);
    put(j - 30_000, K_APPLIED, i, link[i]!);
    put(j, K_JOINED, i, link[i]!);
    if (onboarded[i]) put(onboardedAt(j, i), K_ONBOARDED, i, 0);
    if (leaveAt[i]) put(leaveAt[i]!, K_LEFT, i, 0);
    if (rejoinAt[i]) {
      put(rejoinAt[i]! - 60_000 - rng.next() * 600_000, K_VISIT, i, link[i]!);
      put(rejoinAt[i]! - 30_000, K_APPLIED, i, link[i]!);
      put(rejoinAt[i]!, K_REJOINED, i, link[i]!);
    }
  }
  for (let v = 0; v < strayVisits; v++) {
    // Visits that did not convert follow the joins' curve.
    const u = rng.next();
    put(T0 + ((-1 + Math.sqrt(1 + 8 * u)) / 2) * DAYS * DAY, K_VISIT, -1, rng.pick(channelIdx, channelCum));
  }
  for (let n = 0; n < nOrders; n++) {
    put(oPaid[n]!, K_PAID, oMember[n]!, n);
    if (oRefunded[n]) put(oRefunded[n]!, K_REFUNDED, oMember[n]!, n);
  }
  for (let i = 0; i < M; i++) {
    const n = counts[i]!;
    if (!n) continue;
    const a = joinAt[i]!;
    const firstLen = (leaveAt[i] || T_END) - a;
    const secondLen = rejoinAt[i] ? T_END - rejoinAt[i]! : 0;
    const len = firstLen + secondLen;
    const ta = tau[i]! * DAY;
    for (let e = 0; e < n; e++) {
      // Offset into the member's active time: uniform, or truncated-exponential when fading.
      const u = rng.next();
      const off = ta ? -ta * Math.log(1 - u * (1 - Math.exp(-len / ta))) : u * len;
      const t = off < firstLen ? a + off : rejoinAt[i]! + (off - firstLen);
      put(t, K_ENGAGE, i, 0);
    }
  }
  if (r !== N) throw new Error(`planned ${r} events, expected ${N}`);

  const dayStart = new Int32Array(DAYS + 1);
  for (let e = 0; e < N; e++) dayStart[Math.floor((rt[e]! - T0) / DAY) + 1]!++;
  for (let d = 0; d < DAYS; d++) dayStart[d + 1]! += dayStart[d]!;
  const cursor = dayStart.slice(0, DAYS);
  const t = new Float64Array(N);
  const kind = new Uint8Array(N);
  const who = new Int32Array(N);
  const aux = new Int32Array(N);
  for (let e = 0; e < N; e++) {
    const d = Math.floor((rt[e]! - T0) / DAY);
    const at = cursor[d]!++;
    t[at] = rt[e]!;
    kind[at] = rk[e]!;
    who[at] = rw[e]!;
    aux[at] = ra[e]!;
  }

  const byKind: Record<string, number> = { link_visited: visits, applied: joins, joined: joins, onboarded: onboards, left: leaves, order_paid: nOrders, order_refunded: refunds, engagement: E };
  return {
    seed: o.seed,
    scale: o.scale,
    communityId,
    staff,
    groups,
    links,
    products,
    members: { count: M, id: memberId, joinAt, group1, link, referrer, onboarded, leaveAt, rejoinAt, group2 },
    orders: { count: nOrders, member: oMember.subarray(0, nOrders), product: oProduct.subarray(0, nOrders), paidAt: oPaid.subarray(0, nOrders), refundedAt: oRefunded.subarray(0, nOrders) },
    events: { total: N, engagement: E, byKind, dayStart, t, kind, who, aux },
    planMs: performance.now() - started,
  };
}

export interface BenchEvent {
  community_id: string;
  type: string;
  occurred_at: string;
  member_id: string | null;
  group_id: string | null;
  entry_link_id: string | null;
  channel: string | null;
  referrer_member_id: string | null;
  actor_user_id: null;
  props: Record<string, unknown>;
}

const ENGAGEMENT_MIX = cumulate([52, 3, 16, 20, 8, 1]);
const ENGAGEMENT_TYPES = [...ENGAGEMENT];
// Local hour of an engagement event: quiet at night, peaks at lunch and in the evening.
const HOUR_WEIGHTS = cumulate([2, 1, 1, 1, 1, 2, 4, 7, 9, 8, 7, 8, 11, 9, 7, 7, 7, 8, 9, 12, 15, 15, 11, 5]);
const HOURS = Array.from({ length: 24 }, (_, h) => h);

/**
 * The events of local day `d` in time order, as the event log stores them. Deterministic per day
 * (its own PRNG), so any day can be materialized on its own.
 */
export function eventsOfDay(plan: Plan, d: number): BenchEvent[] {
  const { t, kind, who, aux, dayStart } = plan.events;
  const m = plan.members;
  const from = dayStart[d]!;
  const to = dayStart[d + 1]!;
  const rng = new Rng(plan.seed * 1_000 + d + 1);
  const idx = new Int32Array(to - from);
  const when = new Float64Array(to - from);
  const dayStartMs = T0 + d * DAY;
  for (let e = from; e < to; e++) {
    let at = t[e]!;
    // Engagement gets a believable time of day instead of its uniform draw.
    if (kind[e] === K_ENGAGE) at = dayStartMs + rng.pick(HOURS, HOUR_WEIGHTS) * 3_600_000 + rng.int(3_600_000);
    when[e - from] = at;
    idx[e - from] = e;
  }
  const order = Array.from(idx.keys()).sort((a, b) => when[a]! - when[b]! || a - b);
  const out: BenchEvent[] = new Array(order.length);
  const cid = plan.communityId;
  for (let n = 0; n < order.length; n++) {
    const e = idx[order[n]!]!;
    const at = when[order[n]!]!;
    const i = who[e]!;
    const k = kind[e]!;
    const occurred_at = new Date(at).toISOString();
    const base: BenchEvent = { community_id: cid, type: KIND_NAMES[k]!, occurred_at, member_id: i >= 0 ? m.id(i) : null, group_id: null, entry_link_id: null, channel: null, referrer_member_id: null, actor_user_id: null, props: {} };
    const groupAt = () => {
      const g = m.rejoinAt[i] && at >= m.rejoinAt[i]! ? m.group2[i]! : m.group1[i]!;
      return g;
    };
    const attribution = (l: number) => {
      const lp = plan.links[l]!;
      base.entry_link_id = lp.id;
      base.channel = lp.channel;
      base.referrer_member_id = i >= 0 && m.referrer[i]! >= 0 ? m.id(m.referrer[i]!) : lp.ownerMember >= 0 ? m.id(lp.ownerMember) : null;
    };
    switch (k) {
      case K_ENGAGE: {
        const type = rng.pick(ENGAGEMENT_TYPES, ENGAGEMENT_MIX);
        const g = groupAt();
        base.type = type;
        base.group_id = plan.groups[g]!.id;
        if (type === 'reply' || type === 'reaction') {
          // Someone else from the member's group (its 500 seats are contiguous member indices).
          let target = g * 500 + rng.int(500);
          if (target >= m.count || target === i) target = g * 500 + ((target - g * 500 + 1) % 500);
          if (target >= m.count) target = g * 500;
          base.props = type === 'reaction' && rng.next() < 0.06 ? { to_member_id: m.id(target), negative: true } : { to_member_id: m.id(target) };
        } else if (type === 'message' && (g % 97 === 0 ? rng.next() < 0.3 : rng.next() < 0.005)) {
          base.props = { is_ad: true };
        }
        break;
      }
      case K_VISIT:
        base.member_id = null;
        attribution(aux[e]!);
        base.props = { ua: 'wechat' };
        break;
      case K_APPLIED:
        attribution(aux[e]!);
        break;
      case K_JOINED:
      case K_REJOINED:
        attribution(aux[e]!);
        base.group_id = plan.groups[k === K_JOINED ? m.group1[i]! : m.group2[i]!]!.id;
        base.props = { rejoin: k === K_REJOINED };
        break;
      case K_ONBOARDED:
        base.group_id = plan.groups[m.group1[i]!]!.id;
        break;
      case K_LEFT:
        base.group_id = plan.groups[m.group1[i]!]!.id;
        break;
      case K_PAID:
      case K_REFUNDED: {
        const o = aux[e]!;
        const p = plan.products[plan.orders.product[o]!]!;
        base.props =
          k === K_PAID
            ? { order_id: orderId(o), product_id: p.id, amount_minor: p.priceMinor, currency: 'CNY', provider: 'test', membership_id: p.type === 'membership' ? membershipId(o) : null }
            : { order_id: orderId(o), refund_id: `rfd_bench${pad(o)}`, amount_minor: p.priceMinor, currency: 'CNY' };
        break;
      }
    }
    out[n] = base;
  }
  return out;
}
