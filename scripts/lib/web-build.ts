/**
 * Builds the static assets the Worker serves (wrangler.toml `[assets]`) into web/dist: the files
 * of web/public as they are, each web/src/*.ts entry bundled with esbuild into
 * web/dist/assets/<name>.js, and the pinned Swagger UI files /docs renders with (from the
 * swagger-ui-dist package, so /docs needs no CDN). The build is written beside web/dist and then
 * swapped in, so a running `wrangler dev` never sees half of one.
 *
 * `npm run build:web` builds; `npm test`, `npm start`, `npm run deploy` and `npm run bundle:size`
 * run it first, and every local stack (dev-stack.ts) builds once when web/dist is missing.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = `${root}web/dist`;

export async function buildWeb(): Promise<void> {
  const next = `${out}.next-${process.pid}-${Date.now()}`;
  await mkdir(`${next}/assets`, { recursive: true });
  try {
    await cp(`${root}web/public`, next, { recursive: true });
    const entries = (await readdir(`${root}web/src`))
      .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
      .map((name) => `${root}web/src/${name}`);
    if (entries.length > 0) {
      await build({
        entryPoints: entries,
        outdir: `${next}/assets`,
        bundle: true,
        format: 'esm',
        target: 'es2022',
        minify: true,
        sourcemap: true,
        logLevel: 'warning',
      });
    }
    const swagger = `${root}node_modules/swagger-ui-dist`;
    await mkdir(`${next}/docs/vendor`, { recursive: true });
    for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js']) {
      await cp(`${swagger}/${file}`, `${next}/docs/vendor/${file}`);
    }
    const old = `${out}.old-${process.pid}-${Date.now()}`;
    if (existsSync(out)) await rename(out, old);
    await rename(next, out);
    await rm(old, { recursive: true, force: true });
  } catch (error) {
    await rm(next, { recursive: true, force: true });
    throw error;
  }
}

/** Builds web/dist if it is not there (a fresh clone running a script before `npm start`). */
export async function ensureWebBuilt(): Promise<void> {
  if (!existsSync(`${out}/app/index.html`)) await buildWeb();
}
