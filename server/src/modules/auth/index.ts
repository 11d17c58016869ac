export { authRoutes, SESSION_COOKIE } from './auth.routes.js';
export { resolveSession, normalizeEmail } from './auth.service.js';
export { findUserByEmail } from './auth.repo.js';
