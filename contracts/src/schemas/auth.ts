import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { exampleOf, Name, Timestamp } from './common.js';

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
}).meta({ examples: [{ email: 'lin.xiaoyu@example.com', password: 'correct horse battery', name: '林小雨', workspace_name: '小雨的鱼塘' }] });
export type Signup = z.infer<typeof Signup>;

export const Login = z.strictObject({ email: Email, password: z.string().min(1).max(LIMITS.passwordMax) }).meta({ examples: [{ email: 'lin.xiaoyu@example.com', password: 'correct horse battery' }] });
export type Login = z.infer<typeof Login>;

export const ChangePassword = z.strictObject({
  current_password: z.string().min(1).max(LIMITS.passwordMax),
  new_password: Password,
}).meta({ examples: [{ current_password: 'correct horse battery', new_password: '一起读书 staple battery' }] });
export type ChangePassword = z.infer<typeof ChangePassword>;

export const WorkspaceRole = z.enum(['owner', 'admin']);
export type WorkspaceRole = z.infer<typeof WorkspaceRole>;

export const UserOut = z
  .object({ id: z.string(), email: z.string(), name: z.string(), is_install_owner: z.boolean(), created_at: Timestamp })
  .meta({
    id: 'User',
    examples: [
      {
        id: 'usr_0mx9qwwi300003079905684b9a7a2',
        email: 'lin.xiaoyu@example.com',
        name: '林小雨',
        is_install_owner: true,
        created_at: '2026-12-05T01:40:27.915Z',
      },
    ],
  });

export const WorkspaceOut = z
  .object({ id: z.string(), name: z.string(), role: WorkspaceRole, is_demo: z.boolean(), created_at: Timestamp })
  .meta({ id: 'Workspace', examples: [{ id: 'ws_0mx9qwwjb0000994c27b78e6b63bc', name: '演示工作区 Demo', role: 'owner', is_demo: true, created_at: '2026-10-05T16:00:00.000Z' }] });

export const SessionOut = z
  .object({
    user: UserOut,
    workspaces: z.array(WorkspaceOut),
    csrf_token: z.string().describe('Send as X-CSRF-Token with every cookie-authenticated write'),
  })
  .meta({ id: 'Session', examples: [{ user: exampleOf(UserOut), workspaces: [exampleOf(WorkspaceOut)], csrf_token: '7mJ8JW3R6mjiuVYH-4pHbXdblBCUlqBG' }] });

export const Logout = z
  .strictObject({ everywhere: z.boolean().default(false).describe('Also sign out every other session of the account') })
  .optional()
  .meta({ examples: [{ everywhere: false }] });

export const CreateWorkspace = z.strictObject({ name: Name }).meta({ examples: [{ name: '杭州读书会工作区' }] });
export type CreateWorkspace = z.infer<typeof CreateWorkspace>;
