/**
 * `npm start`: serves the API on the embedded defaults (local D1, local-daytona) for manual use.
 * Prints the URL, a development API key and a ready-to-paste example, and writes them to
 * .omni/dev.json for scripts. Ctrl-C stops everything.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startDevStack } from './lib/dev-stack.ts';
import { createSampleRepo } from './lib/sample-repo.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const omniDir = `${root}.omni`;
const port = Number(process.env.PORT ?? 8787);
const daytonaPort = Number(process.env.LOCAL_DAYTONA_PORT ?? 3986);
// Agent jobs call the Anthropic API at ANTHROPIC_BASE_URL if it is set (a gateway, a local
// stand-in), else Anthropic's own endpoint (docs/agents.md).
const anthropicBaseUrl = process.env.ANTHROPIC_BASE_URL ?? '';
// Settings taken from the environment when set: the Anthropic endpoint above, and the GitHub
// App's (docs/github.md) so that webhooks can be tried locally against a GitHub of your own.
const passedOn = [
  'ANTHROPIC_BASE_URL',
  'GITHUB_APP_ID',
  'GITHUB_APP_SLUG',
  'GITHUB_API_URL',
  'GITHUB_APP_PRIVATE_KEY',
  'GITHUB_WEBHOOK_SECRET',
  'GITHUB_WEBHOOK_SECRET_PREVIOUS',
  'PUBLIC_URL',
];
const vars = Object.fromEntries(
  passedOn.flatMap((name) => {
    const value = process.env[name];
    return value ? [[name, value]] : [];
  }),
);

console.log('Starting local-daytona, local D1 and wrangler dev…');
const stack = await startDevStack({
  port,
  daytonaPort,
  persistTo: `${root}.wrangler/state`,
  vars,
  onOutput: (line) => {
    // Request logs and job logs are JSON lines; show them as they come.
    if (line.startsWith('{')) console.log(line);
  },
});
await mkdir(omniDir, { recursive: true });
const repo = await createSampleRepo(omniDir);
const devFile = `${omniDir}/dev.json`;
await writeFile(
  devFile,
  `${JSON.stringify({ url: stack.url, apiKey: stack.apiKey, daytona: { apiUrl: stack.daytona.apiUrl, apiKey: stack.daytona.apiKey } }, null, 2)}\n`,
  { mode: 0o600 },
);

const body = JSON.stringify({ repo: { url: repo.url }, command: 'ls -la && ./count.sh 3' });
const agentBody = JSON.stringify({
  repo: { url: repo.url },
  agent: { prompt: 'Summarise README.md' },
});
console.log(`
Omni is running at ${stack.url}
  API docs:        ${stack.url}/docs
  Web view:        ${stack.url}/app/ (sign in with the key below)
  API key (dev):   ${stack.apiKey}
  local-daytona:   ${stack.daytona.apiUrl}
  Written to:      ${devFile}

Try it:
  curl -s -X POST ${stack.url}/v1/jobs \\
    -H 'Authorization: Bearer ${stack.apiKey}' -H 'Content-Type: application/json' \\
    -d '${body}'
  curl -s ${stack.url}/v1/jobs -H 'Authorization: Bearer ${stack.apiKey}'

An agent job (Claude Code, API at ${anthropicBaseUrl || "Anthropic's default endpoint"}) needs the key first:
  curl -s -X PUT ${stack.url}/v1/secrets/ANTHROPIC_API_KEY \\
    -H 'Authorization: Bearer ${stack.apiKey}' -H 'Content-Type: application/json' \\
    -d '{"value":"sk-ant-…"}'
  curl -s -X POST ${stack.url}/v1/jobs \\
    -H 'Authorization: Bearer ${stack.apiKey}' -H 'Content-Type: application/json' \\
    -d '${agentBody}'

Press Ctrl-C to stop.`);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping…');
  await stack.stop();
  await repo.remove();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
