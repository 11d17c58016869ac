export { workspaceRoutes } from './workspaces.routes.js';
export { createWorkspaceForUser, findOrCreateDefaultWorkspace, findWorkspaceRole, listWorkspacesForUser } from './workspaces.service.js';
