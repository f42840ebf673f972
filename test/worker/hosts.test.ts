/**
 * The host classifier every outbound URL check uses (worker/lib/hosts.ts): each spelling of a
 * loopback, unspecified, link-local, metadata, private or reserved host is seen for what it is,
 * and public hosts pass.
 */
import { describe, expect, it } from 'vitest';
import { classifyHost, outboundUrlProblem, type HostKind } from '../../worker/lib/hosts.ts';

const table: Array<[host: string, kind: HostKind, address: 4 | 6 | null]> = [
  // This machine, by name.
  ['localhost', 'loopback', null],
  ['localhost.', 'loopback', null],
  ['LOCALHOST', 'loopback', null],
  ['LocalHost.', 'loopback', null],
  ['foo.localhost', 'loopback', null],
  ['foo.localhost.', 'loopback', null],
  ['localhost.localdomain', 'loopback', null],
  ['localhost4', 'loopback', null],
  ['localhost6.localdomain6', 'loopback', null],
  ['ip6-localhost', 'loopback', null],
  ['ip6-loopback', 'loopback', null],
  // This machine, by address, in every spelling the URL parser accepts.
  ['127.0.0.1', 'loopback', 4],
  ['127.0.0.1.', 'loopback', 4],
  ['127.1', 'loopback', 4],
  ['127.255.255.254', 'loopback', 4],
  ['2130706433', 'loopback', 4],
  ['0x7f000001', 'loopback', 4],
  ['0x7f.1', 'loopback', 4],
  ['0177.0.0.1', 'loopback', 4],
  ['[::1]', 'loopback', 6],
  ['::1', 'loopback', 6],
  ['[0:0:0:0:0:0:0:1]', 'loopback', 6],
  ['[::ffff:127.0.0.1]', 'loopback', 6],
  ['[::ffff:7f00:1]', 'loopback', 6],
  ['[::127.0.0.1]', 'loopback', 6],
  ['[64:ff9b::7f00:1]', 'loopback', 6],
  ['[2002:7f00:1::]', 'loopback', 6],
  // Unspecified: connects to this machine as well.
  ['0.0.0.0', 'unspecified', 4],
  ['0', 'unspecified', 4],
  ['0.1.2.3', 'unspecified', 4],
  ['[::]', 'unspecified', 6],
  ['[::ffff:0.0.0.0]', 'unspecified', 6],
  // Link-local and cloud metadata.
  ['169.254.1.1', 'link_local', 4],
  ['[fe80::1]', 'link_local', 6],
  ['[::ffff:169.254.1.1]', 'link_local', 6],
  ['169.254.169.254', 'metadata', 4],
  ['2852039166', 'metadata', 4],
  ['[::ffff:169.254.169.254]', 'metadata', 6],
  ['[fd00:ec2::254]', 'metadata', 6],
  ['100.100.100.200', 'metadata', 4],
  ['metadata', 'metadata', null],
  ['metadata.google.internal', 'metadata', null],
  ['metadata.google.internal.', 'metadata', null],
  // Private networks.
  ['10.0.0.1', 'private', 4],
  ['172.16.0.1', 'private', 4],
  ['172.31.255.255', 'private', 4],
  ['192.168.1.1', 'private', 4],
  ['100.64.0.1', 'private', 4],
  ['[fd00::1]', 'private', 6],
  ['[fc00::1]', 'private', 6],
  ['[fec0::1]', 'private', 6],
  ['[::ffff:10.0.0.1]', 'private', 6],
  ['[::ffff:a00:1]', 'private', 6],
  ['nas', 'private', null],
  ['nas.local', 'private', null],
  ['git.corp.internal', 'private', null],
  ['router.home.arpa', 'private', null],
  ['foo.localdomain', 'private', null],
  ['api.default.svc', 'private', null],
  // Reserved and invalid.
  ['192.0.2.1', 'reserved', 4],
  ['198.18.0.1', 'reserved', 4],
  ['224.0.0.1', 'reserved', 4],
  ['255.255.255.255', 'reserved', 4],
  ['[2001:db8::1]', 'reserved', 6],
  ['[ff02::1]', 'reserved', 6],
  ['[2001::1]', 'reserved', 6],
  ['[::ffff:192.0.2.1]', 'reserved', 6],
  ['a..b', 'reserved', null],
  ['999.1.1.1', 'reserved', null],
  ['[fe80::1%25eth0]', 'reserved', null],
  ['user@github.com', 'reserved', null],
  ['github.com/path', 'reserved', null],
  ['', 'reserved', null],
  // Names that stand for an address.
  ['127.0.0.1.nip.io', 'echo', null],
  ['app.lvh.me', 'echo', null],
  ['10-0-0-1.sslip.io', 'echo', null],
  // Public.
  ['github.com', 'public', null],
  ['github.com.', 'public', null],
  ['GitHub.COM', 'public', null],
  ['api.daytona.io', 'public', null],
  ['app.daytona.io', 'public', null],
  ['localhost.example.com', 'public', null],
  ['xn--bcher-kva.example', 'public', null],
  ['8.8.8.8', 'public', 4],
  ['172.32.0.1', 'public', 4],
  ['100.128.0.1', 'public', 4],
  ['[2606:4700::1111]', 'public', 6],
  ['[::ffff:8.8.8.8]', 'public', 6],
];

describe('classifyHost', () => {
  it.each(table)('%s is %s', (host, kind, address) => {
    const info = classifyHost(host);
    expect(info.kind).toBe(kind);
    expect(info.address).toBe(address);
  });

  it('classifies url.hostname the same as the host it came from', () => {
    for (const [host, kind] of table) {
      let url: URL;
      try {
        url = new URL(`https://${host}/`);
      } catch {
        continue;
      }
      if (url.hostname !== '' && !host.includes('@') && !host.includes('/')) {
        expect(classifyHost(url.hostname).kind, host).toBe(kind);
      }
    }
  });

  it('reports a trailing dot and compares the name without it', () => {
    expect(classifyHost('GitHub.com.')).toEqual({
      host: 'github.com',
      address: null,
      kind: 'public',
      trailingDot: true,
    });
    expect(classifyHost('[::ffff:127.0.0.1]').host).toBe('::ffff:7f00:1');
  });
});

describe('outboundUrlProblem', () => {
  const production = { development: false, allowPrivate: true };
  const development = { development: true, allowPrivate: true };
  const problem = (url: string, policy = production) => outboundUrlProblem(new URL(url), policy);

  it('accepts https to public hosts, and to private ones when the policy allows them', () => {
    expect(problem('https://app.daytona.io/api')).toBeNull();
    expect(problem('https://10.1.2.3/api')).toBeNull();
    expect(problem('https://daytona.corp.internal/api')).toBeNull();
    expect(problem('https://10.1.2.3/api', { development: false, allowPrivate: false })).toMatch(
      /private network/,
    );
  });

  it.each([
    'https://localhost./api',
    'https://LOCALHOST/api',
    'https://foo.localhost/api',
    'https://localhost.localdomain/api',
    'https://ip6-localhost/api',
    'https://[::1]/api',
    'https://[::]/api',
    'https://[::ffff:127.0.0.1]/api',
    'https://[::ffff:7f00:1]/api',
    'https://[0:0:0:0:0:0:0:1]/api',
    'https://0.0.0.0/api',
    'https://127.1/api',
    'https://2130706433/api',
    'https://0x7f000001/api',
    'http://127.0.0.1:3986/api',
  ])('refuses %s outside development', (url) => {
    expect(problem(url)).toMatch(/must not point at this machine.*ENVIRONMENT=development/);
    expect(problem(url, development)).toBeNull();
  });

  it('requires https outside development, and allows plain http only to this machine', () => {
    expect(problem('http://app.daytona.io/api')).toMatch(/must use https:\/\//);
    expect(problem('http://app.daytona.io/api', development)).toMatch(/must use https:\/\//);
    expect(problem('http://10.0.0.1/api')).toMatch(/must use https:\/\//);
    expect(problem('http://[::1]:3986/api', development)).toBeNull();
  });

  it.each([
    ['https://169.254.169.254/latest', /metadata/],
    ['https://[fe80::1]/', /link-local/],
    ['https://metadata.google.internal/', /metadata/],
    ['https://192.0.2.1/', /reserved/],
    ['https://127.0.0.1.nip.io/', /stands for an IP address/],
  ])('refuses %s everywhere', (url, reason) => {
    expect(problem(url)).toMatch(reason);
    expect(problem(url, development)).toMatch(reason);
  });
});
