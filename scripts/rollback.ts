/**
 * `npm run rollback -- --env staging|production [--url URL] [--dry-run]`: puts the previous
 * version of the Worker back (docs/DEPLOYMENT.md#rollback). It reads the environment's deployments
 * (`wrangler deployments list --json`), picks the newest earlier one that served all traffic with
 * another version, and runs `wrangler rollback <that version> --yes`. With `--url` it then
 * smoke-tests `GET /health/ready` there.
 *
 * A rollback changes only the code and the settings of the version: D1, its migrations and the
 * Durable Objects' storage stay as they are, which is why every migration must keep working with
 * the version before it.
 *
 * `--dry-run` reads the deployments and prints the rollback command instead of running it.
 * `OMNI_WRANGLER` names a stand-in for wrangler (the tests use one).
 */
import { rollbackTarget } from './lib/deploy-checks.ts';
import { change, query, readOptions, smokeTest } from './lib/deploy-cli.ts';

const USAGE = `Usage: npm run rollback -- --env staging|production [--url https://…] [--smoke-seconds 90]
         [--dry-run] [--config wrangler.toml]

Goes back to the Worker version deployed before the current one. D1 and Durable Object storage
are not rolled back. --url smoke-tests GET /health/ready there afterwards. --dry-run prints the
rollback command instead of running it.`;

const options = readOptions(process.argv.slice(2), USAGE);
const { env } = options;

async function main(): Promise<void> {
  const listed = await query(['deployments', 'list', '--json', '--env', env], options.config);
  const { current, previous } = rollbackTarget(listed);
  console.log(`current version: ${current}\nrolling back to: ${previous}`);
  await change(
    ['rollback', previous, '--env', env, '--yes', '--message', `npm run rollback from ${current}`],
    options,
  );
  if (options.dryRun) {
    if (options.url) console.log(`would check: GET ${options.url}/health/ready answers 200`);
    console.log('dry run: nothing was changed');
    return;
  }
  if (options.url) await smokeTest(options.url, null, options.smokeSeconds);
  else console.log('no --url given: check GET /health/ready by hand');
}

main().catch((error: unknown) => {
  console.error(`\n${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
