/**
 * A small git repository on the local disk, cloned over file:// by the demo, the `npm start`
 * example and the tests, so that nothing needs the network. Branch `main` has README.md and count.sh; branch `feature`
 * adds FEATURE.txt.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';

const run = promisify(execFile);

export interface SampleRepo {
  /** file:// URL of the repository. */
  url: string;
  path: string;
  remove(): Promise<void>;
}

export async function createSampleRepo(parent = tmpdir()): Promise<SampleRepo> {
  const path = await mkdtemp(join(parent, 'omni-sample-repo-'));
  const git = (...args: string[]) =>
    run('git', args, {
      cwd: path,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Omni',
        GIT_AUTHOR_EMAIL: 'omni@example.invalid',
        GIT_COMMITTER_NAME: 'Omni',
        GIT_COMMITTER_EMAIL: 'omni@example.invalid',
      },
    });
  await git('init', '--quiet', '--initial-branch=main');
  await writeFile(
    join(path, 'README.md'),
    '# Sample repository\n\nCloned by Omni jobs in the demo and the tests.\n',
  );
  await writeFile(
    join(path, 'count.sh'),
    '#!/usr/bin/env bash\n# Prints one line per step, with a pause, so output arrives over time.\nfor i in $(seq 1 "${1:-3}"); do echo "step $i"; sleep "${2:-0.2}"; done\n',
  );
  await chmod(join(path, 'count.sh'), 0o755);
  await git('add', '.');
  await git('commit', '--quiet', '-m', 'Initial commit');
  await git('checkout', '--quiet', '-b', 'feature');
  await writeFile(join(path, 'FEATURE.txt'), 'only on the feature branch\n');
  await git('add', '.');
  await git('commit', '--quiet', '-m', 'Add a feature');
  await git('checkout', '--quiet', 'main');
  return {
    url: pathToFileURL(path).href,
    path,
    remove: () => rm(path, { recursive: true, force: true }),
  };
}
