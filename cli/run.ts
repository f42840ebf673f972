/**
 * `omni run`: creates a job (a command after `--`, or `--agent "<prompt>"`), streams its output
 * live and exits with its exit code.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { call, connect, type Job } from './api.ts';
import { UsageError } from './errors.ts';
import { colourful, painter } from './terminal.ts';
import { watchJob } from './watch.ts';

interface RunFlags {
  repo: string;
  ref?: string;
  timeout?: number;
  project?: string;
  env: string[];
  secret: string[];
  agent?: string;
  model?: string;
  detach?: boolean;
  queue?: boolean;
}

type JobEnv = Record<string, string | { secret: string }>;

/** A word as the shell reads it back: left alone when it is plain, else single-quoted. */
export function shellQuote(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The job's shell line: one argument is taken as a shell line as it is
 * (`omni run -- 'make && make test'`), several as a command and its arguments, each quoted.
 */
export function commandLine(words: string[]): string {
  if (words.length === 1) return words[0] ?? '';
  return words.map(shellQuote).join(' ');
}

/** `--env K=V` literals and `--secret K[=SECRET]` references as the API's `env`. */
export function jobEnv(literals: string[], secrets: string[]): JobEnv | undefined {
  const env: JobEnv = {};
  for (const pair of literals) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--env ${pair}: expected NAME=VALUE`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  for (const item of secrets) {
    const at = item.indexOf('=');
    const name = at < 0 ? item : item.slice(0, at);
    const secret = at < 0 ? item : item.slice(at + 1);
    if (!name || !secret) throw new UsageError(`--secret ${item}: expected NAME or NAME=SECRET`);
    env[name] = { secret };
  }
  return Object.keys(env).length > 0 ? env : undefined;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError('expected a whole number of seconds');
  return n;
}

async function run(words: string[], flags: RunFlags): Promise<number> {
  if (flags.agent !== undefined && words.length > 0) {
    throw new UsageError('Give either a command after -- or --agent "<prompt>", not both.');
  }
  if (flags.agent === undefined && words.length === 0) {
    throw new UsageError('Nothing to run: give a command after -- or --agent "<prompt>".');
  }
  if (flags.model !== undefined && flags.agent === undefined) {
    throw new UsageError('--model is for agent jobs (--agent "<prompt>").');
  }
  const api = await connect();
  const env = jobEnv(flags.env, flags.secret);
  const common = {
    repo: { url: flags.repo, ...(flags.ref ? { ref: flags.ref } : {}) },
    ...(flags.timeout ? { timeout_seconds: flags.timeout } : {}),
    ...(flags.project ? { project: flags.project } : {}),
    ...(env ? { env } : {}),
    ...(flags.queue ? { queue: true } : {}),
  };
  const since = Date.now();
  const job: Job = await call(
    api,
    api.client.POST('/v1/jobs', {
      body:
        flags.agent !== undefined
          ? {
              ...common,
              agent: { prompt: flags.agent, ...(flags.model ? { model: flags.model } : {}) },
            }
          : { ...common, command: commandLine(words) },
    }),
  );
  if (flags.detach) {
    process.stdout.write(`${job.id}\n`);
    return 0;
  }
  if (process.stderr.isTTY) {
    process.stderr.write(`${painter(colourful(process.stderr)).dim(`job ${job.id}`)}\n`);
  }
  return watchJob(api, { job, since, interrupt: 'ask' });
}

/** Adds `omni run` to the program; `exit` receives the exit code. */
export function registerRun(program: Command, exit: (code: number) => void): void {
  program
    .command('run')
    .description(
      'Run a command (after --) or an agent in a clone of a repository, and stream its output',
    )
    .requiredOption('--repo <url>', 'the git repository to clone')
    .option('--ref <ref>', 'the branch or tag to check out')
    .option('--timeout <seconds>', 'the time limit of the job', positiveInteger)
    .option('--project <id>', 'the project the job belongs to')
    .option(
      '--env <NAME=VALUE>',
      'an environment variable of the command (repeatable)',
      collect,
      [],
    )
    .option(
      '--secret <NAME[=SECRET]>',
      'an environment variable from a tenant secret (repeatable)',
      collect,
      [],
    )
    .option('--agent <prompt>', 'run Claude Code with this prompt instead of a command')
    .option('--model <model>', "the agent's model")
    .option('--queue', 'wait in queued when the tenant runs its maximum of jobs (else 429)')
    .option('--detach', 'print the job id and exit without watching it')
    .argument('[command...]', 'the command and its arguments, after --')
    .addHelpText(
      'after',
      '\nExamples:\n  omni run --repo https://github.com/o/r -- npm test\n  omni run --repo https://github.com/o/r --agent "Fix the failing test"\n',
    )
    .action(async (words: string[], flags: RunFlags) => exit(await run(words, flags)));
}
