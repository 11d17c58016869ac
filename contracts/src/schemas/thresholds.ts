import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { Id, ShortText } from './common.js';

export const Question = z.strictObject({
  id: z.string().regex(/^[a-z0-9_]{1,40}$/, 'lowercase letters, digits and underscores'),
  text: ShortText.min(1),
  kind: z.enum(['text', 'choice']).default('text'),
  options: z.array(ShortText).max(LIMITS.listItems).optional(),
  required: z.boolean().default(true),
});

/** An answer satisfies a rule when it equals, is one of, or is at least as long as the rule says. */
export const AutoAcceptRule = z.strictObject({
  question_id: z.string(),
  equals: z.string().optional(),
  one_of: z.array(z.string()).optional(),
  min_length: z.number().int().min(1).max(LIMITS.longText).optional(),
});

export const Criterion = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('free') }),
  z.strictObject({
    type: z.literal('questionnaire'),
    questions: z.array(Question).min(1).max(LIMITS.questions),
    auto_accept: z
      .array(AutoAcceptRule)
      .max(LIMITS.questions)
      .default([])
      .describe('All rules must hold to pass without review; empty means every answer goes to review'),
    on_mismatch: z.enum(['review', 'reject']).default('review'),
  }),
  z.strictObject({ type: z.literal('application'), prompt: ShortText.optional() }),
  z.strictObject({
    type: z.literal('invitation'),
    count: z.number().int().min(1).max(1000),
    invitee_group_ids: z.array(Id).max(LIMITS.listItems).optional()
      .describe('Where the applicant’s invitees are routed; default: groups without their own threshold'),
  }),
  z.strictObject({ type: z.literal('paid'), product_ids: z.array(Id).min(1).max(LIMITS.listItems) }),
]);
export type Criterion = z.infer<typeof Criterion>;

export const Threshold = z
  .strictObject({
    mode: z.enum(['all', 'any']).default('all'),
    criteria: z.array(Criterion).max(LIMITS.criteria).default([]),
  })
  .meta({
    id: 'Threshold',
    examples: [
      {
        mode: 'all',
        criteria: [
          {
            type: 'questionnaire',
            questions: [{ id: 'reason', text: '你为什么想加入读书会？', kind: 'text', required: true }],
            auto_accept: [{ question_id: 'reason', min_length: 6 }],
            on_mismatch: 'review',
          },
        ],
      },
      { mode: 'any', criteria: [{ type: 'invitation', count: 3 }, { type: 'paid', product_ids: ['prd_0mx9qwwkg00007c88693a84f3e898'] }] },
    ],
  });
export type Threshold = z.infer<typeof Threshold>;

export const CriterionProgress = z.object({
  type: z.string(),
  status: z.enum(['passed', 'pending', 'failed']),
  detail: z.string(),
  current: z.number().optional(),
  required: z.number().optional(),
});
export type CriterionProgress = z.infer<typeof CriterionProgress>;
