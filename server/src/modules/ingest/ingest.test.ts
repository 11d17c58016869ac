import { beforeAll, expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.js';
import { Client, describeEachDialect, expectOk, signUp, useServer } from '../../test/harness.js';

/**
 * The ingest API over real HTTP: per-item answers, idempotent retries, scopes, tenancy, and the
 * ingested history read back through the event log, the metrics and the KPIs (expected values
 * counted by hand from the batch below).
 */

const S = (local: string) => `${local}+08:00`; // the community's zone, Asia/Shanghai

/** The batch, with the answer each item must get (hand-written). */
const BATCH: [item: unknown, status: 'accepted' | 'duplicate' | 'rejected', field?: string][] = [
  [{ id: 'j-alice', type: 'joined', member_external_id: 'alice', occurred_at: S('2026-03-01T09:00:00'), group: '一群', props: { name: 'Alice 王' } }, 'accepted'],
  [{ id: 'j-bob', type: 'joined', member_external_id: 'bob', occurred_at: S('2026-03-01T10:00:00'), group: '一群' }, 'accepted'],
  [{ id: 'j-carol', type: 'joined', member_external_id: 'carol', occurred_at: S('2026-03-02T10:00:00'), group: '二群' }, 'accepted'],
  [{ id: 'm-alice', type: 'message', member_external_id: 'alice', occurred_at: S('2026-03-02T12:00:00'), props: { text: '大家好' } }, 'accepted'],
  [{ id: 'r-bob', type: 'reply', member_external_id: 'bob', occurred_at: '2026-03-02T04:05:00Z', props: { to_member_external_id: 'alice' } }, 'accepted'],
  // The same id again in one batch.
  [{ id: 'm-alice', type: 'message', member_external_id: 'alice', occurred_at: S('2026-03-02T12:00:00') }, 'duplicate'],
  [{ id: 'no-offset', type: 'message', member_external_id: 'alice', occurred_at: '2026-03-02T12:00:00' }, 'rejected', 'occurred_at'],
  [{ id: 'system-type', type: 'order_paid', member_external_id: 'alice', occurred_at: S('2026-03-02T12:00:00') }, 'rejected', 'type'],
  [{ id: 'no-member', type: 'message', occurred_at: S('2026-03-02T12:00:00') }, 'rejected', 'member_external_id'],
  [{ id: 'extra', type: 'message', member_external_id: 'alice', occurred_at: S('2026-03-02T12:00:00'), colour: 'red' }, 'rejected', 'colour'],
  [{ id: 'join-no-group', type: 'joined', member_external_id: 'erin', occurred_at: S('2026-03-02T12:00:00') }, 'rejected', 'group'],
  [{ id: 'l-bob', type: 'left', member_external_id: 'bob', occurred_at: S('2026-03-05T09:00:00') }, 'accepted'],
  // Dave never joined; Alice is in already.
  [{ id: 'l-dave', type: 'left', member_external_id: 'dave', occurred_at: S('2026-03-05T09:00:00') }, 'rejected', 'member_external_id'],
  [{ id: 'j-alice-2', type: 'joined', member_external_id: 'alice', occurred_at: S('2026-03-03T09:00:00'), group: '一群' }, 'rejected', 'type'],
  [{ id: 'c-carol', type: 'custom.signed_up_for_trial', member_external_id: 'carol', occurred_at: S('2026-03-03T09:00:00') }, 'accepted'],
  [{ id: 'future', type: 'message', member_external_id: 'carol', occurred_at: '2027-01-01T00:00:00Z' }, 'rejected', 'occurred_at'],
  ['not an object', 'rejected', 'event'],
];

describeEachDialect('event ingest API', (dialect) => {
  const clock = fixedClock(new Date('2026-03-10T00:00:00Z'));
  const ctx = useServer(dialect, { clock });
  let owner: Client;
  let c: string;
  let writer: Client;
  let reader: Client;
  let otherWriter: Client;
  let other: string;

  beforeAll(async () => {
    const s = await signUp(ctx.server.url, 'owner@example.com');
    owner = s.client;
    const community = expectOk(await owner.post(`/api/v1/workspaces/${s.workspaceId}/communities`, { name: '读书会', slug: 'books', type: 'interest' }), 201);
    c = `/api/v1/communities/${community.id}`;
    writer = new Client(ctx.server.url, expectOk(await owner.post(`${c}/api-keys`, { name: 'crm', scopes: ['events:write'] }), 201).secret);
    reader = new Client(ctx.server.url, expectOk(await owner.post(`${c}/api-keys`, { name: 'bi', scopes: ['read', 'write'] }), 201).secret);
    const o = await signUp(ctx.server.url, 'other@example.com');
    const otherCommunity = expectOk(await o.client.post(`/api/v1/workspaces/${o.workspaceId}/communities`, { name: 'Other', slug: 'other', type: 'interest' }), 201);
    other = `/api/v1/communities/${otherCommunity.id}`;
    otherWriter = new Client(ctx.server.url, expectOk(await o.client.post(`${other}/api-keys`, { name: 'crm', scopes: ['events:write'] }), 201).secret);
  });

  const snapshot = async () => ({
    events: expectOk(await owner.get(`${c}/events?limit=1000`)).events,
    members: expectOk(await owner.get(`${c}/members?limit=200`)).members,
    groups: expectOk(await owner.get(`${c}/groups`)).groups,
  });

  it('answers every item in order: accepted, duplicate or rejected naming the field', async () => {
    const res = expectOk(await writer.post('/api/v1/events', { events: BATCH.map(([item]) => item) }));
    expect(res.results.map((r: any) => [r.id, r.status, r.field])).toEqual(
      BATCH.map(([item, status, field]) => [typeof item === 'object' ? (item as { id: string }).id : null, status, field]),
    );
    for (const r of res.results) if (r.status === 'rejected') expect(r.reason, r.id).toEqual(expect.any(String));
  });

  it('wrote the accepted events to the log, with members and groups created on first sight', async () => {
    const { events, members, groups } = await snapshot();
    const byId = new Map(members.map((m: any) => [m.id, m]));
    const ingested = events.filter((e: any) => e.props.ingest_id).map((e: any) => [e.props.ingest_id, e.type, e.occurred_at, (byId.get(e.member_id) as any)?.external_id]);
    expect(ingested).toEqual([
      ['j-alice', 'joined', '2026-03-01T01:00:00.000Z', 'alice'],
      ['j-bob', 'joined', '2026-03-01T02:00:00.000Z', 'bob'],
      ['j-carol', 'joined', '2026-03-02T02:00:00.000Z', 'carol'],
      ['m-alice', 'message', '2026-03-02T04:00:00.000Z', 'alice'],
      ['r-bob', 'reply', '2026-03-02T04:05:00.000Z', 'bob'],
      ['l-bob', 'left', '2026-03-05T01:00:00.000Z', 'bob'],
      ['c-carol', 'custom.signed_up_for_trial', '2026-03-03T01:00:00.000Z', 'carol'],
    ]);
    const ext = (id: string) => members.find((m: any) => m.external_id === id);
    expect(ext('alice').display_name).toBe('Alice 王');
    expect(ext('carol').display_name).toBe('carol');
    expect([ext('alice').status, ext('bob').status, ext('carol').status]).toEqual(['active', 'left', 'active']);
    // Rejected items created nobody: not Dave (left without joining), not Erin (join without group).
    expect(members.map((m: any) => m.external_id).sort()).toEqual(['alice', 'bob', 'carol']);
    const reply = events.find((e: any) => e.props.ingest_id === 'r-bob');
    expect(reply.props.to_member_id).toBe(ext('alice').id);
    const g1 = groups.find((g: any) => g.name === '一群');
    const g2 = groups.find((g: any) => g.name === '二群');
    // Alice stays in 一群 (Bob left it), Carol in 二群; the message is in Alice's group.
    expect([g1.seated, g2.seated]).toEqual([1, 1]);
    expect(events.find((e: any) => e.props.ingest_id === 'm-alice').group_id).toBe(g1.id);
    expect(events.filter((e: any) => e.type === 'group_created').length).toBe(2);
  });

  it('changes nothing when the same batch is sent again', async () => {
    const before = await snapshot();
    const res = expectOk(await writer.post('/api/v1/events', { events: BATCH.map(([item]) => item) }));
    expect(res.results.map((r: any) => r.status)).toEqual(BATCH.map(([, status]) => (status === 'accepted' ? 'duplicate' : status)));
    expect(await snapshot()).toEqual(before);
  });

  it('feeds the metrics and KPIs like native events', async () => {
    // By hand from the batch, for [Mar 1, Mar 8) in Shanghai: Alice, Bob, Carol joined; Bob left;
    // Alice (message) and Bob (reply) were active; the custom event is not engagement.
    const m = expectOk(await owner.get(`${c}/metrics?from=2026-03-01&to=2026-03-08`));
    expect([m.members_t0, m.joins, m.leaves, m.members_t1, m.period_members, m.active_members]).toEqual([0, 3, 1, 2, 3, 2]);
    expect([m.leave_rate.numerator, m.leave_rate.denominator]).toEqual([1, 3]);
    expect([m.active_rate.numerator, m.active_rate.denominator]).toEqual([2, 3]);
    const k = expectOk(await owner.get(`${c}/analytics/kpis?from=2026-03-01&to=2026-03-08`));
    expect(k.figures.joins.current).toBe(3);
    expect(k.figures.active_members.current).toBe(2);
    // Before the joins: nobody.
    const earlier = expectOk(await owner.get(`${c}/metrics?from=2026-02-01&to=2026-03-01`));
    expect([earlier.joins, earlier.members_t1]).toEqual([0, 0]);
  });

  it('takes joins and leaves in time order across batches, and a rejected id may be sent again fixed', async () => {
    const fixed = expectOk(await writer.post('/api/v1/events', { events: [{ id: 'join-no-group', type: 'joined', member_external_id: 'erin', occurred_at: S('2026-03-06T12:00:00'), group: '二群' }] }));
    expect(fixed.results).toEqual([{ id: 'join-no-group', status: 'accepted' }]);
    const back = expectOk(
      await writer.post('/api/v1/events', {
        events: [
          // Bob left on Mar 5: a join before that would overlap his old span.
          { id: 'bob-early', type: 'joined', member_external_id: 'bob', occurred_at: S('2026-03-04T09:00:00'), group: '一群' },
          { id: 'bob-back', type: 'joined', member_external_id: 'bob', occurred_at: S('2026-03-07T09:00:00'), group: '一群' },
        ],
      }),
    );
    expect(back.results.map((r: any) => r.status)).toEqual(['rejected', 'accepted']);
    const m = expectOk(await owner.get(`${c}/metrics?from=2026-03-01&to=2026-03-08`));
    expect([m.joins, m.leaves, m.members_t1]).toEqual([5, 1, 4]);
  });

  it('answers concurrent retries of one batch once, and creates a new member once', async () => {
    const batch = (prefix: string) => ({
      events: [
        { id: `${prefix}-join`, type: 'joined', member_external_id: 'frank', occurred_at: S('2026-03-07T10:00:00'), group: '三群' },
        { id: 'same-msg', type: 'message', member_external_id: 'frank', occurred_at: S('2026-03-07T10:05:00') },
      ],
    });
    const answers = await Promise.all([writer.post('/api/v1/events', batch('x')), writer.post('/api/v1/events', batch('y')), writer.post('/api/v1/events', batch('x'))]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    const statuses = answers.flatMap((r) => r.body.results.map((x: any) => `${x.id}:${x.status}`)).sort();
    // One join is accepted (whichever batch came first); the other join is of a member already in.
    expect(statuses.filter((x: string) => x.endsWith(':accepted')).length).toBe(2);
    expect(statuses.filter((x: string) => x.startsWith('same-msg')).sort()).toEqual(['same-msg:accepted', 'same-msg:duplicate', 'same-msg:duplicate']);
    const { members, events } = await snapshot();
    expect(members.filter((m: any) => m.external_id === 'frank').length).toBe(1);
    expect(events.filter((e: any) => e.type === 'joined' && e.member_id === members.find((m: any) => m.external_id === 'frank').id).length).toBe(1);
  });

  it('refuses the envelope only when it is malformed', async () => {
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ id: `x${i}`, type: 'message', member_external_id: 'alice', occurred_at: S('2026-03-02T12:00:00') }));
    for (const body of [{ events: tooMany }, { events: 'all of them' }, { events: [] }, {}, { events: [], more: 1 }]) {
      const r = await writer.post('/api/v1/events', body);
      expect([r.status, r.body.code], JSON.stringify(body).slice(0, 60)).toEqual([400, 'validation_failed']);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
  });

  it('needs an API key with events:write, and writes to the key’s own community only', async () => {
    const event = { id: 'scoped', type: 'message', member_external_id: 'alice', occurred_at: S('2026-03-02T13:00:00') };
    const wrongScope = await reader.post('/api/v1/events', { events: [event] });
    expect([wrongScope.status, wrongScope.body.code]).toEqual([403, 'insufficient_scope']);
    const session = await owner.post('/api/v1/events', { events: [event] });
    expect([session.status, session.body.code]).toEqual([401, 'unauthenticated']);
    const anonymous = await new Client(ctx.server.url).post('/api/v1/events', { events: [event] });
    expect(anonymous.status).toBe(401);

    const before = await snapshot();
    // The other community's key: its "alice" is another person, in its own community.
    expect(expectOk(await otherWriter.post('/api/v1/events', { events: [event, BATCH[0]![0]] })).results.map((r: any) => r.status)).toEqual(['accepted', 'accepted']);
    expect(await snapshot()).toEqual(before);
    // Nor does it read this community's log.
    expect((await otherWriter.get(`${c}/events`)).status).toBe(404);
    // The other community got its two events, and its own Alice.
    expect((await otherWriter.get(`${other}/events`)).status).toBe(403);
  });
});

describeEachDialect('event ingest API: rate limit', (dialect) => {
  const ctx = useServer(dialect, { app: { limits: { ingestPerMinute: 2 } } });

  it('limits requests per API key, not per address', async () => {
    const s = await signUp(ctx.server.url, 'owner@example.com');
    const cm = expectOk(await s.client.post(`/api/v1/workspaces/${s.workspaceId}/communities`, { name: 'limits', slug: 'limits', type: 'interest' }), 201);
    const key = async () => new Client(ctx.server.url, expectOk(await s.client.post(`/api/v1/communities/${cm.id}/api-keys`, { name: 'k', scopes: ['events:write'] }), 201).secret);
    const [one, two] = [await key(), await key()];
    const batch = (id: string) => ({ events: [{ id, type: 'message', member_external_id: 'a', occurred_at: '2026-03-01T00:00:00Z' }] });
    expect((await one.post('/api/v1/events', batch('1'))).status).toBe(200);
    expect((await one.post('/api/v1/events', batch('2'))).status).toBe(200);
    const limited = await one.post('/api/v1/events', batch('3'));
    expect([limited.status, limited.body.code]).toEqual([429, 'rate_limited']);
    // Another key from the same address still gets through.
    expect((await two.post('/api/v1/events', batch('3'))).status).toBe(200);
  });
});
