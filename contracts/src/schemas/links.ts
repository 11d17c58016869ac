import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { Id, Name, ShortText, Timestamp } from './common.js';
import { GroupTags } from './groups.js';

export const SegmentRule = z.strictObject({
  field: z.string().min(1).max(40).describe('A profile field or questionnaire question id of the applicant'),
  in: z.array(ShortText).min(1).max(LIMITS.listItems),
  group_ids: z.array(Id).min(1).max(LIMITS.listItems),
});
export type SegmentRule = z.infer<typeof SegmentRule>;

export const OverflowTemplate = z.strictObject({
  name: Name.optional().describe('Base name of overflow groups; they are named base(2), base(3), …'),
  capacity: z.number().int().min(1).max(LIMITS.groupCapacityMax).optional(),
  tags: GroupTags.optional(),
});

export const CreateLink = z.strictObject({
  name: Name,
  channel: ShortText.min(1).describe('Channel label such as 公众号, 朋友圈, a partner'),
  group_ids: z.array(Id).min(1).max(LIMITS.listItems).describe('Pool of groups, filled in order'),
  overflow_template: OverflowTemplate.optional(),
  segment_rules: z.array(SegmentRule).max(LIMITS.listItems).default([]),
  owner_member_id: Id.optional().describe('A member who owns the link: joins through it are their referrals'),
  expires_at: z.iso.datetime({ offset: true }).optional(),
  max_uses: z.number().int().min(1).optional(),
}).meta({
  examples: [
    {
      name: '朋友圈海报',
      channel: '朋友圈',
      group_ids: ['grp_0mx9qwwk00000b9a51b747581c87e'],
      overflow_template: { name: '鱼塘读书会', capacity: 500 },
      segment_rules: [{ field: 'city', in: ['上海'], group_ids: ['grp_0mx9qwwkf0000e9118b8ec6402c54'] }],
      expires_at: '2026-12-31T23:59:59+08:00',
      max_uses: 2000,
    },
  ],
});
export type CreateLink = z.infer<typeof CreateLink>;

export const UpdateLink = z.strictObject({
  name: Name.optional(),
  channel: ShortText.min(1).optional(),
  group_ids: z.array(Id).min(1).max(LIMITS.listItems).optional(),
  overflow_template: OverflowTemplate.nullable().optional(),
  segment_rules: z.array(SegmentRule).max(LIMITS.listItems).optional(),
  expires_at: z.iso.datetime({ offset: true }).nullable().optional(),
  max_uses: z.number().int().min(1).nullable().optional(),
  disabled: z.boolean().optional(),
}).meta({ examples: [{ max_uses: 3000, disabled: false }] });
export type UpdateLink = z.infer<typeof UpdateLink>;

export const LinkOut = z
  .object({
    id: z.string(),
    community_id: z.string(),
    code: z.string(),
    url: z.string(),
    name: z.string(),
    channel: z.string(),
    owner_user_id: z.string().nullable(),
    owner_member_id: z.string().nullable(),
    group_ids: z.array(z.string()),
    overflow_template: OverflowTemplate.nullable(),
    segment_rules: z.array(SegmentRule),
    expires_at: Timestamp.nullable(),
    max_uses: z.number().nullable(),
    uses: z.number(),
    visits: z.number(),
    status: z.enum(['active', 'disabled']),
    created_at: Timestamp,
  })
  .meta({
    id: 'EntryLink',
    examples: [
      {
        id: 'lnk_0mx9qwwki0001c34ee002c996ab70',
        community_id: 'com_0mx9qwwjc000035b3232e876033f1',
        code: 'wj3zkz4x',
        url: 'https://yutang.example.com/j/wj3zkz4x',
        name: '公众号菜单',
        channel: '公众号',
        owner_user_id: null,
        owner_member_id: null,
        group_ids: [
          'grp_0mx9qwwk00000b9a51b747581c87e',
          'grp_0mx9qwwk100005605f8a10cf4bf1a',
          'grp_0mx9qwwk10001d4ffd4becf4496d9',
          'grp_0mx9qwwk200000b544b07dfec47cb',
        ],
        overflow_template: null,
        segment_rules: [
          { field: 'city', in: ['上海'], group_ids: ['grp_0mx9qwwkf0000e9118b8ec6402c54'] },
          { field: 'city', in: ['北京'], group_ids: ['grp_0mx9qwwkf0001aafd614c33f1aa35'] },
        ],
        expires_at: null,
        max_uses: null,
        uses: 44,
        visits: 115,
        status: 'active',
        created_at: '2026-10-05T16:00:00.000Z',
      },
    ],
  });
