// WhatsApp, WeChat and Discord exports through the import pipeline (the parser tests check the
// parsers alone): the report carries the hand counts of those tests, and importing again adds
// nothing.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeEachDialect, expectOk, signUp, useServer } from '../../test/harness.js';
import { fileSource } from './parse-support.js';
import { PARSERS } from './parsers.js';
import { importChat } from './index.js';
import type { ImportPlatform } from './records.js';

const FIXTURES = join(import.meta.dirname, '../../../../test/fixtures');

const CASES: { format: ImportPlatform; file: string; timeZone: string; want: Record<string, unknown> }[] = [
  // Hand counts: whatsapp.test.ts, wechat.test.ts and discord.test.ts, same files and zones.
  { format: 'whatsapp', file: 'whatsapp/android-en-us-12h.txt', timeZone: 'America/New_York', want: { messages: 8, authors: 5, joins: 4, leaves: 2, first_at: '2023-12-31T01:05:00.000Z', last_at: '2024-01-14T01:00:00.000Z' } },
  { format: 'wechat', file: 'wechat/pywxdump-group.csv', timeZone: 'Asia/Shanghai', want: { messages: 8, authors: 6, joins: 4, leaves: 2, first_at: '2024-03-01T00:01:10.000Z', last_at: '2024-03-04T01:02:00.000Z' } },
  { format: 'discord', file: 'discord/guild-general.json', timeZone: 'UTC', want: { messages: 7, authors: 4, joins: 2, leaves: 0, first_at: '2024-01-10T01:01:12.345Z', last_at: '2024-01-12T01:00:00.000Z' } },
];

describeEachDialect('chat imports of every registered format', (dialect) => {
  const ctx = useServer(dialect);

  it('report the hand counts, and a second import of the same file adds nothing', async () => {
    const { client, workspaceId } = await signUp(ctx.server.url, 'formats@example.com');
    for (const [i, c] of CASES.entries()) {
      const community = expectOk(await client.post(`/api/v1/workspaces/${workspaceId}/communities`, { name: `群 ${i}`, slug: `formats-${i}`, type: 'interest' }), 201);
      const parser = PARSERS[c.format]!;
      const run = () => importChat(ctx.db.deps, community.id, { format: c.format, parser, open: () => fileSource(join(FIXTURES, c.file)), parse: { timeZone: c.timeZone, chat: 'chat' } });
      const first = await run();
      expect({ format: first.format, messages: first.messages, authors: first.authors, joins: first.joins, leaves: first.leaves, first_at: first.first_at, last_at: first.last_at }, c.format).toEqual({ format: c.format, ...c.want });
      expect(first.problem_count).toBe(0);
      const events = async () => Number((await ctx.db.handle.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).where('community_id', '=', community.id).executeTakeFirstOrThrow()).n);
      const written = await events();
      const again = await run();
      expect([again.messages, again.imported, again.duplicates], c.format).toEqual([first.messages, 0, first.imported]);
      expect(await events()).toBe(written);
    }
  });
});
