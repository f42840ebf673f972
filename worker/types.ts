/** Hono's typing of this app: bindings and the per-request variables middleware sets. */
import type { RequestIdVariables } from 'hono/request-id';
import type { Role } from './db/schema.ts';

/** Who is calling, as established by the auth middleware. */
export interface Caller {
  tenantId: string;
  role: Role;
  /** `key:<key id>` or `user:<subject>`: how the audit log names the caller. */
  actor: string;
  /** The API key used, if the caller authenticated with one. */
  keyId: string | null;
}

export interface AppEnv {
  Bindings: Env;
  Variables: RequestIdVariables & { caller: Caller };
}
