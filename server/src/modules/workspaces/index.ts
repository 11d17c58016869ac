export { workspaceRoutes } from './workspaces.routes.js';
export { createWorkspaceForUser, findWorkspaceRole, listWorkspacesForUser } from './workspaces.service.js';
