/**
 * The contract checker of local-daytona-contract.test.ts, tested on its own: it must reject what
 * Daytona's documents forbid and accept what they allow, or the contract test proves nothing.
 */
import { describe, expect, it } from 'vitest';
import { fixture, schemaNamed } from './daytona-contract.ts';

describe('the validator itself', () => {
  const sandbox = () => schemaNamed('api', 'Sandbox');
  const list = () => schemaNamed('api', 'ListSandboxesResponse');
  const minimal = {
    id: 'sb',
    organizationId: 'org',
    name: 'sb',
    user: 'daytona',
    env: {},
    labels: {},
    public: false,
    networkBlockAll: false,
    target: 'us',
    cpu: 1,
    gpu: 0,
    memory: 1,
    disk: 3,
    toolboxProxyUrl: 'http://x/toolbox',
  };

  it('rejects missing required fields, wrong types and values outside an enum', () => {
    const { toolboxProxyUrl: _, ...missing } = minimal;
    expect(sandbox()(missing)).toBe(false);
    expect(sandbox()({ ...minimal, cpu: '1' })).toBe(false);
    expect(sandbox()({ ...minimal, state: 'napping' })).toBe(false);
    expect(sandbox()({ ...minimal, env: { A: 1 } })).toBe(false);
  });

  it('checks formats the spec names (BuildInfo.createdAt is a date-time)', () => {
    const buildInfo = { snapshotRef: 'r', createdAt: 'yesterday', updatedAt: 'yesterday' };
    expect(sandbox()({ ...minimal, buildInfo })).toBe(false);
    const now = new Date().toISOString();
    expect(
      sandbox()({ ...minimal, buildInfo: { ...buildInfo, createdAt: now, updatedAt: now } }),
    ).toBe(true);
  });

  it('leaves objects open: fields the spec does not name are accepted', () => {
    expect(sandbox()({ ...minimal, someFutureField: { nested: true } })).toBe(true);
    // Nothing in the copied documents closes an object; this test must not close one either.
    expect(JSON.stringify(fixture)).not.toMatch(/"additionalProperties":\s*false/);
  });

  it('applies the daemon overlay to the named fields only', () => {
    const exec = schemaNamed('toolbox', 'SessionExecuteResponse');
    expect(exec({ cmdId: 'c', output: null, stdout: null, stderr: null, exitCode: null })).toBe(
      true,
    );
    expect(exec({ cmdId: 'c', exitCode: '0' })).toBe(false);
    expect(exec({ cmdId: null })).toBe(false);
    const error = schemaNamed('toolbox', 'ErrorResponse');
    const body = { statusCode: 400, message: 'm', path: '/p', timestamp: 't' };
    expect(error({ ...body, code: 'INVALID_FILE_PATH' })).toBe(true);
    expect(error({ ...body, code: 'NO_SUCH_CODE' })).toBe(false);
  });

  it('turns OpenAPI nullable into "or null", and nothing else', () => {
    expect(list()({ items: [], nextCursor: null })).toBe(true);
    expect(list()({ items: [], nextCursor: 'c' })).toBe(true);
    expect(list()({ items: [], nextCursor: 5 })).toBe(false);
    expect(list()({ items: [] })).toBe(false); // nullable, but still required
  });
});
