/**
 * What test/github-stand-in.ts remembers: installations and their repositories (bare git
 * repositories on disk, whose refs and commits are read with git itself), users' permissions,
 * the installation tokens it issued, and what Omni did through the API (check runs and their
 * history, reactions, comments, pull requests), plus every request and every violation.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type Permission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

export interface StandInRepository {
  id: number;
  owner: string;
  name: string;
  /** `owner/name`. */
  fullName: string;
  installationId: number;
  defaultBranch: string;
  private: boolean;
  /** The bare repository on disk (served by test/git-http-server.ts). */
  path: string;
}

export interface IssuedToken {
  token: string;
  installationId: number;
  /** Full names (lowercase) the token reaches. */
  repositories: string[];
  expiresAt: number;
}

export interface CheckRun {
  id: number;
  repository: string;
  head_sha: string;
  name: string;
  status: string;
  conclusion: string | null;
  details_url: string | null;
  external_id: string | null;
  started_at: string | null;
  completed_at: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  /** Status and conclusion after the creation and after each update, in order. */
  history: { status: string; conclusion: string | null }[];
}

export interface Reaction {
  id: number;
  repository: string;
  commentId: number;
  content: string;
  user: string;
}

export interface Comment {
  id: number;
  repository: string;
  issueNumber: number;
  body: string;
  user: string;
  /** ISO 8601, as GitHub writes it. */
  created_at: string;
}

export interface PullRequest {
  number: number;
  repository: string;
  title: string;
  body: string | null;
  head: string;
  headSha: string;
  base: string;
  draft: boolean;
  state: 'open' | 'closed';
  /** `owner/name` of the fork the head branch is in, when it is not this repository. */
  fork?: string;
}

/** One request the stand-in answered (never the credential itself). */
export interface RecordedRequest {
  method: string;
  path: string;
  /** `METHOD /template` of the documented operation, or null when none matched. */
  operation: string | null;
  repository: string | null;
  auth: 'jwt' | 'token' | 'none' | 'other';
  body: unknown;
  status: number;
}

/** A request that does not have the shape GitHub's description gives, and why. */
export interface Violation {
  method: string;
  path: string;
  operation: string | null;
  repository: string | null;
  problems: string[];
}

/** A request refused for its credential (missing, expired, not for that repository, ...). */
export interface AuthFailure {
  method: string;
  path: string;
  repository: string | null;
  reason: string;
}

/** A scripted failure: the next `times` calls of `operation` answer `status`. */
export interface Fault {
  operation: string;
  /** Only calls about this repository (`owner/name`), or every call when null. */
  repository: string | null;
  status: number;
  times: number;
  headers: Record<string, string>;
  message: string;
  /**
   * The call is carried out first, and only its answer is replaced by the failure: GitHub did
   * the work, but the caller never heard (a lost answer, or a caller gone before saving it).
   */
  after: boolean;
}

export class StandInState {
  repositories = new Map<string, StandInRepository>();
  /** `owner/name` (lowercase) → login (lowercase) → permission. */
  permissions = new Map<string, Map<string, Permission>>();
  tokens = new Map<string, IssuedToken>();
  checkRuns: CheckRun[] = [];
  reactions: Reaction[] = [];
  comments: Comment[] = [];
  pulls: PullRequest[] = [];
  requests: RecordedRequest[] = [];
  violations: Violation[] = [];
  authFailures: AuthFailure[] = [];
  /** Answers of the stand-in itself that break the description's answer schemas (its own bugs). */
  answerProblems: Violation[] = [];
  faults: Fault[] = [];
  tokenLifetimeSeconds = 3600;
  /** Lifetimes of one installation's tokens, over tokenLifetimeSeconds (tests of the cache). */
  installationTokenLifetimes = new Map<number, number>();
  private nextId = 1000;

  id(): number {
    return this.nextId++;
  }

  /** Forgets what Omni did (records, tokens, faults); repositories and permissions stay. */
  reset(): void {
    this.tokens.clear();
    this.checkRuns = [];
    this.reactions = [];
    this.comments = [];
    this.pulls = [];
    this.requests = [];
    this.violations = [];
    this.authFailures = [];
    this.answerProblems = [];
    this.faults = [];
    this.tokenLifetimeSeconds = 3600;
    this.installationTokenLifetimes.clear();
  }

  lifetimeSeconds(installationId: number): number {
    return this.installationTokenLifetimes.get(installationId) ?? this.tokenLifetimeSeconds;
  }

  /** Revokes every token that reaches `repository` (`owner/name`); how many there were. */
  revokeTokens(repository: string): number {
    let revoked = 0;
    for (const [value, token] of this.tokens) {
      if (token.repositories.includes(repository.toLowerCase())) {
        this.tokens.delete(value);
        revoked += 1;
      }
    }
    return revoked;
  }

  repository(owner: string, name: string): StandInRepository | null {
    return this.repositories.get(`${owner}/${name}`.toLowerCase()) ?? null;
  }

  permission(repository: string, login: string): Permission | null {
    return this.permissions.get(repository.toLowerCase())?.get(login.toLowerCase()) ?? null;
  }

  setPermission(repository: string, login: string, permission: Permission): void {
    const key = repository.toLowerCase();
    const users = this.permissions.get(key) ?? new Map<string, Permission>();
    users.set(login.toLowerCase(), permission);
    this.permissions.set(key, users);
  }

  /** The token, when it was issued here, has not expired and reaches `repository` (`owner/name`). */
  tokenFor(token: string, repository: string | null, now = Date.now()): IssuedToken | null {
    const issued = this.tokens.get(token);
    if (issued === undefined || issued.expiresAt <= now) return null;
    if (repository !== null && !issued.repositories.includes(repository.toLowerCase())) return null;
    return issued;
  }
}

/** Creates the bare repository of `owner/name` under `root`, cloned from `seed` (a path). */
export async function createBareRepository(
  root: string,
  owner: string,
  name: string,
  seed: string,
): Promise<string> {
  const path = join(root, owner, `${name}.git`);
  await mkdir(join(root, owner), { recursive: true });
  await run('git', ['clone', '--quiet', '--bare', '--', seed, path]);
  // Pushes over HTTP (test/git-http-server.ts) go through git http-backend's receive-pack.
  await run('git', ['config', 'http.receivepack', 'true'], { cwd: path });
  return path;
}

/** The commit a full ref (`refs/heads/main`) points at, or null when the ref does not exist. */
export async function refSha(repoPath: string, ref: string): Promise<string | null> {
  try {
    const { stdout } = await run('git', ['show-ref', '--verify', '--hash', '--', ref], {
      cwd: repoPath,
    });
    return stdout.trim() || null;
  } catch {
    return null;
  }
}

/** Whether `sha` names a commit of the repository. */
export async function hasCommit(repoPath: string, sha: string): Promise<boolean> {
  if (!/^[0-9a-f]{40}$/.test(sha)) return false;
  try {
    await run('git', ['cat-file', '-e', `${sha}^{commit}`], { cwd: repoPath });
    return true;
  } catch {
    return false;
  }
}

/** Whether `ancestor` is reachable from `descendant` (no commits of its own to merge). */
export async function isAncestor(repoPath: string, ancestor: string, descendant: string) {
  try {
    await run('git', ['merge-base', '--is-ancestor', ancestor, descendant], { cwd: repoPath });
    return true;
  } catch {
    return false;
  }
}

/**
 * Adds a commit (the same tree as the branch's head, a new message) on top of `branch`, as a
 * push would; the new commit's SHA.
 */
export async function addCommit(repoPath: string, branch: string, message: string) {
  const ref = `refs/heads/${branch}`;
  const parent = await refSha(repoPath, ref);
  if (parent === null) throw new Error(`no branch ${branch}`);
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'Octo Dev',
    GIT_AUTHOR_EMAIL: 'octo-dev@example.com',
    GIT_COMMITTER_NAME: 'Octo Dev',
    GIT_COMMITTER_EMAIL: 'octo-dev@example.com',
  };
  const { stdout } = await run(
    'git',
    ['commit-tree', `${parent}^{tree}`, '-p', parent, '-m', message],
    { cwd: repoPath, env },
  );
  const sha = stdout.trim();
  await run('git', ['update-ref', ref, sha, parent], { cwd: repoPath });
  return sha;
}
