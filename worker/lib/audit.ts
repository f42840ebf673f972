/**
 * The audit log: security-relevant actions with actor, tenant, time, request id and client IP.
 * Written before the action's response is sent, so an action the caller saw is always recorded.
 */
import type { Context } from 'hono';
import { insertAudit, type AuditAction } from '../db/audit.ts';
import type { AppEnv } from '../types.ts';

/** Who did an action, outside of a request too (GitHub's deliveries name no API caller). */
export interface AuditSource {
  tenantId: string;
  /** `key:<id>`, `user:<subject>`, `github:<login>`. */
  actor: string;
  /** The request's id, or what stands for it (a GitHub delivery id). */
  requestId: string;
  ip: string | null;
}

/** Records `action` on `target` by `source`. `details` must hold no secret. */
export async function auditAs(
  d1: D1Database,
  source: AuditSource,
  action: AuditAction,
  target: string | null,
  details: Record<string, unknown> = {},
): Promise<void> {
  await insertAudit(d1, {
    id: `aud_${crypto.randomUUID().replaceAll('-', '')}`,
    ...source,
    time: Date.now(),
    action,
    target,
    details: JSON.stringify(details),
  });
}

/** Records `action` on `target` by the request's caller. `details` must hold no secret. */
export async function audit(
  c: Context<AppEnv>,
  action: AuditAction,
  target: string | null,
  details: Record<string, unknown> = {},
): Promise<void> {
  const caller = c.var.caller;
  const ip = c.req.header('cf-connecting-ip') ?? null;
  const source = { tenantId: caller.tenantId, actor: caller.actor, requestId: c.var.requestId, ip };
  await auditAs(c.env.DB, source, action, target, details);
}
