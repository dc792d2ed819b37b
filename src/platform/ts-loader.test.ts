/** The loader every process from the sources runs with (bin/ts-loader.mjs, decision 053). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// An install of its own in a temporary folder (the loader, esbuild and semver linked in), so that
// the cache it keeps under node_modules/.cache is this test's.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'govhost-ts-loader-'));
after(() => rmSync(dir, { recursive: true, force: true }));
for (const sub of ['bin', 'src', 'node_modules']) mkdirSync(join(dir, sub));
for (const file of ['bin/ts-loader.mjs', 'bin/ts-loader-hooks.mjs'])
  copyFileSync(join(ROOT, file), join(dir, file));
for (const pkg of ['esbuild', 'semver'])
  symlinkSync(join(ROOT, 'node_modules', pkg), join(dir, 'node_modules', pkg));
const cacheEntries = () => readdirSync(join(dir, 'node_modules/.cache/govhost-ts'));

/** Runs `node --import bin/ts-loader.mjs file` (without the test runner's NODE_OPTIONS). */
function run(file: string) {
  return spawnSync(process.execPath, ['--import', join(dir, 'bin/ts-loader.mjs'), file], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
    timeout: 30_000,
  });
}

describe('the TypeScript loader', () => {
  it('runs a .ts file that imports .ts, a package and JSON; a trace names the source line', () => {
    writeFileSync(join(dir, 'src/data.json'), '{ "n": 2 }');
    writeFileSync(
      join(dir, 'src/lib.ts'),
      'export enum Kind {\n  A = 1,\n}\nexport function fail(why: string): never {\n  throw new Error(why);\n}\n',
    );
    const main = join(dir, 'src/main.ts');
    writeFileSync(
      main,
      [
        "import type { Server } from 'node:http';",
        "import semver from 'semver';",
        "import data from './data.json' with { type: 'json' };",
        "import { fail, Kind } from './lib.ts';",
        'const none: Server | null = null;',
        "console.log(Kind.A + data.n, semver.valid('1.2.3'), none);",
        "fail('on purpose');",
      ].join('\n'),
    );
    const r = run(main);
    assert.equal(r.stdout, '3 1.2.3 null\n');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Error: on purpose/);
    // The line and column of `throw` in lib.ts and of the call in main.ts, not of esbuild's output.
    assert.match(r.stderr, /at fail \(.*\/lib\.ts:5:9\)/);
    assert.match(r.stderr, /main\.ts:7:1/);
  });

  it('keeps one cache entry per source, and runs a source as it is now after an edit', () => {
    const file = join(dir, 'src/edited.ts');
    writeFileSync(file, "const word: string = 'before';\nconsole.log(word);\n");
    const before = cacheEntries().length;
    assert.equal(run(file).stdout, 'before\n');
    assert.equal(cacheEntries().length, before + 1);
    assert.equal(run(file).stdout, 'before\n');
    writeFileSync(file, "const word: string = 'after';\nconsole.log(word);\n");
    assert.equal(run(file).stdout, 'after\n');
    assert.equal(cacheEntries().length, before + 1);
  });
});
