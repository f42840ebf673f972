/**
 * `POST /api/sandbox` body schema, the cloud's create-time validation rules and the settings
 * (with the cloud's defaults) a sandbox gets from its create request.
 *
 * The schema is loose on purpose: unknown fields are dropped, as the real API tolerates fields
 * newer SDKs add. The rules mirror Daytona's API (sandbox.controller.ts, network-validation.util.ts
 * at v0.190.0) so that a request which would fail in the cloud fails here too.
 */
import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { HttpError } from './errors.ts';
import type { SandboxSpec } from './sandbox.ts';

const nonNegativeInt = z.number().int().nonnegative();

/** The create request as far as this server understands it. */
export const CreateSandboxSchema = z.object({
  name: z.string().min(1).max(255).optional(),
  snapshot: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  env: z.record(z.string(), z.string()).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  public: z.boolean().optional(),
  networkBlockAll: z.boolean().optional(),
  networkAllowList: z.string().optional(),
  domainAllowList: z.string().optional(),
  target: z.string().min(1).optional(),
  cpu: nonNegativeInt.optional(),
  gpu: nonNegativeInt.optional(),
  memory: nonNegativeInt.optional(),
  disk: nonNegativeInt.optional(),
  gpuType: z.array(z.string()).optional(),
  autoStopInterval: z.number().int().optional(),
  autoPauseInterval: z.number().int().optional(),
  autoArchiveInterval: z.number().int().optional(),
  autoDeleteInterval: z.number().int().optional(),
  ttlMinutes: z.number().int().optional(),
  volumes: z.array(z.looseObject({ volumeId: z.string(), mountPath: z.string() })).optional(),
  buildInfo: z
    .object({ dockerfileContent: z.string(), contextHashes: z.array(z.string()).optional() })
    .optional(),
});

/** A parsed create request. */
export type CreateSandboxRequest = z.infer<typeof CreateSandboxSchema>;

/** Resources of Daytona's default snapshots (PLATFORM.md); anything else gets 1/0/1/3. */
const SNAPSHOT_RESOURCES: Record<string, { cpu: number; memory: number; disk: number }> = {
  'daytona-small': { cpu: 1, memory: 1, disk: 3 },
  'daytona-medium': { cpu: 2, memory: 4, disk: 8 },
  'daytona-large': { cpu: 4, memory: 8, disk: 10 },
};

/** Resources a sandbox gets from its snapshot (or the defaults). */
export function snapshotResources(snapshot: string): { cpu: number; memory: number; disk: number } {
  return SNAPSHOT_RESOURCES[snapshot] ?? { cpu: 1, memory: 1, disk: 3 };
}

/** Throws 400 unless `list` is a comma-separated list of at most 10 IPv4 CIDRs. */
function validateNetworkAllowList(list: string): void {
  const networks = list.split(',').map((n) => n.trim());
  for (const network of networks) {
    if (!network) continue;
    const [ip = '', prefix] = network.split('/');
    if (!isIPv4(ip)) {
      throw new HttpError(
        400,
        `Invalid IP address: "${ip}" in network "${network}". Must be a valid IPv4 address`,
      );
    }
    if (!prefix) {
      throw new HttpError(
        400,
        `Invalid network format: "${network}". Missing CIDR prefix length (e.g., /24)`,
      );
    }
    const length = Number(prefix);
    if (!/^\d+$/.test(prefix) || length < 0 || length > 32) {
      throw new HttpError(
        400,
        `Invalid CIDR prefix length: ${network}. Prefix must be between 0 and 32`,
      );
    }
  }
  if (networks.length > 10) {
    throw new HttpError(400, 'Network allow list cannot contain more than 10 networks');
  }
}

const DOMAIN = /^(\*\.)?([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,}$/;

/** Throws 400 unless `list` is a comma-separated list of at most 10 domains. */
function validateDomainAllowList(list: string): void {
  const domains = list.split(',').map((d) => d.trim());
  for (const domain of domains) {
    if (domain && !DOMAIN.test(domain)) {
      throw new HttpError(400, `Invalid domain: "${domain}". Must be a valid domain name`);
    }
  }
  if (domains.length > 10) {
    throw new HttpError(400, 'Domain allow list cannot contain more than 10 domains');
  }
}

/**
 * Applies the cloud's request-level rules. `knownSnapshots` is the server's snapshot list; an
 * absent `snapshot` means the organisation default and is always accepted.
 */
export function validateCreateRequest(req: CreateSandboxRequest, knownSnapshots: string[]): void {
  if (req.buildInfo) {
    if (req.snapshot) {
      throw new HttpError(400, 'Cannot specify a snapshot when using a build info entry');
    }
  } else {
    // Truthiness, not presence, exactly as the API checks it (so `cpu: 0` passes).
    if (req.cpu || req.gpu || req.memory || req.disk) {
      throw new HttpError(400, 'Cannot specify Sandbox resources when using a snapshot');
    }
    if (req.gpuType && req.gpuType.length > 0) {
      throw new HttpError(
        400,
        'Cannot specify GPU type when creating sandbox from snapshot. GPU type is inherited from snapshot.',
      );
    }
    if (req.snapshot !== undefined && !knownSnapshots.includes(req.snapshot)) {
      throw new HttpError(
        400,
        `Snapshot ${req.snapshot} not found. Did you add it through the Daytona Dashboard?`,
      );
    }
  }
  if (req.networkAllowList !== undefined) validateNetworkAllowList(req.networkAllowList);
  if (req.domainAllowList !== undefined) validateDomainAllowList(req.domainAllowList);
  for (const key of ['autoStopInterval', 'autoArchiveInterval', 'ttlMinutes'] as const) {
    const value = req[key];
    if (value !== undefined && value < 0) throw new HttpError(400, `${key} must be non-negative`);
  }
}

/** Snapshot recorded for sandboxes created without one (the organisation default). */
const DEFAULT_SNAPSHOT = 'daytona-small';

/** The settings of a sandbox created by a (validated) request, with the cloud's defaults. */
export function specFromRequest(
  req: CreateSandboxRequest,
): Omit<SandboxSpec, 'name'> & { name: string | undefined } {
  const snapshot = req.snapshot ?? DEFAULT_SNAPSHOT;
  const base = snapshotResources(snapshot);
  return {
    name: req.name,
    snapshot: req.buildInfo ? 'local-build' : snapshot,
    user: req.user ?? 'daytona',
    env: req.env ?? {},
    labels: req.labels ?? {},
    public: req.public ?? false,
    networkBlockAll: req.networkBlockAll ?? false,
    networkAllowList: req.networkAllowList,
    domainAllowList: req.domainAllowList,
    target: req.target ?? 'us',
    cpu: req.cpu || base.cpu,
    gpu: req.gpu ?? 0,
    memory: req.memory || base.memory,
    disk: req.disk || base.disk,
    autoStopInterval: req.autoStopInterval ?? 15,
    autoArchiveInterval: req.autoArchiveInterval || 10080,
    autoDeleteInterval: req.autoDeleteInterval ?? -1,
    ttlMinutes: req.ttlMinutes ?? 0,
    volumes: req.volumes,
    buildInfo: req.buildInfo,
  };
}
