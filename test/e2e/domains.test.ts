// Custom domains end to end: the real server process with its runtime and router. A name a deploy's
// manifest claims is not routed until an operator approves it; a rejected or removed one stops.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  cleanEnv,
  type GovhostProcess,
  startServer,
  stopProcess,
} from '../../src/test-support/server-process.ts';
import {
  type Api,
  apiClient,
  closeAgent,
  createService,
  deployDir,
  untilServed,
  viaRouter,
} from './runtime-helpers.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/apps/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'govhost-domains-e2e-'));
const env = cleanEnv({
  GOVHOST_DATA_DIR: join(work, 'data'),
  GOVHOST_PORT: '0',
  GOVHOST_ROUTER_PORT: '0',
  GOVHOST_ROUTER_ADMIN_PORT: '0',
});
const DEPT = 'DOM';
const PLATFORM_HOST = `site.${DEPT.toLowerCase()}.localhost`;
const CUSTOM = 'site.dom.gov.example';
const SECOND = 'www.dom.gov.example';

let server: GovhostProcess;
let routerUrl: string;
let admin: Api;

const served = (host: string) =>
  untilServed(routerUrl, host, (r) => r.status === 200 && /<html/i.test(r.body));
const notServed = (host: string) => untilServed(routerUrl, host, (r) => r.status === 404);

describe('custom domains through the router', () => {
  before(async () => {
    const s = await startServer(env);
    server = s.proc;
    routerUrl = s.routerUrl as string;
    admin = apiClient(s.url, s.token as string);
    assert.equal(
      (await admin('POST', '/departments', { code: DEPT, nameEn: 'Domains', nameZh: '域名' })).status,
      201,
    );
    await createService(admin, DEPT, 'site');
    // The static example with a manifest that asks for a custom host name.
    const dir = mkdtempSync(join(work, 'site-'));
    cpSync(join(EXAMPLES, 'static-site'), dir, { recursive: true });
    writeFileSync(
      join(dir, 'manifest.yml'),
      `applications:\n- name: site\n  routes:\n  - route: ${CUSTOM}\n`,
    );
    const { upload, deployment } = await deployDir(s.url, admin, s.token as string, `${DEPT}/site`, dir);
    assert.equal(deployment.state, 'succeeded', JSON.stringify(deployment));
    assert.ok(
      upload.warnings.includes(
        `routes: ${CUSTOM} is claimed for this service; it is routed once an operator approves it`,
      ),
      JSON.stringify(upload.warnings),
    );
    await served(PLATFORM_HOST);
  });
  after(async () => {
    closeAgent();
    if (server) await stopProcess(server);
    rmSync(work, { recursive: true, force: true });
  });

  it('does not route a pending name; routes it once approved, beside the platform name', async () => {
    const claims = await admin('GET', `/services/${DEPT}/site/domains`);
    assert.deepEqual(
      claims.json.map((d: { hostname: string; state: string; source: string }) => [
        d.hostname,
        d.state,
        d.source,
      ]),
      [[CUSTOM, 'pending', 'manifest']],
    );
    assert.equal((await viaRouter(routerUrl, CUSTOM)).status, 404);
    assert.equal((await admin('POST', `/domains/${CUSTOM}/approve`)).status, 200);
    const page = await served(CUSTOM);
    assert.equal(page.body, (await viaRouter(routerUrl, PLATFORM_HOST)).body);
  });

  it('never routes a rejected name, and stops routing one rejected after approval', async () => {
    assert.equal((await admin('POST', `/services/${DEPT}/site/domains`, { hostname: SECOND })).status, 201);
    assert.equal((await admin('POST', `/domains/${SECOND}/reject`, { reason: 'not ours' })).status, 200);
    assert.equal((await viaRouter(routerUrl, SECOND)).status, 404);
    await served(CUSTOM);
    assert.equal((await admin('POST', `/domains/${CUSTOM}/reject`, { reason: 'moved' })).status, 200);
    await notServed(CUSTOM);
    await served(PLATFORM_HOST);
  });

  it('stops routing a removed name', async () => {
    assert.equal((await admin('POST', `/domains/${CUSTOM}/approve`)).status, 200);
    await served(CUSTOM);
    assert.equal((await admin('DELETE', `/services/${DEPT}/site/domains/${CUSTOM}`)).status, 204);
    await notServed(CUSTOM);
    assert.equal((await viaRouter(routerUrl, SECOND)).status, 404);
  });
});
