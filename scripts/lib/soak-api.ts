/**
 * The soak's client of the Omni API. The runtime is crashed and restarted on purpose during a
 * soak, so every call rides that out: a refused or dropped connection, a request that gets no
 * answer in 30 s, or a 5xx is tried again (each counted) until the call's deadline. Job creation
 * carries an Idempotency-Key, so trying it again can never make a second job.
 */
import { z } from 'zod';

const FINAL = new Set(['succeeded', 'failed', 'timed_out', 'canceled']);

/** True for the four statuses after which a job never changes. */
export const isFinal = (status: string) => FINAL.has(status);

export const jobSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  timeout_seconds: z.number(),
  exit_code: z.number().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  created_at: z.string(),
  provisioning_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});
export type Job = z.infer<typeof jobSchema>;

export const eventSchema = z.looseObject({
  seq: z.number(),
  type: z.string(),
  ts: z.string(),
  status: z.string().optional(),
  data: z.string().optional(),
  exit_code: z.number().optional(),
});
export type JobEvent = z.infer<typeof eventSchema>;

const pageSchema = z.object({ data: z.array(eventSchema), next_after: z.number().nullable() });
const listSchema = z.object({ data: z.array(jobSchema), next_cursor: z.string().nullable() });
const problemSchema = z.looseObject({ code: z.string().optional() });

/** What happened to the calls, for the summary. */
export interface ApiCounters {
  /** Calls that got no answer (connection refused or dropped, or no answer in 30 s). */
  unanswered: number;
  /** 5xx answers, by status and path kind. */
  serverErrors: Map<string, number>;
}

/** The outcome of creating a job. */
export type Created =
  { kind: 'created'; job: Job } | { kind: 'refused'; status: number; code: string | undefined };

/** The answer's JSON, or its text if it is not JSON (a runtime error page, say). */
function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class SoakApi {
  readonly counters: ApiCounters = { unanswered: 0, serverErrors: new Map() };
  readonly #url: string;
  readonly #apiKey: string;

  constructor(url: string, apiKey: string) {
    this.#url = url;
    this.#apiKey = apiKey;
  }

  /** POST /v1/jobs with `key` as its Idempotency-Key; retried while in flight elsewhere. */
  async create(body: unknown, key: string, deadline: number): Promise<Created> {
    for (;;) {
      const res = await this.#call('POST', '/v1/jobs', deadline, body, { 'idempotency-key': key });
      if (res.status === 201 || res.status === 200)
        return { kind: 'created', job: jobSchema.parse(res.body) };
      const code = problemSchema.safeParse(res.body).data?.code;
      // An earlier attempt with this key is still being handled (or died): ask again shortly.
      if (res.status === 409 && code === 'idempotency_in_flight' && Date.now() < deadline) {
        await sleep(1000);
        continue;
      }
      return { kind: 'refused', status: res.status, code };
    }
  }

  async get(id: string, deadline: number): Promise<Job> {
    const res = await this.#call('GET', `/v1/jobs/${id}`, deadline);
    if (res.status !== 200) throw new Error(`GET /v1/jobs/${id} answered ${res.status}`);
    return jobSchema.parse(res.body);
  }

  /** Every event of the job's log, read in pages. */
  async events(id: string, deadline: number): Promise<JobEvent[]> {
    const all: JobEvent[] = [];
    let after = 0;
    for (;;) {
      const res = await this.#call(
        'GET',
        `/v1/jobs/${id}/events?after=${after}&limit=1000`,
        deadline,
      );
      if (res.status !== 200) throw new Error(`GET /v1/jobs/${id}/events answered ${res.status}`);
      const page = pageSchema.parse(res.body);
      all.push(...page.data);
      if (page.next_after === null) return all;
      if (page.data.length === 0) throw new Error(`job ${id}: an empty page that is not the last`);
      after = page.next_after;
    }
  }

  /** POST /v1/jobs/{id}/cancel; resolves with the answer's status (200 canceled, 409 ended). */
  async cancel(id: string, deadline: number): Promise<number> {
    return (await this.#call('POST', `/v1/jobs/${id}/cancel`, deadline)).status;
  }

  /** Every job of the tenant, as D1 lists it. */
  async list(deadline: number): Promise<Job[]> {
    const all: Job[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const res = await this.#call('GET', `/v1/jobs?limit=100${query}`, deadline);
      if (res.status !== 200) throw new Error(`GET /v1/jobs answered ${res.status}`);
      const page = listSchema.parse(res.body);
      all.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor);
    return all;
  }

  /** One request, tried again while it gets no answer or a 5xx, until `deadline`. */
  async #call(
    method: string,
    path: string,
    deadline: number,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: unknown }> {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fetch(`${this.#url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${this.#apiKey}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...headers,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text();
        const parsed = parseJson(text);
        if (res.status < 500 || Date.now() >= deadline) return { status: res.status, body: parsed };
        const kind = `${res.status} ${method} ${path.replace(/job_[0-9a-f]+/, '{id}').replace(/\?.*/, '')}`;
        this.counters.serverErrors.set(kind, (this.counters.serverErrors.get(kind) ?? 0) + 1);
      } catch (error) {
        if (Date.now() >= deadline) throw error;
        this.counters.unanswered++;
      }
      await sleep(Math.min(2000, 200 * attempt));
    }
  }
}
