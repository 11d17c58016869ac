export { communityRoutes, presentCommunity } from './communities.routes.js';
export { createCommunity, ensureCommunityBySlug, getCommunity, updateCommunity, setCommunityThreshold, assignStaff } from './communities.service.js';
export { findCommunityById, findCommunityBySlug, findRenewalGraceDays, type Community } from './communities.repo.js';
export { canReachGroup, resolveCommunityActor } from './communities.access.js';
