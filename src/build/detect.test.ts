import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BundleFiles } from './bundle-files.ts';
import { decisiveLines } from './decisive.ts';
import { detectBuilder } from './detect.ts';

const settings = { npmRegistry: null, pipIndexUrl: null, python: '/usr/bin/python3' };

function files(map: Record<string, string>): BundleFiles {
  return { names: new Set(Object.keys(map)), text: (n) => map[n] ?? null };
}

const detect = (
  map: Record<string, string>,
  more: { buildpacks?: string[]; kind?: 'process' | 'static'; command?: string | null } = {},
) =>
  detectBuilder(
    {
      files: files(map),
      buildpacks: more.buildpacks ?? [],
      kind: more.kind ?? 'process',
      command: more.command ?? 'run',
    },
    settings,
  );

describe('detectBuilder', () => {
  it('picks Node from package.json and says what it will run', async () => {
    const pkg = { dependencies: { express: '^4' }, scripts: { build: 'tsc' } };
    const d = await detect({ 'package.json': JSON.stringify(pkg), 'package-lock.json': '{}' });
    assert.equal(d.description, 'node: npm ci, npm run build, npm prune --omit=dev');
    const bare = await detect({ 'package.json': '{"scripts":{"start":"node s.js"}}' });
    assert.equal(bare.description, 'node: nothing to install');
  });

  it('checks engines.node: a warning for an older major, a refusal for a newer one', async () => {
    const older = await detect({ 'package.json': '{"engines":{"node":"16.x"}}' });
    assert.match(older.warnings[0]!, /asks for Node 16\.x; the app will run on Node 20/);
    await assert.rejects(detect({ 'package.json': '{"engines":{"node":">=99"}}' }), {
      code: 'GOVHOST_BUNDLE_INVALID',
      message: /asks for Node >=99, and this platform runs Node 20/,
    });
  });

  it('picks Python from requirements.txt or a pyproject.toml with a build backend, and checks runtime.txt', async () => {
    assert.equal((await detect({ 'requirements.txt': 'flask' })).builder.name, 'python');
    assert.equal(
      (await detect({ 'pyproject.toml': '[build-system]\nrequires = []\n' })).builder.name,
      'python',
    );
    // A pyproject.toml without a build backend (only tool settings) is not an installable app.
    assert.equal((await detect({ 'pyproject.toml': '[tool.black]\n' })).builder.name, 'prebuilt');
    await assert.rejects(detect({ 'requirements.txt': '', 'runtime.txt': 'python-2.7.18' }), {
      message: /runtime\.txt asks for Python 2\.7\.18, and this platform builds with Python 3\./,
    });
  });

  it('picks Java for one executable jar run with java, static for a site, prebuilt for the rest', async () => {
    assert.equal((await detect({ 'app.jar': '' }, { command: 'java -jar app.jar' })).builder.name, 'java');
    assert.equal(
      (await detect({ 'index.html': '' }, { kind: 'static', command: null })).builder.name,
      'static',
    );
    assert.equal(
      (await detect({ Procfile: 'web: ./server' }, { command: './server' })).builder.name,
      'prebuilt',
    );
  });

  it('lets a manifest buildpack choose, refuses one whose files are missing, and warns of unknown ones', async () => {
    const chosen = await detect(
      { 'package.json': '{}', 'requirements.txt': 'x' },
      { buildpacks: ['python_buildpack'] },
    );
    assert.equal(chosen.builder.name, 'python');
    await assert.rejects(detect({ 'index.html': '' }, { buildpacks: ['nodejs_buildpack'] }), {
      message: 'the manifest asks for nodejs_buildpack, and the bundle has no package.json',
    });
    const unknown = await detect({ 'package.json': '{}' }, { buildpacks: ['go_buildpack'] });
    assert.equal(unknown.builder.name, 'node');
    assert.match(
      unknown.warnings[0]!,
      /^buildpacks: go_buildpack is not among those GovHost has \(nodejs_buildpack,/,
    );
  });
});

describe('decisiveLines', () => {
  it('finds the line that says why among boilerplate, else keeps the last lines', () => {
    const npm = [
      'npm error code E404',
      'npm error 404 Not Found - GET http://127.0.0.1:4873/nope - no such package available',
      'npm error A complete log of this run can be found in: /home/.npm/_logs/x.log',
    ];
    assert.deepEqual(decisiveLines(npm), npm.slice(0, 2));
    const node = [
      'node:internal/modules/cjs/loader:1228',
      '  throw err;',
      "Error: Cannot find module 'express'",
      'Require stack:',
      '- /app/server.js',
    ];
    assert.deepEqual(decisiveLines(node), ["Error: Cannot find module 'express'"]);
    const pip = [
      'Collecting flask==99',
      'ERROR: Could not find a version that satisfies the requirement flask==99',
      'ERROR: No matching distribution found for flask==99',
    ];
    assert.deepEqual(decisiveLines(pip), pip.slice(1));
    assert.deepEqual(decisiveLines(['a', 'b', '', 'c'], 2), ['b', 'c']);
  });
});
