// test-seconds: 41
// A hosted app against its host, as a hostile department would try it: the real server as root,
// the app as its own OS user, the nftables rules applied. Needs root and nft (skips otherwise).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  cleanEnv,
  type GovhostProcess,
  launch,
  startServer,
  stopProcess,
} from '../../src/test-support/server-process.ts';
import { PROBE_MANIFEST, PROBE_SERVER } from './isolation-probe.ts';
import { type Api, apiClient, closeAgent, deployDir, viaRouter } from './runtime-helpers.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/apps/', import.meta.url));
const hasNft = (() => {
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skip =
  process.getuid?.() !== 0 ? 'needs root' : !hasNft ? 'needs nft (apt-get install nftables)' : false;

// A uid range of the test's own, far from any real user; both installs draw from the same one.
const UID_MIN = 4_210_000 + Math.floor(Math.random() * 1000) * 10;
const work = mkdtempSync(join(tmpdir(), 'govhost-isolation-e2e-'));
function envFor(name: string) {
  const env = cleanEnv({
    GOVHOST_DATA_DIR: join(work, name),
    GOVHOST_PORT: '0',
    GOVHOST_ROUTER_PORT: '0',
    GOVHOST_ROUTER_ADMIN_PORT: '0',
    GOVHOST_SERVICE_UID_MIN: String(UID_MIN),
    GOVHOST_SERVICE_UID_MAX: String(UID_MIN + 9),
  });
  // Each install's own default prefix, not the test run's: that is what is tested here (the
  // suite removes its users itself).
  delete env.GOVHOST_SERVICE_USER_PREFIX;
  return env;
}

interface Install {
  proc: GovhostProcess;
  url: string;
  routerUrl: string;
  api: Api;
  token: string;
  dataDir: string;
  env: NodeJS.ProcessEnv;
}
const installs: Install[] = [];

async function install(name: string): Promise<Install> {
  const env = envFor(name);
  const s = await startServer(env);
  const i = {
    proc: s.proc,
    url: s.url,
    routerUrl: s.routerUrl as string,
    token: s.token as string,
    api: apiClient(s.url, s.token as string),
    dataDir: env.GOVHOST_DATA_DIR as string,
    env,
  };
  installs.push(i);
  return i;
}

async function deploy(i: Install, dept: string, slug: string, dir: string) {
  if ((await i.api('GET', `/departments/${dept}`)).status === 404) {
    assert.equal(
      (await i.api('POST', '/departments', { code: dept, nameEn: dept, nameZh: dept })).status,
      201,
    );
  }
  const created = await i.api('POST', '/services', {
    department: dept,
    slug,
    nameEn: slug,
    nameZh: slug,
    origin: 'new',
    channels: ['web'],
    slaTier: 'silver',
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const { deployment } = await deployDir(i.url, i.api, i.token, `${dept}/${slug}`, dir);
  assert.equal(deployment.state, 'succeeded', deployment.message);
  return (await i.api('GET', `/services/${dept}/${slug}/status`)).json;
}

/** Every path below `dir`, as root sees them. */
function tree(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    out.push(path);
    if (lstatSync(path).isDirectory()) out.push(...tree(path));
  }
  return out;
}

interface ProbeReport {
  uid: number;
  cwd: string;
  tried: number;
  reached: { path: string; how: 'list' | 'read' | 'write' }[];
  connections: Record<string, string>;
}

/** POSTs to a service through the router, as a citizen would. */
function postViaRouter(
  routerUrl: string,
  host: string,
  body: unknown,
): Promise<{ status: number; json: ProbeReport }> {
  const u = new URL(routerUrl);
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: '/probe',
        method: 'POST',
        headers: { host, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
        timeout: 30_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () =>
          res.statusCode === 200
            ? resolve({ status: 200, json: JSON.parse(text) })
            : reject(new Error(`probe answered ${res.statusCode}: ${text.slice(0, 500)}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const osUser = (uid: number) => {
  try {
    return execFileSync('getent', ['passwd', String(uid)], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
};

describe('isolation of hosted apps on the local driver', { skip }, () => {
  let a: Install;
  before(async () => {
    a = await install('a');
  });
  after(async () => {
    closeAgent();
    for (const i of installs) {
      if (i.proc.child.exitCode !== null)
        console.error(`server ended early:\n${i.proc.out().slice(-3000)}\n${i.proc.err()}`);
      await stopProcess(i.proc);
      // Also the reset path of an install: its OS users go (and the test leaves none behind).
      const reset = launch(['admin', 'remove-service-users'], i.env);
      assert.equal((await reset.closed).code, 0, reset.err());
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('an app reads, writes and reaches nothing of the platform or of another department', async () => {
    const probeDir = join(work, 'probe-app');
    mkdirSync(probeDir);
    writeFileSync(join(probeDir, 'server.js'), PROBE_SERVER);
    writeFileSync(join(probeDir, 'manifest.yml'), PROBE_MANIFEST);
    writeFileSync(join(probeDir, 'package.json'), '{"type":"module","scripts":{"start":"node server.js"}}');
    const other = await deploy(a, 'ISOB', 'other', join(EXAMPLES, 'node-hello'));
    const probe = await deploy(a, 'ISOA', 'probe', probeDir);

    assert.equal(probe.isolation.network.enforced, true, JSON.stringify(probe.isolation));
    assert.ok(probe.runAs.uid >= UID_MIN && probe.runAs.uid <= UID_MIN + 9, JSON.stringify(probe.runAs));
    assert.notEqual(probe.runAs.uid, other.runAs.uid);
    assert.match(osUser(probe.runAs.uid) ?? '', new RegExp(`^${probe.runAs.name}:x:${probe.runAs.uid}:`));

    const dataDir = a.dataDir;
    const paths = tree(dataDir);
    const adminPort = JSON.parse(readFileSync(join(dataDir, 'router', 'router.json'), 'utf8')).adminPort;
    const ports = {
      router: Number(new URL(a.routerUrl).port),
      otherInstance: other.instances[0].port,
      api: Number(new URL(a.url).port),
      routerAdmin: adminPort,
    };
    const res = await postViaRouter(a.routerUrl, 'probe.isoa.localhost', { dataDir, paths, ports }).catch(
      async (err: Error) => {
        const st = (await a.api('GET', '/services/ISOA/probe/status')).json;
        const logs = await fetch(`${a.url}/api/v1/services/ISOA/probe/logs`, {
          headers: { authorization: `Bearer ${a.token}` },
        }).then((r) => r.text());
        throw new Error(
          `${err.message}\ninstances: ${JSON.stringify(st.instances)}\nlogs: ${logs.slice(-2000)}`,
        );
      },
    );
    assert.equal(res.status, 200);
    const report = res.json;
    assert.equal(report.uid, probe.runAs.uid, 'the app runs as its own user');
    assert.ok(
      report.tried > 500,
      `the whole data folder was tried (${report.tried} paths, the store among them)`,
    );

    // Its own working copy is the only thing it can reach.
    const own = dirname(report.cwd);
    const outside = report.reached.filter((r) => r.path !== own && !r.path.startsWith(own + sep));
    assert.deepEqual(outside, [], 'reached outside its own working copy');
    assert.ok(
      report.reached.some((r) => r.path === join(report.cwd, 'server.js') && r.how === 'write'),
      'the probe does reach its own files (so a miss elsewhere means a refusal)',
    );
    const apps = dirname(own);
    assert.equal(statSync(apps).mode & 0o777, 0o711);
    assert.equal(statSync(own).mode & 0o777, 0o700);
    assert.equal(statSync(own).uid, probe.runAs.uid);
    assert.equal(statSync(join(dataDir, 'pgdata')).mode & 0o777, 0o700);

    assert.deepEqual(report.connections, {
      router: 'ok',
      otherInstance: 'ECONNREFUSED',
      api: 'ECONNREFUSED',
      routerAdmin: 'ECONNREFUSED',
    });
    // The router (root) still reaches every instance.
    assert.equal((await viaRouter(a.routerUrl, 'other.isob.localhost')).status, 200);
    assert.equal((await viaRouter(a.routerUrl, 'probe.isoa.localhost', '/healthz')).status, 200);
  });

  it('a retired service loses its working copy and its OS user', async () => {
    const st = (await a.api('GET', '/services/ISOB/other/status')).json;
    const copy = join(a.dataDir, 'apps', (await a.api('GET', '/services/ISOB/other')).json.id);
    assert.equal(statSync(copy).uid, st.runAs.uid);
    const res = await a.api('PATCH', '/services/ISOB/other', { lifecycle: 'retired' });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    // The runtime follows the lifecycle change after answering: a bounded wait for it.
    for (const deadline = Date.now() + 15_000; osUser(st.runAs.uid) !== null && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(osUser(st.runAs.uid), null, 'userdel');
    assert.throws(() => statSync(copy), /ENOENT/);
    assert.equal((await a.api('GET', '/services/ISOB/other/status')).json.runAs, null);
  });

  it('two installs on one host get disjoint OS users, each marked as its own', async () => {
    const b = await install('b');
    const mine = (await a.api('GET', '/services/ISOA/probe/status')).json.runAs;
    const theirs = (await deploy(b, 'ISOA', 'probe', join(EXAMPLES, 'node-hello'))).runAs;
    assert.ok(theirs.uid >= UID_MIN && theirs.uid <= UID_MIN + 9);
    assert.notEqual(theirs.uid, mine.uid);
    const [prefixA, prefixB] = [mine.name, theirs.name].map((n: string) => n.replace(/\d+$/, ''));
    assert.notEqual(prefixA, prefixB, 'each install names its users with its own prefix');
    const [entryA, entryB] = [osUser(mine.uid), osUser(theirs.uid)];
    const owner = (entry: string | null) => entry?.split(':')[4];
    assert.match(owner(entryA) ?? '', /^GovHost [0-9a-f]{12}$/);
    assert.notEqual(owner(entryA), owner(entryB));
    assert.equal(entryB?.split(':')[6], '/usr/sbin/nologin');
    // Each install's rules cover only its own users: b's service is served through b's router.
    assert.equal((await viaRouter(b.routerUrl, 'probe.isoa.localhost')).status, 200);
  });
});

// Kept apart from the suite's end: what the reset left behind is checked once everything ran.
after(() => {
  if (skip) return;
  const left = execFileSync('getent', ['passwd'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => {
      const uid = Number(l.split(':')[2]);
      return uid >= UID_MIN && uid <= UID_MIN + 9;
    });
  assert.deepEqual(left, [], '`govhost admin remove-service-users` removed every service user');
});
