/**
 * `npm run key:create`: bootstraps a tenant and an API key straight in D1, for the first key of a
 * tenant (every later key can be made with POST /v1/keys). Prints the key once, on stdout alone,
 * so `KEY=$(npm run -s key:create -- …)` captures it; everything else goes to stderr.
 *
 *   npm run key:create -- --tenant ten_acme --name ci [--role owner] [--tenant-name Acme]
 *                         [--remote [--env staging|production] | --local [--persist-to DIR]]
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { roles } from '../worker/db/schema.ts';
import { apiKeyPrefix, generateApiKey, hashApiKey } from '../worker/lib/api-keys.ts';
import { wrangler } from './lib/dev-stack.ts';

const USAGE = `Usage: npm run key:create -- --tenant ten_<id> --name <name> [--role ${roles.join('|')}]
         [--tenant-name <name>] [--remote [--env <env>] | --local [--persist-to <dir>]]

Creates the tenant if it does not exist, then an API key for it (role owner unless --role), and
prints the key once. --local (the default) writes to the local D1 of \`npm start\`; --remote
writes to the deployed database: the top level's, or with --env that environment's of wrangler.toml.`;

// Control characters have no place in names, and would garble the SQL text and the terminal.
// eslint-disable-next-line no-control-regex
const printable = /^[^\u0000-\u001f\u007f]+$/;
const text = (max: number) =>
  z
    .string({ error: 'is required' })
    .trim()
    .min(1)
    .max(max)
    .regex(printable, 'must not contain control characters');

const ArgsSchema = z
  .strictObject({
    tenant: z
      .string({ error: 'is required' })
      .regex(/^ten_[A-Za-z0-9_-]{1,60}$/, 'must be ten_ followed by letters, digits, _ or -'),
    name: text(100),
    role: z.enum(roles).default('owner'),
    'tenant-name': text(100).optional(),
    remote: z.boolean().default(false),
    local: z.boolean().default(false),
    'persist-to': z.string().min(1).optional(),
    env: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/, 'must name an environment of wrangler.toml')
      .optional(),
    help: z.boolean().optional(),
  })
  .refine((a) => !(a.remote && a.local), { message: '--remote and --local exclude each other' })
  .refine((a) => !(a.remote && a['persist-to']), { message: '--persist-to needs --local' })
  .refine((a) => a.remote || a.env === undefined, { message: '--env needs --remote' });

type Args = z.infer<typeof ArgsSchema>;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function readFlags(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      options: {
        tenant: { type: 'string' },
        name: { type: 'string' },
        role: { type: 'string' },
        'tenant-name': { type: 'string' },
        remote: { type: 'boolean' },
        local: { type: 'boolean' },
        'persist-to': { type: 'string' },
        env: { type: 'string', short: 'e' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    // parseArgs names the unknown option or the missing value.
    return fail(error instanceof Error ? error.message : String(error));
  }
}

function parse(argv: string[]): Args {
  const flags = readFlags(argv);
  if (flags.help) {
    console.error(USAGE);
    process.exit(0);
  }
  const parsed = ArgsSchema.safeParse(flags);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const flag = issue.path.length > 0 ? `--${issue.path.join('.')}` : 'arguments';
    return `  ${flag}: ${issue.message}`;
  });
  return fail(`Invalid arguments:\n${problems.join('\n')}`);
}

/** A value as SQL text; strings are quoted the SQLite way (single quotes doubled). */
function literal(v: string | number | null): string {
  return v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${v.replaceAll("'", "''")}'`;
}

/** An INSERT of one row, or, with `where`, of the row only if `where` holds. */
function insert(
  table: string,
  row: Record<string, string | number | null>,
  verb = 'INSERT',
  where?: string,
) {
  const values = Object.values(row).map(literal).join(', ');
  const columns = Object.keys(row).join(', ');
  return where === undefined
    ? `${verb} INTO ${table} (${columns}) VALUES (${values});`
    : `${verb} INTO ${table} (${columns}) SELECT ${values} WHERE ${where};`;
}

const args = parse(process.argv.slice(2));
const key = generateApiKey();
const now = Date.now();
const keyId = `key_${crypto.randomUUID().replaceAll('-', '')}`;
const actor = `cli:${process.env.USER ?? userInfo().username}`;
// A deleted tenant (its tombstone, docs/tenant-data.md) gets no key: the inserts are conditional,
// in the same statement list, and the last statement says whether the key was stored.
const notDeleted = `NOT EXISTS (SELECT 1 FROM tenants WHERE id = ${literal(args.tenant)} AND deleted_at IS NOT NULL)`;
const sql = [
  insert(
    'tenants',
    { id: args.tenant, name: args['tenant-name'] ?? args.tenant, created_at: now },
    'INSERT OR IGNORE',
  ),
  insert(
    'api_keys',
    {
      id: keyId,
      tenant_id: args.tenant,
      name: args.name,
      prefix: apiKeyPrefix(key),
      key_hash: await hashApiKey(key),
      role: args.role,
      created_by: actor,
      created_at: now,
    },
    'INSERT',
    notDeleted,
  ),
  // Recorded like POST /v1/keys records it, so the tenant's audit log has every key.
  insert(
    'audit_log',
    {
      id: `aud_${crypto.randomUUID().replaceAll('-', '')}`,
      tenant_id: args.tenant,
      time: now,
      actor,
      action: 'key.create',
      target: keyId,
      request_id: `cli_${crypto.randomUUID().replaceAll('-', '')}`,
      ip: null,
      details: JSON.stringify({ name: args.name, role: args.role }),
    },
    'INSERT',
    `EXISTS (SELECT 1 FROM api_keys WHERE id = ${literal(keyId)})`,
  ),
  `SELECT id AS stored_key FROM api_keys WHERE id = ${literal(keyId)};`,
].join('\n');

const where = args.remote
  ? ['--remote', ...(args.env ? ['--env', args.env] : [])]
  : ['--local', ...(args['persist-to'] ? ['--persist-to', args['persist-to']] : [])];
let output: string;
try {
  output = await wrangler(['d1', 'execute', 'DB', ...where, '--json', '--command', sql]);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  console.error(
    '\nNo key was created. If a table is missing, apply the migrations first: npx wrangler d1 migrations apply DB',
  );
  process.exit(1);
}
// Only the last statement's answer can hold the new key's id.
if (!output.includes(keyId)) {
  console.error(`Tenant ${args.tenant} has been deleted; no key was created.`);
  process.exit(1);
}

console.error(
  `Created ${args.role} key "${args.name}" (${keyId}, ${apiKeyPrefix(key)}…) for tenant ${args.tenant} in the ${args.remote ? 'remote' : 'local'} database.\nThe key is shown once; store it in a secret store now.`,
);
console.log(key);
