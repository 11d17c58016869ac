import type { Deps } from '../../lib/deps.js';
import { expireUnpaidOrders, renewMemberships, retryStalledRefunds } from '../orders/index.js';
import { expireMemberships, sendExpiryReminders } from './memberships.service.js';

export interface MembershipJobsReport {
  expired_orders: number;
  expired_memberships: number;
  removed_from_groups: number;
  reminders: number;
  renewals_charged: number;
  renewals_failed: number;
  refunds_retried: number;
}

/**
 * One pass of the money housekeeping: unpaid orders time out, auto-renewing memberships are charged
 * (and failed renewals retried), memberships past expiry and grace end, reminders go out, refunds
 * that never reached the provider are sent again. Each step works on a window computed from the clock (not on a delta since the
 * last run) and writes conditionally, so a run repeated or overlapping another has no extra effect.
 */
export async function runMembershipJobs(deps: Deps): Promise<MembershipJobsReport> {
  const expiredOrders = await expireUnpaidOrders(deps);
  const renewals = await renewMemberships(deps);
  const { expired, removed } = await expireMemberships(deps);
  const reminders = await sendExpiryReminders(deps);
  const refundsRetried = await retryStalledRefunds(deps);
  return {
    expired_orders: expiredOrders,
    expired_memberships: expired,
    removed_from_groups: removed,
    reminders,
    renewals_charged: renewals.charged,
    renewals_failed: renewals.failed,
    refunds_retried: refundsRetried,
  };
}
