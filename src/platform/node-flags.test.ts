/** Every way a control plane is started gives Node the same flags, and the flags work. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { installManifests } from '../runtime/kubernetes/install-manifests.ts';
import { SERVER_NODE_FLAGS } from './node-flags.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('control-plane Node.js flags', () => {
  it('are in the shebang of `govhost`, in `npm start` and in the Kubernetes manifests', () => {
    const shebang = readFileSync(`${ROOT}bin/govhost.mjs`, 'utf8').split('\n')[0];
    assert.equal(shebang, `#!/usr/bin/env -S node ${SERVER_NODE_FLAGS.join(' ')}`);
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: { start: string } };
    assert.equal(pkg.scripts.start, `node ${SERVER_NODE_FLAGS.join(' ')} bin/govhost.mjs server`);
    const commands = installManifests()
      .flatMap(
        (o) =>
          ((o as { spec?: { template?: { spec?: { containers?: unknown[] } } } }).spec?.template?.spec
            ?.containers ?? []) as { command?: string[] }[],
      )
      .map((c) => c.command ?? []);
    const server = commands.find((c) => c.includes('server'));
    assert.deepEqual(server, ['node', ...SERVER_NODE_FLAGS, 'bin/govhost.mjs', 'server']);
  });

  it('are taken by Node when `govhost` is run by its shebang, and keep the young generation small', () => {
    // Run as a user runs it (the kernel reads the shebang), printing V8's new-space capacity.
    const r = spawnSync(`${ROOT}bin/govhost.mjs`, ['--version'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /0\.1\.0/);
    // With the flags, a burst of short-lived objects leaves the young generation at 2 x 2 MiB
    // (V8's default grows it to 32 MiB and keeps it).
    const burst =
      "let k = []; for (let i = 0; i < 2e6; i++) { k.push({ i }); if (k.length > 5e4) k = []; } require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size";
    const sized = spawnSync(process.execPath, [...SERVER_NODE_FLAGS, '-p', burst], { encoding: 'utf8' });
    assert.ok(Number(sized.stdout) <= 4 * 1024 * 1024, `new space ${sized.stdout} ${sized.stderr}`);
  });
});
