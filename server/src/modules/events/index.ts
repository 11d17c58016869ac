export { appendEvents, claimEventKeys, releaseEventKeys, insertEvent, listEvents, markRollupHours, markRollupsForRebuild, utcHourOf, type NewEvent } from './events.repo.js';
export { eventRoutes } from './events.routes.js';
