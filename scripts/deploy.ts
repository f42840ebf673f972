/**
 * `npm run deploy -- --env staging|production [--url URL] [--dry-run]`: deploys the Worker to one
 * environment of wrangler.toml (docs/DEPLOYMENT.md). In order, stopping at the first failure:
 *
 * 1. checks the environment is configured (its D1 database id is not the placeholder) and that its
 *    required secrets are set (`wrangler secret list`);
 * 2. applies the D1 migrations remotely (`wrangler d1 migrations apply DB --remote`);
 * 3. deploys with `--var OMNI_VERSION:<git commit>`, the version `/health/ready` reports;
 * 4. smoke-tests `GET /health/ready` on the deployed URL (wrangler's workers.dev address, or
 *    `--url`) until it answers 200 with that version, and fails loudly if it does not.
 *
 * `--dry-run` runs the read-only checks of step 1 and prints every other command instead of
 * running it. `OMNI_WRANGLER` names a stand-in for wrangler (the tests use one).
 */
import { execFileSync } from 'node:child_process';
import {
  PLACEHOLDER_DATABASE_ID,
  deployedUrl,
  deployedVersionId,
  missingSecrets,
  parseSecretList,
} from './lib/deploy-checks.ts';
import { change, query, readOptions, root, smokeTest } from './lib/deploy-cli.ts';
import { readEnvironment } from './lib/wrangler-config.ts';

const USAGE = `Usage: npm run deploy -- --env staging|production [--url https://…] [--smoke-seconds 90]
         [--dry-run] [--config wrangler.toml]

Checks the environment's secrets, applies its D1 migrations remotely, deploys the Worker with
OMNI_VERSION set to the git commit, and smoke-tests GET /health/ready. --url is where to test it
when the Worker is served on a route rather than workers.dev; --smoke-seconds how long to wait
for it. --dry-run changes nothing: it runs
the checks and prints the commands it would run.`;

const options = readOptions(process.argv.slice(2), USAGE);
const { env } = options;
/** Set once `wrangler deploy` ran: from then on a failure may leave a broken version live. */
let deployed = false;

/** The git commit being deployed, `-dirty` when the working tree has uncommitted changes. */
function gitVersion(): string {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  const commit = git('rev-parse', '--short=12', 'HEAD');
  return git('status', '--porcelain', '--untracked-files=no') === '' ? commit : `${commit}-dirty`;
}

async function main(): Promise<void> {
  const top = readEnvironment(options.config);
  const config = readEnvironment(options.config, env);
  if (config.name === top.name) {
    throw new Error(`${options.config} has no [env.${env}] (or it has no name of its own)`);
  }
  const problems: string[] = [];
  const db = config.d1_databases.find((d) => d.binding === 'DB');
  if (db === undefined) problems.push(`[env.${env}] has no D1 binding DB`);
  else if (db.database_id === undefined || PLACEHOLDER_DATABASE_ID.test(db.database_id)) {
    problems.push(
      `[[env.${env}.d1_databases]] database_id is still the placeholder: set it to the id printed by \`wrangler d1 create ${db.database_name ?? `omni-${env}`}\``,
    );
  }

  console.log(`Deploying ${config.name} (--env ${env})${options.dryRun ? ', dry run' : ''}`);
  const secrets = parseSecretList(
    await query(['secret', 'list', '--env', env, '--format', 'json'], options.config),
  );
  const missing = missingSecrets(secrets);
  for (const name of missing.required) {
    problems.push(`the secret ${name} is not set: npx wrangler secret put ${name} --env ${env}`);
  }
  for (const name of missing.recommended) {
    console.warn(`warning: the secret ${name} is not set (optional; see docs/DEPLOYMENT.md)`);
  }
  if (problems.length > 0) {
    for (const problem of problems) console.error(`error: ${problem}`);
    throw new Error(`not deploying ${config.name}: ${problems.length} problem(s) above`);
  }
  console.log(`secrets: all of the required ones are set (${secrets.length} in all)`);

  const version = gitVersion();
  if (version.endsWith('-dirty')) {
    console.warn('warning: the working tree has uncommitted changes; the version says -dirty');
  }
  await change(['d1', 'migrations', 'apply', 'DB', '--remote', '--env', env], options);
  const output = await change(
    ['deploy', '--env', env, '--var', `OMNI_VERSION:${version}`, '--message', `omni ${version}`],
    options,
  );

  deployed = output !== null;
  if (output === null) {
    const where = options.url ?? '<the URL wrangler deploy prints>';
    console.log(`would check: GET ${where}/health/ready answers 200 with version ${version}`);
    console.log('dry run: nothing was changed');
    return;
  }
  const versionId = deployedVersionId(output);
  const url = options.url ?? deployedUrl(output);
  if (url === null) {
    throw new Error(
      `deployed ${config.name} (version ${versionId ?? 'unknown'}), but wrangler printed no URL to smoke-test: run again with --url, or check GET /health/ready by hand`,
    );
  }
  await smokeTest(url, version, options.smokeSeconds);
  console.log(
    `deployed ${config.name} ${version} (Worker version ${versionId ?? 'unknown'}) at ${url}`,
  );
}

main().catch((error: unknown) => {
  console.error(`\n${error instanceof Error ? error.message : String(error)}`);
  if (deployed) {
    console.error(`If the new version is live and broken: npm run rollback -- --env ${env}`);
  }
  process.exit(1);
});
