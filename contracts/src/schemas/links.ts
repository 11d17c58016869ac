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
});
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
  .meta({ id: 'EntryLink' });
