import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import semver from 'semver';

const root = new URL('../../', import.meta.url);

describe('engines', () => {
  it('every installed package runs on the oldest Node the project claims (no EBADENGINE at npm ci)', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
      engines: { node: string };
    };
    const oldest = semver.minVersion(pkg.engines.node)?.version as string;
    const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
      packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean }>;
    };
    const refused = Object.entries(lock.packages)
      // An optional package that does not fit is skipped by npm without a warning.
      .filter(([path, p]) => path !== '' && p.optional !== true)
      .filter(([, p]) => {
        const range = !Array.isArray(p.engines) ? p.engines?.node : undefined;
        return range !== undefined && !semver.satisfies(oldest, range);
      })
      .map(
        ([path, p]) =>
          `${path.replace(/^.*node_modules\//, '')} wants node ${(p.engines as { node: string }).node}`,
      );
    assert.deepEqual(
      refused,
      [],
      `Node ${oldest} (package.json engines) is refused by: ${refused.join('; ')}`,
    );
  });
});
