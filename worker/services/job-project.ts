/**
 * The project side of creating a job: which project it belongs to (the one named, else the
 * tenant's default), whether the project allows its repository, and the sandbox shape it gets,
 * resolved now from the project and the operator's settings and copied into the job.
 */
import type { Config } from '../config.ts';
import { ensureDefaultProject, findProject, type Project } from '../db/projects.ts';
import {
  fitsSnapshot,
  resolveShape,
  shapeProblems,
  type SandboxShape,
} from '../domain/sandbox-shape.ts';
import { ApiError } from '../errors.ts';
import { allowedByList } from '../lib/repo-allow-list.ts';

/** What a new job takes from its project. */
export interface JobProject {
  project: Project;
  sandboxShape: SandboxShape;
  /** The image to create the sandbox from, when its size is not the snapshot's; else null. */
  sandboxImage: string | null;
}

/**
 * Resolves the project of a new job of `tenantId` that clones `repoUrl` (already checked).
 * @throws ApiError 400 for an unknown project, a repository outside the project's allow-list,
 * or a project whose sandbox settings are now beyond the operator's limits.
 */
export async function jobProject(
  d1: D1Database,
  tenantId: string,
  projectId: string | undefined,
  repoUrl: string,
  config: Pick<Config, 'sandbox'>,
): Promise<JobProject> {
  const project =
    projectId === undefined
      ? await ensureDefaultProject(d1, tenantId)
      : await findProject(d1, tenantId, projectId);
  if (!project) {
    throw new ApiError('invalid_request', `project ${projectId ?? ''} does not exist.`, [
      { path: 'project', message: `no project with id ${projectId ?? ''}` },
    ]);
  }
  if (!allowedByList(repoUrl, project.repoAllowList)) {
    const message = `must start with one of the prefixes project ${project.name} allows: ${project.repoAllowList.join(', ')}`;
    throw new ApiError('invalid_request', `repo.url ${message}`, [{ path: 'repo.url', message }]);
  }
  const sandboxShape = resolveShape(project.sandbox, config.sandbox);
  // The settings were checked when the project was saved; the operator may have lowered a limit
  // since.
  const problems = shapeProblems(sandboxShape, config.sandbox, 'project.sandbox');
  const first = problems[0];
  if (first) {
    throw new ApiError(
      'invalid_request',
      `The sandbox of project ${project.name}: ${first.path} ${first.message}. Change the project (PATCH /v1/projects/${project.id}).`,
      problems,
    );
  }
  const sandboxImage = fitsSnapshot(sandboxShape, config.sandbox) ? null : config.sandbox.image;
  return { project, sandboxShape, sandboxImage };
}
