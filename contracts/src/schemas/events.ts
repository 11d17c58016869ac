import { z } from 'zod';
import { Id, Timestamp } from './common.js';

/** Domain event types written by the foundation; later modules add theirs. */
export const EVENT_TYPES = [
  'link_visited',
  'applied',
  'threshold_passed',
  'application_rejected',
  'application_reviewed',
  'joined',
  'rules_accepted',
  'nickname_set',
  'introduced',
  'onboarded',
  'left',
  'removed',
  'role_changed',
  'membership_granted',
  'group_created',
  'order_created',
  'order_paid',
  'order_payment_failed',
  'order_refunded',
  'order_expired',
  'membership_revoked',
  'membership_expiring',
  'membership_expired',
  'membership_cancelled',
  'membership_paused',
  'membership_auto_renew_changed',
  'payment_method_saved',
  'renewal_payment_failed',
  'refund_requested',
  'refund_failed',
  'order_sold_out',
  'duplicate_payment_detected',
  'membership_upgraded',
  'survey_answered',
  'members_merged',
  'identity_split',
] as const;
export const EventType = z.enum(EVENT_TYPES);
export type EventType = z.infer<typeof EventType>;

export const EventOut = z
  .object({
    id: z.number(),
    type: z.string(),
    occurred_at: Timestamp,
    member_id: z.string().nullable(),
    group_id: z.string().nullable(),
    entry_link_id: z.string().nullable(),
    channel: z.string().nullable(),
    referrer_member_id: z.string().nullable(),
    actor_user_id: z.string().nullable(),
    props: z.record(z.string(), z.unknown()),
  })
  .meta({
    id: 'Event',
    examples: [
      {
        id: 4211,
        type: 'joined',
        occurred_at: '2026-11-03T12:08:41.748Z',
        member_id: 'mem_0mx9qwwlh0000b784e09ed60ecb76',
        group_id: 'grp_0mx9qwwk00000b9a51b747581c87e',
        entry_link_id: 'lnk_0mx9qwwki0001c34ee002c996ab70',
        channel: '公众号',
        referrer_member_id: null,
        actor_user_id: null,
        props: { via: 'link' },
      },
    ],
  });

export const ListEventsQuery = z.strictObject({
  after_id: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  type: z.string().max(60).optional(),
  member_id: Id.optional(),
});

/** Engagement events of PRODUCT.md's active rate: message, post, reply, check-in, attendance, reaction. */
export const ENGAGEMENT_TYPES = ['message', 'post', 'reply', 'check_in', 'event_attended', 'reaction'] as const;
