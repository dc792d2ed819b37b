// test-seconds: 49
// Backup of a running platform and restore into a new data folder, end to end: real servers,
// a real service with a secret variable, the real CLI for both commands.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  BIN,
  cleanEnv,
  type GovhostProcess,
  runCli,
  startServer,
  stopProcess,
} from '../../src/test-support/server-process.ts';
import { apiClient, closeAgent, deployDir, untilServed, waitDeployment } from './runtime-helpers.ts';

const work = mkdtempSync(join(tmpdir(), 'govhost-backup-e2e-'));
const envFor = (name: string) =>
  cleanEnv({
    GOVHOST_DATA_DIR: join(work, name),
    GOVHOST_PORT: '0',
    GOVHOST_ROUTER_PORT: '0',
    GOVHOST_ROUTER_ADMIN_PORT: '0',
    GOVHOST_LOG_LEVEL: 'info',
  });
const HOST = 'echo.bkp.localhost';

/** `govhost restore FILE` on the host, as an operator runs it. */
function restore(env: NodeJS.ProcessEnv, file: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'restore', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('backup and restore', () => {
  const running: GovhostProcess[] = [];
  after(async () => {
    closeAgent();
    for (const p of running) await stopProcess(p);
    rmSync(work, { recursive: true, force: true });
  });

  it('a backup taken while serving, restored into a new folder, serves the same services with their secrets', async () => {
    // The first platform: a department, a service whose page shows a secret variable.
    const a = await startServer(envFor('a'));
    running.push(a.proc);
    const api = apiClient(a.url, a.token as string);
    assert.equal(
      (await api('POST', '/departments', { code: 'BKP', nameEn: 'Backup', nameZh: '備份' })).status,
      201,
    );
    const created = await api('POST', '/services', {
      department: 'BKP',
      slug: 'echo',
      nameEn: 'Echo',
      nameZh: '回聲',
      origin: 'new',
      channels: ['web'],
      slaTier: 'silver',
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(
      join(app, 'server.js'),
      "require('node:http').createServer((q, s) => s.end('word=' + process.env.SECRET_WORD)).listen(process.env.PORT);\n",
    );
    writeFileSync(join(app, 'manifest.yml'), 'applications:\n- name: echo\n  command: node server.js\n');
    const first = await deployDir(a.url, api, a.token as string, 'BKP/echo', app);
    assert.equal(first.deployment.state, 'succeeded', first.deployment.message);
    const env = await api('PATCH', '/services/BKP/echo/env', {
      set: { SECRET_WORD: 'swordfish' },
      secret: true,
    });
    assert.equal(env.status, 200, JSON.stringify(env.json));
    await waitDeployment(api, 'BKP/echo', env.json.deployment.id);
    await untilServed(a.routerUrl as string, HOST, (r) => r.body === 'word=swordfish');

    // The backup, through the API by the CLI, while the platform serves.
    const file = join(work, 'platform.tar.gz');
    const b = await runCli(a.url, a.token as string, ['backup', file]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /Backup written to .*platform\.tar\.gz/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    // A department user may not take one: the archive holds every department and the keys.
    const dev = { username: 'bkp-dev', displayName: 'Dev', role: 'dept-admin', department: 'BKP' };
    assert.equal((await api('POST', '/users', dev)).status, 201);
    const tok = await api('POST', '/tokens', { name: 't', user: 'bkp-dev' });
    assert.equal(tok.status, 201, JSON.stringify(tok.json));
    const refused = await runCli(a.url, tok.json.secret, ['backup', join(work, 'not-allowed.tar.gz')]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /may not platform backup/);
    assert.deepEqual(
      readdirSync(work).filter((n) => n.startsWith('.') || n.startsWith('not-allowed')),
      [],
      'a refused backup leaves no file behind',
    );
    await stopProcess(a.proc);

    // Restore into a new folder; a folder that holds a platform is refused.
    const refusedRestore = await restore(envFor('a'), file);
    assert.notEqual(refusedRestore.code, 0);
    assert.match(refusedRestore.out, /already holds a platform/);
    const r = await restore(envFor('b'), file);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /audit chain verified/);

    // The second platform serves the service, with its secret, and its audit chain verifies.
    const bSrv = await startServer(envFor('b'));
    running.push(bSrv.proc);
    assert.equal(bSrv.token, null, 'the restored platform has its admin: no new first admin');
    await untilServed(bSrv.routerUrl as string, HOST, (res) => res.body === 'word=swordfish', 60_000);
    const apiB = apiClient(bSrv.url, a.token as string);
    const verify = await apiB('POST', '/audit/verify');
    assert.equal(verify.json.ok, true, JSON.stringify(verify.json));
    const audit = await apiB('GET', '/audit?action=platform.backup');
    assert.equal(audit.json.items.length, 1, 'the backup holds the record of its own making');
    const svc = await apiB('GET', '/services/BKP/echo');
    assert.equal(svc.status, 200);
  });
});
