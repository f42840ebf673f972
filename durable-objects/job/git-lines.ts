/**
 * The git lines of a job started from GitHub (github.ts): the credential settings of the clone
 * (clone.ts) and the push script, with what their output means. Pure, without Workers types, so
 * they also run for real under Node (test/node/job-git-scripts.test.ts).
 *
 * The installation token reaches git only through the process environment of the clone or push
 * command ({@link GIT_TOKEN_VAR}), read by a credential helper given on git's command line:
 *
 * - `credential.helper=` first: an empty value clears every helper read before it (system,
 *   global, and the repository's own config, which the agent may have written), and the command
 *   line is read last;
 * - then a helper scoped to the repository's origin (`credential.<origin>.helper`), so git hands
 *   the token to that host alone, even if the repository's config rewrites the push URL
 *   (`url.<base>.insteadOf`) to somewhere else;
 * - the helper prints `username=x-access-token` and `password=$OMNI_GIT_TOKEN`: the command's
 *   text, which Daytona lists and logs, names the variable, never the value.
 *
 * The push runs after the agent, in a checkout the agent could change: the token is moved out of
 * the environment at the script's start and given to `git push` alone, with the repository's
 * hooks and fsmonitor switched off, so no program the checkout names runs with it.
 */
import { MASK } from './mask.ts';
import { shellQuote, shellWords } from './shell.ts';

/** The environment variable the installation token is passed in, to the clone and the push. */
export const GIT_TOKEN_VAR = 'OMNI_GIT_TOKEN';

/** Who the push's commit is by. */
export const COMMIT_AUTHOR = { name: 'Omni', email: 'omni@users.noreply.github.com' } as const;

/** The helper: answers `get` with the token from the environment (git runs it with `sh -c`). */
const CREDENTIAL_HELPER = `!f() { test "$1" = get || return 0; echo username=x-access-token; echo "password=$${GIT_TOKEN_VAR}"; }; f`;

/**
 * The `git -c` settings that make git authenticate to the origin of `url` (and nowhere else)
 * with the token in $OMNI_GIT_TOKEN.
 */
export function credentialSettings(url: string): string[] {
  return ['credential.helper=', `credential.${new URL(url).origin}.helper=${CREDENTIAL_HELPER}`];
}

/** `git -c` settings of every git command of the push script: no program of the checkout runs. */
const SAFE_GIT = ['core.hooksPath=/dev/null', 'core.fsmonitor=false'];

/**
 * No redirects (they also stop dumb-HTTP `http-alternates`), and the protocols git may use:
 * https only, http and file too in development (clone.ts).
 */
export function protocolSettings(development: boolean): string[] {
  const protocols = development ? ['https', 'http', 'file'] : ['https'];
  return [
    'http.followRedirects=false',
    'protocol.allow=never',
    ...protocols.map((p) => `protocol.${p}.allow=always`),
  ];
}

/** What to push, from where, and to which branch. */
export interface PushSpec {
  /** The repository's clone URL (the job's repoUrl). */
  url: string;
  /** The branch to create (`refs/heads/<branch>`). */
  branch: string;
  /** The checkout directory, relative to the sandbox's working directory. */
  dir: string;
  /** The commit message. */
  message: string;
  development: boolean;
}

/** The environment of the push command, besides the token: the commit's author and committer. */
export const PUSH_ENV: Record<string, string> = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: COMMIT_AUTHOR.name,
  GIT_AUTHOR_EMAIL: COMMIT_AUTHOR.email,
  GIT_COMMITTER_NAME: COMMIT_AUTHOR.name,
  GIT_COMMITTER_EMAIL: COMMIT_AUTHOR.email,
};

/** Starts the push script's last line: `<marker>none`, or `<marker><sha> <changed files>`. */
const PUSH_MARKER = 'omni-push: ';

/** Where the push script keeps the commit the job started from (inside the checkout's .git). */
const BASE_FILE = '.git/omni-push-base';

/**
 * The shell line that commits the checkout's changes (if some) and pushes them to a new branch.
 * Safe to run again after an interrupted run: the commit the job started from is written once
 * (the branch the checkout tracks, or HEAD at the first run), a commit is only made while the
 * work tree has changes, and a second push of the same commit changes nothing. Commits the agent
 * made itself are pushed too. Prints `omni-push: none` when there is nothing to push.
 */
export function pushCommand(spec: PushSpec): string {
  // `tail` is appended as it is: the shell variables of the script.
  const git = (settings: string[], args: string[], tail = '') =>
    `git ${shellWords([...[...SAFE_GIT, ...settings].flatMap((s) => ['-c', s]), ...args])}${tail}`;
  const push = git(
    [...protocolSettings(spec.development), ...credentialSettings(spec.url)],
    ['push', '--no-verify', '--porcelain', '--', spec.url, `HEAD:refs/heads/${spec.branch}`],
  );
  return [
    `cd ${shellQuote(spec.dir)} || exit 1`,
    // The token stays in this shell's memory only: git push alone gets it back.
    `token="$${GIT_TOKEN_VAR}"`,
    `unset ${GIT_TOKEN_VAR}`,
    `if [ ! -f ${BASE_FILE} ]; then { ${git([], ['rev-parse', '-q', '--verify', '@{upstream}'])} || ${git([], ['rev-parse', 'HEAD'])}; } > ${BASE_FILE}.tmp && mv ${BASE_FILE}.tmp ${BASE_FILE} || exit 1; fi`,
    `base=$(cat ${BASE_FILE}) || exit 1`,
    `changes=$(${git([], ['status', '--porcelain'])}) || exit 1`,
    `if [ -n "$changes" ]; then ${git([], ['add', '-A'])} && ${git([], ['commit', '-q', '--no-verify', '-m', spec.message])} || exit 1; fi`,
    `head=$(${git([], ['rev-parse', 'HEAD'])}) || exit 1`,
    `if [ "$head" = "$base" ]; then echo '${PUSH_MARKER}none'; exit 0; fi`,
    `files=$(${git([], ['diff', '--name-only', '-z'], ' "$base" "$head"')} | tr -cd '\\000' | wc -c)`,
    `${GIT_TOKEN_VAR}="$token" ${push} || exit $?`,
    `echo "${PUSH_MARKER}$head $files"`,
  ].join('; ');
}

/** What the push script reported: nothing to push, or the commit pushed. */
export type PushOutcome =
  { pushed: false } | { pushed: true; commitSha: string; changedFiles: number };

/** Reads the push script's last line; null if it printed none (it did not get that far). */
export function pushOutcome(output: string): PushOutcome | null {
  const lines = output.split(/\r?\n/).filter((l) => l.startsWith(PUSH_MARKER));
  const last = lines.at(-1)?.slice(PUSH_MARKER.length).trim();
  if (last === undefined) return null;
  if (last === 'none') return { pushed: false };
  const match = /^([0-9a-f]{40,64}) +(\d+)$/.exec(last);
  if (!match?.[1] || !match[2]) return null;
  return { pushed: true, commitSha: match[1], changedFiles: Number(match[2]) };
}

/** A git step of a GitHub job failed, or its token could not be had; `transient`: try again. */
export class GitHubStepFailed extends Error {
  readonly transient: boolean;

  constructor(message: string, transient: boolean) {
    super(message);
    this.name = 'GitHubStepFailed';
    this.transient = transient;
  }
}

/** Failures of the network or the server, which may pass (and a lock an earlier run still holds). */
const TRANSIENT_PUSH =
  /returned error: (?:5\d\d|429|408)|Could not resolve host|Failed to connect|Couldn't connect|Connection (?:timed out|reset|refused)|Operation timed out|early EOF|RPC failed|unexpected disconnect|Empty reply|transfer closed|SSL_ERROR_SYSCALL|recv error|index\.lock/i;

/** The longest message kept of a failed push. */
export const MAX_PUSH_ERROR_CHARS = 1000;

/** What a failed push script (exit code, combined output) means, in git's own words. */
export function pushFailure(exitCode: number, output: string): GitHubStepFailed {
  const said = output
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '' && !l.startsWith(PUSH_MARKER))
    .join(' ')
    .slice(-MAX_PUSH_ERROR_CHARS);
  const git = said === '' ? `git exited with ${exitCode}` : `git: ${said}`;
  if (/\[rejected\]|non-fast-forward|already exists|fetch first/i.test(output)) {
    return new GitHubStepFailed(`the branch exists on GitHub with other commits (${git})`, false);
  }
  if (
    /Authentication failed|returned error: 40[13]|Permission to .* denied|could not read (?:Username|Password)/i.test(
      output,
    )
  ) {
    return new GitHubStepFailed(
      `GitHub refused the installation's token for the push: the App needs write access to the repository's contents (${git})`,
      false,
    );
  }
  return new GitHubStepFailed(git, exitCode !== -1 && TRANSIENT_PUSH.test(output));
}

/** `text` with every occurrence of each of `tokens` replaced by `***`. */
export function maskTokens(text: string, tokens: readonly string[]): string {
  return tokens.filter((t) => t.length > 0).reduce((out, t) => out.replaceAll(t, MASK), text);
}
