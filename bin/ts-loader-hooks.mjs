// The module hooks behind bin/ts-loader.mjs (see there and docs/decisions/053): they turn the
// project's own .ts files into JavaScript with esbuild and leave every other module (node_modules,
// .js, .mjs, .json, node: builtins) to Node.js untouched. There is no resolve hook: the sources
// import each other by their .ts names (tsconfig's allowImportingTsExtensions), which Node.js
// resolves as it is.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// esbuild's own loading and its service process cost more than most processes transform: both
// wait for the first file the cache does not hold.
let esbuild;
// The cache sits in the install (as babel's, eslint's and others' do), not in a shared /tmp where
// another user could plant code. It holds one entry per source file of the project's own (not a
// test's script in a temporary folder), so that it cannot grow without end.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE = `${ROOT}node_modules/.cache/govhost-ts/`;
let cacheUsable = true;
try {
  mkdirSync(CACHE, { recursive: true });
} catch {
  cacheUsable = false; // a read-only install: transform every time
}
const OPTIONS = {
  loader: 'ts',
  format: 'esm',
  target: `node${process.versions.node}`,
  // Stack traces point at the .ts sources (bin/ts-loader.mjs turns source maps on).
  sourcemap: 'inline',
  // As tsconfig.json says: imports are kept as written, only `import type` goes.
  tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true, target: 'ES2022' } },
};

const sha256 = (s) => createHash('sha256').update(s).digest('hex');
// What an entry was made with: another esbuild or other options make it stale.
const MADE_WITH = `${createRequire(import.meta.url)('esbuild/package.json').version}\0${JSON.stringify(OPTIONS)}`;

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts') || url.includes('/node_modules/'))
    return nextLoad(url, context);
  const path = fileURLToPath(url);
  const source = await readFile(path, 'utf8');
  return { format: 'module', source: await transformed(path, source), shortCircuit: true };
}

/** The JavaScript for one source file: from the cache when it was made from the same source. */
async function transformed(path, source) {
  const cacheable = cacheUsable && path.startsWith(ROOT);
  const file = `${CACHE}${sha256(path)}.js`;
  const stamp = `// ${sha256(`${MADE_WITH}\0${source}`)}\n`;
  if (cacheable) {
    const entry = await readFile(file, 'utf8').catch(() => '');
    if (entry.startsWith(stamp)) return entry.slice(stamp.length);
  }
  esbuild ??= await import('esbuild');
  const { code } = await esbuild.transform(source, { ...OPTIONS, sourcefile: path });
  if (cacheable) {
    // Written whole, then renamed: a process beside this one reads either entry, never half.
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    await writeFile(tmp, stamp + code)
      .then(() => rename(tmp, file))
      .catch(() => {});
  }
  return code;
}
