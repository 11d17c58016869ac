export { linkRoutes, presentLink } from './links.routes.js';
export { createLink, insertLink, getUsableLinkByCode, recordVisit, qrSvg, linkUrl, assertUsable } from './links.service.js';
export { findLink, findLinkByCode, findMemberLink, lockLink, type EntryLink } from './links.repo.js';
export { routeThroughLink } from './links.routing.js';
