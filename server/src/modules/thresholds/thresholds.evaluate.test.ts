import { describe, expect, it } from 'vitest';
import { Threshold } from '../../../../contracts/src/index.js';
import { evaluateThreshold, type ApplicantFacts } from './thresholds.evaluate.js';

/** Thresholds go through the contract schema, as they do on the API, so defaults are filled in. */
const t = (input: unknown): Threshold => Threshold.parse(input);

const facts = (f: Partial<ApplicantFacts> = {}): ApplicantFacts => ({
  answers: {},
  reviews: {},
  invitedMembers: 0,
  activeProductIds: new Set(),
  ...f,
});

const questionnaire = (extra: Record<string, unknown> = {}) => ({
  type: 'questionnaire',
  questions: [
    { id: 'role', text: '你的职业？' },
    { id: 'city', text: '你在哪个城市？', kind: 'choice', options: ['上海', '北京', '广州'] },
    { id: 'intro', text: '介绍一下自己' },
  ],
  auto_accept: [
    { question_id: 'role', equals: 'founder' },
    { question_id: 'city', one_of: ['上海', '北京'] },
    { question_id: 'intro', min_length: 4 },
  ],
  ...extra,
});

const goodAnswers = { role: 'founder', city: '上海', intro: '我是小明' };

describe('evaluateThreshold: free entry', () => {
  it('no criteria passes as free entry', () => {
    expect(evaluateThreshold(t({}), facts())).toEqual({
      status: 'passed',
      progress: [{ type: 'free', status: 'passed', detail: 'Free entry' }],
      needsReview: false,
    });
  });

  it('an explicit free criterion passes', () => {
    const e = evaluateThreshold(t({ criteria: [{ type: 'free' }] }), facts());
    expect(e.status).toBe('passed');
    expect(e.progress).toEqual([{ type: 'free', status: 'passed', detail: 'Free entry' }]);
    expect(e.needsReview).toBe(false);
  });
});

describe('evaluateThreshold: questionnaire', () => {
  it('missing required answers leave it pending with answered/total counts', () => {
    const th = t({
      criteria: [
        {
          type: 'questionnaire',
          questions: [
            { id: 'a', text: 'Question A' },
            { id: 'b', text: 'Question B' },
            { id: 'c', text: 'Question C', required: false },
            { id: 'd', text: 'Question D' },
          ],
          auto_accept: [{ question_id: 'a', equals: 'yes' }],
        },
      ],
    });
    // a answered; b blank after trimming; c optional and missing; d missing → b and d are missing.
    const e = evaluateThreshold(th, facts({ answers: { a: 'yes', b: '   ' } }));
    expect(e.status).toBe('pending');
    expect(e.needsReview).toBe(false);
    expect(e.progress).toHaveLength(1);
    const p = e.progress[0]!;
    expect(p.status).toBe('pending');
    expect(p.current).toBe(2); // 4 questions − 2 missing
    expect(p.required).toBe(4);
    expect(p.detail).toContain('Question B');
    expect(p.detail).toContain('Question D');
    expect(p.detail).not.toContain('Question A');
    expect(p.detail).not.toContain('Question C');
  });

  it('answers that satisfy every auto-accept rule pass without review (answers are trimmed)', () => {
    const e = evaluateThreshold(t({ criteria: [questionnaire()] }), facts({ answers: { role: ' founder ', city: '北京', intro: '我是小明' } }));
    expect(e.status).toBe('passed');
    expect(e.needsReview).toBe(false);
    expect(e.progress).toEqual([{ type: 'questionnaire', status: 'passed', detail: 'Answers accepted automatically' }]);
  });

  it.each([
    ['equals', { ...goodAnswers, role: 'Founder' }],
    ['one_of', { ...goodAnswers, city: '广州' }],
    ['min_length', { ...goodAnswers, intro: '小明' }],
  ])('a %s mismatch with on_mismatch review goes to review', (_rule, answers) => {
    const e = evaluateThreshold(t({ criteria: [questionnaire()] }), facts({ answers }));
    expect(e.status).toBe('pending');
    expect(e.needsReview).toBe(true);
    expect(e.progress).toEqual([{ type: 'questionnaire', status: 'pending', detail: 'Answers are waiting for review' }]);
  });

  it('min_length counts Unicode characters (code points), not UTF-16 units', () => {
    const th = (min: number) =>
      t({ criteria: [{ type: 'questionnaire', questions: [{ id: 'q', text: 'Q' }], auto_accept: [{ question_id: 'q', min_length: min }], on_mismatch: 'reject' }] });
    // Three emoji: 3 characters, 6 UTF-16 code units.
    const emoji = '😀😀😀';
    expect(evaluateThreshold(th(3), facts({ answers: { q: emoji } })).status).toBe('passed');
    expect(evaluateThreshold(th(4), facts({ answers: { q: emoji } })).status).toBe('failed');
    // Four CJK characters.
    expect(evaluateThreshold(th(4), facts({ answers: { q: '我是小明' } })).status).toBe('passed');
    expect(evaluateThreshold(th(5), facts({ answers: { q: '我是小明' } })).status).toBe('failed');
  });

  it('a mismatch with on_mismatch reject fails without review', () => {
    const e = evaluateThreshold(t({ criteria: [questionnaire({ on_mismatch: 'reject' })] }), facts({ answers: { ...goodAnswers, city: '广州' } }));
    expect(e.status).toBe('failed');
    expect(e.needsReview).toBe(false);
    expect(e.progress).toEqual([{ type: 'questionnaire', status: 'failed', detail: 'Answers do not meet the requirements' }]);
  });

  it('with no auto-accept rules every complete answer set goes to review, even with on_mismatch reject', () => {
    const th = t({ criteria: [questionnaire({ auto_accept: [], on_mismatch: 'reject' })] });
    const e = evaluateThreshold(th, facts({ answers: goodAnswers }));
    expect(e.status).toBe('pending');
    expect(e.needsReview).toBe(true);
  });

  it('a staff decision on the criterion index overrides the automatic rules', () => {
    // The questionnaire is criterion 1, after a free criterion; reviews are keyed by that index.
    const th = t({ criteria: [{ type: 'free' }, questionnaire()] });
    const mismatching = { ...goodAnswers, role: 'student' };
    expect(evaluateThreshold(th, facts({ answers: mismatching, reviews: { '1': 'approved' } }))).toEqual({
      status: 'passed',
      progress: [
        { type: 'free', status: 'passed', detail: 'Free entry' },
        { type: 'questionnaire', status: 'passed', detail: 'Answers approved by staff' },
      ],
      needsReview: false,
    });
    const rejected = evaluateThreshold(th, facts({ answers: goodAnswers, reviews: { '1': 'rejected' } }));
    expect(rejected.status).toBe('failed');
    expect(rejected.progress[1]).toEqual({ type: 'questionnaire', status: 'failed', detail: 'Answers rejected by staff' });
    // A review recorded under another index does not apply.
    const wrongIndex = evaluateThreshold(th, facts({ answers: mismatching, reviews: { '0': 'approved' } }));
    expect(wrongIndex.status).toBe('pending');
    expect(wrongIndex.needsReview).toBe(true);
  });

  it('a staff approval does not stand in for missing answers', () => {
    const e = evaluateThreshold(t({ criteria: [questionnaire()] }), facts({ answers: { role: 'founder' }, reviews: { '0': 'approved' } }));
    expect(e.status).toBe('pending');
    expect(e.progress[0]).toMatchObject({ status: 'pending', current: 1, required: 3 });
  });
});

describe('evaluateThreshold: application, invitation, paid', () => {
  const application = t({ criteria: [{ type: 'application', prompt: 'Why join?' }] });

  it('an application waits for review until staff decide', () => {
    expect(evaluateThreshold(application, facts())).toEqual({
      status: 'pending',
      progress: [{ type: 'application', status: 'pending', detail: 'Application is waiting for review' }],
      needsReview: true,
    });
    expect(evaluateThreshold(application, facts({ reviews: { '0': 'approved' } }))).toEqual({
      status: 'passed',
      progress: [{ type: 'application', status: 'passed', detail: 'Application approved' }],
      needsReview: false,
    });
    expect(evaluateThreshold(application, facts({ reviews: { '0': 'rejected' } }))).toEqual({
      status: 'failed',
      progress: [{ type: 'application', status: 'failed', detail: 'Application rejected' }],
      needsReview: false,
    });
  });

  it('invitation progress counts invitees up to the required number', () => {
    const th = t({ criteria: [{ type: 'invitation', count: 3 }] });
    const at = (n: number) => evaluateThreshold(th, facts({ invitedMembers: n }));
    expect(at(0)).toEqual({
      status: 'pending',
      progress: [{ type: 'invitation', status: 'pending', detail: 'Invite 3 more people who join', current: 0, required: 3 }],
      needsReview: false,
    });
    expect(at(2).status).toBe('pending');
    expect(at(2).progress[0]).toMatchObject({ current: 2, required: 3, detail: 'Invite 1 more people who join' });
    expect(at(3)).toEqual({
      status: 'passed',
      progress: [{ type: 'invitation', status: 'passed', detail: 'Invited 3 members', current: 3, required: 3 }],
      needsReview: false,
    });
    // More invitees than needed: current is capped at the requirement.
    expect(at(7).progress[0]).toMatchObject({ status: 'passed', current: 3, required: 3 });
  });

  it('paid passes when the applicant holds any one of the products', () => {
    const th = t({ criteria: [{ type: 'paid', product_ids: ['prd_gold', 'prd_silver'] }] });
    expect(evaluateThreshold(th, facts({ activeProductIds: new Set(['prd_silver']) }))).toEqual({
      status: 'passed',
      progress: [{ type: 'paid', status: 'passed', detail: 'Membership is active', current: 1, required: 1 }],
      needsReview: false,
    });
    expect(evaluateThreshold(th, facts({ activeProductIds: new Set(['prd_other']) }))).toEqual({
      status: 'pending',
      progress: [{ type: 'paid', status: 'pending', detail: 'Buy one of the required memberships', current: 0, required: 1 }],
      needsReview: false,
    });
    expect(evaluateThreshold(th, facts()).status).toBe('pending');
  });
});

describe('evaluateThreshold: combinations', () => {
  const rejectingQuestionnaire = questionnaire({ on_mismatch: 'reject' });
  const badAnswers = { ...goodAnswers, city: '广州' };

  it('all: passes only when every criterion passed', () => {
    const th = t({ mode: 'all', criteria: [{ type: 'free' }, { type: 'invitation', count: 2 }, { type: 'paid', product_ids: ['prd_a'] }] });
    expect(evaluateThreshold(th, facts({ invitedMembers: 2, activeProductIds: new Set(['prd_a']) })).status).toBe('passed');
    // One of three still pending → pending, not in the review queue (it waits on the applicant).
    const e = evaluateThreshold(th, facts({ invitedMembers: 1, activeProductIds: new Set(['prd_a']) }));
    expect(e.status).toBe('pending');
    expect(e.needsReview).toBe(false);
    expect(e.progress.map((p) => p.status)).toEqual(['passed', 'pending', 'passed']);
  });

  it('all: fails as soon as one criterion failed, even with others pending', () => {
    const th = t({ mode: 'all', criteria: [{ type: 'application' }, rejectingQuestionnaire, { type: 'invitation', count: 5 }] });
    const e = evaluateThreshold(th, facts({ answers: badAnswers }));
    expect(e.status).toBe('failed');
    expect(e.needsReview).toBe(false);
    expect(e.progress.map((p) => p.status)).toEqual(['pending', 'failed', 'pending']);
  });

  it('all: pending with a criterion in review puts the application in the review queue', () => {
    const th = t({ mode: 'all', criteria: [questionnaire(), { type: 'application' }] });
    const e = evaluateThreshold(th, facts({ answers: goodAnswers }));
    expect(e.status).toBe('pending');
    expect(e.needsReview).toBe(true);
    expect(e.progress.map((p) => p.status)).toEqual(['passed', 'pending']);
    expect(evaluateThreshold(th, facts({ answers: goodAnswers, reviews: { '1': 'approved' } })).status).toBe('passed');
  });

  it('any: passes when one criterion passed, even if another failed', () => {
    const th = t({ mode: 'any', criteria: [rejectingQuestionnaire, { type: 'application' }, { type: 'invitation', count: 1 }] });
    const e = evaluateThreshold(th, facts({ answers: badAnswers, invitedMembers: 1 }));
    expect(e.status).toBe('passed');
    expect(e.needsReview).toBe(false);
    expect(e.progress.map((p) => p.status)).toEqual(['failed', 'pending', 'passed']);
  });

  it('any: stays pending while something can still pass', () => {
    const th = t({ mode: 'any', criteria: [rejectingQuestionnaire, { type: 'invitation', count: 2 }] });
    const e = evaluateThreshold(th, facts({ answers: badAnswers, invitedMembers: 1 }));
    expect(e.status).toBe('pending');
    expect(e.needsReview).toBe(false);
    const withReview = evaluateThreshold(t({ mode: 'any', criteria: [rejectingQuestionnaire, { type: 'application' }] }), facts({ answers: badAnswers }));
    expect(withReview.status).toBe('pending');
    expect(withReview.needsReview).toBe(true);
  });

  it('any: fails only when every criterion failed', () => {
    const th = t({ mode: 'any', criteria: [rejectingQuestionnaire, { type: 'application' }] });
    const e = evaluateThreshold(th, facts({ answers: badAnswers, reviews: { '1': 'rejected' } }));
    expect(e.status).toBe('failed');
    expect(e.needsReview).toBe(false);
    expect(e.progress.map((p) => p.status)).toEqual(['failed', 'failed']);
  });

  it('progress keeps the criteria order and carries no internal review flag', () => {
    const th = t({ mode: 'any', criteria: [{ type: 'application' }, questionnaire(), { type: 'paid', product_ids: ['prd_a'] }] });
    const e = evaluateThreshold(th, facts({ answers: { ...goodAnswers, role: 'x' } }));
    expect(e.progress.map((p) => p.type)).toEqual(['application', 'questionnaire', 'paid']);
    for (const p of e.progress) expect(Object.keys(p)).not.toContain('review');
  });
});
