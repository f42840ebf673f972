/**
 * The Claude Code adapter: `claude -p` headless, `--output-format stream-json --verbose`.
 *
 * The prompt never enters the shell line: it travels in the environment (OMNI_AGENT_PROMPT) and
 * the line refers to it as "$OMNI_AGENT_PROMPT", after `--` so that a prompt starting with `-`
 * is not read as an option. Every option value is shell-quoted.
 *
 * Permissions: with no `allowed_tools` the agent runs with `bypassPermissions` (nobody is there
 * to answer a prompt, and the sandbox is the job's own, deleted at its end); the CLI refuses
 * that mode as root unless IS_SANDBOX=1, which is why the sandbox image runs jobs as the
 * unprivileged `daytona` user. With `allowed_tools`, the mode is `dontAsk`: the listed tools run
 * without asking, every other tool call is denied (and reported as a denial in the result).
 *
 * Retries: the CLI retries a failing API call about ten times over 3.5 minutes by default, a
 * rejected key included. CLAUDE_CODE_MAX_RETRIES bounds that to a few seconds for every error,
 * and a retry after a 401 or 403 ends the job at once (fatal()): a rejected key stays rejected.
 */
import { shellWords } from '../shell.ts';
import { clip } from './bounds.ts';
import { parseClaudeLine } from './claude-code-lines.ts';
import type {
  AgentAdapter,
  AgentEvent,
  AgentOutcome,
  AgentSettings,
  AgentSpec,
  AgentVerdict,
  EnvValue,
} from './types.ts';

/** The environment variable that carries the prompt to the CLI. */
export const PROMPT_VAR = 'OMNI_AGENT_PROMPT';
/** The tenant secret that holds the Anthropic API key, unless the job's env names another. */
export const API_KEY_SECRET = 'ANTHROPIC_API_KEY';
/**
 * Retries of one failing API call: about 0.5 + 1 + 2 s of backoff, so that an overloaded API
 * still gets a second chance while a bad key fails within seconds.
 */
export const MAX_API_RETRIES = 3;

/** Status codes of a rejected key: retrying cannot help. */
const REJECTED = new Set([401, 403]);

function command(spec: AgentSpec): string {
  const words = ['--output-format', 'stream-json', '--verbose'];
  if (spec.allowedTools === null) words.push('--permission-mode', 'bypassPermissions');
  else words.push('--permission-mode', 'dontAsk', '--allowedTools', ...spec.allowedTools);
  if (spec.model !== null) words.push('--model', spec.model);
  if (spec.maxTurns !== null) words.push('--max-turns', String(spec.maxTurns));
  if (spec.maxBudgetUsd !== null) words.push('--max-budget-usd', String(spec.maxBudgetUsd));
  // `--` ends the options (and the variadic --allowedTools): the prompt is one positional word.
  return `claude -p ${shellWords(words)} -- "$${PROMPT_VAR}"`;
}

function env(
  spec: AgentSpec,
  settings: AgentSettings,
  jobEnv: Record<string, EnvValue>,
): Record<string, EnvValue> {
  return {
    [PROMPT_VAR]: spec.prompt,
    [API_KEY_SECRET]: jobEnv[API_KEY_SECRET] ?? { secret: API_KEY_SECRET },
    ...(settings.anthropicBaseUrl === null
      ? {}
      : { ANTHROPIC_BASE_URL: settings.anthropicBaseUrl }),
    CLAUDE_CODE_MAX_RETRIES: String(MAX_API_RETRIES),
    // No update checks, telemetry or error reports from job sandboxes (the image sets these
    // too; local sandboxes do not have its environment).
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
  };
}

function fatal(event: AgentEvent): AgentVerdict | null {
  if (event.kind !== 'api_retry' || event.error_status === null) return null;
  if (!REJECTED.has(event.error_status)) return null;
  return {
    status: 'failed',
    errorCode: 'agent_api_error',
    errorMessage: `The Anthropic API refused the key (HTTP ${event.error_status}${event.error ? `, ${event.error}` : ''}); check the ${API_KEY_SECRET} secret (or the secret the job's env names for it).`,
  };
}

function verdict(
  outcome: AgentOutcome | null,
  exitCode: number,
  text: string | null,
): AgentVerdict {
  if (outcome === null) {
    return {
      status: 'failed',
      errorCode: 'agent_no_result',
      errorMessage: `Claude Code exited with code ${exitCode} without reporting a result; its output may say why.`,
    };
  }
  if (outcome.subtype === 'success' && !outcome.isError) {
    return { status: 'succeeded', errorCode: null, errorMessage: null };
  }
  const said = text ? `: ${clip(text, 500).text}` : '';
  if (outcome.subtype === 'error_max_turns') {
    return failed('agent_max_turns', `The agent used up its turns (${outcome.numTurns ?? '?'}).`);
  }
  if (outcome.subtype === 'error_max_budget_usd') {
    return failed('agent_max_budget', 'The agent reached its max_budget_usd.');
  }
  if (outcome.terminalReason === 'api_error' || outcome.apiErrorStatus !== null) {
    const status = outcome.apiErrorStatus === null ? '' : ` (HTTP ${outcome.apiErrorStatus})`;
    return failed('agent_api_error', `The agent's API calls failed${status}${said}`);
  }
  return failed(
    'agent_error',
    `Claude Code ended with ${outcome.subtype}${outcome.terminalReason ? ` (${outcome.terminalReason})` : ''}${said}`,
  );
}

function failed(errorCode: AgentVerdict['errorCode'], errorMessage: string): AgentVerdict {
  return { status: 'failed', errorCode, errorMessage };
}

export const claudeCode: AgentAdapter = {
  cli: 'claude-code',
  command,
  env,
  parseLine: parseClaudeLine,
  fatal,
  verdict,
};
