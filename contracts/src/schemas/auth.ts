import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { Name, Timestamp } from './common.js';

const Email = z.email().max(LIMITS.email);
const Password = z
  .string()
  .min(LIMITS.passwordMin, `at least ${LIMITS.passwordMin} characters`)
  .max(LIMITS.passwordMax);

export const Signup = z.strictObject({
  email: Email,
  password: Password,
  name: Name,
  workspace_name: Name.optional().describe('Name of the workspace created for the new account'),
});
export type Signup = z.infer<typeof Signup>;

export const Login = z.strictObject({ email: Email, password: z.string().min(1).max(LIMITS.passwordMax) });
export type Login = z.infer<typeof Login>;

export const ChangePassword = z.strictObject({
  current_password: z.string().min(1).max(LIMITS.passwordMax),
  new_password: Password,
});
export type ChangePassword = z.infer<typeof ChangePassword>;

export const WorkspaceRole = z.enum(['owner', 'admin']);
export type WorkspaceRole = z.infer<typeof WorkspaceRole>;

export const UserOut = z
  .object({ id: z.string(), email: z.string(), name: z.string(), is_install_owner: z.boolean(), created_at: Timestamp })
  .meta({ id: 'User' });

export const WorkspaceOut = z
  .object({ id: z.string(), name: z.string(), role: WorkspaceRole, is_demo: z.boolean(), created_at: Timestamp })
  .meta({ id: 'Workspace' });

export const SessionOut = z
  .object({
    user: UserOut,
    workspaces: z.array(WorkspaceOut),
    csrf_token: z.string().describe('Send as X-CSRF-Token with every cookie-authenticated write'),
  })
  .meta({ id: 'Session' });

export const Logout = z
  .strictObject({ everywhere: z.boolean().default(false).describe('Also sign out every other session of the account') })
  .optional();

export const CreateWorkspace = z.strictObject({ name: Name });
export type CreateWorkspace = z.infer<typeof CreateWorkspace>;
