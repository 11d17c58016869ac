import type { Deps } from '../server/src/lib/deps.js';

/** Configuration shared by the bench's servers and its direct service calls. */
export const BENCH_CONFIG: Deps['config'] = {
  publicUrl: 'http://yutang.bench',
  signup: 'open',
  secret: 'bench-secret-bench-secret-bench-secret!!',
};

/** The member lookup route; the bare baseline serves the same path so that routing work is alike. */
export const MEMBER_PATH = '/api/v1/communities/:communityId/members/:memberId';

export const memberPath = (communityId: string, memberId: string) => `/api/v1/communities/${communityId}/members/${memberId}`;
