export { webhookSubscriptionRoutes } from './webhooks.routes.js';
export { enqueueDeliveries, forgetWebhookCache, wantsDeliveries, type OutboxEvent } from './webhooks.repo.js';
export { dispatchWebhooks, backoffMs, DISABLE_AFTER_FAILED_DELIVERIES, WEBHOOK_RETRY_WINDOW_MS, WEBHOOK_TIMEOUT_MS, type DispatchReport } from './webhooks.dispatcher.js';
export { signWebhook, verifyWebhookSignature } from './webhooks.signature.js';
export { createWebhook, listWebhooks, redeliver, webhookDeliveries } from './webhooks.service.js';
