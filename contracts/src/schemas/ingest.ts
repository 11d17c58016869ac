import { z } from 'zod';
import { ENGAGEMENT_TYPES } from './events.js';

/** Most events one `POST /api/v1/events` takes, like Segment's and Mixpanel's batch endpoints. */
export const INGEST_MAX_EVENTS = 1000;

/** Domain types an outside system may send: the member lifecycle and engagement, plus `custom.*`. */
export const INGEST_TYPES = ['joined', 'left', 'removed', ...ENGAGEMENT_TYPES, 'message_reported'] as const;

/**
 * One event of an ingest batch. Validated item by item (a bad item is answered `rejected` and does
 * not stop the others), so the envelope accepts any item and this schema is applied per item.
 */
export const IngestEvent = z
  .strictObject({
    id: z.string().min(1).max(200).describe("The client's idempotency key: a repeated id is answered `duplicate` and ignored"),
    type: z
      .string()
      .refine((t) => (INGEST_TYPES as readonly string[]).includes(t) || /^custom\.[a-z0-9_][a-z0-9_.-]{0,63}$/.test(t), {
        message: `one of ${INGEST_TYPES.join(', ')}, or custom.<name>`,
      }),
    member_external_id: z.string().trim().min(1).max(200).describe('The member as the sending system names them; created on first sight'),
    occurred_at: z.iso.datetime({ offset: true }).describe('ISO-8601 with a Z or ±hh:mm offset'),
    group: z.string().trim().min(1).max(120).optional().describe('Group name; created on first sight'),
    props: z
      .record(z.string().max(64), z.unknown())
      .optional()
      .describe('Free properties. `name` names a new member; `to_member_external_id` the member replied or reacted to; `is_ad`, `negative` as in docs/analytics.md'),
  })
  .meta({
    id: 'IngestEvent',
    examples: [{ id: 'crm-42-msg-1', type: 'message', member_external_id: 'wx_alice', occurred_at: '2026-03-01T09:30:00+08:00', group: '读书会一群', props: { name: 'Alice' } }],
  });
export type IngestEvent = z.infer<typeof IngestEvent>;

export const IngestBatch = z
  .strictObject({
    events: z
      .array(z.unknown().meta({ description: 'an IngestEvent; validated one by one' }))
      .min(1)
      .max(INGEST_MAX_EVENTS),
  })
  .meta({
    id: 'IngestBatch',
    examples: [{ events: [{ id: 'crm-42-join', type: 'joined', member_external_id: 'wx_alice', occurred_at: '2026-03-01T09:00:00+08:00', group: '读书会一群' }] }],
  });

export const IngestResult = z.object({
  id: z.string().nullable().describe('The item’s id, null when it had none'),
  status: z.enum(['accepted', 'duplicate', 'rejected']),
  reason: z.string().optional(),
  field: z.string().optional(),
});
export const IngestResponse = z.object({ results: z.array(IngestResult) }).meta({
    id: 'IngestResponse',
    examples: [
      {
        results: [
          { id: 'crm-42-join', status: 'accepted' },
          { id: 'crm-42-msg-1', status: 'duplicate' },
          { id: 'crm-42-x', status: 'rejected', reason: 'one of joined, left, … or custom.<name>', field: 'type' },
        ],
      },
    ],
  });
