/**
 * Counters tests read to prove what happened to Daytona (`GET /_stats`, `LocalDaytona.stats()`):
 * how many sandboxes were created and exist now, how many of their processes are still alive
 * (found by their DAYTONA_SANDBOX_ID marker, so escaped and orphaned ones count too), and how
 * many session commands were started in each, which is what "started at most once" is about.
 */
import type { CreateSandboxRequest } from './create-sandbox.ts';
import { countMarked } from './proc-scan.ts';
import type { LocalSandboxState } from './sandbox.ts';
import type { SandboxRegistry } from './sandboxes.ts';

/** One sandbox in {@link LocalDaytonaStats}. */
interface SandboxStats {
  name: string;
  /** `destroyed` once deleted, lost or expired. */
  state: LocalSandboxState;
  /** Its processes alive right now (zombies excluded). */
  processesAlive: number;
  /** executeSessionCommand calls that started a command in it. */
  sessionCommands: number;
  /**
   * What its create request asked for of its shape, as sent (a field the request left out is
   * absent, so a test can tell an explicit value from a default). `image` is the Dockerfile
   * of a sandbox created from an image.
   */
  asked: Pick<CreateSandboxRequest, AskedField> & { image?: string };
}

const askedFields = [
  'snapshot',
  'cpu',
  'memory',
  'disk',
  'autoStopInterval',
  'autoArchiveInterval',
  'autoDeleteInterval',
  'networkBlockAll',
  'networkAllowList',
  'domainAllowList',
] as const;
type AskedField = (typeof askedFields)[number];

/** The shape fields of a create request, as it sent them. */
function askedOf(request: CreateSandboxRequest): SandboxStats['asked'] {
  const entries = askedFields
    .filter((field) => request[field] !== undefined)
    .map((field) => [field, request[field]]);
  const asked: SandboxStats['asked'] = Object.fromEntries(entries);
  if (request.buildInfo) asked.image = request.buildInfo.dockerfileContent;
  return asked;
}

/** What `GET /_stats` answers. */
export interface LocalDaytonaStats {
  /** Sandboxes created since the server started. */
  sandboxesCreated: number;
  /** Sandboxes that exist now, whatever their state (not destroyed). */
  sandboxesExisting: number;
  /** Processes of any sandbox alive right now, destroyed sandboxes included. */
  processesAlive: number;
  /** executeSessionCommand calls that started a command, over all sandboxes. */
  sessionCommands: number;
  /** Every sandbox created so far, by id. */
  sandboxes: Record<string, SandboxStats>;
}

/** Reads the counters (scanning /proc once for the process counts). */
export async function collectStats(registry: SandboxRegistry): Promise<LocalDaytonaStats> {
  const all = registry.history();
  const alive = await countMarked(all.map((s) => s.id));
  const sandboxes: Record<string, SandboxStats> = {};
  let processesAlive = 0;
  let sessionCommands = 0;
  for (const sandbox of all) {
    const processes = alive.get(sandbox.id) ?? 0;
    processesAlive += processes;
    sessionCommands += sandbox.sessionCommands;
    sandboxes[sandbox.id] = {
      name: sandbox.spec.name,
      state: sandbox.state,
      processesAlive: processes,
      sessionCommands: sandbox.sessionCommands,
      asked: askedOf(sandbox.request),
    };
  }
  return {
    sandboxesCreated: all.length,
    sandboxesExisting: registry.list().length,
    processesAlive,
    sessionCommands,
    sandboxes,
  };
}
