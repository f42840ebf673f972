/**
 * /v1/members: the roles of people (JWT subjects) in the tenant. Admins and owners may list
 * them; only owners may change or remove one. A membership's role wins over the role claim of
 * the person's JWTs (middleware/auth.ts).
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import {
  deleteMember,
  findMember,
  listMembers,
  upsertMember,
  type MembershipRow,
} from '../db/members.ts';
import { ApiError } from '../errors.ts';
import { audit } from '../lib/audit.ts';
import { refuseLastOwner } from '../lib/last-owner.ts';
import { decodeCursor, encodeCursor } from '../lib/cursor.ts';
import { requireRole } from '../middleware/auth.ts';
import {
  ListMembersQuerySchema,
  MemberListSchema,
  MemberSchema,
  PutMemberBodySchema,
  SubjectParamsSchema,
  type Member,
} from '../schemas/members.ts';
import { authChallenge, problem, scopeChallenge, security } from '../schemas/responses.ts';
import type { AppEnv } from '../types.ts';
import { validationHook } from '../validation.ts';
import { NoQuerySchema } from '../schemas/page.ts';

export const memberRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

memberRoutes.use('*', requireRole('admin'));
memberRoutes.on(['PUT', 'DELETE'], '/*', requireRole('owner'));

function toMember(row: MembershipRow): Member {
  return {
    subject: row.subject,
    role: row.role,
    created_at: new Date(row.createdAt).toISOString(),
    updated_at: new Date(row.updatedAt).toISOString(),
  };
}

const listMembersRoute = createRoute({
  method: 'get',
  path: '/',
  operationId: 'listMembers',
  tags: ['Members'],
  summary: 'List members, newest first',
  security,
  request: { query: ListMembersQuerySchema },
  responses: {
    200: {
      description: 'A page of members',
      content: { 'application/json': { schema: MemberListSchema } },
    },
    400: problem('Invalid query'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
  },
});

memberRoutes.openapi(listMembersRoute, async (c) => {
  const { limit, cursor } = c.req.valid('query');
  const { rows, next } = await listMembers(c.env.DB, c.var.caller.tenantId, {
    limit,
    cursor: cursor ? decodeCursor(cursor) : undefined,
  });
  return c.json({ data: rows.map(toMember), next_cursor: next ? encodeCursor(next) : null }, 200);
});

const putMember = createRoute({
  method: 'put',
  path: '/{subject}',
  operationId: 'setMember',
  tags: ['Members'],
  summary: "Set a member's role",
  description:
    'Adds the member (201) or changes their role (200). A demotion that would leave the tenant without an owner is refused (409).',
  security,
  request: {
    query: NoQuerySchema,
    params: SubjectParamsSchema,
    body: { required: true, content: { 'application/json': { schema: PutMemberBodySchema } } },
  },
  responses: {
    200: { description: 'Changed', content: { 'application/json': { schema: MemberSchema } } },
    201: { description: 'Added', content: { 'application/json': { schema: MemberSchema } } },
    400: problem('Invalid body'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Only owners manage members', scopeChallenge),
    409: problem('The tenant would be left without an owner'),
  },
});

memberRoutes.openapi(putMember, async (c) => {
  const { subject } = c.req.valid('param');
  const { role } = c.req.valid('json');
  const { tenantId } = c.var.caller;
  const before = await findMember(c.env.DB, tenantId, subject);
  const row = await refuseLastOwner(() =>
    upsertMember(c.env.DB, tenantId, subject, role, Date.now()),
  );
  if (before?.role !== role) {
    await audit(c, 'member.role_change', subject, {
      old_role: before?.role ?? null,
      new_role: role,
    });
  }
  return before ? c.json(toMember(row), 200) : c.json(toMember(row), 201);
});

const deleteMemberRoute = createRoute({
  method: 'delete',
  path: '/{subject}',
  operationId: 'removeMember',
  tags: ['Members'],
  summary: 'Remove a member',
  description:
    "The person keeps only what their JWT's role claim gives them; keys they made stop working. Removing the tenant's last owner is refused (409).",
  security,
  request: { params: SubjectParamsSchema, query: NoQuerySchema },
  responses: {
    204: { description: 'Removed' },
    401: problem('No valid credentials', authChallenge),
    403: problem('Only owners manage members', scopeChallenge),
    404: problem('No such member'),
    409: problem('The tenant would be left without an owner'),
  },
});

memberRoutes.openapi(deleteMemberRoute, async (c) => {
  const { subject } = c.req.valid('param');
  const removed = await refuseLastOwner(() =>
    deleteMember(c.env.DB, c.var.caller.tenantId, subject),
  );
  if (!removed) throw new ApiError('not_found', `No member with subject ${subject}.`);
  await audit(c, 'member.remove', subject, { role: removed.role });
  return c.body(null, 204);
});
