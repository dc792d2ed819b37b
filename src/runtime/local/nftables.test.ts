import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { test } from 'node:test';
import { NetworkIsolation } from './network-isolation.ts';
import {
  addServiceUid,
  applyRules,
  isolationTable,
  listRules,
  removeRules,
  removeServiceUid,
  renderRuleset,
} from './nftables.ts';

test("the rule set matches this install's service uids on loopback, new connections only", () => {
  const text = renderRuleset({
    table: 'govhost_0123abcd',
    uids: [70002, 70001, 70002],
    allowed: [
      { protocol: 'tcp', port: 8080 },
      { protocol: 'udp', port: 53 },
      { protocol: 'tcp', port: 53 },
    ],
  });
  // Replaced in one transaction: declared (so the delete cannot fail), deleted, made again.
  assert.match(
    text,
    /^table inet govhost_0123abcd\ndelete table inet govhost_0123abcd\ntable inet govhost_0123abcd \{/,
  );
  assert.match(text, /set service_uids \{ typeof meta skuid; elements = \{ 70001, 70002 \}; \}/);
  assert.match(text, /set allowed_tcp \{ typeof tcp dport; elements = \{ 53, 8080 \}; \}/);
  assert.match(text, /set allowed_udp \{ typeof udp dport; elements = \{ 53 \}; \}/);
  assert.match(text, /type filter hook output priority filter; policy accept;/);
  assert.match(text, /meta skuid @service_uids oifname "lo" ct state new jump service_loopback/);
  assert.match(
    text,
    /tcp dport @allowed_tcp accept\n\s+udp dport @allowed_udp accept\n\s+meta l4proto tcp reject with tcp reset\n\s+reject\n/,
  );
  // An empty set has no elements clause (nft refuses `elements = { }`).
  assert.match(
    renderRuleset({ table: 't', uids: [], allowed: [] }),
    /set service_uids \{ typeof meta skuid; \}/,
  );
});

test('where the rules cannot be installed, the status says why', async () => {
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    const warned: string[] = [];
    const isolation = new NetworkIsolation({
      table: 'govhost_never',
      allowed: [{ protocol: 'tcp', port: 8080 }],
      log: { info: () => undefined, warn: (_o, msg) => void warned.push(msg) },
    });
    const report = await isolation.start([70000]);
    const why =
      process.getuid?.() === 0 ? 'nft not found (install nftables)' : 'the platform is not running as root';
    assert.deepEqual(report, { enforced: false, reason: why });
    assert.deepEqual(warned, [`network isolation: not enforced (${why})`]);
    await isolation.added(70001); // nothing to add to, and no failure
  } finally {
    process.env.PATH = path;
  }
});

test('two installs get two tables', () => {
  assert.match(isolationTable('/srv/govhost-a'), /^govhost_[0-9a-f]{8}$/);
  assert.notEqual(isolationTable('/srv/govhost-a'), isolationTable('/srv/govhost-b'));
  assert.equal(isolationTable('/srv/govhost-a'), isolationTable('/srv/govhost-a/'));
});

const hasNft = (() => {
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const live =
  process.getuid?.() !== 0 ? 'needs root' : !hasNft ? 'needs nft (apt-get install nftables)' : false;

// The runner's TypeScript loader (`--import`) is not for these plain scripts (and another uid could not load it).
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS'));

/** Tries to connect to each port as `uid` (null: as this process); 'ok' or the error code. */
function connectAs(uid: number | null, ports: number[]): Promise<string[]> {
  const script = `
    const net = require('node:net');
    const ports = ${JSON.stringify(ports)};
    Promise.all(ports.map((port) => new Promise((done) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.on('connect', () => { s.destroy(); done('ok'); });
      s.on('error', (e) => done(e.code));
    }))).then((r) => process.stdout.write(JSON.stringify(r)));`;
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['-e', script],
      { cwd: '/', env, timeout: 10_000, ...(uid === null ? {} : { uid, gid: uid }) },
      (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout))),
    ),
  );
}

function listen(): Promise<net.Server> {
  return new Promise((resolve) => {
    // The client hangs up at once: a reset here is expected, not a failure.
    const server = net.createServer((s) => s.on('error', () => undefined).end('hi'));
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}
const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

test('applied: a service uid reaches only the allowed loopback port, root reaches every one', {
  skip: live,
}, async (t) => {
  const table = `govhost_t${randomBytes(4).toString('hex')}`;
  // A uid no one has: setuid needs no passwd entry, and the test touches no real user.
  const uid = 3_900_000 + Math.floor(Math.random() * 100_000);
  const other = uid + 1;
  const [router, api, instance] = await Promise.all([listen(), listen(), listen()]);
  t.after(async () => {
    await removeRules(table);
    for (const s of [router, api, instance]) s.close();
  });
  const ports = [portOf(router), portOf(api), portOf(instance)];
  assert.deepEqual(await connectAs(uid, ports), ['ok', 'ok', 'ok'], 'before the rules, nothing stops it');

  await applyRules({ table, uids: [uid], allowed: [{ protocol: 'tcp', port: portOf(router) }] });
  assert.deepEqual(await connectAs(uid, ports), ['ok', 'ECONNREFUSED', 'ECONNREFUSED']);
  assert.deepEqual(
    await connectAs(null, ports),
    ['ok', 'ok', 'ok'],
    'root (the router, the platform) is not limited',
  );

  // A user made after start joins the set; one removed leaves it.
  assert.deepEqual(await connectAs(other, ports), ['ok', 'ok', 'ok']);
  await addServiceUid(table, other);
  assert.deepEqual(await connectAs(other, ports), ['ok', 'ECONNREFUSED', 'ECONNREFUSED']);
  await removeServiceUid(table, other);
  await removeServiceUid(table, other);
  assert.deepEqual(await connectAs(other, ports), ['ok', 'ok', 'ok']);

  // Applied again (a start after a crash): replaced in place, not doubled.
  await applyRules({ table, uids: [uid], allowed: [{ protocol: 'tcp', port: portOf(router) }] });
  assert.equal((await listRules(table))?.match(/jump service_loopback/g)?.length, 1);
  assert.deepEqual(await connectAs(uid, ports), ['ok', 'ECONNREFUSED', 'ECONNREFUSED']);

  await removeRules(table);
  assert.equal(await listRules(table), null);
  await removeRules(table);
  assert.deepEqual(await connectAs(uid, ports), ['ok', 'ok', 'ok']);
});

test('applied: a service uid still answers connections made to it (the router reaches instances)', {
  skip: live,
}, async (t) => {
  const table = `govhost_t${randomBytes(4).toString('hex')}`;
  const uid = 3_900_000 + Math.floor(Math.random() * 100_000);
  t.after(() => removeRules(table));
  await applyRules({ table, uids: [uid], allowed: [] });
  // The instance: a server running as the service uid, on a port no rule allows.
  const child = execFile(
    process.execPath,
    [
      '-e',
      `require('node:net').createServer((s) => s.end('pong')).listen(0, '127.0.0.1', function () {
         process.stdout.write(String(this.address().port) + '\\n');
       });`,
    ],
    { cwd: '/', env, uid, gid: uid },
  );
  t.after(() => child.kill());
  const port = await new Promise<number>((resolve) =>
    child.stdout?.once('data', (d) => resolve(Number(String(d)))),
  );
  const answer = await new Promise<string>((resolve, reject) => {
    let got = '';
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('data', (d) => (got += d));
    s.on('end', () => resolve(got));
    s.on('error', reject);
  });
  assert.equal(answer, 'pong');
});
