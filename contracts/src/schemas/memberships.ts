import { z } from 'zod';
import { Id, ShortText, Timestamp } from './common.js';
import { MembershipOut } from './products.js';

/** Cancel at period end: access stays until the current expiry; the reason is kept. */
export const CancelMembership = z.strictObject({ reason: ShortText.min(1) });
export type CancelMembership = z.infer<typeof CancelMembership>;

/** Pause until an instant (at most 90 days ahead); the paused time is added to the expiry. */
export const PauseMembership = z.strictObject({ until: z.iso.datetime({ offset: true }) });
export type PauseMembership = z.infer<typeof PauseMembership>;

/** Turns automatic renewal of the membership (its whole chain of periods) on or off. */
export const SetAutoRenew = z.strictObject({ enabled: z.boolean() });
export type SetAutoRenew = z.infer<typeof SetAutoRenew>;

/** Why a membership ended: cancelled at period end, its automatic renewal kept failing, or nobody renewed it. */
export const MembershipEndReason = z.enum(['cancelled', 'payment_failed', 'not_renewed']);
export type MembershipEndReason = z.infer<typeof MembershipEndReason>;

export const MembershipStateOut = MembershipOut.extend({
  cancelled_at: Timestamp.nullable(),
  cancel_reason: z.string().nullable(),
  paused_until: Timestamp.nullable(),
  ended_at: Timestamp.nullable(),
  end_reason: MembershipEndReason.nullable(),
  auto_renew: z.boolean().describe('Renewed automatically with the member’s saved payment method before it expires'),
  past_due: z.boolean().describe('An automatic renewal failed: access is kept through the grace window while it is retried'),
  past_due_since: Timestamp.nullable(),
}).meta({ id: 'MembershipState' });

/** Replace a membership by another membership product, paying its price less the unused part. */
export const UpgradeMembership = z.strictObject({ product_id: Id });
export type UpgradeMembership = z.infer<typeof UpgradeMembership>;
