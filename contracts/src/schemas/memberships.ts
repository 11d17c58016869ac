import { z } from 'zod';
import { Id, ShortText, Timestamp } from './common.js';
import { MembershipOut } from './products.js';

/** Cancel at period end: access stays until the current expiry; the reason is kept. */
export const CancelMembership = z.strictObject({ reason: ShortText.min(1) });
export type CancelMembership = z.infer<typeof CancelMembership>;

/** Pause until an instant (at most 90 days ahead); the paused time is added to the expiry. */
export const PauseMembership = z.strictObject({ until: z.iso.datetime({ offset: true }) });
export type PauseMembership = z.infer<typeof PauseMembership>;

export const MembershipStateOut = MembershipOut.extend({
  cancelled_at: Timestamp.nullable(),
  cancel_reason: z.string().nullable(),
  paused_until: Timestamp.nullable(),
  ended_at: Timestamp.nullable(),
}).meta({ id: 'MembershipState' });

/** Replace a membership by another membership product, paying its price less the unused part. */
export const UpgradeMembership = z.strictObject({ product_id: Id });
export type UpgradeMembership = z.infer<typeof UpgradeMembership>;
