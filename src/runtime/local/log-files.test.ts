import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readLogTail, rotateIfLarge } from './log-files.ts';
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
});
