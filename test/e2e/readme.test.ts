// test-seconds: 165
// The README, literally: every ```sh block of README.md is marked (run, skip or restart), and the
// `run` blocks go through bash in the order shown against a fresh platform, so that the text and
// the code cannot drift apart. A block that fails fails this test; later ones are then skipped.
//
// How the README is made runnable here, without changing what it says:
// - The platform is started as `npm start` does (`govhost server`), on free ports and a temporary
//   data folder; the README's `npm ci && npm start` block is marked skip.
// - Each block runs with `bash -euo pipefail` in the clone's folder, as a reader runs it (there
//   `npx govhost` is the project's own command, and `examples/apps/...` resolves). HOME is a
//   temporary folder: the CLI keeps its login in it, and the README writes its files (the
//   stand-in API key, the backup) under `~`, never into the clone, which the last test checks.
// - npm runs offline, so that `npx govhost` can never fetch a package of that name from the
//   registry: it must be the clone's own. The first `run` block goes through the real `npx`;
//   later ones call the same file npx resolves to (package.json's `bin.govhost`, checked below)
//   with `node` directly, through a shell function named `npx` that passes anything else on:
//   npx costs about 2.3 s of CPU per call, and the README runs some 45 commands.
// - SUBSTITUTIONS below, the only changes made to the text: the first admin's token, the API and
//   router addresses (the README's defaults 7070 and 8080 may be taken on a shared machine), and
//   the restore's data folder.
// - As in a closed network, the platform uses a mirror: the test starts a Verdaccio on loopback
//   (src/test-support/npm-registry.ts, holding the project's own `express` tree) and runs the
//   platform with GOVHOST_NPM_REGISTRY pointing at it, so the README's Express deploy stages from
//   it (it adds about 4 s to start Verdaccio, and the deploy's cold `npm ci` some 10 s).
// - A `restart` block holds `VAR=value npm start` lines: the platform is stopped (SIGTERM) and
//   started again with those variables, on the same ports and data folder.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type NpmRegistry, startNpmRegistry } from '../../src/test-support/npm-registry.ts';
import { cleanEnv, startServer, stopProcess } from '../../src/test-support/server-process.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const README = join(REPO, 'README.md');
const BIN = join(
  REPO,
  (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { bin: { govhost: string } }).bin.govhost,
);
/** Set once a block has run `npx govhost` through the real npx. */
let npxChecked = false;
/** A bound on one block: the longest (farms, requests, the paper workload) took 118 s at load 14 on 2 CPUs. */
const BLOCK_MS = 300_000;

export interface Block {
  line: number;
  mark: 'run' | 'skip' | 'restart' | null;
  reason: string | null;
  script: string;
}

/** Every ```sh block of a Markdown text, with the `<!-- readme-test: … -->` mark on the line before. */
export function shellBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== '```sh') continue;
    const end = lines.findIndex((l, j) => j > i && l.trim() === '```');
    assert.ok(end > i, `README.md line ${i + 1}: a sh block that never ends`);
    const m = /^<!-- readme-test: (run|skip|restart)(?: \((.+)\))? -->$/.exec(lines[i - 1]?.trim() ?? '');
    blocks.push({
      line: i + 1,
      mark: (m?.[1] as Block['mark']) ?? null,
      reason: m?.[2] ?? null,
      script: lines.slice(i + 1, end).join('\n'),
    });
    i = end;
  }
  return blocks;
}

/** What one block printed and how it ended. */
interface Outcome {
  code: number | null;
  out: string;
  err: string;
}

function bash(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    // Its own process group, so that a block over its bound is stopped with all it started.
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => {
      err += `\n[readme test] stopped after ${BLOCK_MS} ms`;
      process.kill(-(child.pid as number), 'SIGKILL');
    }, BLOCK_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/** `git status` of the clone: no block may write into it. */
const gitStatus = () =>
  execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], {
    cwd: REPO,
    encoding: 'utf8',
  });

/**
 * What a block's output must show, besides its exit status 0: the command it is known by, and
 * what it printed. Each must match a block, so that a command dropped from the README is noticed.
 */
const EXPECTED: [command: RegExp, output: RegExp][] = [
  [/npx govhost login /, /Logged in to http:\/\/127\.0\.0\.1:\d+ as admin \(platform-admin\)/],
  [/npx govhost audit verify/, /Audit chain intact/],
  [/curl -H 'Host: hello\.ird\.localhost'/, /Hello from GovHost/],
  [/curl -H 'Host: express\.ird\.localhost'/, /"express":\s*"5\.\d+\.\d+"/],
  [/npx govhost rollback IRD\/hello/, /rolling back|v\d+ is live/i],
  [/curl -H 'Host: hello\.ird\.gov\.example'/, /Hello from GovHost/],
  [/npx govhost maintenance add /, /state: +upcoming/],
  [/npx govhost channels add-webhook /, /secret/i],
  [/npx govhost requests new /, /Approved and provisioned IRD\/e-clinic/],
  [/npx govhost farms set FARM-X1 --state active/, /state: +active/],
  [/npx govhost workload load-paper/, /Loaded \d+ items/],
  [/npx govhost finance business-case --scenario paper/, /385,300[\s\S]*484,400[\s\S]*99,100/],
  [/npx govhost tickets raise /, /Form returns 500/],
  [/npx govhost restore /, /audit chain verified/],
  [/curl -X PATCH .*\/users\/admin/, /"hasPassword":true/],
];

describe('README.md, run as written', () => {
  const work = mkdtempSync(join(tmpdir(), 'govhost-readme-'));
  const home = join(work, 'home');
  const dataDir = join(work, 'data');
  const blocks = shellBlocks(readFileSync(README, 'utf8'));
  const statusBefore = gitStatus();
  const serverEnv = (extra: Record<string, string> = {}) =>
    cleanEnv({
      GOVHOST_DATA_DIR: dataDir,
      GOVHOST_PORT: '0',
      GOVHOST_ROUTER_PORT: '0',
      GOVHOST_ROUTER_ADMIN_PORT: '0',
      GOVHOST_LOG_LEVEL: 'info',
      GOVHOST_NPM_REGISTRY: registry.url,
      ...extra,
    });
  let server: Awaited<ReturnType<typeof startServer>>;
  let registry: NpmRegistry;
  let substitutions: [string, string][] = [];
  let failed = false;

  before(async () => {
    mkdirSync(home);
    registry = await startNpmRegistry({ packages: ['express'] });
    server = await startServer(serverEnv());
    assert.ok(server.token, 'a fresh platform prints its first admin token');
    assert.ok(server.routerUrl, 'the platform runs its router');
    substitutions = [
      ['ghk_…', server.token],
      ['http://127.0.0.1:7070', server.url],
      ['127.0.0.1:8080', new URL(server.routerUrl).host],
      ['/srv/govhost', join(work, 'restored')],
    ];
  });
  after(async () => {
    if (server) await stopProcess(server.proc);
    await registry?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('marks every sh block: run, skip (why) or restart (why)', () => {
    const unmarked = blocks.filter((b) => b.mark === null).map((b) => `line ${b.line}`);
    assert.deepEqual(unmarked, [], 'sh blocks without <!-- readme-test: run|skip (why)|restart (why) -->');
    const unexplained = blocks.filter((b) => b.mark !== 'run' && !b.reason).map((b) => `line ${b.line}`);
    assert.deepEqual(unexplained, [], 'skip and restart say why, in parentheses');
    for (const [command] of EXPECTED) {
      assert.ok(
        blocks.some((b) => b.mark === 'run' && command.test(b.script)),
        `no run block shows ${command}`,
      );
    }
  });

  for (const block of blocks.filter((b) => b.mark === 'run' || b.mark === 'restart')) {
    const first = block.script.split('\n')[0] ?? '';
    it(`line ${block.line} (${block.mark}): ${first.slice(0, 60)}`, async (t) => {
      if (failed) return t.skip('an earlier block failed');
      failed = true;
      let script = block.script;
      for (const [from, to] of substitutions) script = script.replaceAll(from, to);
      if (block.mark === 'restart') {
        const vars: Record<string, string> = {};
        for (const line of script.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'))) {
          const m = /^((?:[A-Z][A-Z0-9_]*=\S+\s+)*)npm start\s*(#.*)?$/.exec(line.trim());
          assert.ok(m, `a restart block holds only VAR=value npm start lines, not: ${line}`);
          for (const pair of (m[1] ?? '').trim().split(/\s+/).filter(Boolean)) {
            const eq = pair.indexOf('=');
            vars[pair.slice(0, eq)] = pair.slice(eq + 1);
          }
        }
        await stopProcess(server.proc);
        const api = new URL(server.url);
        const router = new URL(server.routerUrl as string);
        server = await startServer(
          serverEnv({ ...vars, GOVHOST_PORT: api.port, GOVHOST_ROUTER_PORT: router.port }),
        );
        assert.equal(server.token, null, 'a restarted platform keeps its admin');
        failed = false;
        return;
      }
      if (npxChecked) {
        script = `npx() { if [ "$1" = govhost ]; then shift; node ${JSON.stringify(BIN)} "$@"; else command npx "$@"; fi; }\n${script}`;
      }
      npxChecked = true;
      const r = await bash(
        script,
        REPO,
        cleanEnv({
          HOME: home,
          XDG_CONFIG_HOME: '',
          npm_config_offline: 'true',
          npm_config_update_notifier: 'false',
          npm_config_fund: 'false',
        }),
      );
      assert.equal(
        r.code,
        0,
        `README.md line ${block.line} failed:\n${script}\n--- stdout\n${r.out}\n--- stderr\n${r.err}`,
      );
      for (const [command, output] of EXPECTED) {
        if (command.test(block.script)) assert.match(r.out, output, `output of README.md line ${block.line}`);
      }
      failed = false;
    });
  }

  it('wrote nothing into the clone', () => {
    assert.equal(gitStatus(), statusBefore);
  });
});
