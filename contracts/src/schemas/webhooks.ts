import { z } from 'zod';
import { exampleOf, Timestamp } from './common.js';

export const WebhookEventType = z
  .string()
  .regex(/^(\*|[a-z][a-z0-9_]*(\.[a-z0-9_][a-z0-9_.-]*)?)$/, "an event type such as 'joined', 'custom.signup', or '*' for all");

const WebhookUrl = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .describe('http(s) endpoint that receives POSTs');

export const CreateWebhook = z
  .strictObject({
    url: WebhookUrl,
    event_types: z.array(WebhookEventType).min(1).max(100).describe("Event types to send, or ['*']"),
    description: z.string().trim().max(200).optional(),
  })
  .meta({ id: 'CreateWebhook', examples: [{ url: 'https://crm.example.com/hooks/yutang', event_types: ['joined', 'left', 'order_paid'] }] });
export type CreateWebhook = z.infer<typeof CreateWebhook>;

export const UpdateWebhook = z.strictObject({
  url: WebhookUrl.optional(),
  event_types: z.array(WebhookEventType).min(1).max(100).optional(),
  description: z.string().trim().max(200).nullable().optional(),
  status: z.enum(['active', 'disabled']).optional().describe('Enabling again resets the count of failed deliveries'),
}).meta({ examples: [{ event_types: ['joined', 'left', 'order_paid', 'order_refunded'], status: 'active' }] });
export type UpdateWebhook = z.infer<typeof UpdateWebhook>;

export const WebhookOut = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    event_types: z.array(z.string()),
    status: z.enum(['active', 'disabled']),
    disabled_reason: z.string().nullable(),
    failed_deliveries_in_a_row: z.number(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({
    id: 'Webhook',
    examples: [
      {
        id: 'whk_0mx9qwymn0000ded3cf7833a37dc4',
        url: 'https://crm.example.com/hooks/yutang',
        description: 'CRM 同步',
        event_types: ['joined', 'left', 'order_paid'],
        status: 'active',
        disabled_reason: null,
        failed_deliveries_in_a_row: 0,
        created_at: '2026-12-05T01:40:30.670Z',
        updated_at: '2026-12-05T01:40:30.670Z',
      },
    ],
  });

export const WebhookCreatedOut = z.object({ webhook: WebhookOut, secret: z.string().describe('Signing secret, shown once') }).meta({ examples: [{ webhook: exampleOf(WebhookOut), secret: 'whsec_YaX2C7nX_fpdcUoV9P2VTVJO1K6KQarBjZbwhaJQxW8' }] });

export const WebhookAttemptOut = z.object({
  attempt: z.number(),
  status_code: z.number().nullable(),
  error: z.string().nullable(),
  duration_ms: z.number(),
  attempted_at: Timestamp,
  next_attempt_at: Timestamp.nullable(),
});

export const WebhookDeliveryOut = z
  .object({
    id: z.string(),
    webhook_id: z.string(),
    event_id: z.string(),
    event_type: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    attempts: z.number(),
    next_attempt_at: Timestamp.nullable(),
    last_status_code: z.number().nullable(),
    last_error: z.string().nullable(),
    created_at: Timestamp,
    delivered_at: Timestamp.nullable(),
    log: z.array(WebhookAttemptOut),
  })
  .meta({
    id: 'WebhookDelivery',
    examples: [
      {
        id: 'whd_0mx9qx0a10000b6e2f0c9d8a7b6c5',
        webhook_id: 'whk_0mx9qwymn0000ded3cf7833a37dc4',
        event_id: '4211',
        event_type: 'joined',
        status: 'succeeded',
        attempts: 2,
        next_attempt_at: null,
        last_status_code: 200,
        last_error: null,
        created_at: '2026-11-03T12:08:42.000Z',
        delivered_at: '2026-11-03T12:09:12.000Z',
        log: [
          {
            attempt: 1,
            status_code: 503,
            error: null,
            duration_ms: 84,
            attempted_at: '2026-11-03T12:08:42.000Z',
            next_attempt_at: '2026-11-03T12:09:12.000Z',
          },
          { attempt: 2, status_code: 200, error: null, duration_ms: 61, attempted_at: '2026-11-03T12:09:12.000Z', next_attempt_at: null },
        ],
      },
    ],
  });

export const ListWebhookDeliveriesQuery = z.strictObject({
  status: z.enum(['pending', 'succeeded', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
