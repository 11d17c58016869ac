import { z } from 'zod';
import { Id, ShortText, Timestamp } from './common.js';
import { MembershipOut } from './products.js';

/** Cancel at period end: access stays until the current expiry; the reason is kept. */
export const CancelMembership = z.strictObject({ reason: ShortText.min(1) }).meta({ examples: [{ reason: '明年再续' }] });
export type CancelMembership = z.infer<typeof CancelMembership>;

/** Pause until an instant (at most 90 days ahead); the paused time is added to the expiry. */
export const PauseMembership = z.strictObject({ until: z.iso.datetime({ offset: true }) }).meta({ examples: [{ until: '2027-01-15T00:00:00+08:00' }] });
export type PauseMembership = z.infer<typeof PauseMembership>;

/** Turns automatic renewal of the membership (its whole chain of periods) on or off. */
export const SetAutoRenew = z.strictObject({ enabled: z.boolean() }).meta({ examples: [{ enabled: true }] });
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
}).meta({
    id: 'MembershipState',
    examples: [
      {
        id: 'msp_0mx9qwxn20000c1d0d5b0c1a7e3f2',
        member_id: 'mem_0mx9qwwlh0000b784e09ed60ecb76',
        product_id: 'prd_0mx9qwwkg00007c88693a84f3e898',
        source: 'order',
        starts_at: '2026-11-03T12:20:00.000Z',
        expires_at: '2027-11-03T12:20:00.000Z',
        active: true,
        cancelled_at: null,
        cancel_reason: null,
        paused_until: null,
        ended_at: null,
        end_reason: null,
        auto_renew: true,
        past_due: false,
        past_due_since: null,
      },
    ],
  });

/** Replace a membership by another membership product, paying its price less the unused part. */
export const UpgradeMembership = z.strictObject({ product_id: Id }).meta({ examples: [{ product_id: 'prd_0mx9qwwkg00007c88693a84f3e898' }] });
export type UpgradeMembership = z.infer<typeof UpgradeMembership>;
