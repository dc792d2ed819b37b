import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let own: Promise<string> | null = null;

/**
 * A folder for what tests may share for the rest of the test run (a registry's seeded storage, a
 * built wheel): scripts/test.mjs sets GOVHOST_TEST_WORK_DIR and removes it at the end; a file run
 * on its own gets a folder of its process, removed when it exits.
 */
export function testRunDir(): Promise<string> {
  const run = process.env.GOVHOST_TEST_WORK_DIR;
  if (run) return Promise.resolve(run);
  own ??= mkdtemp(join(tmpdir(), 'govhost-test-run-')).then((dir) => {
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  });
  return own;
}
