import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { exampleOf, Id, Timestamp } from './common.js';
import { MemberStatus } from './members.js';

export const IdentityPlatform = z.enum(['telegram', 'whatsapp', 'discord', 'wechat']);

export const ListIdentitiesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(LIMITS.pageSize).default(50),
  cursor: z.string().max(100).optional(),
  platform: IdentityPlatform.optional(),
  member_id: Id.optional(),
});

export const IdentityOut = z
  .object({
    id: z.string(),
    platform: z.string(),
    external_id: z.string().describe('The platform’s id (`user123`), or `name:<display name>` when the export names the person only'),
    display_names: z.array(z.string()).describe('Every name the person was seen under, first seen first'),
    first_seen_at: Timestamp,
    last_seen_at: Timestamp,
    member: z.object({ id: z.string(), display_name: z.string(), status: MemberStatus }),
  })
  .meta({
    id: 'Identity',
    examples: [
      {
        id: 'idn_0mx9qx1b20000f1e2d3c4b5a69788',
        platform: 'wechat',
        external_id: 'wxid_renjia88',
        display_names: ['任佳', '苏州-医疗-任佳'],
        first_seen_at: '2026-03-01T01:30:00.000Z',
        last_seen_at: '2026-11-28T13:15:00.000Z',
        member: { id: 'mem_0mx9qwwlh0000b784e09ed60ecb76', display_name: '任佳', status: 'active' },
      },
    ],
  });

export const IdentityPage = z.object({ identities: z.array(IdentityOut), next_cursor: z.string().nullable() }).meta({ examples: [{ identities: [exampleOf(IdentityOut)], next_cursor: null }] });

export const MergeMembers = z
  .strictObject({
    member_id: Id.describe('The member who stays'),
    from_member_id: Id.describe('The member whose identities move to member_id (its recorded history stays its own)'),
  })
  .meta({ id: 'MergeMembers', examples: [{ member_id: 'mem_01HZX0A', from_member_id: 'mem_01HZX0B' }] });

export const MergeResult = z.object({
  member_id: z.string(),
  identities: z.number().int().describe('Identities moved'),
}).meta({ examples: [{ member_id: 'mem_0mx9qwwlh0000b784e09ed60ecb76', identities: 2 }] });

export const SplitIdentity = z
  .strictObject({ identity_id: Id.describe('The identity that becomes a member of its own') })
  .meta({ id: 'SplitIdentity', examples: [{ identity_id: 'idn_01HZX0C' }] });

export const SplitResult = z.object({
  member_id: z.string().describe('The new member'),
  identity: IdentityOut,
}).meta({
  examples: [
    {
      member_id: 'mem_0mx9qwwlw00009e55b5003803eef1',
      identity: {
        id: 'idn_0mx9qx1b20000f1e2d3c4b5a69788',
        platform: 'wechat',
        external_id: 'wxid_renjia88',
        display_names: ['任佳', '苏州-医疗-任佳'],
        first_seen_at: '2026-03-01T01:30:00.000Z',
        last_seen_at: '2026-11-28T13:15:00.000Z',
        member: { id: 'mem_0mx9qwwlw00009e55b5003803eef1', display_name: '任佳', status: 'left' },
      },
    },
  ],
});
