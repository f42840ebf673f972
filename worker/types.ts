/** Hono's typing of this app: bindings and the per-request variables middleware sets. */
import type { RequestIdVariables } from 'hono/request-id';

/** Who is calling, as established by the auth middleware. */
export interface Caller {
  tenantId: string;
  keyId: string;
}

export interface AppEnv {
  Bindings: Env;
  Variables: RequestIdVariables & { caller: Caller };
}
