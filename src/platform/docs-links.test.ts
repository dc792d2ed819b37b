import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const root = new URL('../../', import.meta.url).pathname;

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (name === 'node_modules' || name.startsWith('.')) return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path, ext) : ext.test(name) ? [path] : [];
  });
}

describe('the repository stands alone', () => {
  it('no doc or source file points outside the clone (../shared is not in it)', () => {
    const self = new URL(import.meta.url).pathname;
    const outside = [
      'README.md',
      ...files(join(root, 'docs'), /\.md$/),
      ...files(join(root, 'src'), /\.tsx?$/),
    ]
      .map((f) => (f.startsWith('/') ? f : join(root, f)))
      .filter((f) => f !== self && /\.\.\/shared\b/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(root, f));
    assert.deepEqual(outside, []);
  });
});
