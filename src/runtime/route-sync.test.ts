import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import type { RouteTable } from '../router/route-table.ts';
import type { ReleaseDriver } from './release-driver.ts';
import { RouteSync } from './route-sync.ts';

// The runtime's part of ACME: challenges the edge's job publishes go into the very next table the
// router is given, and the publication resolves only once the router has it.
describe('route sync: ACME challenges', () => {
  it('puts the challenges in flight into the pushed table, and drops the field when none are left', async () => {
    const pushed: (RouteTable & { acmeChallenges?: unknown })[] = [];
    const router = {
      putRoutes: async (table: RouteTable) => void pushed.push(table),
      inflight: async () => ({}),
    };
    // No service serves: the table's routes are empty and the driver is never asked.
    const sync = new RouteSync(new Map(), {} as ReleaseDriver, router, {} as FastifyBaseLogger);
    sync.enable();
    await sync.setAcmeChallenges([{ token: 'tok-1', keyAuthorization: 'tok-1.thumb' }]);
    assert.equal(pushed.length, 1);
    assert.deepEqual(pushed[0]?.acmeChallenges, [{ token: 'tok-1', keyAuthorization: 'tok-1.thumb' }]);
    await sync.setAcmeChallenges([]);
    assert.equal(pushed.length, 2);
    assert.equal('acmeChallenges' in pushed[1]!, false);
    assert.ok(pushed[1]!.version > pushed[0]!.version);
  });
});
