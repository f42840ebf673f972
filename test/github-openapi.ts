/**
 * GitHub's REST API description (@octokit/openapi, api.github.com.deref.json) as a request
 * checker for test/github-stand-in.ts: every operation indexed by method and path template, and
 * a request's path parameters, query and JSON body validated with ajv against the operation's
 * own schemas. The document is about 70 MB: it is read once per process, and only the request
 * side of each operation is kept (responses are dropped); schemas compile on first use.
 *
 * The description is OpenAPI 3.0 (`nullable`, `example`, `x-github`, ...): ajv runs with strict
 * mode off, and GitHub's own formats `int64` and `repo.nwo` are declared. Request bodies are
 * checked more strictly than GitHub does in one way: a property the operation does not name is
 * refused (GitHub ignores it silently, which hides a misspelled field).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** One documented operation, as the stand-in needs it. */
export interface Operation {
  method: string;
  /** The path template, e.g. `/repos/{owner}/{repo}/check-runs`. */
  template: string;
  operationId: string;
  /** Matches a request path; its groups are the path parameters, in `names` order. */
  pattern: RegExp;
  names: string[];
  /** Literal characters of the template: the most literal of several matches wins. */
  literal: number;
  parameters: JsonObject[];
  body: JsonObject | null;
  bodyRequired: boolean;
  /**
   * JSON answer schemas by status code, kept only for the operations the stand-in carries out
   * ({@link prepareOperations}): the rest of the document's answers are dropped.
   */
  responses: Map<string, JsonObject> | null;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head'];
const COMPOSITION = new Set(['allOf', 'anyOf', 'oneOf', 'not']);
const DATA_KEYWORDS = new Set(['example', 'examples', 'default', 'enum', 'const']);

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compileTemplate(template: string, parameters: JsonObject[]) {
  const multi = new Set(
    parameters.filter((p) => p['x-multi-segment'] === true).map((p) => String(p['name'])),
  );
  const names: string[] = [];
  let source = '';
  let literal = 0;
  for (const part of template.split(/(\{[^}]+\})/)) {
    const name = /^\{([^}]+)\}$/.exec(part)?.[1];
    if (name === undefined) {
      source += escapeRegExp(part);
      literal += part.length;
    } else {
      names.push(name);
      source += multi.has(name) ? '(.+)' : '([^/]+)';
    }
  }
  return { pattern: new RegExp(`^${source}$`), names, literal };
}

function responsesOf(op: JsonObject): Map<string, JsonObject> {
  const out = new Map<string, JsonObject>();
  const responses = isObject(op['responses']) ? op['responses'] : {};
  for (const [status, response] of Object.entries(responses)) {
    const content =
      isObject(response) && isObject(response['content']) ? response['content'] : null;
    const json =
      content !== null && isObject(content['application/json'])
        ? content['application/json']
        : null;
    if (json !== null && isObject(json['schema'])) out.set(status, json['schema']);
  }
  return out;
}

/** Operations (`METHOD /template`) whose answer schemas are kept. */
let answersKeptFor = new Set<string>();

function loadOperations(): Map<string, Operation[]> {
  const require = createRequire(import.meta.url);
  const file = require.resolve('@octokit/openapi/generated/api.github.com.deref.json');
  const doc: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!isObject(doc) || !isObject(doc['paths'])) throw new Error('no paths in the description');
  const byMethod = new Map<string, Operation[]>();
  for (const [template, item] of Object.entries(doc['paths'])) {
    if (!isObject(item)) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      const parameters = (Array.isArray(op['parameters']) ? op['parameters'] : []).filter(isObject);
      const requestBody = isObject(op['requestBody']) ? op['requestBody'] : null;
      const content =
        requestBody !== null && isObject(requestBody['content']) ? requestBody['content'] : null;
      const json =
        content !== null && isObject(content['application/json'])
          ? content['application/json']
          : null;
      const body = json !== null && isObject(json['schema']) ? json['schema'] : null;
      const operation: Operation = {
        method: method.toUpperCase(),
        template,
        operationId: String(op['operationId']),
        ...compileTemplate(template, parameters),
        parameters,
        body,
        bodyRequired: requestBody !== null && requestBody['required'] === true,
        responses: answersKeptFor.has(`${method.toUpperCase()} ${template}`)
          ? responsesOf(op)
          : null,
      };
      const list = byMethod.get(operation.method) ?? [];
      list.push(operation);
      byMethod.set(operation.method, list);
    }
  }
  return byMethod;
}

let loaded: Map<string, Operation[]> | null = null;

/** The operations of the description by HTTP method (read on first call). */
export function githubOperations(): Map<string, Operation[]> {
  loaded ??= loadOperations();
  return loaded;
}

/** The documented operation a request path is, with its path parameters; null if there is none. */
export function findOperation(
  method: string,
  path: string,
): { operation: Operation; params: Record<string, string> } | null {
  let best: { operation: Operation; params: Record<string, string> } | null = null;
  for (const operation of githubOperations().get(method.toUpperCase()) ?? []) {
    const match = operation.pattern.exec(path);
    if (match === null || (best !== null && best.operation.literal >= operation.literal)) continue;
    const params: Record<string, string> = {};
    operation.names.forEach((name, i) => (params[name] = decodeURIComponent(match[i + 1] ?? '')));
    best = { operation, params };
  }
  return best;
}

/** A copy of a body schema in which objects refuse properties they do not name. */
function closeObjects(schema: Json, inComposition = false): Json {
  if (Array.isArray(schema)) return schema.map((s) => closeObjects(s, inComposition));
  if (!isObject(schema)) return schema;
  const copy: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DATA_KEYWORDS.has(key)) copy[key] = value;
    else if (key === 'properties' && isObject(value)) {
      copy[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, closeObjects(v)]));
    } else copy[key] = closeObjects(value, COMPOSITION.has(key));
  }
  const composed = Object.keys(schema).some((k) => COMPOSITION.has(k));
  if (
    isObject(schema['properties']) &&
    !('additionalProperties' in schema) &&
    !inComposition &&
    !composed
  ) {
    copy['additionalProperties'] = false;
  }
  return nullableEnum(copy);
}

function newAjv(coerceTypes: boolean): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes, validateFormats: true });
  ajvFormats.default(ajv);
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('repo.nwo', /^[\w.-]+\/[\w.-]+$/);
  ajv.addFormat('binary', true);
  return ajv;
}

const coercing = newAjv(true);
const exact = newAjv(false);
const compiled = new Map<string, { parameters: ValidateFunction; body: ValidateFunction | null }>();

function closedBody(body: JsonObject): JsonObject {
  const closed = closeObjects(body);
  if (!isObject(closed)) throw new Error('a body schema is not an object');
  return closed;
}

function validatorsOf(operation: Operation) {
  const key = `${operation.method} ${operation.template}`;
  let entry = compiled.get(key);
  if (entry === undefined) {
    const properties: JsonObject = {};
    const required: string[] = [];
    for (const p of operation.parameters) {
      if (p['in'] !== 'path' && p['in'] !== 'query') continue;
      const name = `${String(p['in'])}:${String(p['name'])}`;
      properties[name] = isObject(p['schema']) ? p['schema'] : {};
      if (p['required'] === true) required.push(name);
    }
    entry = {
      parameters: coercing.compile({
        type: 'object',
        properties,
        required,
        additionalProperties: false,
      }),
      body: operation.body === null ? null : exact.compile(closedBody(operation.body)),
    };
    compiled.set(key, entry);
  }
  return entry;
}

/**
 * Reads the description and compiles the schemas of `operations` (`METHOD /template`) now, so
 * that no request of a test run waits seconds for it (the read blocks the process it runs in,
 * where other loopback stand-ins live too).
 * @throws Error naming an operation the description does not have.
 */
export function prepareOperations(operations: string[]): void {
  if (operations.some((key) => !answersKeptFor.has(key))) {
    answersKeptFor = new Set([...answersKeptFor, ...operations]);
    // Read again so that these operations keep their answer schemas.
    loaded = null;
  }
  for (const key of operations) {
    const [method = '', template = ''] = key.split(' ');
    const operation = githubOperations()
      .get(method)
      ?.find((o) => o.template === template);
    if (operation === undefined) throw new Error(`GitHub's description has no operation ${key}`);
    validatorsOf(operation);
  }
}

/**
 * OpenAPI 3.0's `nullable: true` next to an `enum` allows null, though the enum does not list it
 * (GitHub's description relies on that, e.g. a check run's `conclusion`); ajv wants it listed.
 */
function nullableEnum(schema: JsonObject): JsonObject {
  const values = schema['enum'];
  if (schema['nullable'] !== true || !Array.isArray(values) || values.includes(null)) return schema;
  return { ...schema, enum: [...values, null] };
}

/** A copy of an answer schema without `required`: the stand-in's answers are partial on purpose. */
function optionalFields(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(optionalFields);
  if (!isObject(schema)) return schema;
  const copy: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'required' && Array.isArray(value)) continue;
    // Without `required` several branches of a oneOf may match a partial object.
    copy[key === 'oneOf' ? 'anyOf' : key] = DATA_KEYWORDS.has(key) ? value : optionalFields(value);
  }
  return nullableEnum(copy);
}

const answerValidators = new Map<string, ValidateFunction>();

/**
 * What is wrong with an answer the stand-in gives for `operation`: a field whose type or value
 * the description's answer schema for `status` does not allow, or a status it does not list
 * (fields may be missing: the stand-in answers only those Omni reads, and a few more).
 */
export function answerProblems(operation: Operation, status: number, body: unknown): string[] {
  if (operation.responses === null || status >= 400) return [];
  const schema = operation.responses.get(String(status));
  if (schema === undefined) {
    return operation.responses.size === 0 ? [] : [`answer status ${status} is not documented`];
  }
  const key = `${operation.method} ${operation.template} ${status}`;
  let validate = answerValidators.get(key);
  if (validate === undefined) {
    const optional = optionalFields(schema);
    if (!isObject(optional)) return [];
    validate = exact.compile(optional);
    answerValidators.set(key, validate);
  }
  return validate(body) ? [] : describeErrors('answer', validate);
}

function describeErrors(where: string, validate: ValidateFunction): string[] {
  return (validate.errors ?? []).map((e) => {
    const at = e.instancePath === '' ? where : `${where}${e.instancePath}`;
    const extra =
      isObject(e.params) && 'additionalProperty' in e.params
        ? ` (${String(e.params['additionalProperty'])})`
        : '';
    return `${at} ${e.message ?? 'is invalid'}${extra}`;
  });
}

/**
 * What is wrong with a request to `operation`, in words (empty: it has the documented shape).
 * `body` is the parsed JSON body, or undefined when the request had none.
 */
export function requestProblems(
  operation: Operation,
  params: Record<string, string>,
  query: URLSearchParams,
  body: unknown,
): string[] {
  const validators = validatorsOf(operation);
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(params)) values[`path:${name}`] = value;
  for (const [name, value] of query) values[`query:${name}`] = value;
  const problems: string[] = [];
  if (!validators.parameters(values)) {
    problems.push(
      ...describeErrors('parameters', validators.parameters).map((p) =>
        p.replace('parameters/', ''),
      ),
    );
  }
  if (body === undefined) {
    if (operation.bodyRequired) problems.push('body is required');
  } else if (validators.body === null) {
    problems.push('body is not expected by this operation');
  } else if (!validators.body(body)) {
    problems.push(...describeErrors('body', validators.body));
  }
  return problems;
}
