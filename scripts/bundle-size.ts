/**
 * `npm run bundle:size`: bundles the Worker as `wrangler deploy` would (`--dry-run --outdir`, which
 * needs no network and no Cloudflare account) and prints one line, `bundle: N KiB, gzip M KiB`, the
 * size of the uploaded modules (source maps left out) and of their gzip. `.ci/run` runs it after
 * the tests. Workers refuse a Worker above 10 MiB gzip on paid plans (3 MiB free).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = mkdtempSync(join(tmpdir(), 'omni-bundle-'));
try {
  const ran = spawnSync(
    process.execPath,
    // What ships: the bundle is the same in every environment, only the bindings differ.
    [
      `${root}node_modules/wrangler/bin/wrangler.js`,
      'deploy',
      '--dry-run',
      '--env',
      'production',
      '--outdir',
      outdir,
    ],
    { cwd: root, encoding: 'utf8' },
  );
  if (ran.status !== 0) {
    console.error(ran.stdout + ran.stderr);
    throw new Error(`wrangler deploy --dry-run failed (exit ${ran.status ?? 'signal'})`);
  }
  let raw = 0;
  let gzip = 0;
  for (const name of readdirSync(outdir, { recursive: true, encoding: 'utf8' })) {
    if (name.endsWith('.map') || name === 'README.md') continue;
    let data: Buffer;
    try {
      data = readFileSync(join(outdir, name));
    } catch {
      continue; // a directory
    }
    raw += data.length;
    gzip += gzipSync(data).length;
  }
  const kib = (bytes: number) => Math.round(bytes / 1024);
  console.log(`bundle: ${kib(raw)} KiB, gzip ${kib(gzip)} KiB`);
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
