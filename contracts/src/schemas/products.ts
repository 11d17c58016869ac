import { z } from 'zod';
import { Id, Name, Timestamp } from './common.js';
import { LIMITS } from '../limits.js';

export const ProductType = z.enum(['membership', 'course', 'consulting', 'goods', 'event']);
export const MembershipTerm = z.enum(['annual', 'permanent', 'days']);

export const CreateProduct = z
  .strictObject({
    type: ProductType,
    name: Name,
    price_minor: z.number().int().min(0).describe('Price in minor units (fen, cents)'),
    currency: z.string().regex(/^[A-Z]{3}$/).optional().describe('Defaults to the community currency'),
    term: MembershipTerm.optional(),
    term_days: z.number().int().min(1).max(36500).optional(),
    group_ids: z.array(Id).max(LIMITS.listItems).default([]),
    stock: z.number().int().min(0).max(1_000_000_000).optional().describe('Units (goods) or seats (events) for sale; unlimited when absent'),
    trial_of_product_id: Id.optional().describe('Marks this product as a trial of a full product of the same community (trial → renewal rate, 续班率)'),
  })
  .superRefine((p, ctx) => {
    if (p.type === 'membership' && !p.term) ctx.addIssue({ code: 'custom', path: ['term'], message: 'required for memberships' });
    if (p.term === 'days' && !p.term_days) ctx.addIssue({ code: 'custom', path: ['term_days'], message: 'required when term is days' });
  }).meta({
  examples: [
    { type: 'membership', name: '年度会员', price_minor: 19900, currency: 'CNY', term: 'annual' },
    { type: 'event', name: '上海线下读书会·12月', price_minor: 4900, stock: 30 },
  ],
});
export type CreateProduct = z.infer<typeof CreateProduct>;

export const ProductOut = z
  .object({
    id: z.string(),
    community_id: z.string(),
    type: ProductType,
    name: z.string(),
    price_minor: z.number(),
    currency: z.string(),
    term: MembershipTerm.nullable(),
    term_days: z.number().nullable(),
    group_ids: z.array(z.string()),
    stock: z.number().nullable(),
    trial_of_product_id: z.string().nullable(),
    status: z.string(),
    created_at: Timestamp,
  })
  .meta({
    id: 'Product',
    examples: [
      {
        id: 'prd_0mx9qwwkg00007c88693a84f3e898',
        community_id: 'com_0mx9qwwjc000035b3232e876033f1',
        type: 'membership',
        name: '年度会员',
        price_minor: 19900,
        currency: 'CNY',
        term: 'annual',
        term_days: null,
        group_ids: [],
        stock: null,
        trial_of_product_id: null,
        status: 'active',
        created_at: '2026-10-05T16:00:00.000Z',
      },
    ],
  });

export const MembershipOut = z
  .object({
    id: z.string(),
    member_id: z.string(),
    product_id: z.string(),
    source: z.string(),
    starts_at: Timestamp,
    expires_at: Timestamp.nullable(),
    active: z.boolean(),
  })
  .meta({
    id: 'Membership',
    examples: [
      {
        id: 'msp_0mx9qwxn20000c1d0d5b0c1a7e3f2',
        member_id: 'mem_0mx9qwwlh0000b784e09ed60ecb76',
        product_id: 'prd_0mx9qwwkg00007c88693a84f3e898',
        source: 'order',
        starts_at: '2026-11-03T12:20:00.000Z',
        expires_at: '2027-11-03T12:20:00.000Z',
        active: true,
      },
    ],
  });
