/** The RFC 9457 problem document every error is answered with. */
import { z } from '@hono/zod-openapi';
import { errorCodes, type ErrorCode } from '../errors.ts';

const codes = Object.keys(errorCodes) as [ErrorCode, ...ErrorCode[]];

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'urn:omni:error:invalid_request' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(codes),
    instance: z.string(),
    request_id: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');
