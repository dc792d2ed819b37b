import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import { payHostRoute } from '../payments/pay-host.ts';
import { DEFAULTS } from '../platform/config.ts';
import type { RouteTable } from '../router/route-table.ts';
import type { ReleaseDriver } from './release-driver.ts';
import { RouteSync } from './route-sync.ts';

// The platform's own routes (the payment host, decision 043) join the table from the moment the
// platform's address is known: none before it listens, then `pay.<domain>` to its server, reached
// on loopback when it listens on every address.
describe('route sync: the platform routes', () => {
  it('adds the payment host once the platform listens, to its loopback address', async () => {
    const pushed: RouteTable[] = [];
    const router = { putRoutes: async (t: RouteTable) => void pushed.push(t), inflight: async () => ({}) };
    let platformUrl: string | null = null;
    const config = { ...DEFAULTS, domain: 'gov.example' };
    const sync = new RouteSync(
      new Map(),
      {} as ReleaseDriver,
      router,
      {} as FastifyBaseLogger,
      undefined,
      () => (platformUrl ? [payHostRoute(config, platformUrl)] : []),
    );
    sync.enable();
    await sync.push();
    assert.deepEqual(pushed[0]?.routes, []);
    platformUrl = 'http://0.0.0.0:7070';
    await sync.push();
    assert.deepEqual(pushed[1]?.routes, [
      {
        hostname: 'pay.gov.example',
        service: 'GovHost/pay',
        kind: 'proxy',
        // The router adds its platform key to this route's requests only (decision 049).
        platform: true,
        backends: [{ id: 'govhost-platform', url: 'http://127.0.0.1:7070' }],
      },
    ]);
  });
});
