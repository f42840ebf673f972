/**
 * Runtime configuration, parsed from the Worker's bindings with zod. A missing or malformed
 * setting is a ConfigError naming the setting: the HTTP layer answers it with a 503, and the
 * Durable Objects treat it as permanent (retrying cannot fix a setting). Never a crash, never a
 * silent default.
 */
import { z } from 'zod';
import type { SandboxLimits } from './domain/sandbox-shape.ts';
import { outboundUrlProblem } from './lib/hosts.ts';

/** A setting is missing or invalid. Its message names the setting and says what is wrong. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();

const configSchema = z.object({
  ENVIRONMENT: z.enum(['development', 'production']).default('production'),
  DAYTONA_API_URL: z.url({ protocol: /^https?$/ }),
  DAYTONA_API_KEY: z.string().min(1),
  DAYTONA_TARGET: z.string().min(1).default('us'),
  DAYTONA_SNAPSHOT: z.string().min(1).default('omni-sandbox'),
  // Extra labels on every job sandbox, a JSON object of strings (npm run test:live labels its run).
  DAYTONA_SANDBOX_LABELS: z.string().default(''),
  DAYTONA_CALL_TIMEOUT_SECONDS: positiveInt.default(60),
  DAYTONA_RETRY_SECONDS: positiveInt.default(600),
  JOB_POLL_SECONDS: positiveInt.default(5),
  JOB_STALL_SECONDS: positiveInt.default(60),
  REPO_ALLOWED_HOSTS: z.string().default(''),
  JOB_TIMEOUT_SECONDS: positiveInt.default(1800),
  JOB_MAX_TIMEOUT_SECONDS: positiveInt.default(7200),
  TENANT_MAX_RUNNING_JOBS: positiveInt.default(10),
  SENTRY_DSN: z.string().optional(),
  // Where agent CLIs send their Anthropic API calls (docs/agents.md); empty: Anthropic's own.
  ANTHROPIC_BASE_URL: z.string().trim().default(''),
  // Sandbox shapes (docs/projects.md): the defaults must be the size DAYTONA_SNAPSHOT was
  // registered with; DAYTONA_IMAGE (optional) is what sandboxes of other sizes are created from.
  DAYTONA_IMAGE: z
    .string()
    .trim()
    .refine(
      (image) => image === '' || pinnedImage(image),
      'must name an image by a tag (not latest, lts or stable) or a digest, as Daytona requires',
    )
    .default(''),
  SANDBOX_DEFAULT_CPU: positiveInt.default(2),
  SANDBOX_DEFAULT_MEMORY_GIB: positiveInt.default(4),
  SANDBOX_DEFAULT_DISK_GIB: positiveInt.default(8),
  SANDBOX_MAX_CPU: positiveInt.default(4),
  SANDBOX_MAX_MEMORY_GIB: positiveInt.default(8),
  SANDBOX_MAX_DISK_GIB: positiveInt.default(10),
  SANDBOX_AUTO_STOP_MINUTES: positiveInt.default(15),
  SANDBOX_MAX_AUTO_STOP_MINUTES: positiveInt.default(60),
  SANDBOX_AUTO_DELETE_MINUTES: nonNegativeInt.default(0),
  SANDBOX_MAX_AUTO_DELETE_MINUTES: nonNegativeInt.default(60),
});

/** True if `image` has a digest, or a tag that Daytona accepts (it refuses floating ones). */
function pinnedImage(image: string): boolean {
  if (image.includes('@')) return /@sha256:[0-9a-f]{64}$/.test(image);
  const tag = /:([\w][\w.-]{0,127})$/.exec(image.slice(image.lastIndexOf('/') + 1))?.[1];
  return tag !== undefined && !['latest', 'lts', 'stable'].includes(tag);
}

/** The parsed, typed configuration. */
export interface Config {
  environment: 'development' | 'production';
  daytona: {
    apiUrl: string;
    apiKey: string;
    target: string;
    snapshot: string;
    /** Labels every job sandbox carries besides omni.job and omni.tenant (DAYTONA_SANDBOX_LABELS). */
    sandboxLabels: Record<string, string>;
    /** The longest one Daytona call may take (creating a sandbox may take three times this). */
    callTimeoutSeconds: number;
    /** How long a step keeps retrying transient Daytona failures before the job fails. */
    retrySeconds: number;
  };
  /** How often a running command's exit code and sandbox are checked while its log is followed. */
  jobPollSeconds: number;
  /** How long a sandbox or command may be gone (or the sandbox stopped) before the job is `stalled`. */
  jobStallSeconds: number;
  repoAllowedHosts: string[];
  jobTimeoutSeconds: number;
  jobMaxTimeoutSeconds: number;
  tenantMaxRunningJobs: number;
  sentryDsn: string | undefined;
  /** The Anthropic API endpoint agent jobs use; null for Anthropic's default. */
  anthropicBaseUrl: string | null;
  /** Sandbox shapes: the defaults, the operator's limits, the image for other sizes. */
  sandbox: SandboxLimits;
}

const sandboxLabelsSchema = z.record(z.string().min(1), z.string());

/** DAYTONA_SANDBOX_LABELS: '' for none, else a JSON object of string values. */
function parseSandboxLabels(raw: string): Record<string, string> {
  if (raw.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ConfigError('The setting DAYTONA_SANDBOX_LABELS is missing or invalid: not JSON');
  }
  const parsed = sandboxLabelsSchema.safeParse(value);
  if (!parsed.success) {
    throw new ConfigError(
      `The setting DAYTONA_SANDBOX_LABELS is missing or invalid: ${parsed.error.issues[0]?.message ?? 'not an object of strings'}`,
    );
  }
  if (Object.keys(parsed.data).some((key) => key.startsWith('omni.'))) {
    throw new ConfigError(
      'The setting DAYTONA_SANDBOX_LABELS is missing or invalid: omni.* labels are set by Omni itself',
    );
  }
  return parsed.data;
}

/**
 * Parses the Worker's bindings into a {@link Config}.
 * @throws ConfigError naming the first bad setting.
 */
export function loadConfig(env: object): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const setting = issue?.path.join('.') ?? 'unknown';
    throw new ConfigError(`The setting ${setting} is missing or invalid: ${issue?.message ?? ''}`);
  }
  const e = parsed.data;
  checkServiceUrl('DAYTONA_API_URL', e.DAYTONA_API_URL, e.ENVIRONMENT);
  const anthropicBaseUrl = e.ANTHROPIC_BASE_URL === '' ? null : e.ANTHROPIC_BASE_URL;
  if (anthropicBaseUrl !== null) {
    if (!URL.canParse(anthropicBaseUrl)) {
      throw new ConfigError('The setting ANTHROPIC_BASE_URL is missing or invalid: not a URL');
    }
    checkServiceUrl('ANTHROPIC_BASE_URL', anthropicBaseUrl, e.ENVIRONMENT);
  }
  return {
    environment: e.ENVIRONMENT,
    daytona: {
      apiUrl: e.DAYTONA_API_URL,
      apiKey: e.DAYTONA_API_KEY,
      target: e.DAYTONA_TARGET,
      snapshot: e.DAYTONA_SNAPSHOT,
      sandboxLabels: parseSandboxLabels(e.DAYTONA_SANDBOX_LABELS),
      callTimeoutSeconds: e.DAYTONA_CALL_TIMEOUT_SECONDS,
      retrySeconds: e.DAYTONA_RETRY_SECONDS,
    },
    jobPollSeconds: e.JOB_POLL_SECONDS,
    jobStallSeconds: e.JOB_STALL_SECONDS,
    repoAllowedHosts: e.REPO_ALLOWED_HOSTS.split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
    jobTimeoutSeconds: Math.min(e.JOB_TIMEOUT_SECONDS, e.JOB_MAX_TIMEOUT_SECONDS),
    jobMaxTimeoutSeconds: e.JOB_MAX_TIMEOUT_SECONDS,
    tenantMaxRunningJobs: e.TENANT_MAX_RUNNING_JOBS,
    sentryDsn: e.SENTRY_DSN || undefined,
    anthropicBaseUrl,
    sandbox: sandboxLimits(e),
  };
}

/** The sandbox settings; a default above its limit is a ConfigError naming both settings. */
function sandboxLimits(e: z.infer<typeof configSchema>): SandboxLimits {
  const pairs = [
    ['SANDBOX_DEFAULT_CPU', e.SANDBOX_DEFAULT_CPU, 'SANDBOX_MAX_CPU', e.SANDBOX_MAX_CPU],
    [
      'SANDBOX_DEFAULT_MEMORY_GIB',
      e.SANDBOX_DEFAULT_MEMORY_GIB,
      'SANDBOX_MAX_MEMORY_GIB',
      e.SANDBOX_MAX_MEMORY_GIB,
    ],
    [
      'SANDBOX_DEFAULT_DISK_GIB',
      e.SANDBOX_DEFAULT_DISK_GIB,
      'SANDBOX_MAX_DISK_GIB',
      e.SANDBOX_MAX_DISK_GIB,
    ],
    [
      'SANDBOX_AUTO_STOP_MINUTES',
      e.SANDBOX_AUTO_STOP_MINUTES,
      'SANDBOX_MAX_AUTO_STOP_MINUTES',
      e.SANDBOX_MAX_AUTO_STOP_MINUTES,
    ],
    [
      'SANDBOX_AUTO_DELETE_MINUTES',
      e.SANDBOX_AUTO_DELETE_MINUTES,
      'SANDBOX_MAX_AUTO_DELETE_MINUTES',
      e.SANDBOX_MAX_AUTO_DELETE_MINUTES,
    ],
  ] as const;
  for (const [setting, value, maxSetting, max] of pairs) {
    if (value > max) {
      throw new ConfigError(`The setting ${setting} (${value}) is above ${maxSetting} (${max}).`);
    }
  }
  return {
    defaults: {
      cpu: e.SANDBOX_DEFAULT_CPU,
      memoryGiB: e.SANDBOX_DEFAULT_MEMORY_GIB,
      diskGiB: e.SANDBOX_DEFAULT_DISK_GIB,
      autoStopMinutes: e.SANDBOX_AUTO_STOP_MINUTES,
      autoDeleteMinutes: e.SANDBOX_AUTO_DELETE_MINUTES,
      network: 'open',
    },
    max: {
      cpu: e.SANDBOX_MAX_CPU,
      memoryGiB: e.SANDBOX_MAX_MEMORY_GIB,
      diskGiB: e.SANDBOX_MAX_DISK_GIB,
      autoStopMinutes: e.SANDBOX_MAX_AUTO_STOP_MINUTES,
      autoDeleteMinutes: e.SANDBOX_MAX_AUTO_DELETE_MINUTES,
    },
    image: e.DAYTONA_IMAGE || null,
  };
}

/**
 * Throws a ConfigError naming `setting` unless `url` is a service the Worker may call: outside
 * development https only, never this machine (in whatever spelling), never a link-local or
 * metadata address. Private networks are allowed: the setting is the operator's, not a tenant's,
 * and a self-hosted Daytona or identity provider may live there (docs/edge.md).
 */
export function checkServiceUrl(
  setting: string,
  url: string,
  environment: 'development' | 'production',
): void {
  const problem = outboundUrlProblem(new URL(url), {
    development: environment === 'development',
    allowPrivate: true,
  });
  if (problem !== null) throw new ConfigError(`The setting ${setting} ${problem}.`);
}

const watcherSchema = z.object({ JOB_MAX_WATCHERS: positiveInt.default(1000) });

/**
 * How many stream watchers one job accepts (`JOB_MAX_WATCHERS`, default 1000). Parsed on its own,
 * not through loadConfig(), so that opening a stream depends on this setting alone: a missing
 * Daytona setting fails the job's steps, not its watchers.
 * @throws ConfigError if the setting is not a positive integer.
 */
export function jobMaxWatchers(env: object): number {
  const parsed = watcherSchema.safeParse(env);
  if (!parsed.success) {
    const message = parsed.error.issues[0]?.message ?? '';
    throw new ConfigError(`The setting JOB_MAX_WATCHERS is missing or invalid: ${message}`);
  }
  return parsed.data.JOB_MAX_WATCHERS;
}

const retentionSchema = z.object({
  JOB_OUTPUT_RETENTION_DAYS: z.coerce.number().int().nonnegative().default(30),
});

/**
 * Days a finished job's output is kept (`JOB_OUTPUT_RETENTION_DAYS`, default 30; 0 deletes it as
 * soon as the job ends). Parsed on its own, like jobMaxWatchers(), so that deleting expired output
 * depends on this setting alone.
 * @throws ConfigError if the setting is not a whole number of days.
 */
export function jobOutputRetentionDays(env: object): number {
  const parsed = retentionSchema.safeParse(env);
  if (!parsed.success) {
    const message = parsed.error.issues[0]?.message ?? '';
    throw new ConfigError(
      `The setting JOB_OUTPUT_RETENTION_DAYS is missing or invalid: ${message}`,
    );
  }
  return parsed.data.JOB_OUTPUT_RETENTION_DAYS;
}
