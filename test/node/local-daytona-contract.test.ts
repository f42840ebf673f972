/**
 * Contract test: local-daytona answers in the shapes of Daytona's published OpenAPI documents.
 *
 * The operations and schemas come from fixtures/daytona/schemas.json, verbatim excerpts of
 * `openapi-specs/api.json` (OpenAPI 3.0, control API) and `openapi-specs/toolbox.json`
 * (Swagger 2.0, toolbox API) of daytona/clients v0.205.1 (see fixtures/daytona/SOURCE.md).
 * Requests go out with plain fetch so the test sees the exact bytes, not SDK-parsed objects.
 * Each request body is checked against the operation's request schema before it is sent, each
 * response's status must be one the operation documents, and its body is validated with ajv
 * against the schema documented for that status. Schemas stay open: only what the spec requires
 * and the types it states are enforced, never `additionalProperties: false`.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalDaytona, type LocalDaytona } from '../../local-daytona/server.ts';
import { createSampleRepo, type SampleRepo } from '../../scripts/lib/sample-repo.ts';
import {
  call,
  field,
  isObject,
  useServer,
  type CallOptions,
  type Method,
} from './daytona-contract.ts';

let server: LocalDaytona;
let repo: SampleRepo | undefined;
let repoDir: string;

beforeAll(async () => {
  server = await startLocalDaytona({ apiKey: `test-${crypto.randomUUID()}` });
  useServer(server);
  // A repository to clone (git clone of a local path needs no network).
  repo = await createSampleRepo();
  repoDir = repo.path;
});

afterAll(async () => {
  await server?.close();
  await repo?.remove();
});

describe('control API (api.json)', () => {
  let sandboxId = '';
  let sandboxName = '';

  it('POST /sandbox creates from a snapshot with the body the SDK sends', async () => {
    sandboxName = `contract-${crypto.randomUUID().slice(0, 8)}`;
    // SDK-CONTRACT.md A2: env always sent, the language label added, keys left out when unset.
    const created = await call('api', 'post', '/sandbox', {
      json: {
        name: sandboxName,
        snapshot: 'omni-sandbox',
        env: { FOO: 'bar' },
        labels: { job: 'j1', 'code-toolbox-language': 'python' },
        target: 'us',
        autoStopInterval: 30,
        autoArchiveInterval: 60,
        autoDeleteInterval: 120,
        networkBlockAll: false,
        networkAllowList: '10.0.0.0/8',
      },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ name: sandboxName, state: 'started' });
    sandboxId = field(created, 'id');
  });

  it('POST /sandbox creates from an image (buildInfo, resources)', async () => {
    const created = await call('api', 'post', '/sandbox', {
      json: {
        buildInfo: { dockerfileContent: 'FROM python:3.12-slim\n', contextHashes: [] },
        env: {},
        labels: { 'code-toolbox-language': 'python' },
        target: 'us',
        cpu: 2,
        memory: 4,
        disk: 8,
      },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      cpu: 2,
      buildInfo: { dockerfileContent: expect.any(String) },
    });
  });

  it('GET /sandbox/{sandboxIdOrName} by id and by name', async () => {
    for (const key of [sandboxId, sandboxName]) {
      const got = await call('api', 'get', '/sandbox/{sandboxIdOrName}', {
        params: { sandboxIdOrName: key },
      });
      expect(got.status).toBe(200);
      expect(field(got, 'id')).toBe(sandboxId);
    }
  });

  it('GET /sandbox is a page of SandboxListItem with a cursor, not a bare array', async () => {
    const first = await call('api', 'get', '/sandbox', { query: { limit: '1' } });
    expect(first.status).toBe(200);
    expect(Array.isArray(first.body)).toBe(false);
    const cursor = field(first, 'nextCursor'); // two sandboxes, one per page
    const second = await call('api', 'get', '/sandbox', { query: { limit: '1', cursor } });
    expect(second.body).toMatchObject({ items: [expect.anything()], nextCursor: null });
    const filtered = await call('api', 'get', '/sandbox', {
      query: { labels: JSON.stringify({ job: 'j1' }) },
    });
    expect(filtered.body).toMatchObject({ items: [{ id: sandboxId }] });
  });

  it('PUT /sandbox/{sandboxIdOrName}/labels', async () => {
    const labels = { job: 'j1', 'code-toolbox-language': 'python', extra: 'x' };
    const put = await call('api', 'put', '/sandbox/{sandboxIdOrName}/labels', {
      params: { sandboxIdOrName: sandboxId },
      json: { labels },
    });
    expect(put).toEqual({ status: 200, body: { labels } });
  });

  it('GET toolbox-proxy-url and preview-url', async () => {
    const proxy = await call('api', 'get', '/sandbox/{sandboxId}/toolbox-proxy-url', {
      params: { sandboxId },
    });
    expect(proxy.status).toBe(200);
    expect(field(proxy, 'url')).toBe(server.toolboxUrl);
    const preview = await call(
      'api',
      'get',
      '/sandbox/{sandboxIdOrName}/ports/{port}/preview-url',
      {
        params: { sandboxIdOrName: sandboxId, port: '3000' },
      },
    );
    expect(preview.status).toBe(200);
    expect(field(preview, 'sandboxId')).toBe(sandboxId);
  });

  describe('toolbox API (toolbox.json)', () => {
    const tb = (method: Method, route: string, options: CallOptions = {}) =>
      call('toolbox', method, route, { sandboxId, ...options });
    const sessionId = 'contract-session';

    it('POST /process/execute', async () => {
      const ok = await tb('post', '/process/execute', {
        json: { command: 'echo "$A" && pwd', envs: { A: 'hello' }, timeout: 10 },
      });
      expect(ok).toMatchObject({
        status: 200,
        body: { exitCode: 0, result: expect.stringMatching(/^hello\n/) },
      });
      const failed = await tb('post', '/process/execute', { json: { command: 'exit 3' } });
      expect(failed).toMatchObject({ status: 200, body: { exitCode: 3 } });
    });

    it('POST /process/execute errors: 400 empty command, 408 timeout', async () => {
      const empty = await tb('post', '/process/execute', { json: { command: '   ' } });
      expect(empty.status).toBe(400);
      const slow = await tb('post', '/process/execute', {
        json: { command: 'sleep 5', timeout: 1 },
      });
      expect(slow).toMatchObject({ status: 408, body: { code: 'PROCESS_EXECUTION_TIMEOUT' } });
    });

    it('POST /process/session (201, no body documented), 409 for a duplicate', async () => {
      const created = await tb('post', '/process/session', { json: { sessionId } });
      expect(created.status).toBe(201);
      const again = await tb('post', '/process/session', { json: { sessionId } });
      expect(again).toMatchObject({ status: 409, body: { code: 'CONFLICT' } });
    });

    let syncCmd = '';
    let asyncCmd = '';

    it('POST /process/session/{sessionId}/exec, synchronous (200)', async () => {
      const sync = await tb('post', '/process/session/{sessionId}/exec', {
        params: { sessionId },
        json: { command: 'echo out; echo err >&2; exit 4', runAsync: false },
      });
      expect(sync).toMatchObject({
        status: 200,
        body: { exitCode: 4, stdout: 'out\n', stderr: 'err\n' },
      });
      syncCmd = field(sync, 'cmdId');
    });

    it('POST /process/session/{sessionId}/exec, asynchronous (202)', async () => {
      const started = await tb('post', '/process/session/{sessionId}/exec', {
        params: { sessionId },
        json: { command: 'sleep 0.3; echo later', runAsync: true },
      });
      expect(started.status).toBe(202);
      asyncCmd = field(started, 'cmdId');
    });

    it('GET /process/session/{sessionId}/command/{commandId}, running and finished', async () => {
      const route = '/process/session/{sessionId}/command/{commandId}';
      const params = { sessionId, commandId: asyncCmd };
      const running = await tb('get', route, { params });
      expect(running).toMatchObject({ status: 200, body: { id: asyncCmd } });
      let exitCode: unknown;
      for (let i = 0; i < 100 && exitCode === undefined; i++) {
        const got = await tb('get', route, { params });
        exitCode = isObject(got.body) ? got.body['exitCode'] : undefined;
        if (exitCode === undefined) await new Promise((r) => setTimeout(r, 50));
      }
      expect(exitCode).toBe(0);
    });

    it('GET /process/session/{sessionId}/command/{commandId}/logs', async () => {
      const route = '/process/session/{sessionId}/command/{commandId}/logs';
      const logs = await tb('get', route, { params: { sessionId, commandId: asyncCmd } });
      expect(logs).toEqual({
        status: 200,
        body: { output: 'later\n', stdout: 'later\n', stderr: '' },
      });
      const sync = await tb('get', route, { params: { sessionId, commandId: syncCmd } });
      expect(sync.body).toMatchObject({ stdout: 'out\n', stderr: 'err\n' });
    });

    it('GET /process/session/{sessionId} and GET /process/session', async () => {
      const one = await tb('get', '/process/session/{sessionId}', { params: { sessionId } });
      expect(one).toMatchObject({
        status: 200,
        body: {
          sessionId,
          commands: [
            { id: syncCmd, exitCode: 4 },
            { id: asyncCmd, exitCode: 0 },
          ],
        },
      });
      const all = await tb('get', '/process/session');
      expect(all).toMatchObject({ status: 200, body: [{ sessionId }] });
    });

    it('session errors: unknown session or command (404), empty command (400)', async () => {
      const params = { sessionId: 'no-such-session' };
      const unknown = await tb('get', '/process/session/{sessionId}', { params });
      expect(unknown.status).toBe(404);
      const exec = await tb('post', '/process/session/{sessionId}/exec', {
        params,
        json: { command: 'true' },
      });
      expect(exec.status).toBe(404);
      const command = await tb('get', '/process/session/{sessionId}/command/{commandId}', {
        params: { sessionId, commandId: 'no-such-command' },
      });
      expect(command.status).toBe(404);
      const logs = await tb('get', '/process/session/{sessionId}/command/{commandId}/logs', {
        params: { sessionId, commandId: 'no-such-command' },
      });
      expect(logs.status).toBe(404);
      const empty = await tb('post', '/process/session/{sessionId}/exec', {
        params: { sessionId },
        json: { command: ' ' },
      });
      expect(empty.status).toBe(400);
    });

    it('DELETE /process/session/{sessionId} (204), then 404', async () => {
      const route = '/process/session/{sessionId}';
      expect(await tb('delete', route, { params: { sessionId } })).toEqual({
        status: 204,
        body: '',
      });
      expect((await tb('delete', route, { params: { sessionId } })).status).toBe(404);
    });

    it('POST /files/bulk-upload (multipart, as the SDK sends it)', async () => {
      const form = new FormData();
      form.append('files[0].path', 'uploads/a.txt');
      form.append('files[0].file', new Blob(['alpha']), 'a.txt');
      form.append('files[1].path', '/home/daytona/uploads/b.txt');
      form.append('files[1].file', new Blob(['beta!']), 'b.txt');
      const uploaded = await tb('post', '/files/bulk-upload', { body: form });
      expect(uploaded.status).toBe(200);
    });

    it('POST /files/bulk-upload with a bad part answers a 400 ErrorResponse', async () => {
      const form = new FormData();
      form.append('files[0].file', new Blob(['orphan']), 'orphan.txt'); // no .path before it
      const rejected = await tb('post', '/files/bulk-upload', { body: form });
      expect(rejected.status).toBe(400);
    });

    it('GET /files/info and GET /files', async () => {
      const info = await tb('get', '/files/info', { query: { path: 'uploads/a.txt' } });
      expect(info).toMatchObject({ status: 200, body: { name: 'a.txt', size: 5, isDir: false } });
      const dir = await tb('get', '/files/info', { query: { path: '/home/daytona/uploads' } });
      expect(dir).toMatchObject({ status: 200, body: { isDir: true } });
      const listing = await tb('get', '/files', { query: { path: 'uploads' } });
      expect(listing.status).toBe(200);
      expect(listing.body).toHaveLength(2);
    });

    it('GET /files/info errors: 404 FILE_NOT_FOUND, 400 outside the sandbox', async () => {
      const missing = await tb('get', '/files/info', { query: { path: 'uploads/none.txt' } });
      expect(missing).toMatchObject({ status: 404, body: { code: 'FILE_NOT_FOUND' } });
      const outside = await tb('get', '/files/info', { query: { path: '../../../../etc/passwd' } });
      expect(outside).toMatchObject({ status: 400, body: { code: 'INVALID_FILE_PATH' } });
    });

    it('POST /git/clone (200, no body documented) and 404 for a missing repository', async () => {
      const cloned = await tb('post', '/git/clone', { json: { url: repoDir, path: 'repo' } });
      expect(cloned.status).toBe(200);
      const info = await tb('get', '/files/info', { query: { path: 'repo/README.md' } });
      expect(info.status).toBe(200);
      const missing = await tb('post', '/git/clone', {
        json: { url: path.join(repoDir, 'nope'), path: 'nope' },
      });
      expect(missing).toMatchObject({ status: 404, body: { code: 'GIT_REPO_NOT_FOUND' } });
    });
  });

  it('POST /sandbox/{sandboxIdOrName}/stop (empty form body, as the SDK sends it)', async () => {
    const stopped = await call('api', 'post', '/sandbox/{sandboxIdOrName}/stop', {
      params: { sandboxIdOrName: sandboxId },
      query: { force: 'false' },
      body: '',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ id: sandboxId, state: 'stopped' });
  });

  it('POST /sandbox/{sandboxIdOrName}/start', async () => {
    const started = await call('api', 'post', '/sandbox/{sandboxIdOrName}/start', {
      params: { sandboxIdOrName: sandboxId },
      body: '',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ id: sandboxId, state: 'started' });
  });

  it('DELETE /sandbox/{sandboxIdOrName}', async () => {
    const deleted = await call('api', 'delete', '/sandbox/{sandboxIdOrName}', {
      params: { sandboxIdOrName: sandboxId },
    });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ id: sandboxId, state: 'destroyed' });
  });
});
