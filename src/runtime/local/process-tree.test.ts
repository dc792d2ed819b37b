import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { groupMembers, isRunning, readProcStat } from './process-tree.ts';
import { tempDir } from './test-helpers.ts';

const dir = tempDir('proc');
after(() => rmSync(dir, { recursive: true, force: true }));

describe('process tree', () => {
  it('parses /proc/<pid>/stat even when the command name has spaces and parentheses', async () => {
    const odd = join(dir, 'we) ird (name');
    copyFileSync('/bin/sleep', odd);
    const child = spawn(odd, ['30'], { detached: true, stdio: 'ignore' });
    try {
      const stat = readProcStat(child.pid!);
      assert.equal(stat?.ppid, process.pid);
      assert.equal(stat?.pgid, child.pid);
      assert.ok(stat && stat.startTime > 0);
      assert.ok(isRunning(child.pid!, stat.startTime));
      assert.ok(!isRunning(child.pid!, stat.startTime + 1), 'another start time means another process');
      assert.deepEqual(groupMembers(child.pid!), [child.pid]);
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    assert.ok(!isRunning(child.pid!));
    assert.equal(readProcStat(2 ** 22 + 1), null);
  });
});
