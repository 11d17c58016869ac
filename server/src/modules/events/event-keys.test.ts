import { afterAll, beforeAll, expect, it } from 'vitest';
import { CreateCommunity } from '../../../../contracts/src/index.js';
import { createTestDb, describeEachDialect, type TestDb } from '../../test/harness.js';
import { fixedClock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import { createCommunity } from '../communities/index.js';
import { claimEventKeys } from './index.js';

describeEachDialect('event idempotency keys', (dialect) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb(dialect, fixedClock(new Date('2026-03-01T02:00:00Z')));
  });
  afterAll(async () => {
    await db?.close();
  });

  it('claims each key once per community and source, and a rolled-back claim leaves it free', async () => {
    const { deps } = db;
    const at = deps.clock.now().toISOString();
    const workspaceId = newId('ws');
    await deps.db.insertInto('workspaces').values({ id: workspaceId, name: 'W', is_demo: 0, created_at: at }).execute();
    const a = await createCommunity(deps, workspaceId, CreateCommunity.parse({ name: 'A', slug: 'keys-a', type: 'knowledge' }));
    const b = await createCommunity(deps, workspaceId, CreateCommunity.parse({ name: 'B', slug: 'keys-b', type: 'knowledge' }));

    expect([...(await claimEventKeys(deps.db, a.id, 'api', ['x', 'y', 'x'], at))].sort()).toEqual(['x', 'y']);
    expect([...(await claimEventKeys(deps.db, a.id, 'api', ['y', 'z'], at))]).toEqual(['z']);
    // Another source or another community has keys of its own.
    expect([...(await claimEventKeys(deps.db, a.id, 'import:telegram:chat', ['x'], at))]).toEqual(['x']);
    expect([...(await claimEventKeys(deps.db, b.id, 'api', ['x'], at))]).toEqual(['x']);

    await expect(
      deps.db.transaction().execute(async (trx) => {
        expect([...(await claimEventKeys(trx, a.id, 'api', ['w'], at))]).toEqual(['w']);
        throw new Error('the write that goes with it failed');
      }),
    ).rejects.toThrow('failed');
    expect([...(await claimEventKeys(deps.db, a.id, 'api', ['w'], at))]).toEqual(['w']);

    // More keys than one statement holds.
    const many = Array.from({ length: 2_500 }, (_, i) => `k${i}`);
    expect((await claimEventKeys(deps.db, a.id, 'bulk', many, at)).size).toBe(2_500);
    expect((await claimEventKeys(deps.db, a.id, 'bulk', [...many, 'k-new'], at)).size).toBe(1);
  });
});
