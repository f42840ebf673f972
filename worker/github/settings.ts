/**
 * What an installation's mapping says (`PUT /v1/github/installations/{id}`, stored as JSON in
 * github_installations.settings): which triggers start jobs, and the agent options of those
 * jobs. The defaults are what a new mapping gets when it names none.
 */
import { z } from '@hono/zod-openapi';
import { MAX_AGENT_BUDGET_USD } from '../schemas/jobs.ts';

/** Labels one installation may listen to, and the longest label GitHub allows. */
export const MAX_TRIGGER_LABELS = 20;
const MAX_LABEL_CHARS = 50;

export const GitHubTriggersSchema = z
  .strictObject({
    command: z.boolean().default(true).openapi({
      description: 'A comment on an issue or pull request that starts with `/omni <prompt>`.',
    }),
    mention: z.boolean().default(true).openapi({
      description: "A comment that mentions the App's handle (`@<slug> <prompt>`).",
    }),
    labels: z
      .array(z.string().trim().min(1).max(MAX_LABEL_CHARS))
      .max(MAX_TRIGGER_LABELS)
      .default([])
      .openapi({
        description:
          "Adding one of these labels to an issue starts a job; the issue's title and body are the prompt.",
        example: ['omni'],
      }),
    pull_request_review: z.boolean().default(false).openapi({
      description: 'Review every pull request when it is opened or gets new commits.',
    }),
  })
  .openapi('GitHubTriggers');

export const GitHubAgentOptionsSchema = z
  .strictObject({
    model: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:@/[\]-]{0,99}$/, 'must be a model name or alias')
      .optional(),
    max_turns: z.number().int().min(1).max(200).optional(),
    max_budget_usd: z.number().positive().max(MAX_AGENT_BUDGET_USD).optional(),
    timeout_seconds: z.number().int().positive().optional(),
  })
  .openapi('GitHubAgentOptions');

export const GitHubInstallationSettingsSchema = z.strictObject({
  triggers: GitHubTriggersSchema.default({
    command: true,
    mention: true,
    labels: [],
    pull_request_review: false,
  }),
  agent: GitHubAgentOptionsSchema.default({}),
  open_pull_requests: z.boolean().default(true).openapi({
    description:
      'When an agent job changed files, push them to a new branch and open a pull request.',
  }),
});

export type GitHubTriggers = z.infer<typeof GitHubTriggersSchema>;
export type GitHubAgentOptions = z.infer<typeof GitHubAgentOptionsSchema>;
export type GitHubInstallationSettings = z.infer<typeof GitHubInstallationSettingsSchema>;
