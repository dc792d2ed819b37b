/**
 * Python apps (`requirements.txt`, or `pyproject.toml` with a build backend): a virtual environment
 * inside the droplet (`.venv`), made with the platform's interpreter (Debian's `/usr/bin/python3` by
 * default, not whatever `python3` is first on someone's PATH), and `pip install` into it. Instances
 * run with `.venv/bin` first on PATH and VIRTUAL_ENV set. `runtime.txt` is checked at deploy.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DomainError } from '../../platform/errors.ts';
import type { Builder, BuildSettings } from '../builder.ts';
import type { BundleFiles } from '../bundle-files.ts';

const VENV = '.venv';
const versions = new Map<string, Promise<string | null>>();

/** `3.11.2` of an interpreter, or null when it cannot run. */
export function interpreterVersion(python: string): Promise<string | null> {
  let v = versions.get(python);
  if (!v) {
    v = promisify(execFile)(python, ['-c', 'import platform; print(platform.python_version())'], {
      env: { PATH: '/usr/bin:/bin' },
      timeout: 10_000,
    }).then(
      (r) => r.stdout.trim(),
      () => null,
    );
    versions.set(python, v);
  }
  return v;
}

/** A pyproject.toml is installable when it names a build backend (PEP 517). */
const hasBuildBackend = (files: BundleFiles) =>
  /^\s*\[build-system\]/m.test(files.text('pyproject.toml') ?? '');

async function requireInterpreter(settings: BuildSettings): Promise<string> {
  const version = await interpreterVersion(settings.python);
  if (version === null) {
    throw new DomainError(
      'GOVHOST_BUNDLE_INVALID',
      `this platform cannot build Python apps: its interpreter ${settings.python} does not run (operators: install python3-venv and python3-pip, or set GOVHOST_BUILD_PYTHON)`,
    );
  }
  return version;
}

export const pythonBuilder: Builder = {
  name: 'python',
  buildpack: 'python_buildpack',
  detect: (files) => files.names.has('requirements.txt') || hasBuildBackend(files),

  async check(files, settings) {
    const version = await requireInterpreter(settings);
    const wanted = files.text('runtime.txt')?.trim();
    if (!wanted) return [];
    // Heroku's form, `python-3.11.2` (or `python-3.11`): the given parts must match ours.
    const m = /^python-(\d+(?:\.\d+){0,2})$/.exec(wanted);
    if (!m)
      return [
        `runtime.txt says "${wanted}", which is not like python-3.11; the app runs on Python ${version}`,
      ];
    const parts = m[1]!.split('.');
    const have = version.split('.');
    if (parts[0] !== have[0] || (parts[1] !== undefined && parts[1] !== have[1])) {
      throw new DomainError(
        'GOVHOST_BUNDLE_INVALID',
        `runtime.txt asks for Python ${m[1]}, and this platform builds with Python ${version}: change runtime.txt or ask the operators`,
      );
    }
    if (parts[2] !== undefined && parts[2] !== have[2])
      return [`runtime.txt asks for Python ${m[1]}; the app will run on Python ${version}`];
    return [];
  },

  describe: (files) =>
    files.names.has('requirements.txt')
      ? 'a virtual environment, pip install -r requirements.txt'
      : 'a virtual environment, pip install . (pyproject.toml)',

  async version(settings) {
    return `python ${(await interpreterVersion(settings.python)) ?? 'missing'}`;
  },

  nothingToDo: () => false,

  async stage(ctx) {
    const version = await requireInterpreter(ctx.settings);
    const req = ctx.files.names.has('requirements.txt');
    const inputs = createHash('sha256')
      .update(await readFile(join(ctx.appDir, req ? 'requirements.txt' : 'pyproject.toml')))
      .digest('hex');
    const key = {
      departmentId: ctx.departmentId,
      builder: 'python',
      inputsSha256: inputs,
      runtimeVersion: `${version} ${ctx.settings.python}`,
    };
    const venv = join(ctx.appDir, VENV);
    // A pyproject app installs itself into the venv: its own code is in the entry, so only a
    // requirements.txt install is cached.
    if (req && (await ctx.cache.restore(key, venv))) {
      ctx.say('virtual environment from the cache: no venv, no pip install');
    } else {
      ctx.say(`making a virtual environment with ${ctx.settings.python} (Python ${version})`);
      await ctx.run(ctx.settings.python, ['-m', 'venv', VENV]);
      const pip = [
        join(VENV, 'bin', 'python'),
        '-m',
        'pip',
        'install',
        '--no-input',
        '--disable-pip-version-check',
      ];
      ctx.say(
        req
          ? 'installing dependencies: pip install -r requirements.txt'
          : 'installing the app: pip install .',
      );
      await ctx.run(pip[0]!, [...pip.slice(1), ...(req ? ['-r', 'requirements.txt'] : ['.'])]);
      await relocateScripts(join(venv, 'bin'), venv);
      // Kept once relocated: the entry names no scratch folder.
      if (req) await ctx.cache.keep(key, venv);
    }
    return { pathPrepend: [`${VENV}/bin`], pathEnv: { VIRTUAL_ENV: VENV } };
  },
};

/**
 * pip writes the venv's absolute path into its scripts' first line (`#!/scratch/…/.venv/bin/python`);
 * the droplet runs from another folder, so those lines become `#!/usr/bin/env python3`, which finds
 * the venv's python first on PATH, as instances have it.
 */
async function relocateScripts(binDir: string, venv: string): Promise<void> {
  for (const e of await readdir(binDir, { withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(binDir, e.name);
    const buf = await readFile(path);
    const firstLine = buf.subarray(0, buf.indexOf(10) === -1 ? buf.length : buf.indexOf(10)).toString('utf8');
    if (!firstLine.startsWith(`#!${venv}/`)) continue;
    await writeFile(
      path,
      Buffer.concat([Buffer.from('#!/usr/bin/env python3'), buf.subarray(firstLine.length)]),
    );
  }
}
