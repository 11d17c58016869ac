import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { Id, Name, ShortText, Timestamp } from './common.js';
import { Threshold } from './thresholds.js';

export const GroupTags = z
  .strictObject({
    theme: ShortText.optional(),
    tier: ShortText.optional(),
    city: ShortText.optional(),
    cohort: ShortText.optional(),
  })
  .meta({ id: 'GroupTags' });

export const GroupStatus = z.enum(['open', 'full', 'archived']);

export const CreateGroup = z.strictObject({
  name: Name,
  tags: GroupTags.default({}),
  capacity: z.number().int().min(1).max(LIMITS.groupCapacityMax).default(LIMITS.defaultGroupCapacity),
  monitor_user_id: Id.nullable().optional(),
  leader_user_id: Id.nullable().optional(),
  threshold: Threshold.nullable().optional().describe('Overrides the community threshold for this group'),
});
export type CreateGroup = z.infer<typeof CreateGroup>;

export const UpdateGroup = z.strictObject({
  name: Name.optional(),
  tags: GroupTags.optional(),
  capacity: z.number().int().min(1).max(LIMITS.groupCapacityMax).optional(),
  monitor_user_id: Id.nullable().optional(),
  leader_user_id: Id.nullable().optional(),
  threshold: Threshold.nullable().optional(),
  archived: z.boolean().optional(),
});
export type UpdateGroup = z.infer<typeof UpdateGroup>;

export const GroupOut = z
  .object({
    id: z.string(),
    community_id: z.string(),
    name: z.string(),
    tags: GroupTags,
    capacity: z.number(),
    seated: z.number(),
    free_seats: z.number(),
    status: GroupStatus,
    monitor_user_id: z.string().nullable(),
    leader_user_id: z.string().nullable(),
    threshold: Threshold.nullable(),
    created_from_link_id: z.string().nullable(),
    created_at: Timestamp,
  })
  .meta({ id: 'Group' });

export interface OrgNode {
  kind: 'hq' | 'monitor' | 'leader' | 'group';
  id: string;
  name: string;
  members?: number;
  children: OrgNode[];
}
export const OrgNodeOut: z.ZodType<OrgNode> = z.lazy(() =>
  z.object({
    kind: z.enum(['hq', 'monitor', 'leader', 'group']),
    id: z.string(),
    name: z.string(),
    members: z.number().optional(),
    children: z.array(OrgNodeOut),
  }),
);
