/**
 * The request log of a real `govhost server` never holds a credential sent in a query string: a
 * signed droplet URL's signature, or a token a client put there.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { redactQuery } from '../platform/request-log.ts';
import { cleanEnv, type GovhostProcess, startServer, stopProcess } from '../test-support/server-process.ts';

const SIGNATURE = 'S1gnatureThatMustNotBeLogged_0123456789abcdef';
const TOKEN = 'ghk_TokenThatMustNotBeLogged9876';

describe('request log redaction', () => {
  const work = mkdtempSync(join(tmpdir(), 'govhost-request-log-'));
  let server: GovhostProcess;
  let url: string;
  before(async () => {
    const started = await startServer(
      cleanEnv({
        GOVHOST_DATA_DIR: join(work, 'data'),
        GOVHOST_PORT: '0',
        GOVHOST_ROUTER_PORT: '0',
        GOVHOST_ROUTER_ADMIN_PORT: '0',
        GOVHOST_LOG_LEVEL: 'info',
      }),
    );
    server = started.proc;
    url = started.url;
  });
  after(async () => {
    if (server) await stopProcess(server);
    rmSync(work, { recursive: true, force: true });
  });

  it('logs the URL of each request with its signature and tokens replaced, the rest kept', async () => {
    const sha = 'c'.repeat(64);
    const paths = [
      `/api/v1/droplets/${sha}/archive?expires=99999999999&signature=${SIGNATURE}`,
      `/api/v1/departments?limit=1&access_token=${TOKEN}`,
      // A token under a name that says nothing is known by its form.
      `/api/v1/services?offset=0&q=${TOKEN}`,
    ];
    for (const p of paths) await (await fetch(`${url}${p}`)).arrayBuffer();
    const logged = (out: string) =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { req?: { url?: string } })
        .flatMap((l) => (l.req?.url ? [l.req.url] : []));
    const urls = await server.waitFor((out) => {
      const seen = logged(out.slice(0, out.lastIndexOf('\n') + 1));
      return ['/droplets/', '/departments?', '/services?'].every((p) => seen.some((u) => u.includes(p)))
        ? seen
        : null;
    }, 'request lines of the three requests');
    assert.ok(
      urls.includes(`/api/v1/droplets/${sha}/archive?expires=99999999999&signature=[redacted]`),
      String(urls),
    );
    assert.ok(urls.includes('/api/v1/departments?limit=1&access_token=[redacted]'), String(urls));
    assert.ok(urls.includes('/api/v1/services?offset=0&q=[redacted]'), String(urls));
    const all = server.out() + server.err();
    assert.ok(!all.includes(SIGNATURE), 'the signature is in the log');
    assert.ok(!all.includes(TOKEN), 'the token is in the log');
  });

  it('keeps what is no credential, and the form of what it redacts', () => {
    assert.equal(redactQuery('/a'), '/a');
    assert.equal(redactQuery('/a?limit=5&after=x'), '/a?limit=5&after=x');
    assert.equal(
      redactQuery('/a?Signature=1&X-Amz-Credential=2&api%5Fkey=3&flag'),
      '/a?Signature=[redacted]&X-Amz-Credential=[redacted]&api%5Fkey=[redacted]&flag',
    );
    assert.equal(redactQuery('/a?password=%E0%A4%A'), '/a?password=[redacted]');
  });
});
