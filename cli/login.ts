/**
 * `omni login`: asks for the API's URL and an API key (unless given), checks the key with one
 * request, and stores both in the config file (cli/config.ts), readable by the user only.
 */
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { apiFor, call } from './api.ts';
import { configFile, normaliseUrl, readConfig, writeConfig } from './config.ts';
import { UsageError } from './errors.ts';

const DEFAULT_URL = 'http://127.0.0.1:8787';

/** Asks one question on stderr; `secret` answers are not echoed on a terminal. */
async function ask(question: string, secret = false): Promise<string> {
  let muted = false;
  // Echo goes through this stream, so a secret answer can be kept off the screen.
  const echo = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output: echo, terminal: process.stdin.isTTY });
  try {
    const answer = rl.question(question);
    muted = secret && Boolean(process.stdin.isTTY);
    const text = await answer;
    if (muted) process.stderr.write('\n');
    return text.trim();
  } finally {
    rl.close();
  }
}

interface LoginFlags {
  url?: string;
  key?: string;
}

async function login(flags: LoginFlags): Promise<number> {
  const file = configFile();
  const stored = await readConfig(file);
  const interactive = Boolean(process.stdin.isTTY);
  let url = flags.url;
  if (url === undefined) {
    const fallback = stored.url ?? DEFAULT_URL;
    if (!interactive) throw new UsageError('Give --url (stdin is not a terminal to ask on).');
    url = (await ask(`Omni API URL [${fallback}]: `)) || fallback;
  }
  url = normaliseUrl(url);
  let apiKey = flags.key;
  if (apiKey === undefined) {
    if (!interactive) throw new UsageError('Give --key (stdin is not a terminal to ask on).');
    apiKey = await ask('API key: ', true);
  }
  if (!apiKey) throw new UsageError('An API key is needed.');
  // Every role may list jobs: one page of one job proves the key and the URL.
  const api = apiFor({ url, apiKey });
  await call(api, api.client.GET('/v1/jobs', { params: { query: { limit: 1 } } }));
  await writeConfig({ url, apiKey }, file);
  process.stderr.write(`Logged in to ${url}; saved in ${file}\n`);
  return 0;
}

export function registerLogin(program: Command, exit: (code: number) => void): void {
  program
    .command('login')
    .description('Store the API URL and an API key, after checking them')
    .option('--url <url>', `the API's URL (default ${DEFAULT_URL})`)
    .option('--key <key>', 'an API key (asked for when missing; --key shows it in your history)')
    .action(async (flags: LoginFlags) => exit(await login(flags)));
}
