/**
 * /v1/me: who the credentials are — their tenant, their role (as capped by the keys above a key,
 * worker/db/key-chain.ts) and where the role comes from — so that a client can show what the
 * caller may do (the web view's cancel button) without trying it.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { roles } from '../db/schema.ts';
import { authChallenge, problem, security } from '../schemas/responses.ts';
import type { AppEnv } from '../types.ts';
import { validationHook } from '../validation.ts';

export const meRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const MeSchema = z
  .object({
    tenant_id: z.string(),
    role: z
      .enum(roles)
      .openapi({ description: 'What the credentials may do, weakest of their grants.' }),
    actor: z.string().openapi({
      description: 'How the audit log names the caller: `key:<id>` or `user:<subject>`.',
      example: 'key:key_0123456789abcdef0123456789abcdef',
    }),
    key_id: z.string().nullable().openapi({ description: 'The API key used, if one was.' }),
    grant: z.enum(['key', 'member', 'claim']).openapi({
      description:
        "Where the role comes from: an API key, a membership, or a JWT's role claim (which only the identity provider can take back).",
    }),
  })
  .openapi('Me');

meRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/',
    operationId: 'getMe',
    tags: ['Identity'],
    summary: 'The caller: tenant, role and where it comes from',
    security,
    responses: {
      200: { description: 'The caller', content: { 'application/json': { schema: MeSchema } } },
      401: problem('No valid credentials', authChallenge),
    },
  }),
  (c) => {
    const caller = c.var.caller;
    return c.json(
      {
        tenant_id: caller.tenantId,
        role: caller.role,
        actor: caller.actor,
        key_id: caller.keyId,
        grant: caller.grant.kind,
      },
      200,
    );
  },
);
