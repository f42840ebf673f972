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
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalDaytona, type LocalDaytona } from '../../local-daytona/server.ts';
import { createSampleRepo, type SampleRepo } from '../../scripts/lib/sample-repo.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
type Document = 'api' | 'toolbox';
type Method = 'get' | 'post' | 'put' | 'delete';

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const fixture: unknown = JSON.parse(
  readFileSync(new URL('./fixtures/daytona/schemas.json', import.meta.url), 'utf8'),
);
if (!isObject(fixture) || !isObject(fixture['api']) || !isObject(fixture['toolbox'])) {
  throw new Error('fixtures/daytona/schemas.json has no api and toolbox documents');
}
const specs: Record<Document, JsonObject> = { api: fixture['api'], toolbox: fixture['toolbox'] };

/**
 * Where the documented spec is narrower than the real daemon, each deviation is named here and
 * applied on top of the copied schemas, instead of loosening validation as a whole.
 *
 * SessionExecuteResponse: the daemon's Go struct (apps/daemon/pkg/toolbox/process/session/
 * types.go in daytonaio/daytona) declares cmdId, output, stdout, stderr and exitCode as pointers
 * without `omitempty`, and the async branch of SessionExecuteCommand answers 202 with only cmdId
 * set, so the others are serialised as `null`. Swagger 2.0 cannot say "nullable" and swag emits
 * no `x-nullable`, so the published document types them as plain string/integer.
 */
const DAEMON_NULLABLE: Record<string, string[]> = {
  SessionExecuteResponse: ['output', 'stdout', 'stderr', 'exitCode'],
};
/**
 * Daemon error codes newer than toolbox.json v0.205.1: @daytonaio/sdk 0.218.0 maps
 * `DAYTONA_DAEMON|INVALID_FILE_PATH` to DaytonaInvalidFilePathError (esm/errors/DaytonaError.js),
 * and local-daytona answers a path outside the sandbox with it.
 */
const NEWER_DAEMON_CODES = ['INVALID_FILE_PATH'];

function overlayToolbox(doc: JsonObject): JsonObject {
  const copy = structuredClone(doc);
  const definitions = copy['definitions'];
  if (!isObject(definitions)) throw new Error('toolbox document has no definitions');
  for (const [name, fields] of Object.entries(DAEMON_NULLABLE)) {
    const properties = isObject(definitions[name]) ? definitions[name]['properties'] : undefined;
    for (const field of fields) {
      const property = isObject(properties) ? properties[field] : undefined;
      if (!isObject(property)) throw new Error(`${name}.${field} is not in the toolbox document`);
      property['x-nullable'] = true;
    }
  }
  const codes = definitions['DaemonErrorCode'];
  if (!isObject(codes) || !Array.isArray(codes['enum'])) throw new Error('no DaemonErrorCode');
  codes['enum'] = [...codes['enum'], ...NEWER_DAEMON_CODES];
  return copy;
}

/** Keywords whose values are data, not subschemas: never rewritten. */
const DATA_KEYWORDS = new Set([
  'example',
  'examples',
  'default',
  'enum',
  'const',
  'x-enum-varnames',
]);

/** Where each document keeps its named schemas, as its `$ref`s spell it. */
const REF_PREFIX: Record<Document, string> = {
  api: '#/components/schemas/',
  toolbox: '#/definitions/',
};

/**
 * An OpenAPI schema object as JSON Schema (draft-07, ajv's default):
 * - OpenAPI 3.0 `nullable: true` and Swagger 2.0's `x-nullable: true` mean "or null"; JSON Schema
 *   has no such keyword, so the schema becomes `anyOf: [schema, {type: 'null'}]` (which also works
 *   where the schema has no `type` of its own, e.g. an `allOf` of a `$ref`).
 * - `$ref: '#/components/schemas/X'` (or `#/definitions/X`) points into the OpenAPI document;
 *   it becomes `daytona-<doc>#/definitions/X`, the schema registered with ajv below.
 * - Keywords this function does not translate would silently change meaning: they fail loudly.
 */
function toJsonSchema(node: Json, doc: Document): Json {
  if (Array.isArray(node)) return node.map((item) => toJsonSchema(item, doc));
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  let nullable = false;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'nullable' || key === 'x-nullable') nullable = value === true;
    else if (key === '$ref') {
      if (typeof value !== 'string' || !value.startsWith(REF_PREFIX[doc])) {
        throw new Error(`unexpected $ref ${JSON.stringify(value)} in the ${doc} document`);
      }
      const name = encodeURIComponent(value.slice(REF_PREFIX[doc].length));
      out[key] = `daytona-${doc}#/definitions/${name}`;
    } else if (key === 'discriminator' || (key.startsWith('exclusiveM') && value === true)) {
      throw new Error(`OpenAPI keyword ${key} is not translated; extend toJsonSchema`);
    } else out[key] = DATA_KEYWORDS.has(key) ? value : toJsonSchema(value, doc);
  }
  return nullable ? { anyOf: [out, { type: 'null' }] } : out;
}

// Strict mode stays on, so unknown keywords and contradictory schemas are errors. The two
// annotation keywords the documents use besides JSON Schema's own (OpenAPI's `example` and the
// generator's `x-enum-varnames`) are declared, so they describe without constraining.
const ajv = new Ajv({ allErrors: true, strict: true });
ajv.addVocabulary(['example', 'x-enum-varnames']);
// Formats: api.json uses `date-time`, toolbox.json `int64` and `double`; ajv-formats implements
// them. Strict mode makes any other format an error instead of silently passing.
ajvFormats.default(ajv);
const named: Record<Document, Json | undefined> = {
  api: isObject(specs.api['components']) ? specs.api['components']['schemas'] : undefined,
  toolbox: overlayToolbox(specs.toolbox)['definitions'],
};
for (const doc of ['api', 'toolbox'] as const) {
  const definitions = named[doc];
  if (!isObject(definitions)) throw new Error(`the ${doc} document has no named schemas`);
  ajv.addSchema({ $id: `daytona-${doc}`, definitions: toJsonSchema(definitions, doc) });
}

function operation(doc: Document, method: Method, route: string): JsonObject {
  const paths = specs[doc]['paths'];
  const op = isObject(paths) && isObject(paths[route]) ? paths[route][method] : undefined;
  if (!isObject(op)) throw new Error(`${method.toUpperCase()} ${route} is not in the ${doc} spec`);
  return op;
}

const validators = new Map<string, ValidateFunction>();
/** Compiles (once) a schema taken from one of the documents. */
function validatorFor(doc: Document, schema: Json): ValidateFunction {
  const converted = toJsonSchema(schema, doc);
  if (!isObject(converted)) throw new Error(`not a schema: ${JSON.stringify(schema)}`);
  const key = JSON.stringify(converted);
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile(converted);
    validators.set(key, validate);
  }
  return validate;
}

/** The validator for a named schema, e.g. `Sandbox`. */
const schemaNamed = (doc: Document, name: string): ValidateFunction =>
  validatorFor(doc, { $ref: REF_PREFIX[doc] + name });

/** The validator for a documented response, or undefined when the spec gives it no body. */
function responseValidator(
  doc: Document,
  method: Method,
  route: string,
  status: number,
): ValidateFunction | undefined {
  const responses = operation(doc, method, route)['responses'];
  const documented = isObject(responses) ? responses[String(status)] : undefined;
  if (!isObject(documented)) {
    const known = isObject(responses) ? Object.keys(responses).join(', ') : 'none';
    throw new Error(
      `${method} ${route}: status ${status} is not documented (documented: ${known})`,
    );
  }
  // Swagger 2.0 puts the schema on the response; OpenAPI 3.0 under content/<media type>.
  const content = documented['content'];
  const schema =
    doc === 'toolbox'
      ? documented['schema']
      : isObject(content) && isObject(content['application/json'])
        ? content['application/json']['schema']
        : undefined;
  return schema === undefined ? undefined : validatorFor(doc, schema);
}

/** The validator for an operation's JSON request body. */
function requestValidator(doc: Document, method: Method, route: string): ValidateFunction {
  const op = operation(doc, method, route);
  let schema: Json | undefined;
  if (doc === 'api') {
    const content = isObject(op['requestBody']) ? op['requestBody']['content'] : undefined;
    const json = isObject(content) ? content['application/json'] : undefined;
    schema = isObject(json) ? json['schema'] : undefined;
  } else {
    // Swagger 2.0: the `in: body` parameter (extract.ts keeps no other).
    const params = op['parameters'];
    const body = Array.isArray(params)
      ? params.find((p) => isObject(p) && p['in'] === 'body')
      : undefined;
    schema = isObject(body) ? body['schema'] : undefined;
  }
  if (schema === undefined) throw new Error(`${method.toUpperCase()} ${route} takes no JSON body`);
  return validatorFor(doc, schema);
}

function explain(validate: ValidateFunction): string {
  return ajv.errorsText(validate.errors, { separator: '\n  ' });
}

/** Asserts that `body` satisfies `validate`, with ajv's reasons as the failure message. */
function expectValid(validate: ValidateFunction, body: unknown, what: string): void {
  const ok = validate(body);
  expect(ok, `${what} does not match the spec:\n  ${ok ? '' : explain(validate)}`).toBe(true);
}

let server: LocalDaytona;
let repo: SampleRepo | undefined;
let repoDir: string;

/** The headers @daytonaio/sdk 0.218.0 sends on every request (SDK-CONTRACT.md A0). */
function headers(extra: Record<string, string> = {}): Record<string, string> {
  return {
    authorization: `Bearer ${server.apiKey}`,
    'x-daytona-source': 'sdk-typescript',
    'x-daytona-sdk-version': '0.218.0',
    ...extra,
  };
}

interface CallOptions {
  /** Values for the route's `{name}` segments. */
  params?: Record<string, string>;
  query?: Record<string, string>;
  /** JSON body; validated against the operation's request schema before it is sent. */
  json?: unknown;
  /** A non-JSON body (multipart, or the SDK's empty form-encoded POST). */
  body?: FormData | string;
  contentType?: string;
  /** The sandbox whose toolbox is called (toolbox operations only). */
  sandboxId?: string;
}

interface Answer {
  status: number;
  body: unknown;
}

/**
 * Calls one documented operation and checks the answer against the spec: the status must be
 * documented for the operation and the body must match that status's schema, if it has one.
 */
async function call(
  doc: Document,
  method: Method,
  route: string,
  options: CallOptions = {},
): Promise<Answer> {
  let pathname = route.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const value = options.params?.[name];
    if (value === undefined) throw new Error(`no value for {${name}} in ${route}`);
    return encodeURIComponent(value);
  });
  if (doc === 'toolbox') {
    if (options.sandboxId === undefined) throw new Error('toolbox calls need a sandboxId');
    pathname = `/${options.sandboxId}${pathname}`;
  }
  const base = doc === 'api' ? server.apiUrl : server.toolboxUrl;
  const url = new URL(base + pathname);
  for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);

  const init: RequestInit = { method: method.toUpperCase(), headers: headers() };
  if (options.json !== undefined) {
    expectValid(requestValidator(doc, method, route), options.json, `request to ${route}`);
    init.body = JSON.stringify(options.json);
    init.headers = headers({ 'content-type': 'application/json' });
  } else if (options.body !== undefined) {
    init.body = options.body;
    if (options.contentType) init.headers = headers({ 'content-type': options.contentType });
  }

  const res = await fetch(url, init);
  const text = await res.text();
  const isJson = (res.headers.get('content-type') ?? '').includes('application/json');
  const body: unknown = isJson && text !== '' ? JSON.parse(text) : text;
  const validate = responseValidator(doc, method, route, res.status);
  const what = `${method.toUpperCase()} ${route} → ${res.status} ${text.slice(0, 500)}`;
  if (validate) {
    expect(isJson, `${what}: expected a JSON body`).toBe(true);
    expectValid(validate, body, what);
  }
  return { status: res.status, body };
}

/** Reads a string field of a response body that the schema has already checked. */
function field(answer: Answer, name: string): string {
  const value = isObject(answer.body) ? answer.body[name] : undefined;
  if (typeof value !== 'string') throw new Error(`no string ${name} in ${JSON.stringify(answer)}`);
  return value;
}

beforeAll(async () => {
  server = await startLocalDaytona({ apiKey: `test-${crypto.randomUUID()}` });
  // A repository to clone (git clone of a local path needs no network).
  repo = await createSampleRepo();
  repoDir = repo.path;
});

afterAll(async () => {
  await server?.close();
  await repo?.remove();
});

describe('the validator itself', () => {
  const sandbox = () => schemaNamed('api', 'Sandbox');
  const list = () => schemaNamed('api', 'ListSandboxesResponse');
  const minimal = {
    id: 'sb',
    organizationId: 'org',
    name: 'sb',
    user: 'daytona',
    env: {},
    labels: {},
    public: false,
    networkBlockAll: false,
    target: 'us',
    cpu: 1,
    gpu: 0,
    memory: 1,
    disk: 3,
    toolboxProxyUrl: 'http://x/toolbox',
  };

  it('rejects missing required fields, wrong types and values outside an enum', () => {
    const { toolboxProxyUrl: _, ...missing } = minimal;
    expect(sandbox()(missing)).toBe(false);
    expect(sandbox()({ ...minimal, cpu: '1' })).toBe(false);
    expect(sandbox()({ ...minimal, state: 'napping' })).toBe(false);
    expect(sandbox()({ ...minimal, env: { A: 1 } })).toBe(false);
  });

  it('checks formats the spec names (BuildInfo.createdAt is a date-time)', () => {
    const buildInfo = { snapshotRef: 'r', createdAt: 'yesterday', updatedAt: 'yesterday' };
    expect(sandbox()({ ...minimal, buildInfo })).toBe(false);
    const now = new Date().toISOString();
    expect(
      sandbox()({ ...minimal, buildInfo: { ...buildInfo, createdAt: now, updatedAt: now } }),
    ).toBe(true);
  });

  it('leaves objects open: fields the spec does not name are accepted', () => {
    expect(sandbox()({ ...minimal, someFutureField: { nested: true } })).toBe(true);
    // Nothing in the copied documents closes an object; this test must not close one either.
    expect(JSON.stringify(fixture)).not.toMatch(/"additionalProperties":\s*false/);
  });

  it('applies the daemon overlay to the named fields only', () => {
    const exec = schemaNamed('toolbox', 'SessionExecuteResponse');
    expect(exec({ cmdId: 'c', output: null, stdout: null, stderr: null, exitCode: null })).toBe(
      true,
    );
    expect(exec({ cmdId: 'c', exitCode: '0' })).toBe(false);
    expect(exec({ cmdId: null })).toBe(false);
    const error = schemaNamed('toolbox', 'ErrorResponse');
    const body = { statusCode: 400, message: 'm', path: '/p', timestamp: 't' };
    expect(error({ ...body, code: 'INVALID_FILE_PATH' })).toBe(true);
    expect(error({ ...body, code: 'NO_SUCH_CODE' })).toBe(false);
  });

  it('turns OpenAPI nullable into "or null", and nothing else', () => {
    expect(list()({ items: [], nextCursor: null })).toBe(true);
    expect(list()({ items: [], nextCursor: 'c' })).toBe(true);
    expect(list()({ items: [], nextCursor: 5 })).toBe(false);
    expect(list()({ items: [] })).toBe(false); // nullable, but still required
  });
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
