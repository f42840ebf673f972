/**
 * The SDK's SERVERLESS code paths (what runs inside workerd), exercised in Node.
 *
 * The SDK decides its runtime once, when its module loads, from
 * `typeof globalThis.WebSocketPair === 'function'`. This file therefore defines a dummy
 * WebSocketPair before importing the SDK (vitest gives each test file a fresh module graph)
 * and removes it afterwards. In that mode the SDK uploads with fetch + FormData, parses
 * downloads with Response.formData(), and authenticates log websockets with a preview token
 * (`GET /sandbox/{id}/ports/1/preview-url`) plus the `X-Daytona-SDK-Version~…` subprotocol.
 */
import type * as SdkModule from '@daytonaio/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startLocalDaytona,
  type LocalDaytona,
  type RequestLogEntry,
} from '../../local-daytona/server.ts';

type Sdk = typeof SdkModule;

let sdk: Sdk;
let server: LocalDaytona;
let daytona: InstanceType<Sdk['Daytona']>;
const requests: RequestLogEntry[] = [];

beforeAll(async () => {
  Reflect.set(globalThis, 'WebSocketPair', function WebSocketPair() {});
  sdk = await import('@daytonaio/sdk');
  server = await startLocalDaytona({
    apiKey: `test-${crypto.randomUUID()}`,
    onRequest: (entry) => requests.push(entry),
  });
  daytona = new sdk.Daytona({ apiKey: server.apiKey, apiUrl: server.apiUrl, target: 'us' });
});

afterAll(async () => {
  await daytona?.[Symbol.asyncDispose]();
  await server?.close();
  Reflect.deleteProperty(globalThis, 'WebSocketPair');
});

describe('SDK in serverless mode', () => {
  it('runs commands, streams logs with a preview token, and moves files', async () => {
    const sandbox = await daytona.create({ snapshot: 'omni-sandbox' });
    try {
      const res = await sandbox.process.executeCommand('echo hello; exit 2');
      expect([res.exitCode, res.result]).toEqual([2, 'hello\n']);

      await sandbox.process.createSession('s');
      const { cmdId } = await sandbox.process.executeSessionCommand('s', {
        command: 'echo out1; echo err1 >&2; echo out2; exit 5',
        runAsync: true,
      });
      let stdout = '';
      let stderr = '';
      await sandbox.process.getSessionCommandLogs(
        's',
        cmdId,
        (chunk) => (stdout += chunk),
        (chunk) => (stderr += chunk),
      );
      expect([stdout, stderr]).toEqual(['out1\nout2\n', 'err1\n']);
      expect((await sandbox.process.getSessionCommand('s', cmdId)).exitCode).toBe(5);
      // Proof that the serverless path ran: the token came from the preview-url endpoint.
      const previewPath = `/api/sandbox/${sandbox.id}/ports/1/preview-url`;
      expect(requests.some((r) => r.path === previewPath && r.status === 200)).toBe(true);
      expect(requests.some((r) => r.method === 'WS' && r.status === 101)).toBe(true);

      const bytes = Buffer.from('serverless bytes\n');
      await sandbox.fs.uploadFile(bytes, 'up/file.txt');
      expect((await sandbox.fs.downloadFile('up/file.txt')).toString()).toBe(bytes.toString());
      await expect(sandbox.fs.downloadFile('up/none.txt')).rejects.toBeInstanceOf(
        sdk.DaytonaFileNotFoundError,
      );
    } finally {
      await sandbox.delete();
    }
  });
});
