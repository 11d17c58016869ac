import { z } from 'zod';
import { Timestamp } from './common.js';

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
});
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
  .meta({ id: 'Webhook' });

export const WebhookCreatedOut = z.object({ webhook: WebhookOut, secret: z.string().describe('Signing secret, shown once') });

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
  .meta({ id: 'WebhookDelivery' });

export const ListWebhookDeliveriesQuery = z.strictObject({
  status: z.enum(['pending', 'succeeded', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
