// `govhost migration …` as people run it: one CLI process per command against the real API on
// loopback. A department imports a CSV (every error said, by line), moves an item and is told
// which states are allowed when a move is not, and lists only its own items. (The paper's
// programme, loaded by `workload load-paper`, is checked in requests-workload.test.ts.)
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../test-support/app.ts';
import { runCli } from '../test-support/server-process.ts';

let t: TestApp;
let url: string;
let dir: string;

async function ok(token: string, ...args: string[]) {
  const r = await runCli(url, token, args);
  assert.equal(r.code, 0, `govhost ${args.join(' ')}: ${r.stderr}`);
  return r;
}

describe('govhost migration', () => {
  before(async () => {
    t = await testApp();
    url = await t.listen();
    dir = await mkdtemp(join(tmpdir(), 'govhost-migration-cli-'));
  });
  after(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('moves an item, says what is allowed when a move is not, and imports a CSV with its errors', async () => {
    const dept = await t.department('MC');
    const dev = (await t.user('dept-developer', dept)).token;
    const bad = join(dir, 'bad.csv');
    await writeFile(bad, 'ref,name,source_platform,complexity\nX-1,Forms,EGIS,huge\nX-2,,EGIS,low\n');
    const refused = await runCli(url, dev, ['migration', 'import', bad]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /2 error\(s\), nothing imported/);
    assert.match(refused.stderr, /line 2 complexity: "huge" is not one of low, medium, high/);
    assert.match(refused.stderr, /line 3 name: must be 1-200 characters/);
    const good = join(dir, 'good.csv');
    await writeFile(good, 'ref,name,source_platform,complexity\nX-1,Forms,EGIS,\n');
    assert.match(
      (await ok(dev, 'migration', 'import', good)).stdout,
      new RegExp(`Imported 1 items: ${dept}/X-1`),
    );
    const unassessed = await runCli(url, dev, ['migration', 'move', 'X-1', 'assessed']);
    assert.equal(unassessed.code, 1);
    assert.match(unassessed.stderr, /complexity is required to assess an item/);
    assert.match(
      (await ok(dev, 'migration', 'set', 'X-1', '--complexity', 'low', '--contacts', 'a@x; b@x')).stdout,
      new RegExp(`${dept}/X-1 is changed \\(inventoried\\)`),
    );
    const wrong = await runCli(url, dev, ['migration', 'move', 'X-1', 'cut-over']);
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.stderr,
      /X-1 is inventoried; it cannot move to cut-over \(allowed: assessed, blocked\)/,
    );
    assert.match(
      (await ok(dev, 'migration', 'move', 'X-1', 'assessed')).stdout,
      /is assessed; next: scheduled, inventoried, blocked/,
    );
    const shown = await ok(dev, 'migration', 'show', 'X-1');
    assert.match(shown.stdout, /inventoried → assessed/);
    const mine = JSON.parse((await ok(dev, '--json', 'migration', 'items')).stdout);
    assert.deepEqual(
      mine.items.map((i: { id: string }) => i.id),
      [`${dept}/X-1`],
      'a department lists its own items only',
    );
  });
});
