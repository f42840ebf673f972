/** A WebSocket watcher of a job's stream, for Node scripts and tests. */
import WebSocket from 'ws';
import { z } from 'zod';

const streamEventSchema = z.looseObject({
  seq: z.number(),
  type: z.string(),
  ts: z.string(),
});
export type StreamEvent = z.infer<typeof streamEventSchema>;

const terminal = new Set(['succeeded', 'failed', 'timed_out', 'canceled']);

/**
 * Connects to GET /v1/jobs/{id}/stream and calls `onEvent` for each event until the server
 * closes the socket; resolves with the close code. The API key travels in a header.
 */
export function watchJob(
  baseUrl: string,
  apiKey: string,
  jobId: string,
  onEvent: (event: StreamEvent) => void,
  after = 0,
): Promise<number> {
  const url = `${baseUrl.replace(/^http/, 'ws')}/v1/jobs/${jobId}/stream?after=${after}`;
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${apiKey}` } });
    let poll: ReturnType<typeof setInterval> | undefined;
    socket.on('message', (data) => {
      const event = streamEventSchema.parse(JSON.parse(String(data)));
      onEvent(event);
      if (event.type === 'status' && terminal.has(String(event.status)) && !poll) {
        // The server closes right after the final status. Under `wrangler dev` the TCP
        // connection then lingers for seconds after the close handshake, so once the close
        // frame is in (readyState CLOSING), drop the connection instead of waiting for it.
        poll = setInterval(() => {
          if (socket.readyState === WebSocket.CLOSING) socket.terminate();
        }, 10);
      }
    });
    socket.on('close', (code) => {
      clearInterval(poll);
      resolve(code);
    });
    socket.on('error', reject);
    socket.on('unexpected-response', (_req, res) => {
      reject(new Error(`stream refused with HTTP ${res.statusCode}`));
    });
  });
}
