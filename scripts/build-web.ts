/**
 * `npm run build:web`: builds the static assets the Worker serves (wrangler.toml `[assets]`)
 * into web/dist: the files of web/public as they are, each web/src/*.ts entry bundled with
 * esbuild into web/dist/assets/<name>.js, and the pinned Swagger UI files /docs renders with
 * (from the swagger-ui-dist package, so /docs needs no CDN). `npm start`, `npm test` and
 * `npm run deploy` run it first.
 */
import { cp, mkdir, readdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}web/dist`;

await rm(out, { recursive: true, force: true });
await mkdir(`${out}/assets`, { recursive: true });
await cp(`${root}web/public`, out, { recursive: true });

const entries = (await readdir(`${root}web/src`))
  .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
  .map((name) => `${root}web/src/${name}`);
if (entries.length > 0) {
  await build({
    entryPoints: entries,
    outdir: `${out}/assets`,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  });
}

const swagger = `${root}node_modules/swagger-ui-dist`;
await mkdir(`${out}/docs/vendor`, { recursive: true });
for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js']) {
  await cp(`${swagger}/${file}`, `${out}/docs/vendor/${file}`);
}
