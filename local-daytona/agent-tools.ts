/**
 * The agent CLIs local sandboxes can run. Real sandboxes get them from the sandbox image
 * (sandbox-image/Dockerfile); a local sandbox is a host directory, so the project's pinned
 * `@anthropic-ai/claude-code` devDependency is lent to it: a directory holding only a `claude`
 * link goes on every sandbox's PATH. Only that one link, because the rest of node_modules/.bin
 * stays off the sandbox PATH on purpose (processes.ts).
 */
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's own `claude` (npm's link to the package's native binary). */
const PROJECT_CLAUDE = fileURLToPath(new URL('../node_modules/.bin/claude', import.meta.url));

/**
 * Makes `<root>/.agent-tools/claude`, a link to `claudePath` (default: the project's), and returns
 * the directory; null if there is no such binary (then agent jobs fail locally with "command not
 * found", as they would in a sandbox image without the CLI).
 */
export async function prepareAgentTools(
  root: string,
  claudePath: string = PROJECT_CLAUDE,
): Promise<string | null> {
  if (claudePath === '' || !existsSync(claudePath)) return null;
  const dir = path.join(root, '.agent-tools');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await symlink(realpathSync(claudePath), path.join(dir, 'claude'));
  return dir;
}
