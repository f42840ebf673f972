/**
 * A webhook receiver on 127.0.0.1 for the workerd webhook tests. `POST /hooks/<name>` records the
 * request (headers and raw body) and answers 204, or the status it was told to fail with: `POST
 * /control/<name>/fail?times=N&status=S` makes the next N deliveries to <name> answer S.
 * `GET /control/<name>/requests` lists what <name> received. Every test uses its own name.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { listenOnLoopback } from './loopback-server.ts';

interface WebhookReceiver {
  /** Base URL, e.g. http://127.0.0.1:41234. */
  url: string;
  close(): Promise<void>;
}

interface Received {
  headers: Record<string, string>;
  body: string;
  status: number;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the receiver on a random loopback port. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received = new Map<string, Received[]>();
  const failures = new Map<string, { times: number; status: number }>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const hook = /^\/hooks\/([\w-]+)$/.exec(url.pathname)?.[1];
    const control = /^\/control\/([\w-]+)\/(fail|requests)$/.exec(url.pathname);
    if (req.method === 'POST' && hook !== undefined) {
      void readBody(req).then((body) => {
        const failure = failures.get(hook);
        let status = 204;
        if (failure && failure.times > 0) {
          failure.times -= 1;
          status = failure.status;
        }
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) {
          if (typeof value === 'string') headers[name] = value;
        }
        received.set(hook, [...(received.get(hook) ?? []), { headers, body, status }]);
        res.writeHead(status).end();
      });
      return;
    }
    if (control?.[1] !== undefined && control[2] === 'fail' && req.method === 'POST') {
      failures.set(control[1], {
        times: Number(url.searchParams.get('times') ?? '1'),
        status: Number(url.searchParams.get('status') ?? '500'),
      });
      res.writeHead(204).end();
      return;
    }
    if (control?.[1] !== undefined && control[2] === 'requests' && req.method === 'GET') {
      const body = JSON.stringify({ requests: received.get(control[1]) ?? [] });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      return;
    }
    res.writeHead(404).end();
  });
  return listenOnLoopback(server);
}
