import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { CreateCommunity } from '../../../../contracts/src/index.js';
import { createTestDb, describeEachDialect, type TestDb } from '../../test/harness.js';
import { fixedClock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import type { Actor } from '../../http/access.js';
import { createCommunity } from '../communities/index.js';
import { createGroup } from '../groups/index.js';
import { createLink } from '../links/index.js';
import { joinThroughLink, memberInviteLink } from './index.js';

describeEachDialect('a member invite link', (dialect) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb(dialect, fixedClock(new Date('2026-03-01T02:00:00Z')));
  });
  afterAll(async () => {
    await db?.close();
  });

  it('lists the groups in creation order when they were created in the same instant', async () => {
    const { deps } = db;
    const at = deps.clock.now().toISOString();
    const workspaceId = newId('ws');
    await deps.db.insertInto('workspaces').values({ id: workspaceId, name: 'W', is_demo: 0, created_at: at }).execute();
    const community = await createCommunity(deps, workspaceId, CreateCommunity.parse({ name: '读书会', slug: 'invite-pool', type: 'knowledge' }));
    const actor: Actor = { userId: null, apiKeyId: null, role: 'owner', groupIds: null };
    const groups = [];
    for (const name of ['一群', '二群', '三群', '四群']) groups.push(await createGroup(deps, community.id, actor, { name, tags: {}, capacity: 10 }));
    const ids = groups.map((g) => g.id);
    const link = await createLink(deps, community.id, actor, { name: '海报', channel: '朋友圈', group_ids: ids, segment_rules: [] });

    // The seat taken in the first group writes a new version of its row after the others. Once the
    // table is rewritten (vacuum, or updates that no longer fit the page), PostgreSQL meets the
    // groups of one instant in that order, by table scan and by the (community, created_at) index.
    const first = await joinThroughLink(deps, link.code, { name: '甲' }, null);
    expect(first.next).toBe('onboarding');
    if (dialect === 'postgres') await sql`vacuum full groups`.execute(deps.db);

    const invite = await memberInviteLink(deps, community.id, first.memberId);
    expect(invite.group_ids).toEqual(ids);
    const invitee = await joinThroughLink(deps, invite.code, { name: '乙' }, null);
    const seated = await deps.db.selectFrom('members').select('current_group_id').where('id', '=', invitee.memberId).executeTakeFirstOrThrow();
    expect(seated.current_group_id).toBe(ids[0]);
  });
});
