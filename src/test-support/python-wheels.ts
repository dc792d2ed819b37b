/**
 * Python wheels built offline for tests, with Debian's own interpreter and build tools
 * (`pip wheel --no-build-isolation --no-deps --no-index`: nothing is downloaded), for the loopback
 * pip index (pip-index.ts) to serve.
 *
 * The Python example depends on `bottle`, a real PyPI package, so that it deploys against PyPI as
 * well. Its wheel here is built from the `bottle.py` that Debian's python3-bottle installs, under
 * the same name and version as on PyPI: the same single module a PyPI wheel holds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeFailure, runCommand } from './command.ts';
import { testRunDir } from './run-dir.ts';

/** Debian's interpreter: `python3` on PATH may be another one (pyenv) without Debian's packages. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

const DEBIAN_BOTTLE = '/usr/lib/python3/dist-packages/bottle.py';
const NEEDED = 'python3-pip, python3-setuptools, python3-wheel, python3-venv and python3-bottle';

/**
 * Why wheels cannot be built and installed into a venv here, or null when they can; tests skip
 * with this reason (.ci/run installs the Debian packages).
 */
export function pythonToolsMissing(): string | null {
  if (!existsSync(SYSTEM_PYTHON)) return `${SYSTEM_PYTHON} is missing (Debian's ${NEEDED} are needed)`;
  // find_spec, not import: importing pip before setuptools trips setuptools' distutils check.
  const probe = spawnSync(
    SYSTEM_PYTHON,
    [
      '-c',
      "import importlib.util as u; print(' '.join(m for m in ('ensurepip', 'pip', 'setuptools', 'venv', 'wheel') if u.find_spec(m) is None))",
    ],
    { encoding: 'utf8' },
  );
  const missing = probe.stdout?.trim();
  if (probe.status !== 0 || missing) {
    return `${SYSTEM_PYTHON} lacks ${missing || 'a module'}; install Debian's ${NEEDED}`;
  }
  if (!existsSync(DEBIAN_BOTTLE)) return `${DEBIAN_BOTTLE} is missing; install python3-bottle`;
  return null;
}

/** The environment for Debian's pip: no user or site configuration, no version check. */
export function pipEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    PIP_CONFIG_FILE: '/dev/null',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_NO_INPUT: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    ...extra,
  };
}

export interface WheelSpec {
  /** The distribution name, as on PyPI. */
  name: string;
  version: string;
  /** Top-level modules: file name → source. */
  modules: Record<string, string>;
  summary?: string;
}

/**
 * Builds a pure-Python wheel with setuptools, offline, and returns its path (under the test run's
 * folder; the same spec built again in the run is reused).
 */
export async function buildWheel(spec: WheelSpec): Promise<string> {
  const out = join(await testRunDir(), 'wheels', `${spec.name}-${spec.version}`);
  const done = existsSync(out) ? (await readdir(out)).find((f) => f.endsWith('.whl')) : undefined;
  if (done) return join(out, done);

  const work = await mkdtemp(join(await testRunDir(), 'wheel-build-'));
  try {
    const project = join(work, 'project');
    await mkdir(project);
    const modules = Object.keys(spec.modules).map((f) => f.replace(/\.py$/, ''));
    await writeFile(
      join(project, 'pyproject.toml'),
      [
        '[build-system]',
        'requires = ["setuptools", "wheel"]',
        'build-backend = "setuptools.build_meta"',
        '',
        '[project]',
        `name = ${JSON.stringify(spec.name)}`,
        `version = ${JSON.stringify(spec.version)}`,
        `description = ${JSON.stringify(spec.summary ?? spec.name)}`,
        '',
        '[tool.setuptools]',
        `py-modules = ${JSON.stringify(modules)}`,
        '',
      ].join('\n'),
    );
    for (const [file, source] of Object.entries(spec.modules)) await writeFile(join(project, file), source);
    const built = join(work, 'dist');
    const r = await runCommand(
      SYSTEM_PYTHON,
      [
        '-m',
        'pip',
        'wheel',
        '--no-build-isolation',
        '--no-deps',
        '--no-index',
        '--no-cache-dir',
        '-w',
        built,
        project,
      ],
      { cwd: work, env: pipEnv(work), timeoutMs: 120_000 },
    );
    if (r.code !== 0) throw new Error(describeFailure(`building the ${spec.name} wheel`, r));
    const wheel = (await readdir(built)).find((f) => f.endsWith('.whl'));
    if (!wheel) throw new Error(`pip wheel made no wheel for ${spec.name}: ${r.stdout}`);
    // Another test file of the run may have built the same wheel meanwhile: either is fine.
    await mkdir(join(out, '..'), { recursive: true });
    await rename(built, out).catch(() => undefined);
    return join(out, (await readdir(out)).find((f) => f.endsWith('.whl'))!);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * A wheel of the real `bottle` (name and version as on PyPI), built from Debian's python3-bottle.
 * @example const index = await startPipIndex({ wheels: [await bottleWheel()] });
 */
export async function bottleWheel(): Promise<string> {
  const source = readFileSync(DEBIAN_BOTTLE, 'utf8');
  const version = /^__version__\s*=\s*['"]([^'"]+)['"]/m.exec(source)?.[1];
  if (!version) throw new Error(`no __version__ in ${DEBIAN_BOTTLE}`);
  return buildWheel({
    name: 'bottle',
    version,
    modules: { 'bottle.py': source },
    summary: 'Fast and simple WSGI-framework for small web-applications.',
  });
}
