export { orderRoutes } from './orders.routes.js';
export { checkoutRoutes } from './checkout.routes.js';
export { webhookRoutes } from './webhooks.routes.js';
export { createOrder, payAtCheckout, refundOrder, checkoutToken, expireUnpaidOrders, UNPAID_ORDER_TIMEOUT_MINUTES } from './orders.service.js';
export { answerWebhook, handleWebhook } from './orders.webhooks.js';
export { RENEWAL_GRACE_DAYS } from './orders.effects.js';
export { checkLedger, type LedgerReport } from './ledger.check.js';
export { postEntries, type LedgerLine } from './ledger.repo.js';
export { findLatestMembership } from './orders.repo.js';
