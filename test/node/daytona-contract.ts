/**
 * The contract checker behind local-daytona-contract.test.ts: Daytona's published OpenAPI
 * operations and schemas (fixtures/daytona/schemas.json, verbatim excerpts; see
 * fixtures/daytona/SOURCE.md) compiled with ajv, and `call`, which sends one documented operation
 * with plain fetch and validates the request before it goes and the answer when it comes.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { expect } from 'vitest';
import type { LocalDaytona } from '../../local-daytona/server.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
type Document = 'api' | 'toolbox';
export type Method = 'get' | 'post' | 'put' | 'delete';

export const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const fixture: unknown = JSON.parse(
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
export const schemaNamed = (doc: Document, name: string): ValidateFunction =>
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

/** The server every `call` goes to; the test's beforeAll sets it. */
let server: Pick<LocalDaytona, 'apiUrl' | 'toolboxUrl' | 'apiKey'>;

/** Points `call` at `target`. */
export function useServer(target: typeof server): void {
  server = target;
}

/** The headers @daytonaio/sdk 0.218.0 sends on every request (SDK-CONTRACT.md A0). */
function headers(extra: Record<string, string> = {}): Record<string, string> {
  return {
    authorization: `Bearer ${server.apiKey}`,
    'x-daytona-source': 'sdk-typescript',
    'x-daytona-sdk-version': '0.218.0',
    ...extra,
  };
}

export interface CallOptions {
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
export async function call(
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
export function field(answer: Answer, name: string): string {
  const value = isObject(answer.body) ? answer.body[name] : undefined;
  if (typeof value !== 'string') throw new Error(`no string ${name} in ${JSON.stringify(answer)}`);
  return value;
}
