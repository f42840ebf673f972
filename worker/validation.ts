/**
 * The zod-openapi validation hook: a failed validation becomes a 400 problem that names each
 * offending field, including fields that are not part of the schema at all.
 */
import type { Hook } from '@hono/zod-openapi';
import type { z } from 'zod';
import { ApiError, type FieldError } from './errors.ts';
import type { AppEnv } from './types.ts';

/** Field-level errors for zod issues, with unknown keys spelled out one by one. */
export function fieldErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  return issues.flatMap((issue) => {
    const base = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: [...base, key].join('.'),
        message: 'is not a known field; remove it',
      }));
    }
    return [{ path: base.join('.') || '(body)', message: issue.message }];
  });
}

/** Passed to OpenAPIHono as `defaultHook`. */
export const validationHook: Hook<unknown, AppEnv, string, unknown> = (result) => {
  if (result.success) return;
  const errors = fieldErrors(result.error.issues);
  const where = result.target === 'json' ? 'body' : result.target;
  const summary = errors
    .slice(0, 5)
    .map((e) => `${e.path}: ${e.message}`)
    .join('; ');
  throw new ApiError('invalid_request', `Invalid request ${where}: ${summary}`, errors);
};
