import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { testRunDir } from '../../test-support/run-dir.ts';
import { buildPath } from '../builder.ts';
import type { BundleFiles } from '../bundle-files.ts';
import { instanceStart } from '../instance-start.ts';
import { buildSteps, directStart, needsNpm } from './npm-scripts.ts';

const run = promisify(execFile);
const NPM = join(dirname(process.execPath), 'npm');
const files = (...names: string[]): BundleFiles => ({ names: new Set(names), text: () => null });

// What a script sees: the variables npm documents for scripts, the first PATH entry, and a tool
// from node_modules/.bin found by name.
const REPORT = `node -e "const e = process.env; const keep = Object.keys(e).filter((k) => /^npm_(package|lifecycle)_|^INIT_CWD$|^NODE$|^npm_node_execpath$|^npm_command$/.test(k)).sort(); require('fs').writeFileSync(process.argv[1], JSON.stringify({ vars: Object.fromEntries(keep.map((k) => [k, e[k]])), path0: e.PATH.split(':')[0] }))" "$OUT" && hello-tool >> "$OUT.order"`;

function app(dir: string): Record<string, unknown> {
  const pkg = {
    name: 'scripted',
    version: '2.3.4',
    config: { port: 8080, flags: ['a', 'b'] },
    engines: { node: '>=20' },
    bin: { scripted: 'cli.js' },
    scripts: {
      prebuild: 'echo pre >> "$OUT.order"',
      build: REPORT,
      postbuild: 'echo post >> "$OUT.order"',
    },
  };
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
  writeFileSync(join(dir, 'node_modules', '.bin', 'hello-tool'), '#!/bin/sh\necho tool\n');
  chmodSync(join(dir, 'node_modules', '.bin', 'hello-tool'), 0o755);
  return pkg;
}

describe('the build script without npm', () => {
  it('runs prebuild, build and postbuild with the variables, PATH and order npm gives them', async () => {
    const base = mkdtempSync(join(await testRunDir(), 'npm-scripts-'));
    const env = { PATH: buildPath(), HOME: base, npm_config_update_notifier: 'false' };
    // The same app twice, so that folder-named variables compare after replacing the folder.
    const viaNpm = join(base, 'npm');
    const direct = join(base, 'direct');
    mkdirSync(viaNpm);
    mkdirSync(direct);
    app(viaNpm);
    const pkg = app(direct);
    await run(NPM, ['run', 'build'], { cwd: viaNpm, env: { ...env, OUT: join(viaNpm, 'out.json') } });
    for (const step of buildSteps(direct, pkg, buildPath())) {
      await run(step.file, step.args, {
        cwd: direct,
        env: { ...env, ...step.env, OUT: join(direct, 'out.json') },
      });
    }
    const read = (dir: string) =>
      JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8').split(dir).join('<app>')) as {
        vars: Record<string, string>;
        path0: string;
      };
    const expected = read(viaNpm);
    // Sanity: npm gave what the comparison relies on.
    assert.equal(expected.vars.npm_lifecycle_event, 'build');
    assert.equal(expected.vars.npm_package_config_flags_1, 'b');
    assert.deepEqual(read(direct), expected);
    assert.equal(readFileSync(join(direct, 'out.json.order'), 'utf8'), 'pre\ntool\npost\n');
    assert.equal(
      readFileSync(join(direct, 'out.json.order'), 'utf8'),
      readFileSync(join(viaNpm, 'out.json.order'), 'utf8'),
    );
  });

  it('leaves the script to npm where npm could run it differently', () => {
    const pkg = { scripts: { build: 'node build.js' } };
    assert.equal(needsNpm(files('package.json'), pkg, {}), null);
    assert.match(needsNpm(files('package.json', '.npmrc'), pkg, {}) ?? '', /\.npmrc/);
    assert.match(needsNpm(files('package.json'), { ...pkg, workspaces: ['a'] }, {}) ?? '', /workspaces/);
    assert.match(
      needsNpm(files('package.json'), pkg, { npm_config_script_shell: '/bin/bash' }) ?? '',
      /npm_config_script_shell/,
    );
    assert.match(
      needsNpm(files('package.json'), pkg, { NPM_CONFIG_IGNORE_SCRIPTS: 'true' }) ?? '',
      /IGNORE_SCRIPTS/,
    );
    assert.equal(needsNpm(files('package.json'), pkg, { npm_config_registry: 'http://x/' }), null);
    assert.match(
      needsNpm(files('package.json'), { scripts: { postbuild: 'echo $npm_config_cache' } }, {}) ?? '',
      /postbuild script reads npm's configuration/,
    );
  });

  it('starts instances as npm start would: the same variables, PATH and script, without npm', async () => {
    const base = mkdtempSync(join(await testRunDir(), 'npm-start-'));
    const env = { PATH: buildPath(), HOME: base, npm_config_update_notifier: 'false' };
    const viaNpm = join(base, 'npm');
    const direct = join(base, 'direct');
    for (const dir of [viaNpm, direct]) {
      mkdirSync(dir);
      const pkg = app(dir);
      // A start script that reports and exits, as a server would report and stay.
      pkg.scripts = { start: REPORT };
      writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
    }
    await run(NPM, ['start'], { cwd: viaNpm, env: { ...env, OUT: join(viaNpm, 'out.json') } });
    const pkg = JSON.parse(readFileSync(join(direct, 'package.json'), 'utf8'));
    const staged = directStart(files('package.json'), pkg, {});
    assert.ok('script' in staged, JSON.stringify(staged));
    // The droplet keeps what does not depend on the folder; each instance adds its own folder.
    const start = instanceStart(
      { pathPrepend: [], pathEnv: {}, start: staged },
      'npm start',
      direct,
      env.PATH,
    );
    assert.equal(start.command, REPORT);
    await run('/bin/sh', ['-c', start.command], {
      cwd: direct,
      env: { ...env, ...start.env, OUT: join(direct, 'out.json') },
    });
    const read = (dir: string) =>
      JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8').split(dir).join('<app>')) as {
        vars: Record<string, string>;
        path0: string;
      };
    const expected = read(viaNpm);
    assert.equal(expected.vars.npm_lifecycle_event, 'start');
    assert.equal(expected.vars.npm_command, 'start');
    assert.deepEqual(read(direct), expected);
    // Another command than `npm start` (a Procfile's, a manifest's) runs as written.
    assert.deepEqual(
      instanceStart({ pathPrepend: [], pathEnv: {}, start: staged }, 'node server.js', direct, 'x'),
      {
        command: 'node server.js',
        env: {},
      },
    );
  });

  it('leaves the start to npm when npm would run more than the start script', () => {
    const start = { start: 'node server.js' };
    assert.match(JSON.stringify(directStart(files('package.json'), { scripts: {} }, {})), /no start script/);
    assert.match(
      JSON.stringify(directStart(files('package.json'), { scripts: { ...start, prestart: 'x' } }, {})),
      /prestart/,
    );
    assert.match(
      JSON.stringify(directStart(files('package.json'), { scripts: { ...start, poststart: 'x' } }, {})),
      /poststart/,
    );
    assert.match(
      JSON.stringify(directStart(files('package.json', '.npmrc'), { scripts: start }, {})),
      /npmrc/,
    );
    assert.match(
      JSON.stringify(directStart(files('package.json'), { scripts: { start: 'echo $npm_config_port' } }, {})),
      /start script reads npm's configuration/,
    );
  });
});
