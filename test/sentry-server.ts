/**
 * A stand-in for Sentry's envelope endpoint on 127.0.0.1, for the workerd error-reporting tests.
 * It accepts `POST /api/<project>/envelope/` (what toucan-js sends to a DSN
 * `http://<key>@<host>/<project>`) and keeps each body as text, gunzipped if need be; `GET
 * /projects/<project>/envelopes` lists them. Every test uses its own project number, so tests
 * running side by side never see each other's envelopes.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { listenOnLoopback } from './loopback-server.ts';

interface SentryServer {
  /** Base URL, e.g. http://127.0.0.1:41234: a DSN is `http://key@127.0.0.1:41234/<project>`. */
  url: string;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  const raw = Buffer.concat(chunks);
  return (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
}

/** Starts the stand-in on a random loopback port. */
export async function startSentryServer(): Promise<SentryServer> {
  const envelopes = new Map<string, string[]>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const posted = /^\/api\/(\d+)\/envelope\/?$/.exec(path);
    const listed = /^\/projects\/(\d+)\/envelopes$/.exec(path);
    if (req.method === 'POST' && posted?.[1] !== undefined) {
      const project = posted[1];
      void readBody(req).then((body) => {
        envelopes.set(project, [...(envelopes.get(project) ?? []), body]);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
      return;
    }
    if (req.method === 'GET' && listed?.[1] !== undefined) {
      const body = JSON.stringify({ envelopes: envelopes.get(listed[1]) ?? [] });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      return;
    }
    res.writeHead(404).end();
  });
  return listenOnLoopback(server);
}
