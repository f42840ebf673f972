/**
 * The audit log: security-relevant actions with actor, tenant, time, request id and client IP.
 * Written before the action's response is sent, so an action the caller saw is always recorded.
 */
import type { Context } from 'hono';
import { insertAudit, type AuditAction } from '../db/audit.ts';
import type { AppEnv } from '../types.ts';

/** Records `action` on `target` by the request's caller. `details` must hold no secret. */
export async function audit(
  c: Context<AppEnv>,
  action: AuditAction,
  target: string | null,
  details: Record<string, unknown> = {},
): Promise<void> {
  const caller = c.var.caller;
  await insertAudit(c.env.DB, {
    id: `aud_${crypto.randomUUID().replaceAll('-', '')}`,
    tenantId: caller.tenantId,
    time: Date.now(),
    actor: caller.actor,
    action,
    target,
    requestId: c.var.requestId,
    ip: c.req.header('cf-connecting-ip') ?? null,
    details: JSON.stringify(details),
  });
}
