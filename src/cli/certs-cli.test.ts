import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { opensslMissing, type TestPki, testPki } from '../edge/certificates.fixtures.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { runCli } from '../test-support/server-process.ts';

// `govhost certs` and `govhost services https` as people run them, against the real API on loopback.
const skip = await opensslMissing();

// The two tests touch different things: they run side by side.
describe('govhost certs and services https', { skip: skip ?? false, concurrency: 2 }, () => {
  let t: TestApp;
  let pki: TestPki;
  let url: string;
  let operator: string;
  let dept: string;
  let developer: string;
  let dir: string;
  before(async () => {
    [t, pki, dir] = await Promise.all([testApp(), testPki(), mkdtemp(join(tmpdir(), 'govhost-certs-cli-'))]);
    url = await t.listen();
    operator = (await t.user('operator')).token;
    dept = await t.department('CLC');
    developer = (await t.user('dept-developer', dept)).token;
    const leaf = await pki.leaf([`*.${dept.toLowerCase()}.gov.hk`]);
    await writeFile(join(dir, 'chain.pem'), leaf.cert + pki.intermediate.cert);
    await writeFile(join(dir, 'key.pem'), leaf.key);
    await writeFile(join(dir, 'other-key.pem'), (await pki.leaf(['x.gov.hk'])).key);
  });
  after(async () => {
    await t?.close();
    await pki?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const ok = (r: { code: number | null; stdout: string; stderr: string }) => {
    assert.equal(r.code, 0, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  };

  it('adds, lists with days left, shows and removes; refusals are one line saying why', async () => {
    const cert = join(dir, 'chain.pem');
    const added = JSON.parse(
      ok(
        await runCli(url, operator, [
          '--json',
          'certs',
          'add',
          '--cert',
          cert,
          '--key',
          join(dir, 'key.pem'),
        ]),
      ),
    );
    assert.deepEqual(added.names, [`*.${dept.toLowerCase()}.gov.hk`]);
    // Independent commands side by side: each is a process of its own.
    const [listed, showed, mismatch, missing, forbidden] = await Promise.all([
      runCli(url, operator, ['certs', 'list']),
      runCli(url, operator, ['certs', 'show', added.id]),
      runCli(url, operator, ['certs', 'add', '--cert', cert, '--key', join(dir, 'other-key.pem')]),
      runCli(url, operator, ['certs', 'add', '--cert', join(dir, 'nope.pem'), '--key', cert]),
      runCli(url, developer, ['certs', 'list']),
    ]);
    const list = ok(listed);
    const shown = ok(showed);
    assert.match(list, new RegExp(`${added.id}.*\\*\\.${dept.toLowerCase()}\\.gov\\.hk.*(89|90) days`));
    assert.match(shown, /issuer: +CN=GovHost Test Intermediate/);
    assert.match(shown, /days left: +(89|90) days/);
    assert.doesNotMatch(list + shown, /PRIVATE KEY/);
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.stderr, /^govhost: .*does not belong to the leaf certificate/);
    assert.doesNotMatch(mismatch.stderr, /\n\s+at /);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read the certificate chain .*nope.pem: ENOENT/);
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.stderr, /may not certificates read/);
    assert.match(ok(await runCli(url, operator, ['certs', 'remove', added.id])), /Removed certificate/);
    assert.equal(ok(await runCli(url, operator, ['certs', 'list'])).trim(), 'no certificates');
  });

  it("a developer turns a service's redirect off and back on", async () => {
    const created = await t.request(developer, {
      method: 'POST',
      url: '/api/v1/services',
      payload: {
        slug: 'etax',
        nameEn: 'eTAX',
        nameZh: '電子稅務',
        origin: 'new',
        channels: ['web'],
        slaTier: 'gold',
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const svc = `${dept}/etax`;
    assert.match(
      ok(await runCli(url, developer, ['services', 'https', svc])),
      /redirect to https: +yes\nhsts: +yes/,
    );
    assert.match(
      ok(await runCli(url, developer, ['services', 'https', svc, '--no-redirect'])),
      /redirect to https: +no\nhsts: +yes/,
    );
    assert.match(
      ok(await runCli(url, developer, ['services', 'https', svc, '--no-hsts', '--redirect'])),
      /redirect to https: +yes\nhsts: +no/,
    );
  });
});
