/**
 * What the host of an outbound URL is, and whether the service may call it: one classifier for
 * every URL the service reaches or hands on (job repositories in repo-url.ts, DAYTONA_API_URL in
 * config.ts, JWT_JWKS_URL in auth-config.ts, and whatever outbound URL comes next, such as a
 * webhook). It looks at the host alone: a name is judged by what it says, never resolved.
 *
 * Every spelling the URL parser accepts is classified as the address it stands for: IPv4 as a
 * number (2130706433), in hex (0x7f000001), short (127.1) or with a trailing dot, IPv6 in full
 * or compressed form, and IPv6 forms that carry an IPv4 address (mapped `::ffff:a.b.c.d`, which
 * the parser prints as `[::ffff:7f00:1]`, compatible `::a.b.c.d`, NAT64 and 6to4).
 */

/**
 * - `loopback`: this machine (127.0.0.0/8, ::1, `localhost` and names under it, the loopback
 *   aliases of /etc/hosts).
 * - `unspecified`: 0.0.0.0/8 and `::`, which connect to this machine too.
 * - `link_local`: 169.254.0.0/16 and fe80::/10.
 * - `metadata`: a cloud metadata service (169.254.169.254, fd00:ec2::254, `metadata`, …).
 * - `private`: a private network: RFC 1918, CGNAT (100.64.0.0/10), IPv6 unique-local and
 *   site-local, and names that only a local network resolves (single labels, `.local`,
 *   `.internal`, `.lan`, …).
 * - `reserved`: documentation, benchmarking, multicast, broadcast and other special-purpose
 *   ranges, and hosts that are not valid names at all.
 * - `echo`: a public name that resolves to whatever address it embeds (`127.0.0.1.nip.io`) or
 *   to loopback (`lvh.me`), or that rebinds on purpose.
 * - `public`: everything else.
 */
export type HostKind =
  | 'loopback'
  | 'unspecified'
  | 'link_local'
  | 'metadata'
  | 'private'
  | 'reserved'
  | 'echo'
  | 'public';

/** A classified host. */
export interface HostClass {
  /** The host as compared: lower case, IPv4 in dotted decimal, IPv6 without brackets. */
  host: string;
  /** 4 or 6 when the host is an IP address, null for a name. */
  address: 4 | 6 | null;
  kind: HostKind;
  /** The name ended with a dot (`localhost.`): the same host to DNS, another string to a list. */
  trailingDot: boolean;
}

/** Names of this machine: RFC 6761 `localhost`, and the aliases Linux distributions' /etc/hosts give. */
const LOOPBACK_NAMES = new Set([
  'localhost',
  'localhost.localdomain',
  'localhost4',
  'localhost4.localdomain4',
  'localhost6',
  'localhost6.localdomain6',
  'ip6-localhost',
  'ip6-loopback',
]);

/** Names cloud providers give their metadata service inside a VM. */
const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'instance-data',
  'instance-data.ec2.internal',
]);

/**
 * Suffixes that never name a public host: mDNS `.local` (RFC 6762), `.onion` (RFC 7686), ICANN's
 * private-use `.internal`, reverse DNS and `home.arpa` (RFC 8375), Kubernetes service names, and
 * names that home and corporate networks commonly use.
 */
const PRIVATE_SUFFIXES = [
  'local',
  'localdomain',
  'internal',
  'intranet',
  'lan',
  'home',
  'corp',
  'private',
  'svc',
  'onion',
  'arpa',
];

/**
 * Public names that resolve to whatever address they embed (127.0.0.1.nip.io), to loopback
 * (lvh.me, localtest.me), or that rebind on purpose (rbndr.us, 1u.ms). No list can be complete.
 */
export const ADDRESS_ECHO_DOMAINS = [
  'nip.io',
  'sslip.io',
  'xip.io',
  'traefik.me',
  'localtest.me',
  'lvh.me',
  'vcap.me',
  'lacolhost.com',
  'localhost.direct',
  'rbndr.us',
  '1u.ms',
];

/** A range of addresses: its first address, prefix length and kind. */
type Range = readonly [base: bigint, bits: number, kind: HostKind];

function v4(text: string): bigint {
  return text.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
}

/** Parses compressed or full hexadecimal IPv6 (as the URL parser prints it), or null. */
function v6(text: string): bigint | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<string>(Math.max(0, missing)).fill('0'), ...tail];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function range4(base: string, bits: number, kind: HostKind): Range {
  return [v4(base), bits, kind];
}

function range6(base: string, bits: number, kind: HostKind): Range {
  return [v6(base) ?? 0n, bits, kind];
}

/** IPv4 special-purpose ranges (RFC 6890 and its registry), most specific first. */
const IPV4_RANGES: Range[] = [
  range4('169.254.169.254', 32, 'metadata'), // AWS, GCP, Azure, OpenStack, …
  range4('169.254.170.2', 32, 'metadata'), // AWS ECS task metadata
  range4('100.100.100.200', 32, 'metadata'), // Alibaba Cloud
  range4('168.63.129.16', 32, 'metadata'), // Azure WireServer
  range4('0.0.0.0', 8, 'unspecified'),
  range4('127.0.0.0', 8, 'loopback'),
  range4('10.0.0.0', 8, 'private'),
  range4('172.16.0.0', 12, 'private'),
  range4('192.168.0.0', 16, 'private'),
  range4('100.64.0.0', 10, 'private'), // CGNAT, RFC 6598
  range4('169.254.0.0', 16, 'link_local'),
  range4('192.0.0.0', 24, 'reserved'),
  range4('192.0.2.0', 24, 'reserved'),
  range4('198.51.100.0', 24, 'reserved'),
  range4('203.0.113.0', 24, 'reserved'),
  range4('198.18.0.0', 15, 'reserved'),
  range4('192.88.99.0', 24, 'reserved'),
  range4('224.0.0.0', 4, 'reserved'), // multicast
  range4('240.0.0.0', 4, 'reserved'), // future use, and the broadcast address
];

/** IPv6 ranges that carry an IPv4 address in their low bits (at `shift`): judged by that address. */
const IPV4_CARRIERS: ReadonlyArray<readonly [base: bigint, bits: number, shift: bigint]> = [
  [v6('::ffff:0:0') ?? 0n, 96, 0n], // IPv4-mapped
  [v6('::ffff:0:0:0') ?? 0n, 96, 0n], // IPv4-translated (SIIT)
  [0n, 96, 0n], // IPv4-compatible (deprecated); :: and ::1 are matched before
  [v6('64:ff9b::') ?? 0n, 96, 0n], // NAT64
  [v6('2002::') ?? 0n, 16, 80n], // 6to4
];

/** IPv6 special-purpose ranges, most specific first; what is outside 2000::/3 is reserved. */
const IPV6_RANGES: Range[] = [
  range6('::', 128, 'unspecified'),
  range6('::1', 128, 'loopback'),
  range6('fd00:ec2::254', 128, 'metadata'), // AWS
  range6('fe80::', 10, 'link_local'),
  range6('fc00::', 7, 'private'), // unique local
  range6('fec0::', 10, 'private'), // site-local (deprecated)
  range6('64:ff9b:1::', 48, 'private'), // local-use NAT64, RFC 8215
  range6('100::', 64, 'reserved'), // discard
  range6('2001::', 32, 'reserved'), // Teredo
  range6('2001:2::', 48, 'reserved'), // benchmarking
  range6('2001:db8::', 32, 'reserved'), // documentation
  range6('3fff::', 20, 'reserved'), // documentation, RFC 9637
  range6('ff00::', 8, 'reserved'), // multicast
  range6('2000::', 3, 'public'),
];

function lookup(address: bigint, width: number, ranges: Range[]): HostKind | null {
  for (const [base, bits, kind] of ranges) {
    const shift = BigInt(width - bits);
    if (address >> shift === base >> shift) return kind;
  }
  return null;
}

function classifyV4(address: bigint): HostKind {
  return lookup(address, 32, IPV4_RANGES) ?? 'public';
}

function classifyV6(address: bigint): HostKind {
  const exact = lookup(address, 128, IPV6_RANGES.slice(0, 3));
  if (exact) return exact;
  for (const [base, bits, shift] of IPV4_CARRIERS) {
    const prefixShift = BigInt(128 - bits);
    if (address >> prefixShift === base >> prefixShift) {
      return classifyV4((address >> shift) & 0xffffffffn);
    }
  }
  return lookup(address, 128, IPV6_RANGES) ?? 'reserved';
}

function isUnder(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}

function classifyName(host: string): HostKind {
  if (host.split('.').some((label) => label === '')) return 'reserved';
  if (LOOPBACK_NAMES.has(host) || host.endsWith('.localhost')) return 'loopback';
  if (METADATA_NAMES.has(host)) return 'metadata';
  // A single label is completed with the local search domains, never looked up on the internet.
  if (!host.includes('.') || PRIVATE_SUFFIXES.some((s) => isUnder(host, s))) return 'private';
  if (ADDRESS_ECHO_DOMAINS.some((d) => isUnder(host, d))) return 'echo';
  return 'public';
}

/**
 * Classifies a URL's host: `url.hostname`, or a host in another spelling (it is normalised with
 * the URL parser first, so `127.1`, `0x7f000001` and `[0:0:0:0:0:0:0:1]` are addresses too).
 * A host the URL parser refuses is `reserved`.
 */
export function classifyHost(hostname: string): HostClass {
  const raw = hostname.trim();
  const invalid: HostClass = {
    host: raw.toLowerCase(),
    address: null,
    kind: 'reserved',
    trailingDot: false,
  };
  // A host alone: whatever would make the parser read a user, a port or a path is not one.
  if (raw === '' || /[/?#@\\\s]/.test(raw) || (raw.startsWith('[') && !raw.endsWith(']'))) {
    return invalid;
  }
  const bracketed = raw.includes(':') && !raw.startsWith('[') ? `[${raw}]` : raw;
  let host: string;
  try {
    host = new URL(`http://${bracketed}/`).hostname;
  } catch {
    return invalid;
  }
  if (host.startsWith('[')) {
    const text = host.slice(1, -1);
    const address = v6(text);
    return {
      host: text,
      address: 6,
      kind: address === null ? 'reserved' : classifyV6(address),
      trailingDot: false,
    };
  }
  // The URL parser has turned every IPv4 spelling into dotted decimal, trailing dot dropped.
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) {
    return { host, address: 4, kind: classifyV4(v4(host)), trailingDot: false };
  }
  const trailingDot = host.endsWith('.');
  const name = trailingDot ? host.slice(0, -1) : host;
  return { host: name, address: null, kind: classifyName(name), trailingDot };
}

/** Who may be called on a configured or user-given outbound URL. */
export interface OutboundPolicy {
  /** ENVIRONMENT=development: this machine may be called, over plain http too. */
  development: boolean;
  /** Whether a private network (RFC 1918, CGNAT, unique-local, local names) may be called. */
  allowPrivate: boolean;
}

/**
 * Why `url` must not be called under `policy`, as the end of a sentence that starts with the
 * setting's or field's name ("must use https:// …"), or null if it may be. Outside development:
 * https only, never this machine; never a link-local, metadata, reserved or echo host; private
 * networks only if the policy allows them.
 */
export function outboundUrlProblem(url: URL, policy: OutboundPolicy): string | null {
  const { kind } = classifyHost(url.hostname);
  const local = kind === 'loopback' || kind === 'unspecified';
  if (local && !policy.development) {
    return 'must not point at this machine (localhost, 127.0.0.0/8, ::1, 0.0.0.0), which is only allowed when ENVIRONMENT=development';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
    return policy.development
      ? 'must use https:// (http:// is allowed for localhost when ENVIRONMENT=development)'
      : 'must use https:// (http:// is allowed only for localhost when ENVIRONMENT=development)';
  }
  switch (kind) {
    case 'link_local':
    case 'metadata':
      return 'must not point at a link-local address or a cloud metadata service';
    case 'reserved':
      return 'must not point at a reserved address or an invalid host name';
    case 'echo':
      return 'must not be a name that stands for an IP address (such as 127.0.0.1.nip.io)';
    case 'private':
      return policy.allowPrivate
        ? null
        : 'must not point at a private network address or a local name';
    default:
      return null;
  }
}
