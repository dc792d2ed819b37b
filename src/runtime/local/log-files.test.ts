import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pruneLogs, readLogTail, rotateIfLarge } from './log-files.ts';
import { tempDir } from './test-helpers.ts';

const dir = tempDir('logfiles');
after(() => rmSync(dir, { recursive: true, force: true }));

const lines = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i} ${'é'.repeat((from + i) % 7)}`);

describe('log files', () => {
  it('reads the last lines across .1 and the current file, oldest first', async () => {
    const path = join(dir, 'a.log');
    writeFileSync(`${path}.1`, `${lines(1, 10).join('\n')}\n`);
    writeFileSync(path, `${lines(11, 13).join('\n')}\n`);
    assert.deepEqual(await readLogTail(path, 2), lines(12, 13));
    assert.deepEqual(await readLogTail(path, 5), lines(9, 13));
    assert.deepEqual(await readLogTail(path), lines(1, 13));
    assert.deepEqual(await readLogTail(path, 0), []);
    assert.deepEqual(await readLogTail(join(dir, 'missing.log'), 5), []);
  });

  it('reads a tail from far into a large file, whole lines and whole characters', async () => {
    const path = join(dir, 'b.log');
    const all = lines(1, 20_000); // about 300 KB: several 64 KiB blocks read backwards
    writeFileSync(path, `${all.join('\n')}\n`);
    assert.deepEqual(await readLogTail(path, 7000), all.slice(-7000));
    writeFileSync(path, `${all.join('\n')}\npartial`);
    assert.deepEqual(await readLogTail(path, 2), [all.at(-1), 'partial']);
  });

  it('rotates by copy and truncate once past the limit', async () => {
    const path = join(dir, 'c.log');
    writeFileSync(path, 'small\n');
    assert.equal(await rotateIfLarge(path, 100), false);
    writeFileSync(path, 'x'.repeat(150));
    assert.equal(await rotateIfLarge(path, 100), true);
    assert.equal(readFileSync(path, 'utf8'), '');
    assert.equal(readFileSync(`${path}.1`, 'utf8'), 'x'.repeat(150));
    assert.equal(await rotateIfLarge(join(dir, 'none.log'), 100), false);
  });

  it('prunes old logs of stopped instances, never those of live ones or recent ones', async () => {
    const logs = join(dir, 'prune');
    mkdirSync(logs);
    const DAY = 86_400_000;
    const now = Date.now();
    const file = (name: string, ageDays: number) => {
      const path = join(logs, name);
      writeFileSync(path, 'x\n');
      const t = new Date(now - ageDays * DAY);
      utimesSync(path, t, t);
      return path;
    };
    const oldStopped = [file('old-stopped.log', 10), file('old-stopped.log.1', 12)];
    const recentStopped = file('recent-stopped.log', 2);
    const oldLive = file('live.log', 30);
    const other = file('notes.txt', 30);
    const pruned = await pruneLogs(logs, new Set(['live']), 7 * DAY, now);
    assert.deepEqual(pruned, ['old-stopped']);
    for (const p of oldStopped) assert.equal(existsSync(p), false, p);
    for (const p of [recentStopped, oldLive, other]) assert.equal(existsSync(p), true, p);
    assert.deepEqual(await pruneLogs(join(dir, 'no-such-folder'), new Set(), DAY), []);
  });
});
