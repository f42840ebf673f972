/**
 * local-daytona's fault admin endpoints, driven by the real @daytonaio/sdk (Node runtime, polling
 * as the Job DO uses it): adding, listing with fire counts and removing rules, the validation of
 * a rule, the API key and the loopback-only rule for /_faults and /_stats, and the counters of
 * /_stats that the other fault tests use to prove what happened. Setup and helpers are in
 * faults-helpers.ts.
 */
import { networkInterfaces } from 'node:os';
import { DaytonaServiceUnavailableError } from '@daytonaio/sdk';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startLocalDaytona } from '../../local-daytona/server.ts';
import { admin, daytona, server, shared, useFaultServer } from './faults-helpers.ts';

useFaultServer();

describe('admin endpoint', () => {
  it('adds, lists with fire counts, removes one and clears all', async () => {
    const added = await admin('POST', '/_faults', {
      rules: [
        { action: 'fail', method: 'GET', path: '/api/sandbox/:id', status: 503, times: 2 },
        { action: 'delay', path: '/toolbox/**', ms: 1 },
      ],
    });
    expect(added.status).toBe(201);
    const ids = z
      .object({ rules: z.array(z.looseObject({ id: z.string() })) })
      .parse(added.body)
      .rules.map((r) => r.id);
    expect(ids).toHaveLength(2);
    await expect(daytona.get(shared.id)).rejects.toBeInstanceOf(DaytonaServiceUnavailableError);
    expect((await admin('GET', '/_faults')).body).toEqual({
      rules: [
        {
          id: ids[0],
          action: 'fail',
          method: 'GET',
          path: '/api/sandbox/:id',
          status: 503,
          times: 2,
          fired: 1,
          remaining: 1,
          held: 0,
        },
        {
          id: ids[1],
          action: 'delay',
          path: '/toolbox/**',
          ms: 1,
          fired: 0,
          remaining: null,
          held: 0,
        },
      ],
    });
    expect(await admin('DELETE', `/_faults/${ids[0]}`)).toEqual({
      status: 200,
      body: { removed: ids[0] },
    });
    expect((await admin('DELETE', `/_faults/${ids[0]}`)).status).toBe(404);
    expect((await daytona.get(shared.id)).id).toBe(shared.id);
    expect(await admin('DELETE', '/_faults')).toEqual({ status: 200, body: { cleared: 1 } });
    expect((await admin('GET', '/_faults')).body).toEqual({ rules: [] });
  });

  it('rejects a body with unknown fields or bad values with a 400 that names the problem', async () => {
    const message = async (body: unknown): Promise<string> => {
      const res = await admin('POST', '/_faults', body);
      expect(res.status).toBe(400);
      return z.object({ message: z.string() }).parse(res.body).message;
    };
    expect(await message({ rules: [{ action: 'fail', status: 503, statsu: 1 }] })).toMatch(
      /Unrecognized key: "statsu"[\s\S]*rules\[0\]/,
    );
    expect(await message({ rules: [{ action: 'explode' }] })).toMatch(/rules\[0\]\.action/);
    expect(await message({ rules: [{ action: 'fail', status: 200 }] })).toMatch(
      /rules\[0\]\.status/,
    );
    expect(await message({ rules: [{ action: 'delay', ms: 5, path: 'api' }] })).toMatch(
      /path must be a template/,
    );
    expect(await message({ rules: [{ action: 'hold-logs', method: 'GET' }] })).toMatch(
      /Unrecognized key: "method"/,
    );
    expect(
      await message({ rules: [{ action: 'fail', status: 502, body: {}, message: 'x' }] }),
    ).toMatch(/either body or message/);
    expect(await message({ rules: [] })).toMatch(/rules/);
    expect(await message({ rule: { action: 'hang' } })).toMatch(/Unrecognized key: "rule"/);
    expect(await message('{not json')).toMatch(/malformed JSON/);
    expect(server.faults.list()).toEqual([]);
    // The in-process API validates with the same schema.
    expect(() => server.faults.add({ action: 'delay', ms: -1 })).toThrow(/ms/);
  });

  it('requires the API key', async () => {
    expect((await admin('GET', '/_stats', undefined, 'wrong')).status).toBe(401);
    const res = await fetch(`${server.adminUrl}/_faults`, { method: 'DELETE' });
    expect(res.status).toBe(401);
    expect((await admin('GET', '/_nothing-here')).status).toBe(404);
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((a) => a?.family === 'IPv4' && !a.internal)?.address;
  it.skipIf(external === undefined)(
    'refuses peers that are not on loopback, even with the key',
    async () => {
      const open = await startLocalDaytona({ apiKey: server.apiKey, host: '0.0.0.0' });
      try {
        const { port } = new URL(open.adminUrl);
        const headers = { authorization: `Bearer ${open.apiKey}` };
        const remote = await fetch(`http://${external}:${port}/_stats`, { headers });
        expect(remote.status).toBe(403);
        expect(await remote.text()).toMatch(/loopback/);
        const remoteAdd = await fetch(`http://${external}:${port}/_faults`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ rules: [{ action: 'hang' }] }),
        });
        expect(remoteAdd.status).toBe(403);
        expect(open.faults.list()).toEqual([]);
        // The same peer may still use the API itself, and loopback may use the admin endpoints.
        expect((await fetch(`http://${external}:${port}/api/config`, { headers })).status).toBe(
          200,
        );
        expect((await fetch(`${open.adminUrl}/_stats`, { headers })).status).toBe(200);
      } finally {
        await open.close();
      }
    },
  );

  it('counts sandboxes created and existing, live processes and started session commands', async () => {
    const before = await server.stats();
    const other = await daytona.create({ snapshot: 'omni-sandbox' });
    await other.process.createSession('s');
    await other.process.executeSessionCommand('s', { command: 'sleep 300', runAsync: true });
    await other.process.executeSessionCommand('s', { command: 'true', runAsync: true });
    const during = await server.stats();
    expect(during.sandboxesCreated).toBe(before.sandboxesCreated + 1);
    expect(during.sandboxesExisting).toBe(before.sandboxesExisting + 1);
    expect(during.sandboxes[other.id]).toMatchObject({ state: 'started', sessionCommands: 2 });
    expect(during.sandboxes[other.id]?.processesAlive).toBeGreaterThan(0);
    expect(during.sessionCommands).toBe(before.sessionCommands + 2);
    expect((await admin('GET', '/_stats')).body).toMatchObject({
      sandboxesCreated: during.sandboxesCreated,
      sandboxes: { [other.id]: { sessionCommands: 2 } },
    });
    await other.delete();
    const after = await server.stats();
    expect(after.sandboxesCreated).toBe(during.sandboxesCreated);
    expect(after.sandboxesExisting).toBe(before.sandboxesExisting);
    expect(after.sandboxes[other.id]).toMatchObject({ state: 'destroyed', processesAlive: 0 });
  });

  it('records the shape a create asked for, as sent, and keeps it after the sandbox is gone', async () => {
    const fromSnapshot = await daytona.create({
      snapshot: 'omni-sandbox',
      autoStopInterval: 7,
      autoDeleteInterval: 3,
      networkBlockAll: false,
      networkAllowList: '10.0.0.0/8,192.168.1.0/24',
    });
    const fromImage = await daytona.create({
      image: 'omni-sandbox-test:1',
      resources: { cpu: 3, memory: 6, disk: 9 },
      networkBlockAll: true,
    });
    await fromSnapshot.delete();
    await fromImage.delete();
    const stats = await server.stats();
    expect(stats.sandboxes[fromSnapshot.id]?.asked).toEqual({
      snapshot: 'omni-sandbox',
      autoStopInterval: 7,
      autoDeleteInterval: 3,
      networkBlockAll: false,
      networkAllowList: '10.0.0.0/8,192.168.1.0/24',
    });
    // Left out of the request: absent here, although the sandbox got Daytona's defaults.
    expect(stats.sandboxes[fromImage.id]?.asked).toEqual({
      image: 'FROM omni-sandbox-test:1\n',
      cpu: 3,
      memory: 6,
      disk: 9,
      networkBlockAll: true,
    });
  });

  it('refuses what Daytona refuses: sizes with a snapshot, more than 10 CIDRs', async () => {
    // The SDK's types allow sizes with an image only, but it sends them whatever the source.
    const sized = { snapshot: 'omni-sandbox', resources: { cpu: 2 } };
    await expect(daytona.create(sized)).rejects.toThrow(
      /Cannot specify Sandbox resources when using a snapshot/,
    );
    const eleven = Array.from({ length: 11 }, (_, i) => `10.${i}.0.0/16`).join(',');
    await expect(
      daytona.create({ snapshot: 'omni-sandbox', networkAllowList: eleven }),
    ).rejects.toThrow(/more than 10 networks/);
  });
});
