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
  /**
   * Where the role comes from, which is what revoking it means: an API key (capped by the keys
   * above it, `depth` of them; see worker/db/key-chain.ts), a membership, or a JWT's role claim
   * (which only the identity provider can take back).
   */
  grant: Grant;
}

export type Grant = { kind: 'key'; depth: number } | { kind: 'member' } | { kind: 'claim' };

export interface AppEnv {
  Bindings: Env;
  Variables: RequestIdVariables & { caller: Caller };
}
