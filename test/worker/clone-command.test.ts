/**
 * The clone step's git command line and the meaning of its failures (durable-objects/job/clone.ts):
 * redirects refused, only https outside development, every word quoted; a redirect, an unknown
 * repository or ref and a demand for credentials are permanent, network failures transient.
 */
import { describe, expect, it } from 'vitest';
import { cloneCommand, cloneFailure, type CloneSpec } from '../../durable-objects/job/clone.ts';
import { classify } from '../../durable-objects/job/daytona.ts';
import { shellQuote, shellWords } from '../../durable-objects/job/shell.ts';

const spec: CloneSpec = {
  url: 'https://github.com/o/r.git',
  ref: null,
  dir: 'repo',
  development: false,
};

describe('shellQuote', () => {
  it.each([
    ['plain', `'plain'`],
    ["it's", `'it'\\''s'`],
    ['$(rm -rf ~) `x` "y" ;|&', `'$(rm -rf ~) \`x\` "y" ;|&'`],
    ['', `''`],
  ])('quotes %s as one word', (value, quoted) => {
    expect(shellQuote(value)).toBe(quoted);
  });

  it('quotes every word of a line', () => {
    expect(shellWords(['git', 'clone', '--', "a b'c"])).toBe(`'git' 'clone' '--' 'a b'\\''c'`);
  });
});

describe('cloneCommand', () => {
  it('refuses redirects and every protocol but https outside development', () => {
    const line = cloneCommand(spec);
    expect(line).toContain(`'-c' 'http.followRedirects=false'`);
    expect(line).toContain(`'-c' 'protocol.allow=never' '-c' 'protocol.https.allow=always'`);
    expect(line).not.toContain('protocol.http.allow');
    expect(line).not.toContain('protocol.file.allow');
    expect(line).toContain(`'clone' '--' 'https://github.com/o/r.git' 'repo'`);
  });

  it('allows http and file repositories in development', () => {
    const line = cloneCommand({ ...spec, development: true });
    expect(line).toContain(`'protocol.http.allow=always'`);
    expect(line).toContain(`'protocol.file.allow=always'`);
  });

  it('passes the ref with --branch and quotes the URL whole', () => {
    const line = cloneCommand({ ...spec, url: "https://github.com/o/it's.git", ref: 'v1.0' });
    expect(line).toContain(`'clone' '--branch' 'v1.0' '--' 'https://github.com/o/it'\\''s.git'`);
  });
});

describe('cloneFailure', () => {
  const fail = (output: string, exitCode = 128, s = spec) => cloneFailure(exitCode, output, s);
  const refused = `Cloning into 'repo'...\nfatal: unable to access 'https://github.com/o/r.git/': The requested URL returned error: 301\n`;

  it('names where a redirect pointed, resolved and without the info/refs path', () => {
    const error = fail(
      `${refused}omni-clone-redirect: https://github.com/o/renamed.git/info/refs?service=git-upload-pack\n`,
    );
    expect(error.message).toContain(
      'the repository answered with a redirect to https://github.com/o/renamed.git; use its final URL',
    );
    expect(error.message).toContain('returned error: 301');
    expect(error.message).not.toContain('omni-clone-redirect');
    expect(error.message).not.toContain('Cloning into');
    expect(classify(error)).toEqual({ kind: 'permanent' });
    const relative = fail(`${refused}omni-clone-redirect: /x/r.git/info/refs\n`);
    expect(relative.message).toContain('a redirect to https://github.com/x/r.git;');
  });

  it('says it was a redirect even without its Location', () => {
    const error = fail(refused);
    expect(error.message).toContain('answered with a redirect; use its final URL');
    expect(error.transient).toBe(false);
  });

  it.each([
    [
      "fatal: could not read Username for 'https://github.com': terminal prompts disabled",
      'asks for credentials',
    ],
    ["fatal: repository 'https://github.com/o/r.git/' not found", 'was not found'],
    ["fatal: '/tmp/x' does not appear to be a git repository", 'was not found'],
    ["fatal: transport 'ext' not allowed", 'refused the protocol'],
  ])('is permanent for %s', (output, advice) => {
    const error = fail(output);
    expect(error.message).toContain(advice);
    expect(error.message).toContain(output);
    expect(classify(error)).toEqual({ kind: 'permanent' });
  });

  it('names a ref that does not exist', () => {
    const error = fail('fatal: Remote branch nope not found in upstream origin', 128, {
      ...spec,
      ref: 'nope',
    });
    expect(error.message).toContain('the repository has no branch or tag nope');
    expect(classify(error)).toEqual({ kind: 'permanent' });
  });

  it.each([
    "fatal: unable to access 'https://github.com/o/r.git/': Could not resolve host: github.com",
    "fatal: unable to access 'https://github.com/o/r.git/': The requested URL returned error: 503",
    "fatal: unable to access 'https://github.com/o/r.git/': Failed to connect to github.com port 443",
    'error: RPC failed; curl 56 GnuTLS recv error (-54)\nfatal: early EOF',
  ])('is transient for %s', (output) => {
    const error = fail(output);
    expect(error.transient).toBe(true);
    expect(classify(error)).toEqual({ kind: 'transient', retryAfterMs: 0 });
  });

  it('is permanent, with git’s words, for everything else', () => {
    const error = fail('fatal: something unexpected');
    expect(error.message).toBe('git: fatal: something unexpected');
    expect(error.transient).toBe(false);
    expect(fail('', -1).message).toBe('git exited with -1');
  });
});
