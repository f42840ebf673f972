/**
 * The shape of a job's sandbox: its size, its automatic lifecycle and its network policy. A
 * project may set some of it (the rest comes from the operator's defaults), always within the
 * operator's limits (worker/config.ts); the shape is resolved once, when a job is created, and
 * travels with the job to the Job DO, which passes it to Daytona at create (docs/projects.md).
 * Pure functions and zod schemas only, so the Worker and the Job DO both use them.
 */
import { z } from 'zod';

/** Daytona's limit on `networkAllowList` entries (network-validation.util.ts). */
export const MAX_NETWORK_CIDRS = 10;

/** An IPv4 CIDR as Daytona's `networkAllowList` takes it: four decimal octets and a /0-32 prefix. */
const CIDR =
  /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(?:3[0-2]|[12]?\d)$/;

export const cidrSchema = z.string().regex(CIDR, 'must be an IPv4 CIDR such as 10.0.0.0/8');

/**
 * Where the sandbox may connect: everywhere (`open`), nowhere (`block_all`), or only to the IPv4
 * networks of an allow-list.
 */
export const networkPolicySchema = z.union([
  z.literal('open'),
  z.literal('block_all'),
  z.strictObject({ allowList: z.array(cidrSchema).min(1).max(MAX_NETWORK_CIDRS) }),
]);
export type NetworkPolicy = z.infer<typeof networkPolicySchema>;

/** A resolved shape: every field set. Sizes are whole vCPUs and GiB, intervals minutes. */
export const sandboxShapeSchema = z.object({
  cpu: z.number().int().positive(),
  memoryGiB: z.number().int().positive(),
  diskGiB: z.number().int().positive(),
  /** Minutes without activity before Daytona stops the sandbox (never 0: that disables it). */
  autoStopMinutes: z.number().int().positive(),
  /** Minutes after a stop before Daytona deletes the sandbox (0: at once). */
  autoDeleteMinutes: z.number().int().nonnegative(),
  network: networkPolicySchema,
});
export type SandboxShape = z.infer<typeof sandboxShapeSchema>;

/** What a project sets: every field optional, the operator's default applies to the rest. */
export const projectSandboxSchema = sandboxShapeSchema.partial();
export type ProjectSandbox = z.infer<typeof projectSandboxSchema>;

/** The operator's settings for sandboxes: defaults, limits, and how sizes reach Daytona. */
export interface SandboxLimits {
  /** What a job gets when its project sets nothing. */
  defaults: SandboxShape;
  /** The most a project may ask for. */
  max: Pick<
    SandboxShape,
    'cpu' | 'memoryGiB' | 'diskGiB' | 'autoStopMinutes' | 'autoDeleteMinutes'
  >;
  /**
   * The image sandboxes of another size than the snapshot's are created from, or null. Daytona
   * refuses resources on a sandbox created from a snapshot: a snapshot's size is the one it was
   * registered with, which the defaults must describe.
   */
  image: string | null;
}

/** The settings names behind each limited field, for messages that tell what to change. */
const limitSettings = {
  cpu: 'SANDBOX_MAX_CPU',
  memoryGiB: 'SANDBOX_MAX_MEMORY_GIB',
  diskGiB: 'SANDBOX_MAX_DISK_GIB',
  autoStopMinutes: 'SANDBOX_MAX_AUTO_STOP_MINUTES',
  autoDeleteMinutes: 'SANDBOX_MAX_AUTO_DELETE_MINUTES',
} as const;

/** The API's names of the shape's fields (snake_case, as requests and answers spell them). */
export const apiFieldNames = {
  cpu: 'cpu',
  memoryGiB: 'memory_gib',
  diskGiB: 'disk_gib',
  autoStopMinutes: 'auto_stop_minutes',
  autoDeleteMinutes: 'auto_delete_minutes',
  network: 'network',
} as const;

/** The project's shape with the operator's defaults filled in. */
export function resolveShape(project: ProjectSandbox | null, limits: SandboxLimits): SandboxShape {
  return { ...limits.defaults, ...stripUndefined(project ?? {}) };
}

function stripUndefined(sandbox: ProjectSandbox): ProjectSandbox {
  return Object.fromEntries(Object.entries(sandbox).filter(([, v]) => v !== undefined));
}

/** True when the shape's size is the snapshot's: the sandbox is created from the snapshot. */
export function fitsSnapshot(shape: SandboxShape, limits: SandboxLimits): boolean {
  const d = limits.defaults;
  return shape.cpu === d.cpu && shape.memoryGiB === d.memoryGiB && shape.diskGiB === d.diskGiB;
}

/** One reason a shape is refused: the field (API name, under `prefix`) and what is wrong. */
export interface ShapeProblem {
  path: string;
  message: string;
}

/**
 * Why `shape` (resolved) is not allowed under `limits`, or an empty list: a value above the
 * operator's limit (naming the setting), or a size other than the snapshot's when no image is
 * configured to create such a sandbox from.
 */
export function shapeProblems(
  shape: SandboxShape,
  limits: SandboxLimits,
  prefix = 'sandbox',
): ShapeProblem[] {
  const problems: ShapeProblem[] = [];
  for (const field of Object.keys(limitSettings) as Array<keyof typeof limitSettings>) {
    if (shape[field] > limits.max[field]) {
      problems.push({
        path: `${prefix}.${apiFieldNames[field]}`,
        message: `must be at most ${limits.max[field]} (the operator's limit ${limitSettings[field]})`,
      });
    }
  }
  if (problems.length === 0 && limits.image === null && !fitsSnapshot(shape, limits)) {
    const d = limits.defaults;
    problems.push({
      path: prefix,
      message: `must keep the snapshot's size (${d.cpu} vCPU, ${d.memoryGiB} GiB memory, ${d.diskGiB} GiB disk): other sizes need the operator setting DAYTONA_IMAGE`,
    });
  }
  return problems;
}

/** The network policy as Daytona's create parameters take it. */
export function daytonaNetwork(network: NetworkPolicy): {
  networkBlockAll: boolean;
  networkAllowList?: string;
} {
  if (network === 'open') return { networkBlockAll: false };
  if (network === 'block_all') return { networkBlockAll: true };
  return { networkBlockAll: false, networkAllowList: network.allowList.join(',') };
}
