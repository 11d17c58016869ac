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
  .meta({ id: 'GroupTags', examples: [{ theme: '共读', tier: '免费', cohort: '2026-H1' }] });

export const GroupStatus = z.enum(['open', 'full', 'archived']);

export const CreateGroup = z.strictObject({
  name: Name,
  tags: GroupTags.default({}),
  capacity: z.number().int().min(1).max(LIMITS.groupCapacityMax).default(LIMITS.defaultGroupCapacity),
  monitor_user_id: Id.nullable().optional(),
  leader_user_id: Id.nullable().optional(),
  threshold: Threshold.nullable().optional().describe('Overrides the community threshold for this group'),
}).meta({
  examples: [
    {
      name: '鱼塘读书会5群',
      tags: { theme: '共读', tier: '免费', cohort: '2026-H2' },
      capacity: 500,
      monitor_user_id: 'usr_0mx9qwwjn0000dcc29677a12b5ac1',
      leader_user_id: 'usr_0mx9qwwjp0000366c64d09a7335a2',
    },
  ],
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
}).meta({ examples: [{ capacity: 450, tags: { theme: '共读', tier: '会员' } }] });
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
  .meta({
    id: 'Group',
    examples: [
      {
        id: 'grp_0mx9qwwk00000b9a51b747581c87e',
        community_id: 'com_0mx9qwwjc000035b3232e876033f1',
        name: '鱼塘读书会1群',
        tags: { theme: '共读', tier: '免费', cohort: '2026-H1' },
        capacity: 500,
        seated: 121,
        free_seats: 379,
        status: 'open',
        monitor_user_id: 'usr_0mx9qwwjn0000dcc29677a12b5ac1',
        leader_user_id: 'usr_0mx9qwwjp0000366c64d09a7335a2',
        threshold: null,
        created_from_link_id: null,
        created_at: '2026-10-05T16:00:00.000Z',
      },
    ],
  });

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
).meta({
  examples: [
    {
      kind: 'hq',
      id: 'com_0mx9qwwjc000035b3232e876033f1',
      name: 'HQ',
      children: [
        {
          kind: 'monitor',
          id: 'usr_0mx9qwwjn0000dcc29677a12b5ac1',
          name: '周班长',
          children: [
            {
              kind: 'leader',
              id: 'usr_0mx9qwwjp0000366c64d09a7335a2',
              name: '郑组长',
              children: [{ kind: 'group', id: 'grp_0mx9qwwk00000b9a51b747581c87e', name: '鱼塘读书会1群', members: 121, children: [] }],
            },
            {
              kind: 'leader',
              id: 'usr_0mx9qwwjp0001e7b3a398f73a2761',
              name: '王组长',
              children: [{ kind: 'group', id: 'grp_0mx9qwwk100005605f8a10cf4bf1a', name: '鱼塘读书会2群', members: 0, children: [] }],
            },
            { kind: 'group', id: 'grp_0mx9qwwkf0000e9118b8ec6402c54', name: '上海分会', members: 17, children: [] },
          ],
        },
      ],
    },
  ],
});
