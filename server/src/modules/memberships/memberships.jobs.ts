import type { Deps } from '../../lib/deps.js';
import { expireUnpaidOrders, retryStalledRefunds } from '../orders/index.js';
import { expireMemberships, sendExpiryReminders } from './memberships.service.js';

export interface MembershipJobsReport {
  expired_orders: number;
  expired_memberships: number;
  removed_from_groups: number;
  reminders: number;
  refunds_retried: number;
}

/**
 * One pass of the money housekeeping: unpaid orders time out, memberships past expiry and grace end,
 * reminders go out, refunds that never reached the provider are sent again. Each step works on a window computed from the clock (not on a delta since the
 * last run) and writes conditionally, so a run repeated or overlapping another has no extra effect.
 */
export async function runMembershipJobs(deps: Deps): Promise<MembershipJobsReport> {
  const expiredOrders = await expireUnpaidOrders(deps);
  const { expired, removed } = await expireMemberships(deps);
  const reminders = await sendExpiryReminders(deps);
  const refundsRetried = await retryStalledRefunds(deps);
  return { expired_orders: expiredOrders, expired_memberships: expired, removed_from_groups: removed, reminders, refunds_retried: refundsRetried };
}
