import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tailLog } from './logs.ts';

describe('tailLog', () => {
  const dir = mkdtempSync(join(tmpdir(), 'govhost-logs-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the last n lines, across the rotated part, and none for 0', async () => {
    const path = join(dir, 'i.log');
    writeFileSync(`${path}.1`, 'one\ntwo\n');
    writeFileSync(path, 'three\nfour\n');
    assert.deepEqual(await tailLog(path, 1), ['four']);
    assert.deepEqual(await tailLog(path, 3), ['two', 'three', 'four']);
    assert.deepEqual(await tailLog(path, 0), []);
  });
});
