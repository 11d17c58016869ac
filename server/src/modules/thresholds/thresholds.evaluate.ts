import type { Criterion, CriterionProgress, Threshold } from '../../../../contracts/src/index.js';

export type Review = 'approved' | 'rejected';

/** What is known about an applicant when their threshold is evaluated. */
export interface ApplicantFacts {
  answers: Record<string, string>;
  /** Staff decisions by criterion index, for criteria that go through review. */
  reviews: Record<string, Review>;
  /** People who joined through the applicant's own invite link. */
  invitedMembers: number;
  /** Products the applicant holds a live membership of. */
  activeProductIds: ReadonlySet<string>;
}

export interface Evaluation {
  status: 'passed' | 'pending' | 'failed';
  progress: CriterionProgress[];
  /** True when some criterion waits for a staff decision: the application is in the review queue. */
  needsReview: boolean;
}

function answersSatisfy(c: Extract<Criterion, { type: 'questionnaire' }>, answers: Record<string, string>): boolean {
  return c.auto_accept.every((rule) => {
    const a = (answers[rule.question_id] ?? '').trim();
    if (rule.equals !== undefined && a !== rule.equals) return false;
    if (rule.one_of !== undefined && !rule.one_of.includes(a)) return false;
    if (rule.min_length !== undefined && [...a].length < rule.min_length) return false;
    return true;
  });
}

export function evaluateCriterion(c: Criterion, index: number, f: ApplicantFacts): CriterionProgress & { review?: boolean } {
  const review = f.reviews[String(index)];
  switch (c.type) {
    case 'free':
      return { type: c.type, status: 'passed', detail: 'Free entry' };
    case 'questionnaire': {
      const missing = c.questions.filter((q) => q.required && !(f.answers[q.id] ?? '').trim());
      if (missing.length) {
        return { type: c.type, status: 'pending', detail: `Answer: ${missing.map((q) => q.text).join('; ')}`, current: c.questions.length - missing.length, required: c.questions.length };
      }
      if (review === 'approved') return { type: c.type, status: 'passed', detail: 'Answers approved by staff' };
      if (review === 'rejected') return { type: c.type, status: 'failed', detail: 'Answers rejected by staff' };
      if (c.auto_accept.length && answersSatisfy(c, f.answers)) return { type: c.type, status: 'passed', detail: 'Answers accepted automatically' };
      if (c.auto_accept.length && c.on_mismatch === 'reject') return { type: c.type, status: 'failed', detail: 'Answers do not meet the requirements' };
      return { type: c.type, status: 'pending', detail: 'Answers are waiting for review', review: true };
    }
    case 'application':
      if (review === 'approved') return { type: c.type, status: 'passed', detail: 'Application approved' };
      if (review === 'rejected') return { type: c.type, status: 'failed', detail: 'Application rejected' };
      return { type: c.type, status: 'pending', detail: 'Application is waiting for review', review: true };
    case 'invitation': {
      const current = Math.min(f.invitedMembers, c.count);
      return current >= c.count
        ? { type: c.type, status: 'passed', detail: `Invited ${c.count} members`, current, required: c.count }
        : { type: c.type, status: 'pending', detail: `Invite ${c.count - current} more people who join`, current, required: c.count };
    }
    case 'paid': {
      const held = c.product_ids.some((id) => f.activeProductIds.has(id));
      return held
        ? { type: c.type, status: 'passed', detail: 'Membership is active', current: 1, required: 1 }
        : { type: c.type, status: 'pending', detail: 'Buy one of the required memberships', current: 0, required: 1 };
    }
  }
}

/**
 * Combines the criteria: `all` passes when every criterion passed and fails as soon as one failed;
 * `any` passes when one passed and fails only when all failed. No criteria means free entry.
 */
export function evaluateThreshold(t: Threshold, f: ApplicantFacts): Evaluation {
  if (t.criteria.length === 0) {
    return { status: 'passed', progress: [{ type: 'free', status: 'passed', detail: 'Free entry' }], needsReview: false };
  }
  const results = t.criteria.map((c, i) => evaluateCriterion(c, i, f));
  const progress = results.map(({ review: _review, ...p }) => p);
  const statuses = progress.map((p) => p.status);
  let status: Evaluation['status'];
  if (t.mode === 'all') {
    status = statuses.includes('failed') ? 'failed' : statuses.every((s) => s === 'passed') ? 'passed' : 'pending';
  } else {
    status = statuses.includes('passed') ? 'passed' : statuses.every((s) => s === 'failed') ? 'failed' : 'pending';
  }
  return { status, progress, needsReview: status === 'pending' && results.some((r) => r.review) };
}
