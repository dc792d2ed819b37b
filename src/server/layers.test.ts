import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

// Reads the imports of the source itself: the layering rules hold as long as this test passes.
const SRC = join(import.meta.dirname, '..');
const IMPORT = /(?:^|\n)\s*(?:import|export)[^'"`;]*?from\s+'([^']+)'|import\('([^']+)'\)/g;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Capability folders each non-test file of `dir` imports, besides its own. */
function importsOf(dir: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of sources(join(SRC, dir))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? '';
      if (!spec.startsWith('.')) continue;
      const target = relative(SRC, join(file, '..', spec)).split('/')[0] as string;
      if (target === dir) continue;
      const list = out.get(relative(SRC, file)) ?? [];
      list.push(target);
      out.set(relative(SRC, file), list);
    }
  }
  return out;
}

describe('layers', () => {
  it('keeps src/platform a floor that imports no capability', () => {
    assert.deepEqual(Object.fromEntries(importsOf('platform')), {});
  });

  it('lets only the CLI import the composition root (src/server)', () => {
    const offenders: string[] = [];
    for (const dir of readdirSync(SRC, { withFileTypes: true })) {
      if (!dir.isDirectory() || ['server', 'cli', 'test-support'].includes(dir.name)) continue;
      for (const [file, targets] of importsOf(dir.name)) if (targets.includes('server')) offenders.push(file);
    }
    assert.deepEqual(offenders, []);
  });

  it('keeps build below the runtime and monitoring: they hand it what it needs', () => {
    const up = [...importsOf('build')].filter(([, targets]) =>
      targets.some((t) => ['runtime', 'monitoring', 'server', 'cli'].includes(t)),
    );
    assert.deepEqual(up, []);
  });

  it('keeps edge below the runtime and the router: the runtime imports it to build the route table', () => {
    const up = [...importsOf('edge')].filter(([, targets]) =>
      targets.some((t) => ['runtime', 'router', 'server', 'cli'].includes(t)),
    );
    assert.deepEqual(up, []);
  });
});
