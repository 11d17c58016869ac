export { groupRoutes, presentGroup } from './groups.routes.js';
export { addGroup, createGroup } from './groups.service.js';
export { findGroup, findGroupsByIds, listGroupsOfCommunity, takeSeat, releaseSeat, findGroupByName, occupySeat, type Group } from './groups.repo.js';
