/**
 * Reads the trace store `wrangler dev` keeps next to its local state
 * (`<persist-to>/v3/observability/miniflare-wobs-trace-store/*.sqlite`, table `spans`): one row
 * per invocation (HTTP request, alarm, RPC call into a Durable Object) and per operation inside it
 * (D1 statement with its `rows_read`/`rows_written` from D1's result meta, Durable Object
 * storage call with its SQL rows, subrequest to a Durable Object, outbound fetch). `npm run capacity` counts these.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/** The trace database under `persistTo`, or throws if this wrangler writes none. */
export async function traceStorePath(persistTo: string): Promise<string> {
  const dir = join(persistTo, 'v3', 'observability', 'miniflare-wobs-trace-store');
  const files = (await readdir(dir)).filter(
    (f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite',
  );
  const file = files[0];
  if (file === undefined) throw new Error(`no trace store in ${dir}`);
  return join(dir, file);
}

/** One span: its name, kind, trace, whether it is a root, and its attributes as text. */
export interface Span {
  rowid: number;
  traceId: string;
  name: string;
  kind: string;
  root: boolean;
  attributes: string;
}

const spanRow = (row: Record<string, unknown>): Span => ({
  rowid: Number(row.rowid),
  traceId: String(row.trace_id),
  name: String(row.name),
  kind: String(row.kind),
  root: row.parent_id === null,
  attributes:
    row.attributes instanceof Uint8Array ? Buffer.from(row.attributes).toString('latin1') : '',
});

/** Spans with a rowid above `after` (0: all), read-only: wrangler keeps writing the file. */
export function readSpans(path: string, after = 0): Span[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db
      .prepare(
        'SELECT rowid, trace_id, parent_id, name, kind, attributes FROM spans WHERE rowid > ? ORDER BY rowid',
      )
      .all(after)
      .map(spanRow);
  } finally {
    db.close();
  }
}

/** The highest rowid so far (the mark a later `readSpans` starts after). */
export function lastRowid(path: string): number {
  const spans = readSpans(path);
  return spans.at(-1)?.rowid ?? 0;
}

/**
 * A numeric attribute. The store encodes each value as a tag byte whose high four bits are the
 * length of the value's decimal text, then the text (seen with wrangler 4.156: `rows_read` 0x13
 * "1"); the digits are read after the tag.
 */
export function numberAttribute(span: Span, name: string): number {
  const at = span.attributes.indexOf(name);
  if (at < 0) return 0;
  const digits = /^\d+/.exec(span.attributes.slice(at + name.length + 1));
  return Number(digits?.[0] ?? 0);
}

/**
 * A text attribute matching `pattern` (default: a name such as an RPC method). The tag before the
 * text is one byte for short values and more for long ones, so the text is searched for just
 * after the attribute's name.
 */
export function textAttribute(span: Span, name: string, pattern = /[\w./:-]+/): string {
  const at = span.attributes.indexOf(name);
  if (at < 0) return '';
  const text = (skip: number) =>
    new RegExp(`^(?:${pattern.source})`).exec(
      span.attributes.slice(at + name.length + skip),
    )?.[0] ?? '';
  return text(1) || text(2);
}

/** What a set of spans cost, summed. */
export interface Costs {
  d1Statements: number;
  d1RowsRead: number;
  d1RowsWritten: number;
  doSubrequests: number;
  rpcByMethod: Map<string, number>;
  alarms: number;
  doStorageOps: number;
  /** Rows the Durable Objects' SQL statements read and wrote (from the spans' response meta). */
  doRowsRead: number;
  doRowsWritten: number;
  outboundFetches: number;
  httpRequests: number;
  /** Per D1 statement text (shortened): how often it ran and the rows it read and wrote. */
  statements: Map<string, { count: number; read: number; written: number }>;
}

/** The SQL of a D1 span, its whitespace folded, cut to `max` characters. */
export function statementText(span: Span, max = 90): string {
  const after = span.attributes.slice(span.attributes.indexOf('db.query.text'));
  const sql =
    /\b(select|insert|update|delete|with|replace)\b[\x20-\x7e\n\t]*/i.exec(after)?.[0] ?? '?';
  const folded = sql.replace(/\s+/g, ' ').trim();
  return folded.length > max ? `${folded.slice(0, max - 1)}…` : folded;
}

/** Sums the spans (the caller picks which: e.g. all after a mark). */
export function costs(spans: Span[]): Costs {
  const c: Costs = {
    d1Statements: 0,
    d1RowsRead: 0,
    d1RowsWritten: 0,
    doSubrequests: 0,
    rpcByMethod: new Map(),
    alarms: 0,
    doStorageOps: 0,
    doRowsRead: 0,
    doRowsWritten: 0,
    outboundFetches: 0,
    httpRequests: 0,
    statements: new Map(),
  };
  for (const span of spans) {
    if (span.kind === 'd1') {
      c.d1Statements++;
      const read = numberAttribute(span, 'cloudflare.d1.response.rows_read');
      const written = numberAttribute(span, 'cloudflare.d1.response.rows_written');
      c.d1RowsRead += read;
      c.d1RowsWritten += written;
      const key = statementText(span);
      const seen = c.statements.get(key) ?? { count: 0, read: 0, written: 0 };
      c.statements.set(key, {
        count: seen.count + 1,
        read: seen.read + read,
        written: seen.written + written,
      });
    } else if (span.name === 'durable_object_subrequest') c.doSubrequests++;
    else if (span.name.startsWith('durable_object_storage_')) {
      c.doStorageOps++;
      c.doRowsRead += numberAttribute(span, 'cloudflare.durable_object.response.rows_read');
      c.doRowsWritten += numberAttribute(span, 'cloudflare.durable_object.response.rows_written');
    } else if (span.kind === 'jsrpc') {
      const method = textAttribute(span, 'jsrpc.method') || '?';
      c.rpcByMethod.set(method, (c.rpcByMethod.get(method) ?? 0) + 1);
    } else if (span.name === 'alarm') c.alarms++;
    else if (span.kind === 'fetch') c.outboundFetches++;
    else if (span.kind === 'http' && span.root) c.httpRequests++;
  }
  return c;
}
