/**
 * `npm run key:create`: bootstraps a tenant and an API key straight in D1, for the first key of a
 * tenant (every later key can be made with POST /v1/keys). Prints the key once, on stdout alone,
 * so `KEY=$(npm run -s key:create -- …)` captures it; everything else goes to stderr.
 *
 *   npm run key:create -- --tenant ten_acme --name ci [--role owner] [--tenant-name Acme]
 *                         [--remote | --local [--persist-to DIR]]
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { roles } from '../worker/db/schema.ts';
import { apiKeyPrefix, generateApiKey, hashApiKey } from '../worker/lib/api-keys.ts';
import { wrangler } from './lib/dev-stack.ts';

const USAGE = `Usage: npm run key:create -- --tenant ten_<id> --name <name> [--role ${roles.join('|')}]
         [--tenant-name <name>] [--remote | --local [--persist-to <dir>]]

Creates the tenant if it does not exist, then an API key for it (role owner unless --role), and
prints the key once. --local (the default) writes to the local D1 of \`npm start\`; --remote
writes to the deployed database.`;

// Control characters have no place in names, and would garble the SQL text and the terminal.
// eslint-disable-next-line no-control-regex
const printable = /^[^\u0000-\u001f\u007f]+$/;
const text = (max: number) =>
  z.string().trim().min(1).max(max).regex(printable, 'must not contain control characters');

const ArgsSchema = z
  .strictObject({
    tenant: z
      .string()
      .regex(/^ten_[A-Za-z0-9_-]{1,60}$/, 'must be ten_ followed by letters, digits, _ or -'),
    name: text(100),
    role: z.enum(roles).default('owner'),
    'tenant-name': text(100).optional(),
    remote: z.boolean().default(false),
    local: z.boolean().default(false),
    'persist-to': z.string().min(1).optional(),
    help: z.boolean().optional(),
  })
  .refine((a) => !(a.remote && a.local), { message: '--remote and --local exclude each other' })
  .refine((a) => !(a.remote && a['persist-to']), { message: '--persist-to needs --local' });

type Args = z.infer<typeof ArgsSchema>;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function parse(argv: string[]): Args {
  let values: unknown;
  try {
    ({ values } = parseArgs({
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
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const parsed = ArgsSchema.safeParse({ ...Object(values) });
  if (parsed.success) return parsed.data;
  if (z.object({ help: z.literal(true) }).safeParse(values).success) {
    console.error(USAGE);
    process.exit(0);
  }
  const problems = parsed.error.issues.map((issue) => {
    const flag = issue.path.length > 0 ? `--${issue.path.join('.')}` : 'arguments';
    return `  ${flag}: ${issue.message}`;
  });
  fail(`Invalid arguments:\n${problems.join('\n')}`);
}

/** A SQL string literal: single quotes doubled, which is all SQLite needs. */
function sqlText(value: string | null): string {
  return value === null ? 'NULL' : `'${value.replaceAll("'", "''")}'`;
}

const args = parse(process.argv.slice(2));
if (args.help) {
  console.error(USAGE);
  process.exit(0);
}

const key = generateApiKey();
const now = Date.now();
const keyId = `key_${crypto.randomUUID().replaceAll('-', '')}`;
const actor = `cli:${process.env.USER ?? userInfo().username}`;
const row = (values: Array<string | number | null>) =>
  values.map((v) => (typeof v === 'number' ? String(v) : sqlText(v))).join(', ');
const sql = [
  `INSERT OR IGNORE INTO tenants (id, name, created_at) VALUES (${row([args.tenant, args['tenant-name'] ?? args.tenant, now])});`,
  `INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, role, created_by, created_at) VALUES (${row([keyId, args.tenant, args.name, apiKeyPrefix(key), await hashApiKey(key), args.role, actor, now])});`,
  // Recorded like POST /v1/keys records it, so the tenant's audit log has every key.
  `INSERT INTO audit_log (id, tenant_id, time, actor, action, target, request_id, ip, details) VALUES (${row([`aud_${crypto.randomUUID().replaceAll('-', '')}`, args.tenant, now, actor, 'key.create', keyId, `cli_${crypto.randomUUID()}`, null, JSON.stringify({ name: args.name, role: args.role })])});`,
].join('\n');

const where = args.remote
  ? ['--remote']
  : ['--local', ...(args['persist-to'] ? ['--persist-to', args['persist-to']] : [])];
try {
  await wrangler(['d1', 'execute', 'DB', ...where, '--command', sql]);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  console.error(
    '\nNo key was created. If a table is missing, apply the migrations first: npx wrangler d1 migrations apply DB',
  );
  process.exit(1);
}

console.error(
  `Created ${args.role} key "${args.name}" (${keyId}, ${apiKeyPrefix(key)}…) for tenant ${args.tenant} in the ${args.remote ? 'remote' : 'local'} database.\nThe key is shown once; store it in a secret store now.`,
);
console.log(key);
