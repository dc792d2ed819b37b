/** `govhost kubernetes manifests` as people run it: YAML that kubectl would take, checked against the API schemas. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { validateObject } from '../runtime/kubernetes/schema-check.ts';
import { describeFailure, runCommand } from '../test-support/command.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'govhost.mjs');
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('GOVHOST_') && k !== 'NODE_OPTIONS'),
);
const govhost = (args: string[]) => runCommand(process.execPath, [BIN, ...args], { cwd: ROOT, env });

describe('govhost kubernetes manifests', () => {
  it('prints YAML documents that are valid Kubernetes objects, with the options given', async () => {
    const r = await govhost([
      'kubernetes',
      'manifests',
      '--image',
      'reg.gov.example/govhost:1',
      '--replicas',
      '3',
    ]);
    assert.equal(r.code, 0, describeFailure('manifests', r));
    const docs = parseAllDocuments(r.stdout).map(
      (d) => d.toJS() as { kind: string; spec?: { replicas?: number } },
    );
    assert.ok(docs.length >= 10, `${docs.length} documents`);
    for (const d of docs) await validateObject(d);
    const deployments = docs.filter((d) => d.kind === 'Deployment');
    assert.deepEqual(
      deployments.map((d) => d.spec?.replicas),
      [3, 2],
    );
    assert.match(r.stdout, /image: reg\.gov\.example\/govhost:1/);
  });

  it('refuses a single replica or a bad namespace with a usage message, not a stack trace', async () => {
    const one = await govhost(['kubernetes', 'manifests', '--router-replicas', '1']);
    assert.equal(one.code, 2);
    assert.match(
      one.stderr,
      /--router-replicas <n>' argument '1' is invalid\. must be a whole number from 2 to 99/,
    );
    const ns = await govhost(['kubernetes', 'manifests', '--namespace', 'Bad_NS']);
    assert.equal(ns.code, 2);
    assert.match(ns.stderr, /must be a Kubernetes name/);
    assert.doesNotMatch(one.stderr + ns.stderr, /\n\s+at /);
  });
});
