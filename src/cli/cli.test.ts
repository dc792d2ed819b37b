// test-seconds: 68
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type GovhostProcess,
  cleanEnv as serverEnv,
  startServer,
  stopProcess,
} from '../test-support/server-process.ts';

// End to end: the real server in a child process, and the CLI as people run it, one process per command.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'govhost.mjs');

type Result = { code: number | null; stdout: string; stderr: string };
/** A command line: an array, or a string split at spaces when no argument holds one. */
type Args = string | string[];

// No GOVHOST_* or DATABASE_URL from the developer's shell may steer the server or the CLI; and
// the runner's `--import` of the TypeScript loader is dropped because bin/govhost.mjs registers it itself.
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !k.startsWith('GOVHOST_') && k !== 'DATABASE_URL' && k !== 'NODE_OPTIONS',
  ),
);

const work = mkdtempSync(join(tmpdir(), 'govhost-cli-test-'));
const creds = join(work, 'config', 'govhost', 'credentials.json');

function run(args: Args, opts: { env?: Record<string, string>; input?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...(typeof args === 'string' ? args.split(' ') : args)], {
      cwd: ROOT,
      env: { ...cleanEnv, GOVHOST_CLI_CONFIG: creds, ...opts.env },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin?.end(opts.input);
  });
}

/** Runs a command that must succeed, and returns what it printed. */
async function ok(args: Args, env?: Record<string, string>): Promise<string> {
  const r = await run(args, env ? { env } : {});
  assert.equal(r.code, 0, `govhost ${args} failed: ${r.stderr}`);
  return r.stdout;
}

/** A failure must be one `govhost: ...` line on stderr, with no stack trace. */
function assertOneLineError(r: Result, exitCode: number, pattern: RegExp): void {
  assert.equal(r.code, exitCode, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stderr, /^govhost: [^\n]+\n$/);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

function freePort(): Promise<number> {
  const s = createServer();
  return new Promise((resolve) =>
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    }),
  );
}

describe('govhost CLI against a running server', () => {
  let server: GovhostProcess | undefined;
  let url: string;
  let adminToken: string;
  let devToken: string;
  const asDev = () => ({ GOVHOST_URL: url, GOVHOST_TOKEN: devToken });

  before(async () => {
    const started = await startServer(
      serverEnv({
        GOVHOST_DATA_DIR: join(work, 'data'),
        GOVHOST_PORT: '0',
        GOVHOST_ROUTER_PORT: '0',
        GOVHOST_ROUTER_ADMIN_PORT: '0',
        GOVHOST_LOG_LEVEL: 'info',
      }),
    );
    server = started.proc;
    url = started.url;
    assert.ok(started.token, 'the first start prints the admin token');
    adminToken = started.token;
  });

  after(async () => {
    if (server) await stopProcess(server);
    rmSync(work, { recursive: true, force: true });
  });

  it('logs in with a token, keeps it private, and says who it is', async () => {
    assert.match(await ok(`login --url ${url} --token ${adminToken}`), /Logged in to .* as admin/);
    assert.equal(statSync(creds).mode & 0o777, 0o600);
    assert.equal(statSync(join(work, 'config', 'govhost')).mode & 0o777, 0o700);
    const me = await ok('whoami');
    assert.match(me, /^user:\s+admin$/m);
    assert.match(me, /^role:\s+platform-admin$/m);
  });

  it('creates a department, a developer in it, and a token for them', async () => {
    const dept = await ok('departments create IRD --name-en Inland-Revenue --name-zh 稅務局');
    assert.match(dept, /^code:\s+IRD$/m);
    const user = await ok('users create dev --role dept-developer --department IRD');
    assert.match(user, /^department:\s+IRD$/m);
    const created = await ok('tokens create laptop --user dev --scope write');
    assert.match(created, /will not be shown again/);
    devToken = /^secret: (ghk_\S+)$/m.exec(created)?.[1] ?? '';
    assert.ok(devToken, created);
  });

  it('registers a service and works on it by DEPT/slug and by bare slug', async () => {
    await ok(
      'services create IRD/tax-return --name-en Tax --name-zh 報稅 --origin new --channels web,mobile --sla-tier gold',
    );
    // The developer's token comes from the environment, which wins over the admin's stored login.
    assert.match(await ok('services show tax-return', asDev()), /^service:\s+IRD\/tax-return$/m);
    assert.match(
      await ok('services update tax-return --lifecycle active', asDev()),
      /^lifecycle:\s+active$/m,
    );
    const updated = JSON.parse(await ok('--json services update IRD/tax-return --personalised'));
    assert.equal(updated.lifecycle, 'active');
    assert.equal(updated.personalised, true);
    assert.deepEqual(updated.channels, ['web', 'mobile']);
  });

  it('prints lists as tables, or as the API JSON, page by page or all at once', async () => {
    const [list, allJson, page] = await Promise.all([
      ok('services list --lifecycle active'),
      ok('services list --all --json'),
      run('users list --limit 1'),
    ]);
    assert.match(list, /^SERVICE\s+NAME\s+LIFECYCLE/);
    assert.match(list, /^IRD\/tax-return\s+Tax\s+active/m);
    const all = JSON.parse(allJson);
    assert.equal(all.total, 1);
    assert.equal(all.items[0].slug, 'tax-return');
    assert.equal(page.code, 0);
    assert.equal(page.stdout.trim().split('\n').length, 2, page.stdout);
    assert.match(page.stderr, /1-1 of 2 users; see more with --offset 1, or --all/);
  });

  it('lists the audit trail, verifies its keyed chain, and checks an anchor', async () => {
    const [list, verify, anchor] = await Promise.all([
      ok('audit list --limit 3 --json'),
      ok('audit verify'),
      ok('audit anchor'),
    ]);
    const audit = JSON.parse(list);
    assert.equal(audit.items.length, 3);
    assert.equal(audit.items[0].action, 'service.update');
    assert.match(verify, /^Audit chain intact: \d+ records checked, head \d+:[0-9a-f]{64}\.$/m);
    assert.match(anchor, /^\d+:[0-9a-f]{64}\n$/);
    assert.match(
      await ok(['audit', 'verify', '--anchor', anchor.trim()]),
      /^Audit chain intact: \d+ records checked, anchor found unchanged, head /m,
    );
    const forged = anchor.trim().replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    assertOneLineError(
      await run(['audit', 'verify', '--anchor', forged]),
      1,
      /audit chain broken at seq \d+: .*rewritten/,
    );
  });

  it('signs in with a password read from standard input', async () => {
    const setPassword = await run('users update dev --password-stdin', {
      input: 'correct horse battery\n',
    });
    assert.equal(setPassword.code, 0, setPassword.stderr);
    const other = join(work, 'dev-login.json');
    const login = await run(`login --url ${url} --username dev --password-stdin`, {
      env: { GOVHOST_CLI_CONFIG: other },
      input: 'correct horse battery\n',
    });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /as dev \(dept-developer in IRD\)/);
    assert.match(await ok('whoami', { GOVHOST_CLI_CONFIG: other }), /^department:\s+IRD$/m);
  });

  it('holds up repeated wrong passwords, shows them to operators, who can unlock', async () => {
    const other = { GOVHOST_CLI_CONFIG: join(work, 'guess-login.json') };
    const guess = () =>
      run(`login --url ${url} --username dev --password-stdin`, { env: other, input: 'wrong guess\n' });
    // Side by side: all three are checked before any is counted, and all three count.
    for (const r of await Promise.all([guess(), guess(), guess()])) {
      assertOneLineError(r, 1, /\(GOVHOST_LOGIN_FAILED\)$/m);
    }
    // The 1 s delay may be over by the time a CLI process starts on a busy machine: the API
    // tests (src/tenancy/sign-in.test.ts) hold the clock-bound answers; this shows the commands.
    assert.match(await ok('sign-ins list'), /^user\s+dev\s+(delayed|counting)\s+3\s/m);
    assert.match(
      await ok('sign-ins unlock --user dev'),
      /^Unlocked user dev \(3 failed sign-ins forgotten\)\.$/m,
    );
    const login = await run(`login --url ${url} --username dev --password-stdin`, {
      env: other,
      input: 'correct horse battery\n',
    });
    assert.equal(login.code, 0, login.stderr);
  });

  it('reports what the API refuses as one line, exit 1, and no stack trace', async () => {
    const svc = '--name-en x --name-zh x --origin new --channels web --sla-tier gold'.split(' ');
    const [badSlug, badToken, notFound] = await Promise.all([
      run(['services', 'create', 'IRD/bad slug', ...svc]),
      run('whoami', { env: { GOVHOST_URL: url, GOVHOST_TOKEN: 'ghk_not-a-real-token' } }),
      run('departments show NOPE'),
    ]);
    assertOneLineError(badSlug, 1, /slug .*\(GOVHOST_VALIDATION\)$/m);
    assertOneLineError(badToken, 1, /run govhost login \(GOVHOST_TOKEN_INVALID\)$/m);
    assertOneLineError(notFound, 1, /\(GOVHOST_DEPARTMENT_NOT_FOUND\)$/m);
  });

  it('tells a usage mistake (exit 2) from a failed request', async () => {
    const [bareSlug, nothing] = await Promise.all([
      run('services show tax-return'),
      run('departments update IRD'),
    ]);
    assertOneLineError(bareSlug, 2, /admin belongs to no department: name the service as DEPT\/tax-return/);
    assertOneLineError(nothing, 2, /nothing to change/);
  });

  it('says when GovHost cannot be reached', async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const r = await run(`--url ${down} --token ghk_x services list`);
    assertOneLineError(
      r,
      1,
      new RegExp(`^govhost: cannot reach GovHost at ${down}: is the server running\\?$`, 'm'),
    );
  });

  it('refuses a secret value on the command line, and sends nothing', async () => {
    const [r, empty] = await Promise.all([
      run('env set IRD/tax-return API_KEY=hunter2 --secret'),
      run('env set IRD/tax-return API_KEY --secret', { input: '' }),
    ]);
    assertOneLineError(r, 2, /shows in ps .*not sent: .*env set SERVICE API_KEY --secret.*--from-file FILE/);
    assertOneLineError(empty, 2, /--secret read nothing from standard input/);
    assert.doesNotMatch(await ok('env list IRD/tax-return'), /API_KEY/);
  });

  it('reads a secret from standard input, and a value from a file', async () => {
    const piped = await run('env set IRD/tax-return API_KEY --secret', { input: 's3cr3t-from-stdin\n' });
    assert.equal(piped.code, 0, piped.stderr);
    const file = join(work, 'greeting.txt');
    writeFileSync(file, 'hello from a file\n');
    await ok(['env', 'set', 'IRD/tax-return', 'GREETING', '--from-file', file]);
    const listed = JSON.parse(await ok('--json env list IRD/tax-return'));
    const byKey = Object.fromEntries(listed.map((v: { key: string }) => [v.key, v]));
    assert.equal(byKey.API_KEY.secret, true);
    assert.notEqual(byKey.API_KEY.value, 's3cr3t-from-stdin');
    assert.equal(byKey.GREETING.value, 'hello from a file');
  });

  it('prints control characters escaped in its own messages too', async () => {
    // JSON.stringify (which the usage message quotes the argument with) leaves a C1 CSI raw.
    const r = await run(['services', 'show', 'a/b/\u009b2J']);
    assertOneLineError(r, 2, /is not a service reference/);
    assert.ok(r.stderr.includes(String.raw`"a/b/\x9b2J"`), r.stderr);
  });

  it('makes a read-only router token for a router following the control plane', async () => {
    const made = await ok('tokens create-router edge-1');
    assert.match(made, /^user:\s+router-edge-1$/m);
    assert.match(made, /^scope:\s+read$/m);
    assert.match(made, /GOVHOST_ROUTER_CONTROL_PLANE_TOKEN/);
    assert.match(await ok('users show router-edge-1'), /^role:\s+router$/m);
  });

  it('logs out, after which it asks to log in', async () => {
    assert.match(await ok('logout'), /Logged out of/);
    assert.throws(() => statSync(creds), { code: 'ENOENT' });
    assertOneLineError(await run('whoami'), 1, /not logged in: run govhost login/);
  });
});
