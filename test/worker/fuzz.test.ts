/**
 * Property-based: hostile input on every write endpoint under /v1 (discovered from /openapi.json,
 * so a new endpoint is covered as soon as it is documented) is answered with a 2xx, or a 4xx
 * problem+json, and never with a 5xx. Bodies are arbitrary and adversarial JSON, invalid JSON
 * text, bytes that are not UTF-8, and wrong content types; path parameters are arbitrary strings.
 * The seed is fixed, so a run is reproducible.
 */
import { env, exports } from 'cloudflare:workers';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../../worker/config.ts';
import { checkRepoUrl } from '../../worker/lib/repo-url.ts';
import { CreateJobBodySchema } from '../../worker/schemas/jobs.ts';
import { ProblemSchema } from '../../worker/schemas/problem.ts';
import { api, newTenant } from './helpers.ts';

const SEED = 20_260_101;
const RUNS_PER_ROUTE = 120;

// --- The write routes, from the OpenAPI document -------------------------------------------

const documentSchema = z.object({
  paths: z.record(z.string(), z.record(z.string(), z.unknown())),
  components: z.object({ schemas: z.record(z.string(), z.unknown()).optional() }).optional(),
});
const openapi = documentSchema.parse(await (await api('/openapi.json', null)).json());

interface Route {
  method: string;
  path: string;
  /** Property names of its JSON body, at any depth: what near-valid bodies are made of. */
  fields: string[];
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every property name in `schema`, following `$ref`s into the document's components. */
function propertyNames(schema: unknown, seen = new Set<unknown>()): string[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  if (Array.isArray(schema)) return schema.flatMap((s) => propertyNames(s, seen));
  if (!isRecord(schema)) return [];
  const names: string[] = [];
  const ref = schema.$ref;
  if (typeof ref === 'string') {
    names.push(...propertyNames(openapi.components?.schemas?.[ref.split('/').at(-1) ?? ''], seen));
  }
  if (isRecord(schema.properties)) names.push(...Object.keys(schema.properties));
  for (const value of Object.values(schema)) names.push(...propertyNames(value, seen));
  return [...new Set(names)];
}

const routes: Route[] = Object.entries(openapi.paths)
  .filter(([path]) => path.startsWith('/v1/'))
  .flatMap(([path, operations]) =>
    Object.entries(operations)
      .filter(([method]) => ['post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, operation]) => ({
        method: method.toUpperCase(),
        path,
        fields: propertyNames(isRecord(operation) ? operation.requestBody : undefined),
      })),
  );

// --- Hostile values -----------------------------------------------------------------------

const nastyStrings = [
  '',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  '\u202e\u2066evil',
  '\ufeff',
  '𝕆mni 🧨 Ω',
  '..',
  '../../etc/passwd',
  '%00',
  '%zz',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  "'; DROP TABLE jobs; --",
  '__proto__',
  'constructor',
  'prototype',
  'NaN',
  '-0',
  '1e308',
  'Infinity',
  'null',
  'true',
  'owner',
  'viewer',
  `job_${'0'.repeat(32)}`,
  'omni_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  'file:///etc',
  'https://127.0.0.1/x.git',
  'https://[::ffff:127.0.0.1]/x.git',
  'https://user:pass@github.com.evil.test/x.git',
  'javascript:alert(1)',
];

const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }) },
  { weight: 4, arbitrary: fc.constantFrom(...nastyStrings) },
  { weight: 1, arbitrary: fc.integer({ min: 256, max: 70_000 }).map((n) => 'x'.repeat(n)) },
);

const hostileNumber = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(1e308, -1e308, -0, 5e-324, 2 ** 53 + 1, -1, 0, 0.5, 7200, 7201),
);

const protoKeys = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];

/** A JSON object as text, so `__proto__` stays an own key and keys may repeat. */
const objectText = (entries: ReadonlyArray<readonly [string, string]>) =>
  `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;

/** JSON text of hostile values, objects made of `fields` (and prototype keys) up to `depth`. */
function hostileJson(fields: string[], depth: number): fc.Arbitrary<string> {
  const scalar = fc.oneof(
    hostileString.map((s) => JSON.stringify(s)),
    hostileNumber.map((n) => JSON.stringify(n)),
    fc.constantFrom(
      'true',
      'false',
      'null',
      '1e309',
      '-0',
      '0.0000001',
      '123456789012345678901234567890',
    ),
  );
  if (depth === 0) return scalar;
  const inner = hostileJson(fields, depth - 1);
  const key = fc.oneof(
    fc.constantFrom(...fields, ...protoKeys),
    fc.string({ unit: 'binary', maxLength: 12 }),
  );
  return fc.oneof(
    { weight: 3, arbitrary: scalar },
    { weight: 3, arbitrary: fc.array(fc.tuple(key, inner), { maxLength: 6 }).map(objectText) },
    { weight: 1, arbitrary: fc.array(inner, { maxLength: 4 }).map((a) => `[${a.join(',')}]`) },
  );
}

/** A repository URL that a job could never be started with. */
const hostileUrl = fc
  .oneof(hostileString, fc.webUrl({ withQueryParameters: true, withFragments: true }))
  .filter((url) => !jobCouldStart({ repo: { url }, command: 'x' }));

/** True if `body` would pass every check of POST /v1/jobs, i.e. a fuzz case would run a job. */
function jobCouldStart(body: unknown): boolean {
  const parsed = CreateJobBodySchema.safeParse(body);
  if (!parsed.success) return false;
  try {
    checkRepoUrl(parsed.data.repo.url, loadConfig(env));
    return true;
  } catch {
    return false;
  }
}

/** A job request that is valid except for its repository URL, with hostile values around it. */
const nearlyValidJob = fc
  .record(
    {
      repo: fc.record({ url: hostileUrl, ref: hostileString }, { requiredKeys: ['url'] }),
      command: hostileString,
      timeout_seconds: fc.oneof(hostileNumber, hostileString),
      queue: fc.oneof(fc.boolean(), hostileString),
    },
    { requiredKeys: ['repo', 'command'] },
  )
  .map((body) => JSON.stringify(body));

const invalidJsonText = fc.oneof(
  fc.string({ maxLength: 64 }),
  fc.constantFrom(
    '',
    '{',
    '{"a":1,}',
    "{'a':1}",
    'NaN',
    'Infinity',
    '-',
    '\ufeff{}',
    '{"a":1}garbage',
    'nul',
    '[1,2',
    '{"__proto__":',
    '"\\ud800"',
    '"\\u0000"',
    '\u0000',
  ),
  fc.jsonValue().map((v) => {
    const text = JSON.stringify(v);
    return text.slice(0, Math.max(0, text.length - 1));
  }),
);

const deeplyNested = fc
  .tuple(fc.integer({ min: 64, max: 20_000 }), fc.constantFrom('array', 'object'))
  .map(([n, kind]) =>
    kind === 'array' ? `${'['.repeat(n)}${']'.repeat(n)}` : `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`,
  );

type Body =
  { kind: 'none' } | { kind: 'text'; text: string } | { kind: 'bytes'; bytes: Uint8Array };

function bodies(route: Route): fc.Arbitrary<Body> {
  const text = (arb: fc.Arbitrary<string>) => arb.map((t): Body => ({ kind: 'text', text: t }));
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant<Body>({ kind: 'none' }) },
    { weight: 3, arbitrary: text(fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v))) },
    { weight: 5, arbitrary: text(hostileJson(route.fields, 3)) },
    ...(route.method === 'POST' && route.path === '/v1/jobs'
      ? [{ weight: 5, arbitrary: text(nearlyValidJob) }]
      : []),
    { weight: 2, arbitrary: text(invalidJsonText) },
    { weight: 1, arbitrary: text(deeplyNested) },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ minLength: 1, maxLength: 64 })
        .map((b): Body => ({ kind: 'bytes', bytes: Uint8Array.of(0xff, 0xfe, ...b) })),
    },
  );
}

const contentTypes = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      null,
      '',
      'application/json; charset=utf-8',
      'application/json; charset=utf-16',
      'APPLICATION/JSON',
      'application/merge-patch+json',
      'application/jsonx',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=xyz',
      '*/*',
    ),
  },
);

/** Percent-encodes any string as one path segment (lone surrogates become U+FFFD). */
const segment = (s: string) =>
  [...new TextEncoder().encode(s)]
    .map((b) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0')}`,
    )
    .join('');

const pathValue = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }).map(segment),
  fc.constantFrom('..', '.', '%', '%zz', '%00', '%2F', ';', '*', `job_${'f'.repeat(32)}`),
  fc.integer({ min: 1, max: 5_000 }).map((n) => 'a'.repeat(n)),
);

const idempotencyKeys = fc.option(fc.string({ unit: 'grapheme-ascii', maxLength: 300 }), {
  nil: null,
});

// --- The property -------------------------------------------------------------------------

interface Case {
  params: string[];
  body: Body;
  contentType: string | null;
  idempotencyKey: string | null;
}

let apiKey: string;
beforeAll(async () => {
  // A tenant of its own: whatever a fuzz case creates or changes (keys, members) stays there.
  ({ apiKey } = await newTenant('owner'));
});

function requestFor(route: Route, c: Case): Request {
  let i = 0;
  const path = route.path.replace(/\{[^}]+\}/g, () => c.params[i++] ?? 'x');
  const headers = new Headers({ authorization: `Bearer ${apiKey}` });
  if (c.contentType !== null) headers.set('content-type', c.contentType);
  if (c.idempotencyKey !== null) headers.set('idempotency-key', c.idempotencyKey);
  const body = c.body.kind === 'text' ? c.body.text : c.body.kind === 'bytes' ? c.body.bytes : null;
  return new Request(`https://omni.test${path}`, { method: route.method, headers, body });
}

/** The answer is a success, or a 4xx problem+json with a JSON body; never a 5xx. */
async function checkAnswer(route: Route, c: Case): Promise<void> {
  const res = await exports.default.fetch(requestFor(route, c));
  const text = await res.text();
  const where = `${route.method} ${route.path} answered ${res.status}: ${text.slice(0, 500)}`;
  expect(res.status, where).toBeGreaterThanOrEqual(200);
  expect(res.status, where).toBeLessThan(500);
  expect(res.status >= 300 && res.status < 400, where).toBe(false);
  if (res.status >= 400) {
    expect(res.headers.get('content-type'), where).toBe('application/problem+json');
    const problem = ProblemSchema.parse(JSON.parse(text));
    expect(problem.status, where).toBe(res.status);
  } else if (text !== '') {
    expect(res.headers.get('content-type'), where).toMatch(/^application\/json\b/);
    JSON.parse(text);
  }
}

/** Cases every route gets, whatever the seed draws. */
function examples(route: Route): Case[] {
  const params = [...route.path.matchAll(/\{[^}]+\}/g)].map(() => 'x');
  const json = (text: string): Case => ({
    params,
    body: { kind: 'text', text },
    contentType: 'application/json',
    idempotencyKey: null,
  });
  return [
    json('{"__proto__":{"role":"owner","admin":true},"constructor":{"prototype":{"x":1}}}'),
    json('{"a":"\\u0000","b":"\\ud800","c":1e308,"d":-0,"e":"NaN"}'),
    json(`${'['.repeat(10_000)}${']'.repeat(10_000)}`),
    json(JSON.stringify({ x: 'y'.repeat(70_000) })),
    json('{"a":'),
    json('null'),
    json('[]'),
    json('"just a string"'),
    {
      params,
      body: { kind: 'text', text: 'a=1' },
      contentType: 'text/plain',
      idempotencyKey: null,
    },
    { params, body: { kind: 'none' }, contentType: null, idempotencyKey: null },
    {
      params: params.map(() => '%zz'),
      body: { kind: 'none' },
      contentType: null,
      idempotencyKey: null,
    },
  ];
}

describe('hostile input on every write endpoint', () => {
  it('discovers the write endpoints from /openapi.json', () => {
    expect(routes.map((r) => `${r.method} ${r.path}`)).toContain('POST /v1/jobs');
    const create = routes.find((r) => r.method === 'POST' && r.path === '/v1/jobs');
    expect(create?.fields).toEqual(expect.arrayContaining(['repo', 'url', 'command']));
  });

  it.each(routes.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s answers 2xx or a 4xx problem, never a 5xx',
    async (_, route) => {
      const params = [...route.path.matchAll(/\{[^}]+\}/g)].map(() => pathValue);
      const cases = fc.record({
        params: fc.tuple(...params),
        body: bodies(route),
        contentType: contentTypes,
        idempotencyKey: route.method === 'POST' ? idempotencyKeys : fc.constant(null),
      });
      const property = fc.asyncProperty(cases, async (c) => {
        if (route.method === 'POST' && route.path === '/v1/jobs' && c.body.kind === 'text') {
          let parsed: unknown;
          try {
            parsed = JSON.parse(c.body.text);
          } catch {
            parsed = undefined;
          }
          // A fuzz case must never run a job (its command would be arbitrary).
          fc.pre(!jobCouldStart(parsed));
        }
        await checkAnswer(route, c);
      });
      await fc.assert(property, {
        seed: SEED,
        numRuns: RUNS_PER_ROUTE,
        examples: examples(route).map((c) => [c]),
      });
    },
  );
});
