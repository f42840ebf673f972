/**
 * A TCP proxy on loopback in front of the API, for tests that drop a client's connections: it
 * forwards bytes both ways untouched and can cut every WebSocket connection (those that carried
 * an `Upgrade: websocket` request) at once, as a network failure would.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  /** http://127.0.0.1:<port> */
  url: string;
  /** The request lines (`GET /v1/jobs/…/stream?… HTTP/1.1`) of the WebSocket upgrades so far. */
  upgrades(): string[];
  /** Until `unblock`, cuts every open connection and refuses new ones, as if the API were down. */
  block(): void;
  unblock(): void;
  /** Connections refused while blocked. */
  refused(): number;
  /** Destroys every open WebSocket connection, both sides; returns how many there were. */
  dropWebSockets(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const open = new Set<{ client: Socket; upstream: Socket; websocket: boolean }>();
  const upgrades: string[] = [];
  let blocked = false;
  let refused = 0;
  const server = createServer((client) => {
    if (blocked) {
      refused += 1;
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(Number(port), hostname);
    const pair = { client, upstream, websocket: false };
    open.add(pair);
    // Node's fetch keeps connections alive, and its WebSocket may upgrade one that carried
    // other requests first: every request on the connection is looked at.
    client.on('data', (chunk: Buffer) => {
      if (!pair.websocket && /^upgrade:\s*websocket/im.test(chunk.toString('latin1'))) {
        pair.websocket = true;
        const text = chunk.toString('latin1');
        const at = text.search(/^GET [^\r\n]*\r\n(?:[^\r\n]+\r\n)*upgrade:\s*websocket/im);
        upgrades.push(text.slice(Math.max(0, at)).split('\r\n', 1)[0] ?? '');
      }
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      open.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const listening = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${listening}`,
    upgrades: () => [...upgrades],
    block() {
      blocked = true;
      for (const pair of open) {
        pair.client.resetAndDestroy();
        pair.upstream.destroy();
      }
      open.clear();
    },
    unblock() {
      blocked = false;
    },
    refused: () => refused,
    dropWebSockets() {
      let dropped = 0;
      for (const pair of open) {
        if (!pair.websocket) continue;
        // A reset, not a close: the client sees the connection fail without a close frame.
        pair.client.resetAndDestroy();
        pair.upstream.destroy();
        open.delete(pair);
        dropped += 1;
      }
      return dropped;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of open) {
          pair.client.destroy();
          pair.upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
