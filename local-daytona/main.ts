/**
 * CLI for local-daytona.
 *
 * Environment: LOCAL_DAYTONA_PORT (default 3986), LOCAL_DAYTONA_HOST (default 127.0.0.1),
 * LOCAL_DAYTONA_API_KEY (default: random), LOCAL_DAYTONA_ROOT (default: a fresh temp dir),
 * LOCAL_DAYTONA_LOG=1 to log every request as a JSON line on stderr, LOCAL_DAYTONA_CLAUDE (the
 * `claude` binary sandboxes get on their PATH; default the project's pinned one, empty: none).
 *
 * Prints one JSON line `{"apiUrl","toolboxUrl","apiKey","root"}` on stdout once listening, so
 * a parent process can read its connection details; SIGINT/SIGTERM kill all sandboxes and exit.
 */
import { randomBytes } from 'node:crypto';
import { startLocalDaytona } from './server.ts';

const env = process.env;
const port = Number(env['LOCAL_DAYTONA_PORT'] ?? 3986);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`invalid LOCAL_DAYTONA_PORT: ${env['LOCAL_DAYTONA_PORT']}\n`);
  process.exit(2);
}

const server = await startLocalDaytona({
  port,
  apiKey: env['LOCAL_DAYTONA_API_KEY'] || `dtn_local_${randomBytes(16).toString('hex')}`,
  ...(env['LOCAL_DAYTONA_HOST'] ? { host: env['LOCAL_DAYTONA_HOST'] } : {}),
  ...(env['LOCAL_DAYTONA_ROOT'] ? { root: env['LOCAL_DAYTONA_ROOT'] } : {}),
  ...(env['LOCAL_DAYTONA_CLAUDE'] !== undefined ? { claudePath: env['LOCAL_DAYTONA_CLAUDE'] } : {}),
  ...(env['LOCAL_DAYTONA_LOG'] === '1'
    ? { onRequest: (entry) => process.stderr.write(JSON.stringify(entry) + '\n') }
    : {}),
}).catch((err: unknown) => {
  process.stderr.write(`local-daytona: cannot start: ${String(err)}\n`);
  process.exit(1);
});

process.stdout.write(
  JSON.stringify({
    apiUrl: server.apiUrl,
    toolboxUrl: server.toolboxUrl,
    apiKey: server.apiKey,
    root: server.root,
  }) + '\n',
);

let stopping = false;
const shutdown = (signal: NodeJS.Signals): void => {
  if (stopping) return;
  stopping = true;
  server.close().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`local-daytona: error during ${signal} shutdown: ${String(err)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
