// test-seconds: 72
// The CLI's runtime commands end to end: the real server, router and service processes, and the
// real `govhost` CLI, one child process per command, as people run it. One platform for the file.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { apiClient, closeAgent, untilServed, viaRouter } from '../../test/e2e/runtime-helpers.ts';
import {
  cleanEnv,
  type GovhostProcess,
  launch,
  startServer,
  stopProcess,
} from '../test-support/server-process.ts';

const HELLO = fileURLToPath(new URL('../../examples/apps/node-hello', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'govhost-cli-deploy-'));
const cliEnv = cleanEnv({ GOVHOST_CLI_CONFIG: join(work, 'cli', 'credentials.json') });
const SVC = 'DPL/hello';
const HOST = 'hello.dpl.localhost';

type Result = { code: number | null; stdout: string; stderr: string };

/** Runs `govhost <args>` to its end. */
async function run(...args: string[]): Promise<Result> {
  const p = launch(args, cliEnv);
  const { code } = await p.closed;
  return { code, stdout: p.out(), stderr: p.err() };
}

/** Runs a command that must succeed; returns the whole result. */
async function ok(...args: string[]): Promise<Result> {
  const r = await run(...args);
  assert.equal(r.code, 0, `govhost ${args.join(' ')} failed:\n${r.stderr}`);
  return r;
}

/** A failure ends in exactly one `govhost: ...` line, after any progress, with no stack trace. */
function assertFailure(r: Result, exitCode: number, pattern: RegExp): void {
  assert.equal(r.code, exitCode, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('govhost: '));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(r.stderr, /govhost: [^\n]+\n$/);
  assert.match(errors[0] ?? '', pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

/** A copy of node-hello in a temp folder, changed by `edit`. */
function helloCopy(edit: (dir: string) => void): string {
  const dir = mkdtempSync(join(work, 'app-'));
  cpSync(HELLO, dir, { recursive: true });
  edit(dir);
  return dir;
}

// node-hello with a page that lists the app's own files and its environment, and logs each request.
const LISTER = `import { readdirSync } from 'node:fs';
import { createServer } from 'node:http';
const port = process.env.PORT;
createServer((req, res) => {
  // Decoded, as many apps log paths: a request can put any control character in the log.
  if (req.url !== '/healthz') console.log(\`lister served \${decodeURIComponent(req.url)}\`);
  const { GREETING = null, API_KEY } = process.env;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ files: readdirSync('.').sort(), greeting: GREETING, apiKey: API_KEY ? 'set' : 'unset' }));
}).listen(port, () => console.log(\`lister listening on port \${port}\`));
`;

type Page = { files: string[]; greeting: string | null; apiKey: string };
const page = async () => JSON.parse((await viaRouter(routerUrl, HOST)).body) as Page;

let server: GovhostProcess | undefined;
let routerUrl: string;

describe('govhost deploy, env, scale, rollback, status and logs', () => {
  before(async () => {
    const env = cleanEnv({
      GOVHOST_DATA_DIR: join(work, 'data'),
      GOVHOST_PORT: '0',
      GOVHOST_ROUTER_PORT: '0',
      GOVHOST_ROUTER_ADMIN_PORT: '0',
      GOVHOST_LOG_LEVEL: 'info',
    });
    // startServer, not a bare launch: it seeds the data folder from the run's migrated PGlite
    // template, where a bare first start spends seconds of CPU in initdb that this suite is not about.
    const started = await startServer(env);
    server = started.proc;
    const [url, token] = [started.url, started.token as string];
    routerUrl = started.routerUrl as string;
    const api = apiClient(url, token);
    assert.equal(
      (await api('POST', '/departments', { code: 'DPL', nameEn: 'Deploy', nameZh: '部署' })).status,
      201,
    );
    const svc = {
      department: 'DPL',
      slug: 'hello',
      nameEn: 'Hello',
      nameZh: '你好',
      origin: 'new',
      channels: ['web'],
      slaTier: 'silver',
    };
    assert.equal((await api('POST', '/services', svc)).status, 201);
    await ok('login', '--url', url, '--token', token);
  });

  after(async () => {
    closeAgent();
    if (server) await stopProcess(server);
    rmSync(work, { recursive: true, force: true });
  });

  it('deploys a folder, prints the upload once and the rollout, and the service answers', async () => {
    const r = await ok('deploy', HELLO, '--service', SVC);
    assert.equal(r.stdout, `${SVC} v1 is live\n`);
    assert.match(r.stderr, /^packed \d+ files from .*node-hello \(\d+ bytes\)$/m);
    // Not a terminal: the progress bar is one line at the end, never redrawn.
    assert.deepEqual(
      r.stderr.split('\n').filter((l) => l.startsWith('uploading')),
      [`uploading to ${SVC}: 0.0 MiB sent`],
    );
    assert.doesNotMatch(r.stderr, /\r/);
    assert.match(r.stderr, /^release v1 of DPL\/hello; builder node: nothing to install$/m);
    assert.match(r.stderr, /^ {2}v1 is live$/m);
    const res = await viaRouter(routerUrl, HOST);
    assert.equal(res.status, 200, res.body);
    assert.match(res.body, /Hello from GovHost/);
  });

  it('leaves out what .govhostignore lists, and --json prints the API answer', async () => {
    const dir = helloCopy((d) => {
      writeFileSync(join(d, 'server.js'), LISTER);
      writeFileSync(join(d, 'secret.txt'), 'do not ship\n');
      writeFileSync(join(d, '.govhostignore'), 'secret.txt\n');
    });
    const r = await ok('--json', 'deploy', dir, '--service', SVC);
    const out = JSON.parse(r.stdout);
    assert.equal(out.release.version, 2);
    assert.equal(out.deployment.state, 'succeeded');
    assert.deepEqual(out.warnings, []);
    const { files } = await page();
    assert.ok(files.includes('server.js') && files.includes('manifest.yml'), files.join());
    assert.ok(!files.includes('secret.txt') && !files.includes('.govhostignore'), files.join());
  });

  it('shows the status and the release history', async () => {
    const [status, releases] = await Promise.all([ok('status', SVC), ok('releases', SVC)]);
    assert.match(status.stdout, /^release:\s+v2 \(process, live\)$/m);
    assert.match(status.stdout, /^desired:\s+1 x 128M$/m);
    const rows = status.stdout.split('\n').filter((l) => /\s(healthy|starting|unhealthy|crashed)\s/.test(l));
    assert.equal(rows.length, 1, status.stdout);
    assert.match(rows[0] ?? '', /^\S+\s+healthy\s+yes\s+v2\s+\d+\s+\d+\s+0\s/);
    assert.match(releases.stdout, /^VERSION\s+STATUS\s+KIND\s+DESCRIPTION/);
    assert.match(releases.stdout, /^v2\s+live\s+process\s+deploy of bundle [0-9a-f]{12}\s+admin\s/m);
    assert.match(releases.stdout, /^v1\s+superseded\s+process\s+deploy of bundle [0-9a-f]{12}\s+admin\s/m);
  });

  it('sets variables and secrets in new releases, and never shows a secret', async () => {
    const plain = await ok('env', 'set', SVC, 'GREETING=hello');
    assert.match(plain.stderr, /^rolling out a new release of DPL\/hello with the new environment$/m);
    assert.match(plain.stdout, /^DPL\/hello: 1 variable\(s\) set$/m);
    // Never on the command line, where `ps` shows it: from a file (or standard input).
    const keyFile = join(work, 'api-key.txt');
    writeFileSync(keyFile, 's3cr3t\n', { mode: 0o600 });
    const secret = await ok('env', 'set', SVC, 'API_KEY', '--secret', '--from-file', keyFile);
    assert.match(secret.stderr, /v4 is live/);
    assert.doesNotMatch(secret.stdout + secret.stderr, /s3cr3t/);
    assert.deepEqual(await page().then((p) => [p.greeting, p.apiKey]), ['hello', 'set']);
    const [list, json] = await Promise.all([ok('env', 'list', SVC), ok('--json', 'env', 'list', SVC)]);
    assert.match(list.stdout, /^GREETING\s+hello\s*$/m);
    assert.match(list.stdout, /^API_KEY\s+\S+\s+yes$/m);
    assert.doesNotMatch(list.stdout, /s3cr3t/);
    assert.doesNotMatch(json.stdout, /s3cr3t/);
    const vars = JSON.parse(json.stdout) as { key: string; value: string; secret: boolean }[];
    assert.deepEqual(
      vars.find((v) => v.key === 'GREETING'),
      { key: 'GREETING', value: 'hello', secret: false },
    );
    assert.equal(vars.find((v) => v.key === 'API_KEY')?.secret, true);
  });

  it('follows the logs as the app writes them, and stops promptly on Ctrl-C', async () => {
    const logs = launch(['logs', SVC, '--follow', '--tail', '5'], cliEnv);
    try {
      // The tail arrives first: the stream is open.
      await logs.waitFor(
        (o) => /^\[[^\]]+\] lister listening on port \d+$/m.exec(o),
        'start-up line',
        15_000,
      );
      const path = `/follow-${Date.now()}`;
      const line = new RegExp(`^\\[[^\\]]+\\] lister served ${path}$`, 'm');
      // Bounded: ask again until the app's line about this very request comes through the stream.
      let seen = false;
      for (const deadline = Date.now() + 15_000; !seen && Date.now() < deadline; ) {
        assert.equal((await viaRouter(routerUrl, HOST, path)).status, 200);
        seen = await logs
          .waitFor((o) => line.test(o) || null, 'request line', 1000)
          .then(
            () => true,
            () => false,
          );
      }
      assert.ok(seen, `no log line for ${path}:\n${logs.out()}\n${logs.err()}`);
      // Escape codes in a log line arrive escaped; its tab stays a tab.
      assert.equal((await viaRouter(routerUrl, HOST, '/esc%1B%5B2J%09tab')).status, 200);
      await logs.waitFor(
        (o) => o.includes('lister served /esc\\x1b[2J\ttab') || null,
        'escaped line',
        15_000,
      );
      assert.doesNotMatch(logs.out(), /[^\P{Cc}\n\t]/u);
      // An instance started after the stream opened joins it: scale to two, see the new one start.
      const started = (o: string) =>
        [...o.matchAll(/^\[([^\]]+)\] lister listening on port \d+$/gm)].map((m) => m[1]);
      const before = new Set(started(logs.out()));
      await ok('scale', SVC, '--instances', '2');
      await logs.waitFor(
        (o) => started(o).find((id) => !before.has(id)) ?? null,
        'the start-up line of the instance added while following',
        20_000,
      );
      await ok('scale', SVC, '--instances', '1');
      logs.child.kill('SIGINT');
      const ended = await Promise.race([
        logs.closed,
        new Promise((r) => setTimeout(r, 5000, 'still running')),
      ]);
      assert.deepEqual(
        ended,
        { code: 0, signal: null },
        `after SIGINT: ${JSON.stringify(ended)}\n${logs.err()}`,
      );
      assert.equal(logs.err(), '');
    } finally {
      await stopProcess(logs, 'SIGKILL', 0);
    }
  });

  it('rolls back code and configuration, to the previous release or to a given one', async () => {
    const back = await ok('rollback', SVC);
    assert.match(back.stderr, /^rolling DPL\/hello back: rollback to v3 as v5$/m);
    assert.equal(back.stdout, `${SVC} v5 is live\n`);
    // v3 had GREETING but no API_KEY yet: the environment goes back with the code.
    assert.deepEqual(await page().then((p) => [p.greeting, p.apiKey]), ['hello', 'unset']);
    assert.equal((await ok('rollback', SVC, '--to', '1')).stdout, `${SVC} v6 is live\n`);
    assert.match((await viaRouter(routerUrl, HOST)).body, /Hello from GovHost/);
    const releases = (await ok('releases', SVC)).stdout;
    assert.match(releases, /^v6\s+live\s+process\s+rollback to v1\s/m);
    assert.match(releases, /^v5\s+superseded\s+process\s+rollback to v3\s/m);
    assert.match(releases, /^v4\s+superseded\s+process\s+environment change: API_KEY\s/m);
  });

  it('prints the last lines of each instance, prefixed with the instance', async () => {
    const r = await ok('logs', SVC, '--tail', '20');
    assert.match(r.stdout, /^\[[^\]]+\] node-hello listening on port \d+, pid \d+$/m);
    for (const line of r.stdout.trimEnd().split('\n')) assert.match(line, /^\[[^\]]+\] /);
  });

  it('scales the number of instances and their memory, and refuses what makes no sense', async () => {
    assert.match((await ok('scale', SVC, '--instances', '2')).stdout, /^DPL\/hello: 2 instance\(s\) of v6$/m);
    const healthy = (s: string) => s.split('\n').filter((l) => /^\S+\s+healthy\s+yes\s+v6\s/.test(l)).length;
    assert.equal(healthy((await ok('status', SVC)).stdout), 2);
    await ok('scale', SVC, '--memory', '64M');
    const status = (await ok('status', SVC)).stdout;
    assert.match(status, /^desired:\s+2 x 64M$/m);
    assert.equal(healthy(status), 2, status);
    const [none, lots] = await Promise.all([run('scale', SVC), run('scale', SVC, '--memory', 'lots')]);
    assertFailure(none, 2, /^govhost: give --instances and\/or --memory$/);
    assertFailure(lots, 2, /^govhost: --memory must look like 256M or 1G, got "lots"$/);
    assert.equal(none.stdout + lots.stdout, '');
  });

  it('fails a deploy that cannot start or never becomes healthy, and the old release keeps serving', async () => {
    const empty = mkdtempSync(join(work, 'empty-'));
    writeFileSync(join(empty, 'README.txt'), 'nothing to run\n');
    const broken = helloCopy((d) =>
      writeFileSync(
        join(d, 'manifest.yml'),
        'applications:\n- name: broken\n  command: node server.js\n  health-check-type: http\n  health-check-http-endpoint: /nope\n  timeout: 3\n',
      ),
    );
    const [nothing, unhealthy] = await Promise.all([
      run('deploy', empty, '--service', SVC),
      run('deploy', broken, '--service', SVC),
    ]);
    assertFailure(nothing, 1, /^govhost: .*no way to start this app/);
    assertFailure(
      unhealthy,
      1,
      /^govhost: v\d+ did not become healthy: .*The previous release is still serving\.$/,
    );
    assert.equal(nothing.stdout + unhealthy.stdout, '');
    await untilServed(
      routerUrl,
      HOST,
      (res) => res.status === 200 && /Hello from GovHost/.test(res.body),
      2000,
    );
    const [releases, status] = await Promise.all([ok('releases', SVC), ok('status', SVC)]);
    const rows = releases.stdout.split('\n');
    assert.match(
      rows[1] ?? '',
      /^v7\s+failed\s+process\s+deploy of bundle .* was not healthy within 3 s \(last check: GET \/nope answered 404\)$/,
    );
    assert.match(rows[2] ?? '', /^v6\s+live\s/);
    assert.match(
      status.stdout,
      /^last change:\s+deploy failed: v7 did not become healthy: .*answered 404\)\. The previous release is still serving\.$/m,
    );
    assert.match(status.stdout, /^limits:/m, 'the record stays one line a field');
    // As root (how tests run here and in CI) the service has its own user and loopback rules.
    if (process.getuid?.() === 0) {
      assert.match(status.stdout, /^runs as:\s+\S+-\d+ \(uid \d+\)$/m);
      assert.match(
        status.stdout,
        /^network isolation:\s+(enforced \(nftables\)|not enforced \(nft not found \(install nftables\)\))$/m,
      );
    }
  });

  it('keeps the size it was scaled to when a deploy fails', async () => {
    // The broken manifest asks for the default 1 x 256M; v6 still runs as scaled, 2 x 64M.
    assert.match((await ok('status', SVC)).stdout, /^desired:\s+2 x 64M$/m);
  });
});
