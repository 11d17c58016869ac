export { appendEvents, insertEvent, listEvents, type NewEvent } from './events.repo.js';
export { eventRoutes } from './events.routes.js';
