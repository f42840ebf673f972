/**
 * One local sandbox: its settings, lifecycle state, host directories, processes and sessions,
 * and its rendering as Daytona's Sandbox DTO.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import type { CreateSandboxRequest } from './create-sandbox.ts';
import { HttpError } from './errors.ts';
import { sandboxFs, type SandboxFs } from './paths.ts';
import { ProcessTracker, sandboxEnv } from './processes.ts';
import { SessionManager } from './sessions.ts';

/** Lifecycle states this server uses (a subset of Daytona's SandboxState). */
export type LocalSandboxState = 'starting' | 'started' | 'stopped' | 'destroyed';

/** Settings fixed (or only changed by explicit API calls) after creation. */
export interface SandboxSpec {
  name: string;
  snapshot: string;
  user: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  public: boolean;
  networkBlockAll: boolean;
  networkAllowList: string | undefined;
  domainAllowList: string | undefined;
  target: string;
  cpu: number;
  gpu: number;
  memory: number;
  disk: number;
  autoStopInterval: number;
  autoArchiveInterval: number;
  autoDeleteInterval: number;
  ttlMinutes: number;
  volumes: CreateSandboxRequest['volumes'];
  buildInfo: CreateSandboxRequest['buildInfo'];
}

/** A sandbox backed by a host directory and host processes. */
export class LocalSandbox {
  readonly id = randomUUID();
  /** Token accepted as DAYTONA_SANDBOX_AUTH_KEY on this sandbox's log websockets. */
  readonly previewToken = randomBytes(24).toString('base64url');
  readonly fs: SandboxFs;
  readonly processes: ProcessTracker;
  readonly sessions: SessionManager;
  readonly spec: SandboxSpec;
  readonly createdAt = new Date();
  state: LocalSandboxState = 'started';
  updatedAt = new Date();
  lastActivityAt = new Date();
  /**
   * Toolbox requests and log websockets in progress. The cloud proxy keeps refreshing activity
   * while a proxied request or websocket is open, so these hold off auto-stop.
   */
  inFlight = 0;
  /** executeSessionCommand calls that started a command (see `GET /_stats`). */
  sessionCommands = 0;
  /** The create request as it was sent, before defaults (see `GET /_stats`). */
  readonly request: CreateSandboxRequest;
  /** The agent CLIs' directory on this sandbox's PATH (agent-tools.ts), or null. */
  readonly toolsDir: string | null;

  constructor(
    root: string,
    spec: Omit<SandboxSpec, 'name'> & { name: string | undefined },
    request: CreateSandboxRequest = {},
    toolsDir: string | null = null,
  ) {
    this.spec = { ...spec, name: spec.name ?? this.id };
    this.request = request;
    this.toolsDir = toolsDir;
    this.fs = sandboxFs(root, this.id);
    this.processes = new ProcessTracker(this.id);
    this.sessions = new SessionManager({
      processes: this.processes,
      workDir: this.fs.workDir,
      stateDir: path.join(this.fs.rootDir, '.daytona', 'sessions'),
      env: () => this.env(),
    });
  }

  /** Environment for a process in this sandbox, plus per-call variables. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return sandboxEnv(
      {
        id: this.id,
        workDir: this.fs.workDir,
        snapshot: this.spec.snapshot,
        env: this.spec.env,
        toolsDir: this.toolsDir,
      },
      extra,
    );
  }

  /** Throws unless the sandbox can serve toolbox requests. */
  assertRunning(): void {
    if (this.state !== 'started') {
      throw new HttpError(400, `Sandbox ${this.id} is not running (state: ${this.state})`);
    }
  }

  /** When the TTL destroys the sandbox, if one is set. */
  autoDestroyAt(): Date | undefined {
    if (this.spec.ttlMinutes <= 0) return undefined;
    return new Date(this.createdAt.getTime() + this.spec.ttlMinutes * 60_000);
  }

  /** The list-item view (SandboxListItem): the DTO without env, volumes and build info. */
  listItem(toolboxProxyUrl: string): Record<string, unknown> {
    const s = this.spec;
    return {
      id: this.id,
      organizationId: ORGANIZATION_ID,
      name: s.name,
      snapshot: s.snapshot,
      user: s.user,
      labels: s.labels,
      public: s.public,
      networkBlockAll: s.networkBlockAll,
      ...(s.networkAllowList !== undefined && { networkAllowList: s.networkAllowList }),
      ...(s.domainAllowList !== undefined && { domainAllowList: s.domainAllowList }),
      target: s.target,
      cpu: s.cpu,
      gpu: s.gpu,
      memory: s.memory,
      disk: s.disk,
      state: this.state,
      desiredState: this.state === 'starting' ? 'started' : this.state,
      recoverable: false,
      backupState: 'None',
      autoStopInterval: s.autoStopInterval,
      autoArchiveInterval: s.autoArchiveInterval,
      autoDeleteInterval: s.autoDeleteInterval,
      ...(this.autoDestroyAt() && { autoDestroyAt: this.autoDestroyAt()?.toISOString() }),
      createdAt: this.createdAt.toISOString(),
      updatedAt: this.updatedAt.toISOString(),
      lastActivityAt: this.lastActivityAt.toISOString(),
      daemonVersion: 'local-daytona',
      runnerId: 'local',
      toolboxProxyUrl,
    };
  }

  /** The full Sandbox DTO as `GET /sandbox/{id}` returns it. */
  dto(toolboxProxyUrl: string): Record<string, unknown> {
    return {
      ...this.listItem(toolboxProxyUrl),
      env: this.spec.env,
      volumes: this.spec.volumes ?? [],
      ...(this.spec.buildInfo && {
        buildInfo: {
          ...this.spec.buildInfo,
          snapshotRef: `local-build-${this.id}`,
          createdAt: this.createdAt.toISOString(),
          updatedAt: this.createdAt.toISOString(),
        },
      }),
    };
  }
}

/** Organisation every local sandbox belongs to (one fixed organisation per process). */
const ORGANIZATION_ID = randomUUID();
