export { orderRoutes } from './orders.routes.js';
export { checkoutRoutes } from './checkout.routes.js';
export { createOrder, payAtCheckout, checkoutToken, expireUnpaidOrders, UNPAID_ORDER_TIMEOUT_MINUTES } from './orders.service.js';
export { refundOrder, retryStalledRefunds, STALLED_REFUND_MINUTES } from './refunds.service.js';
export { handleWebhook } from './orders.webhooks.js';
export { RENEWAL_GRACE_DAYS } from './orders.effects.js';
export { checkLedger, type LedgerReport } from './ledger.check.js';
export { postEntries, type LedgerLine } from './ledger.repo.js';
export { findLatestMembership } from './orders.repo.js';
