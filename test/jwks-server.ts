/**
 * A JSON Web Key Set served on 127.0.0.1 for the workerd JWT tests, with an RS256 and an ES256
 * key pair generated at startup. Every test uses its own key set, `/sets/<name>/jwks.json`: the
 * Worker caches key sets per URL, so a fresh name is a cold cache, and the server counts the
 * fetches of each name (`GET /sets/<name>/fetches`) so a test can prove how often it refetched.
 * `PUT /sets/<name>/kids` with a JSON array of key ids publishes only those keys (a key rotation);
 * `PUT /sets/<name>/failure` with `{ status, body }` makes the set answer that instead, or drop the
 * connection if `status` is 0 (an outage).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { z } from 'zod';

interface JwksServer {
  /** Base URL: append `/sets/<name>/jwks.json`. */
  url: string;
  /** The private keys as a JWK Set in JSON, each with its `kid` and `alg`. */
  privateJwks: string;
  close(): Promise<void>;
}

interface KeyPair {
  publicJwk: JWK;
  privateJwk: JWK;
}

async function keyPair(alg: 'RS256' | 'ES256', kid: string): Promise<KeyPair> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return {
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg },
  };
}

const kidsSchema = z.array(z.string());
const failureSchema = z.object({ status: z.number().int(), body: z.string() });

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startJwksServer(): Promise<JwksServer> {
  const pairs = [await keyPair('RS256', 'rs-1'), await keyPair('ES256', 'es-1')];
  const fetches = new Map<string, number>();
  const published = new Map<string, string[]>();
  const failures = new Map<string, z.infer<typeof failureSchema>>();

  const server = createServer((req, res) => {
    const match = /^\/sets\/([\w-]+)\/(jwks\.json|fetches|kids|failure)$/.exec(req.url ?? '');
    const [, name = '', what] = match ?? [];
    const update = (apply: (text: string) => void) =>
      readBody(req)
        .then((text) => {
          apply(text);
          res.writeHead(204).end();
        })
        .catch((error: unknown) => send(res, 400, { error: String(error) }));
    if (req.method === 'GET' && what === 'jwks.json') {
      fetches.set(name, (fetches.get(name) ?? 0) + 1);
      const failure = failures.get(name);
      if (failure?.status === 0) {
        // Status 0: the connection drops without an answer, like an unreachable server.
        req.socket.destroy();
        return;
      }
      if (failure) {
        res.writeHead(failure.status, { 'content-type': 'application/json' });
        res.end(failure.body);
        return;
      }
      const kids = published.get(name);
      const keys = pairs
        .map((p) => p.publicJwk)
        .filter((k) => kids === undefined || (k.kid !== undefined && kids.includes(k.kid)));
      send(res, 200, { keys });
    } else if (req.method === 'GET' && what === 'fetches') {
      send(res, 200, { count: fetches.get(name) ?? 0 });
    } else if (req.method === 'PUT' && what === 'kids') {
      void update((text) => published.set(name, kidsSchema.parse(JSON.parse(text))));
    } else if (req.method === 'PUT' && what === 'failure') {
      void update((text) => failures.set(name, failureSchema.parse(JSON.parse(text))));
    } else {
      send(res, 404, { error: `no route for ${req.method} ${req.url}` });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    privateJwks: JSON.stringify({ keys: pairs.map((p) => p.privateJwk) }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
