/** Request and response schemas of /v1/members: the roles of people (JWT subjects) in a tenant. */
import { z } from '@hono/zod-openapi';
import { RoleSchema } from './keys.ts';
import { nextCursor, pageQuery } from './page.ts';

export const MemberSchema = z
  .object({
    subject: z.string().openapi({ description: 'The `sub` claim of the person’s JWTs.' }),
    role: RoleSchema,
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi('Member');

export type Member = z.infer<typeof MemberSchema>;

export const MemberListSchema = z
  .object({ data: z.array(MemberSchema), next_cursor: nextCursor })
  .openapi('MemberList');

export const PutMemberBodySchema = z.strictObject({ role: RoleSchema }).openapi('PutMember');

export const SubjectParamsSchema = z.object({
  subject: z
    .string()
    .min(1)
    .max(255)
    // eslint-disable-next-line no-control-regex
    .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters')
    .openapi({ param: { name: 'subject', in: 'path' }, example: 'auth0|5f7c8ec7c33c6c004bbafe82' }),
});

export const ListMembersQuerySchema = z.strictObject(pageQuery);
