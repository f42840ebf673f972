/**
 * The audit log: security-relevant actions with actor, tenant, time, request id and client IP.
 * Written before the action's response is sent, so an action the caller saw is always recorded.
 */
import { drizzle } from 'drizzle-orm/d1';
import type { Context } from 'hono';
import { auditLog } from '../db/schema.ts';
import type { AppEnv } from '../types.ts';

export const auditActions = [
  'key.create',
  'key.rotate',
  'key.revoke',
  'member.role_change',
  'member.remove',
  'job.create',
  'job.cancel',
] as const;
export type AuditAction = (typeof auditActions)[number];

/** Records `action` on `target` by the request's caller. `details` must hold no secret. */
export async function audit(
  c: Context<AppEnv>,
  action: AuditAction,
  target: string | null,
  details: Record<string, unknown> = {},
): Promise<void> {
  const caller = c.var.caller;
  await drizzle(c.env.DB)
    .insert(auditLog)
    .values({
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
