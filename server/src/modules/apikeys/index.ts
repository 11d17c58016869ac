export { apiKeyRoutes } from './apikeys.routes.js';
export { createApiKey } from './apikeys.service.js';
