import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureRouter } from './router-process.ts';

test('a router left running is adopted only when started with the same HTTPS port', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'govhost-router-process-'));
  const opts = { dataDir, host: '127.0.0.1', port: 0, adminPort: 0 };
  const stops: (() => Promise<void>)[] = [];
  try {
    // The router inherits the control plane's environment, GOVHOST_ROUTER_HTTPS_PORT with it.
    process.env.GOVHOST_ROUTER_HTTPS_PORT = '0';
    const first = await ensureRouter(opts);
    stops.push(first.stop);
    assert.equal(first.adopted, false);
    // The port its HTTPS listener got (asked for 0): where the platform's own HTTPS requests go.
    const tlsPort = first.client.httpsListenPort;
    assert.ok(tlsPort !== null && tlsPort > 0 && tlsPort !== first.client.info.port, String(tlsPort));
    const again = await ensureRouter(opts);
    assert.equal(again.adopted, true);
    assert.equal(again.client.info.pid, first.client.info.pid);
    assert.equal(again.client.httpsListenPort, tlsPort, 'an adopted router keeps its HTTPS port');
    delete process.env.GOVHOST_ROUTER_HTTPS_PORT;
    const plain = await ensureRouter(opts);
    stops.push(plain.stop);
    assert.equal(plain.adopted, false, 'HTTPS turned off: the old router is replaced');
    assert.notEqual(plain.client.info.pid, first.client.info.pid);
    assert.equal(plain.client.httpsListenPort, null);
  } finally {
    delete process.env.GOVHOST_ROUTER_HTTPS_PORT;
    for (const stop of stops.reverse()) await stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
