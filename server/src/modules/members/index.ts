export { memberRoutes } from './members.routes.js';
export { selfRoutes } from './self.routes.js';
export { joinThroughLink, settlePendingApplications } from './join.service.js';
export { onboardingStep, leave, removeMember, grantMembership, reviewApplication, memberInviteLink } from './members.service.js';
export { presentMember } from './members.present.js';
export { nicknameRule } from './nickname.js';
export { findMember } from './members.repo.js';
export { UNSTARTED_MEMBER } from './members.repo.js';
