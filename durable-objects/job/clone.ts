/**
 * The clone step: the git command line run in the sandbox, and what its failure means.
 *
 * The clone runs as the git CLI through Daytona's one-shot process API, not through the SDK's
 * `git.clone`: that one is carried out by Daytona's sandbox daemon with go-git, which follows
 * HTTP redirects and never reads /etc/gitconfig, so the image's `http.followRedirects=false` did
 * not apply to it and an allowed host could redirect the clone elsewhere. Here git is told on the
 * command line (which overrides every config file):
 *
 * - `http.followRedirects=false`: a redirect fails the clone (this also disables dumb-HTTP
 *   `http-alternates`, which git treats like redirects);
 * - `protocol.allow=never` with https alone allowed (http and file too in development): no
 *   `ext::`, `ssh`, `git://` or local paths, whatever the URL or a submodule says;
 * - `--` before the URL, every word shell-quoted, the ref only through `--branch`;
 * - GIT_TERMINAL_PROMPT=0: a repository that asks for credentials fails instead of waiting.
 *
 * git does not print where a refused redirect pointed, so the line records git's HTTP headers
 * (GIT_TRACE_CURL, without data) in a temporary file and, on failure, prints the first
 * `Location` it received after a marker; the file is removed either way.
 */
import { credentialSettings, protocolSettings } from './git-lines.ts';
import { shellWords } from './shell.ts';

/** What to clone, where, and whether the development protocols are allowed. */
export interface CloneSpec {
  url: string;
  /** A branch or tag (worker/schemas/jobs.ts allows nothing else), or null for the default. */
  ref: string | null;
  /** The checkout directory, relative to the sandbox's working directory. */
  dir: string;
  /** ENVIRONMENT=development: http:// and file:// repositories are allowed too. */
  development: boolean;
  /**
   * A job from GitHub: git authenticates with the installation token the command's environment
   * holds (github.ts: credentialSettings), never written in the line itself.
   */
  authenticated?: boolean;
}

/**
 * Environment of the clone command (an authenticated clone adds the token, github.ts). Git's
 * traces leave out the Authorization header (GIT_TRACE_REDACT, git's default, set all the same).
 */
export const CLONE_ENV: Record<string, string> = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_TRACE_REDACT: '1',
};

/** Starts the line that names the Location of a refused redirect. */
const REDIRECT_MARKER = 'omni-clone-redirect: ';

/** The shell line that clones `spec.url` into `spec.dir`; its exit code is git's. */
export function cloneCommand(spec: CloneSpec): string {
  const settings = [
    ...protocolSettings(spec.development),
    ...(spec.authenticated === true ? credentialSettings(spec.url) : []),
  ];
  const git = [
    'git',
    ...settings.flatMap((s) => ['-c', s]),
    'clone',
    ...(spec.ref === null ? [] : ['--branch', spec.ref]),
    '--',
    spec.url,
    spec.dir,
  ];
  return [
    'trace=$(mktemp) || exit 1',
    `GIT_TRACE_CURL="$trace" GIT_TRACE_CURL_NO_DATA=1 ${shellWords(git)}`,
    'status=$?',
    `if [ "$status" -ne 0 ]; then grep -i -m 1 '<= Recv header: location:' "$trace" | sed 's/^.*<= Recv header: [^:]*: */${REDIRECT_MARKER}/'; fi`,
    'rm -f "$trace"',
    'exit "$status"',
  ].join('; ');
}

/** The clone failed; `transient` when trying again later may succeed (a network failure). */
export class CloneFailed extends Error {
  readonly transient: boolean;

  constructor(message: string, transient: boolean) {
    super(message);
    this.name = 'CloneFailed';
    this.transient = transient;
  }
}

/** Failures of the network or the server, which may pass. */
const TRANSIENT =
  /returned error: (?:5\d\d|429|408)|Could not resolve host|Failed to connect|Couldn't connect|Connection (?:timed out|reset|refused)|Operation timed out|early EOF|RPC failed|unexpected disconnect|Empty reply|transfer closed|SSL_ERROR_SYSCALL|recv error/i;

/** Where a redirect pointed, as the repository URL git would have used next. */
function redirectTarget(location: string, url: string): string | null {
  // The server chose these bytes: no control characters into the job's error message.
  const cleaned = [...location]
    .filter((c) => c >= ' ' && c !== '\x7f')
    .join('')
    .trim();
  if (cleaned === '') return null;
  try {
    const asked = `${url.replace(/\/+$/, '')}/info/refs?service=git-upload-pack`;
    const target = new URL(cleaned, asked).href;
    return target.replace(/\/info\/refs(?:\?service=git-upload-pack)?$/, '').slice(0, 500);
  } catch {
    return cleaned.slice(0, 500);
  }
}

/**
 * What a failed clone (exit code `exitCode`, combined output `output`) means: a redirect, an
 * unknown repository or ref, or a demand for credentials is permanent and the message says what
 * to fix; a network failure is transient; everything else is permanent, with git's own words.
 */
export function cloneFailure(exitCode: number, output: string, spec: CloneSpec): CloneFailed {
  const lines = output.split(/\r?\n/);
  const location = lines.find((l) => l.startsWith(REDIRECT_MARKER))?.slice(REDIRECT_MARKER.length);
  const said = lines
    .filter((l) => l.trim() !== '' && !l.startsWith(REDIRECT_MARKER) && !/^Cloning into/.test(l))
    .join(' ')
    .slice(-1000);
  const git = said === '' ? `git exited with ${exitCode}` : `git: ${said}`;
  const permanent = (advice: string) => new CloneFailed(`${advice} (${git})`, false);
  const redirect = /returned error: 3\d\d/.exec(output);
  if (redirect || location !== undefined) {
    const target = location === undefined ? null : redirectTarget(location, spec.url);
    return permanent(
      target === null
        ? 'the repository answered with a redirect; use its final URL instead'
        : `the repository answered with a redirect to ${target}; use its final URL instead`,
    );
  }
  if (spec.ref !== null && /Remote branch .* not found|couldn't find remote ref/i.test(output)) {
    return permanent(`the repository has no branch or tag ${spec.ref}`);
  }
  if (
    /could not read (?:Username|Password)|terminal prompts disabled|Authentication failed|returned error: 40[13]/i.test(
      output,
    )
  ) {
    if (spec.authenticated === true) {
      return permanent(
        "GitHub refused the installation's token for the repository: the App must be installed on it with read access to its contents",
      );
    }
    return permanent(
      'the repository asks for credentials: it is private or does not exist, and only public repositories can be cloned',
    );
  }
  if (
    /repository '.*' not found|does not appear to be a git repository|returned error: 404|returned error: 410/i.test(
      output,
    )
  ) {
    return permanent('the repository was not found; check its URL');
  }
  if (/transport '.*' not allowed/i.test(output)) {
    return permanent('git refused the protocol of the URL');
  }
  if (exitCode !== -1 && TRANSIENT.test(output)) return new CloneFailed(git, true);
  return new CloneFailed(git, false);
}
