// Custom domains end to end: the real server process with its runtime and router. A name a deploy's
// manifest claims is not routed until an operator approves it; a rejected or removed one stops.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { describeFailure, runCommand } from '../../src/test-support/command.ts';
import {
  BIN,
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
let baseUrl: string;
let routerUrl: string;
let admin: Api;
let cliEnv: NodeJS.ProcessEnv;

/** `govhost <args>` as an operator runs it, against this server. */
const govhost = (...args: string[]) =>
  runCommand(process.execPath, [BIN, ...args], { cwd: work, env: cliEnv, timeoutMs: 60_000 });
async function ok(...args: string[]) {
  const r = await govhost(...args);
  assert.equal(r.code, 0, describeFailure(`govhost ${args.join(' ')}`, r));
  return r.stdout;
}

const served = (host: string) =>
  untilServed(routerUrl, host, (r) => r.status === 200 && /<html/i.test(r.body));
const notServed = (host: string) => untilServed(routerUrl, host, (r) => r.status === 404);

describe('custom domains through the router', () => {
  before(async () => {
    const s = await startServer(env);
    server = s.proc;
    routerUrl = s.routerUrl as string;
    baseUrl = s.url;
    admin = apiClient(s.url, s.token as string);
    cliEnv = cleanEnv({
      GOVHOST_URL: s.url,
      GOVHOST_TOKEN: s.token as string,
      GOVHOST_CLI_CONFIG: join(work, 'credentials.json'),
    });
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

  it('keeps routing an approved name after a restart; stops routing it once removed', async () => {
    assert.equal((await admin('POST', `/domains/${CUSTOM}/approve`)).status, 200);
    await served(CUSTOM);
    // The restarted runtime reads the approved names from the store again (reconcile, and the work
    // queue's first poll): without that, its tables replace the router's copy and the name is gone.
    const api = new URL(baseUrl);
    await stopProcess(server);
    const again = await startServer({
      ...env,
      GOVHOST_PORT: api.port,
      GOVHOST_ROUTER_PORT: new URL(routerUrl).port,
    });
    server = again.proc;
    await served(CUSTOM);
    assert.equal((await viaRouter(routerUrl, SECOND)).status, 404);
    assert.equal((await admin('DELETE', `/services/${DEPT}/site/domains/${CUSTOM}`)).status, 204);
    await notServed(CUSTOM);
    assert.equal((await viaRouter(routerUrl, SECOND)).status, 404);
  });

  it('works from the CLI: add, list, approve, reject, remove; a refused name is one line', async () => {
    const name = 'cli.dom.gov.example';
    assert.match(
      await ok('domains', 'add', `${DEPT}/site`, name),
      /cli\.dom\.gov\.example is claimed for DOM\/site/,
    );
    assert.match(await ok('domains', 'list', `${DEPT}/site`), /cli\.dom\.gov\.example\s+pending/);
    assert.match(
      await ok('domains', 'list', '--state', 'pending'),
      /cli\.dom\.gov\.example\s+DOM\/site\s+pending/,
    );
    assert.match(
      await ok('domains', 'approve', name),
      /Approved cli\.dom\.gov\.example: routed to DOM\/site/,
    );
    await served(name);
    assert.match(
      await ok('domains', 'reject', name, '--reason', 'wrong name'),
      /Rejected cli\.dom\.gov\.example/,
    );
    assert.match(await ok('domains', 'list', `${DEPT}/site`), /rejected: wrong name/);
    await notServed(name);
    assert.match(
      await ok('domains', 'remove', `${DEPT}/site`, name),
      /Removed cli\.dom\.gov\.example from DOM\/site/,
    );
    const refused = await govhost('domains', 'add', `${DEPT}/site`, 'app.localhost');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /^govhost: [^\n]*app\.localhost is a loopback name[^\n]*\n$/);
  });
});
