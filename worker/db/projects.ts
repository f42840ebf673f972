/**
 * D1 queries on the `projects` table. Every query filters by tenant: another tenant's project is
 * not found. Names are unique per tenant by the table's unique index, so two requests that pick
 * the same name cannot both succeed. Each tenant's default project has an id derived from the
 * tenant id, which makes its lazy creation a single idempotent insert.
 */
import { and, desc, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { z } from 'zod';
import { projectSandboxSchema, type ProjectSandbox } from '../domain/sandbox-shape.ts';
import { olderThan, toPage, type Cursor } from './page.ts';
import { projects, type ProjectRow } from './schema.ts';

/** The name of every tenant's default project; no other project may take it. */
export const DEFAULT_PROJECT_NAME = 'default';

/** A project with its JSON columns parsed. */
export interface Project {
  id: string;
  tenantId: string;
  name: string;
  isDefault: boolean;
  monthlyBudgetMicroUsd: number | null;
  repoAllowList: string[];
  /** What the project sets of its sandboxes' shape; null: the operator's defaults throughout. */
  sandbox: ProjectSandbox | null;
  createdAt: number;
  updatedAt: number;
}

const allowListSchema = z.array(z.string());

/** Reads a row back, checking its JSON columns (they were validated when written). */
function toProject(row: ProjectRow): Project {
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    isDefault: row.isDefault,
    monthlyBudgetMicroUsd: row.monthlyBudgetMicroUsd,
    repoAllowList: allowListSchema.parse(JSON.parse(row.repoAllowList)),
    sandbox: row.sandbox === null ? null : projectSandboxSchema.parse(JSON.parse(row.sandbox)),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** The row that stores `project`. */
function toRow(project: Project): ProjectRow {
  return {
    ...project,
    repoAllowList: JSON.stringify(project.repoAllowList),
    sandbox: project.sandbox === null ? null : JSON.stringify(project.sandbox),
  };
}

/** A fresh project id. */
export function newProjectId(): string {
  return `prj_${crypto.randomUUID().replaceAll('-', '')}`;
}

/** The id of the tenant's default project: `prj_` and 32 hex digits of a hash of the tenant id. */
export async function defaultProjectId(tenantId: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    'SHA-256',
    new TextEncoder().encode(`default project\n${tenantId}`),
  );
  const hex = Array.from(new Uint8Array(digest).subarray(0, 16), (byte) =>
    byte.toString(16).padStart(2, '0'),
  );
  return `prj_${hex.join('')}`;
}

/**
 * Inserts `project`; returns false, inserting nothing, if the tenant already has a project of
 * that name (or that id).
 */
export async function insertProject(d1: D1Database, project: Project): Promise<boolean> {
  const inserted = await drizzle(d1)
    .insert(projects)
    .values(toRow(project))
    .onConflictDoNothing()
    .returning({ id: projects.id });
  return inserted.length > 0;
}

/** The tenant's project `id`, or null. */
export async function findProject(
  d1: D1Database,
  tenantId: string,
  id: string,
): Promise<Project | null> {
  const rows = await drizzle(d1)
    .select()
    .from(projects)
    .where(and(eq(projects.tenantId, tenantId), eq(projects.id, id)))
    .limit(1);
  const row = rows[0];
  return row ? toProject(row) : null;
}

/**
 * The tenant's default project, created the first time it is needed. Concurrent first calls
 * all insert the same id; the unique key lets one insert win and the others change nothing, so
 * all of them read the same project.
 */
export async function ensureDefaultProject(d1: D1Database, tenantId: string): Promise<Project> {
  const id = await defaultProjectId(tenantId);
  const existing = await findProject(d1, tenantId, id);
  if (existing) return existing;
  const now = Date.now();
  await insertProject(d1, {
    id,
    tenantId,
    name: DEFAULT_PROJECT_NAME,
    isDefault: true,
    monthlyBudgetMicroUsd: null,
    repoAllowList: [],
    sandbox: null,
    createdAt: now,
    updatedAt: now,
  });
  const created = await findProject(d1, tenantId, id);
  if (!created) throw new Error(`the default project of tenant ${tenantId} could not be created`);
  return created;
}

/** One page of the tenant's project rows as stored, newest first (the tenant export reads these). */
export async function listProjectRows(
  d1: D1Database,
  tenantId: string,
  options: { limit: number; cursor?: Cursor | undefined },
): Promise<{ rows: ProjectRow[]; next: Cursor | null }> {
  const rows = await drizzle(d1)
    .select()
    .from(projects)
    .where(
      and(
        eq(projects.tenantId, tenantId),
        olderThan(options.cursor, projects.createdAt, projects.id),
      ),
    )
    .orderBy(desc(projects.createdAt), desc(projects.id))
    .limit(options.limit + 1);
  return toPage(rows, options.limit, (row) => ({ createdAt: row.createdAt, id: row.id }));
}

/** One page of the tenant's projects, newest first. */
export async function listProjects(
  d1: D1Database,
  tenantId: string,
  options: { limit: number; cursor?: Cursor | undefined },
): Promise<{ rows: Project[]; next: Cursor | null }> {
  const page = await listProjectRows(d1, tenantId, options);
  return { rows: page.rows.map(toProject), next: page.next };
}

/** The fields an update may change. */
export type ProjectChanges = Partial<
  Pick<Project, 'name' | 'monthlyBudgetMicroUsd' | 'repoAllowList' | 'sandbox'>
>;

/** What updateProject did. */
export type UpdateOutcome =
  | { kind: 'updated'; project: Project }
  | { kind: 'not_found' }
  | {
      kind: 'name_taken';
    };

/**
 * Applies `changes` to the tenant's project `id` and returns it as stored. A new name that
 * another project of the tenant has is refused by the unique index (`name_taken`).
 */
export async function updateProject(
  d1: D1Database,
  tenantId: string,
  id: string,
  changes: ProjectChanges,
  now: number,
): Promise<UpdateOutcome> {
  const set: Partial<ProjectRow> = { updatedAt: now };
  if (changes.name !== undefined) set.name = changes.name;
  if (changes.monthlyBudgetMicroUsd !== undefined) {
    set.monthlyBudgetMicroUsd = changes.monthlyBudgetMicroUsd;
  }
  if (changes.repoAllowList !== undefined)
    set.repoAllowList = JSON.stringify(changes.repoAllowList);
  if (changes.sandbox !== undefined) {
    set.sandbox = changes.sandbox === null ? null : JSON.stringify(changes.sandbox);
  }
  let rows: ProjectRow[];
  try {
    rows = await drizzle(d1)
      .update(projects)
      .set(set)
      .where(and(eq(projects.tenantId, tenantId), eq(projects.id, id)))
      .returning();
  } catch (error) {
    if (isUniqueViolation(error)) return { kind: 'name_taken' };
    throw error;
  }
  const row = rows[0];
  return row ? { kind: 'updated', project: toProject(row) } : { kind: 'not_found' };
}

/** True for D1's error on a unique index (the only one an update can hit is the name's). */
function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e.message.includes('UNIQUE constraint failed')) return true;
  }
  return false;
}
