import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Sandbox } from './sandbox.ts';

const dir = mkdtempSync(join(tmpdir(), 'govhost-sandbox-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const sandbox = (
  limits: Partial<{ memoryMb: number; timeoutSec: number; diskMb: number }>,
  lines: string[] = [],
) =>
  new Sandbox({
    name: 'test',
    scratch: dir,
    cwd: dir,
    uid: null,
    env: { PATH: '/usr/bin:/bin', ONLY: 'this' },
    limits: { memoryMb: 1024, cpus: 1, timeoutSec: 60, diskMb: 1024, ...limits },
    limiter: null,
    onLine: (l) => lines.push(l),
  });

describe('Sandbox', () => {
  it('runs a program with only the environment it is given, and streams its lines', async () => {
    const lines: string[] = [];
    await sandbox({}, lines).run('/bin/sh', ['-c', 'echo "$ONLY"; echo "${DATABASE_URL:-none}" >&2']);
    assert.deepEqual(lines.sort(), ['none', 'this']);
  });

  it('says how a failing program ended', async () => {
    await assert.rejects(sandbox({}).run('/bin/sh', ['-c', 'exit 3']), {
      why: 'failed',
      message: /exited with code 3/,
    });
  });

  it('stops a staging past its time limit, with its children', async () => {
    const started = Date.now();
    await assert.rejects(sandbox({ timeoutSec: 1 }).run('/bin/sh', ['-c', 'sleep 30 & sleep 30']), {
      why: 'time',
      message: 'staging was stopped: it passed its time limit of 1 s',
    });
    assert.ok(Date.now() - started < 10_000);
  });

  it('stops a staging past its disk limit', async () => {
    await assert.rejects(
      sandbox({ diskMb: 16 }).run('/bin/sh', ['-c', `head -c 20000000 /dev/zero > ${join(dir, 'big')}`]),
      { why: 'disk', message: 'staging was stopped: it passed its disk limit of 16 MiB' },
    );
  });
});
