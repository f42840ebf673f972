/**
 * The body of GET /v1/tenant/export: everything stored about a tenant as one JSON document
 * (docs/tenant-data.md), written piece by piece as the client reads it. Each piece is one page of
 * D1 rows or one page of a job's events (about 1 MiB of output at most), and the next is read only
 * when the client has taken the last one, so memory stays bounded whatever the tenant's size. A
 * read that fails midway errors the stream: the client sees a broken download, never a shorter
 * document that looks complete.
 */
import { getTableColumns } from 'drizzle-orm';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import { listAudit } from '../db/audit.ts';
import {
  listDeliveries as listGitHubDeliveries,
  listGitHubJobRows,
  listInstallations,
} from '../db/github.ts';
import { listJobs } from '../db/jobs.ts';
import { listKeys } from '../db/keys.ts';
import { listBudgetNotices, listLedgerRows } from '../db/ledger.ts';
import { listMembers } from '../db/members.ts';
import type { Cursor } from '../db/page.ts';
import { listProjectRows } from '../db/projects.ts';
import { listSecrets } from '../db/secrets.ts';
import {
  apiKeys,
  auditLog,
  budgetNotices,
  githubDeliveries,
  githubInstallations,
  githubJobs,
  idempotencyKeys,
  jobs,
  memberships,
  projects,
  secrets,
  tenants,
  usageLedger,
  webhookDeliveries,
  webhookSubscriptions,
} from '../db/schema.ts';
import { listIdempotencyKeys, type TenantRow } from '../db/tenant.ts';
import { listSubscriptions, listTenantDeliveries } from '../db/webhooks.ts';
import { errorFields, log } from '../lib/log.ts';

/** D1 rows per page. */
const PAGE_ROWS = 100;
/** Events per page of a job's log (the Job DO also caps a page at about 1 MiB of output). */
const PAGE_EVENTS = 1000;

/** A read of one page of rows, after `cursor`. */
type PageReader<T> = (cursor: Cursor | undefined) => Promise<{ rows: T[]; next: Cursor | null }>;

/**
 * A row as D1 stores it: each field under its column's name (`tenant_id`, `created_at`, …).
 * Only the fields of `row` are written, so a row read without a column (a key without its hash)
 * never shows it.
 */
function storedRow(table: SQLiteTable, row: object): Record<string, unknown> {
  const columns: Record<string, { name: string }> = getTableColumns(table);
  const stored: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(row)) {
    stored[columns[field]?.name ?? field] = value;
  }
  return stored;
}

/** The pages of a cursor-paginated list, read one at a time. */
async function* pagesOf<T>(read: PageReader<T>): AsyncGenerator<T[]> {
  let cursor: Cursor | undefined;
  for (;;) {
    const { rows, next } = await read(cursor);
    if (rows.length > 0) yield rows;
    if (!next) return;
    cursor = next;
  }
}

/** `,"name":[…]` with one piece per page; `render` writes one element. */
async function* arrayField<T>(
  name: string,
  pages: AsyncIterable<T[]>,
  render: (item: T) => AsyncIterable<string> | string,
): AsyncGenerator<string> {
  yield `,${JSON.stringify(name)}:[`;
  let first = true;
  for await (const page of pages) {
    for (const item of page) {
      const rendered = render(item);
      if (typeof rendered === 'string') {
        yield first ? rendered : `,${rendered}`;
      } else {
        if (!first) yield ',';
        yield* rendered;
      }
      first = false;
    }
  }
  yield ']';
}

/** A job's row with its event log, read page by page from its Job DO. */
async function* jobWithEvents(env: Env, tenantId: string, row: object & { id: string }) {
  const head = JSON.stringify(storedRow(jobs, row));
  // The row's object without its closing brace, then the events, then the brace.
  yield `${head.slice(0, -1)},"events":[`;
  const job = env.JOB.getByName(row.id);
  let after = 0;
  let first = true;
  for (;;) {
    const page = await job.listEvents(tenantId, after, PAGE_EVENTS);
    if (!page || page.data.length === 0) break;
    const events = page.data.map((event) => JSON.stringify(event)).join(',');
    yield first ? events : `,${events}`;
    first = false;
    if (page.next_after === null) break;
    after = page.next_after;
  }
  yield ']}';
}

/** The export document of `tenant`, as pieces of JSON text. */
async function* exportPieces(env: Env, tenant: TenantRow, now: number): AsyncGenerator<string> {
  const db = env.DB;
  const id = tenant.id;
  const exportedAt = JSON.stringify(new Date(now).toISOString());
  yield `{"format":"omni.tenant-export/1","exported_at":${exportedAt}`;
  yield `,"tenant":${JSON.stringify(storedRow(tenants, tenant))}`;
  const rendered = (table: SQLiteTable) => (row: object) => JSON.stringify(storedRow(table, row));
  yield* arrayField(
    'api_keys',
    pagesOf((cursor) => listKeys(db, id, { limit: PAGE_ROWS, cursor })),
    rendered(apiKeys),
  );
  yield* arrayField(
    'memberships',
    pagesOf((cursor) => listMembers(db, id, { limit: PAGE_ROWS, cursor })),
    rendered(memberships),
  );
  yield* arrayField(
    'projects',
    pagesOf((cursor) => listProjectRows(db, id, { limit: PAGE_ROWS, cursor })),
    rendered(projects),
  );
  yield* arrayField(
    'jobs',
    pagesOf((cursor) => listJobs(db, id, { limit: PAGE_ROWS, cursor })),
    (row) => jobWithEvents(env, id, row),
  );
  yield* arrayField(
    'idempotency_keys',
    pagesOf((cursor) => listIdempotencyKeys(db, id, { limit: PAGE_ROWS, cursor })),
    rendered(idempotencyKeys),
  );
  // Names and dates only: a secret's value (even encrypted) never leaves the database.
  yield* arrayField(
    'secrets',
    pagesOf((cursor) => listSecrets(db, id, { limit: PAGE_ROWS, cursor })),
    rendered(secrets),
  );
  yield* arrayField(
    'usage_ledger',
    pagesOf((cursor) => listLedgerRows(db, id, { limit: PAGE_ROWS, cursor })),
    rendered(usageLedger),
  );
  yield* arrayField(
    'budget_notices',
    pagesOf((cursor) => listBudgetNotices(db, id, { limit: PAGE_ROWS, cursor })),
    rendered(budgetNotices),
  );
  // A subscription's URL and events, never its signing secret (read without those columns).
  yield* arrayField(
    'webhook_subscriptions',
    pagesOf(async (cursor) => {
      const page = await listSubscriptions(db, id, { limit: PAGE_ROWS, cursor });
      return { rows: page.rows.map(({ eventList: _, ...row }) => row), next: page.next };
    }),
    rendered(webhookSubscriptions),
  );
  yield* arrayField(
    'webhook_deliveries',
    pagesOf((cursor) => listTenantDeliveries(db, id, { limit: PAGE_ROWS, cursor })),
    rendered(webhookDeliveries),
  );
  yield* arrayField(
    'github_installations',
    pagesOf((cursor) => listInstallations(db, id, { limit: PAGE_ROWS, cursor })),
    rendered(githubInstallations),
  );
  yield* arrayField(
    'github_deliveries',
    pagesOf((cursor) => listGitHubDeliveries(db, id, { limit: PAGE_ROWS, cursor })),
    rendered(githubDeliveries),
  );
  yield* arrayField(
    'github_jobs',
    pagesOf((cursor) => listGitHubJobRows(db, id, { limit: PAGE_ROWS, cursor })),
    rendered(githubJobs),
  );
  // The tenant's own monthly budget is kept by its TenantDO, not in D1.
  const budget = await env.TENANT.getByName(id).budgetStatus(id, '', []);
  yield `,"tenant_budget":${JSON.stringify({ monthly_budget_micro_usd: budget.tenant.limitMicroUsd })}`;
  yield* arrayField(
    'audit_log',
    pagesOf((cursor) => listAudit(db, id, { limit: PAGE_ROWS, cursor })),
    rendered(auditLog),
  );
  yield '}';
}

/**
 * The export of `tenant` as a byte stream. The next piece is produced only when the reader asks
 * for it (`pull`); an error while producing one errors the stream, and a reader that goes away
 * ends the reads.
 */
export function tenantExportStream(
  env: Env,
  tenant: TenantRow,
  requestId: string,
  now = Date.now(),
): ReadableStream<Uint8Array> {
  const pieces = exportPieces(env, tenant, now);
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await pieces.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      } catch (error) {
        log('error', 'tenant export failed midway', {
          tenant_id: tenant.id,
          request_id: requestId,
          ...errorFields(error),
        });
        controller.error(error);
      }
    },
    async cancel() {
      await pieces.return(undefined);
    },
  });
}
