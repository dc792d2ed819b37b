// Webhooks may not be pointed at the platform's own network: refused when the channel is added
// (a precise 400) and again at every delivery, on the address the name resolves to then, with the
// connection made to that very address. Real receivers on 127.0.0.1 stand for the internal
// systems an attacker would aim at; a resolver that changes its answer stands for DNS rebinding.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadSecretBox } from '../platform/secrets.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { deliver } from './notification.logic.ts';
import type { ChannelRow } from './notification.repository.ts';
import { internalKind, type Resolve, WebhookPolicy, WebhookTargetError } from './webhook-target.ts';

/** A receiver that records what reached it and answers `status` (with `location` on a 3xx). */
function receiver(status = 200, location?: string) {
  const got: { url: string; headers: IncomingHttpHeaders }[] = [];
  const server: Server = createServer((req, res) => {
    got.push({ url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => res.writeHead(status, location ? { location } : {}).end());
  });
  return {
    got,
    server,
    port: () => (server.address() as AddressInfo).port,
    listen: () => new Promise<void>((r) => server.listen(0, '127.0.0.1', r)),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A resolver answering from a script: one answer per call, the last one repeating. */
function scripted(answers: string[][]): Resolve & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (name: string) => {
    calls.push(name);
    const next = answers.length > 1 ? answers.shift()! : answers[0]!;
    return next.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(fn, { calls });
}

const internal = [
  ['http://127.0.0.1:9/x', /127\.0\.0\.1 is a loopback address/],
  ['http://[::1]/x', /loopback/],
  ['http://[::ffff:127.0.0.1]/x', /^::ffff:7f00:1 \(127\.0\.0\.1\) is a loopback address/],
  ['http://[::ffff:a9fe:a9fe]/latest/meta-data', /\(169\.254\.169\.254\) is a link-local address/],
  ['http://2130706433/', /127\.0\.0\.1 is a loopback/],
  ['http://10.1.2.3/', /private/],
  ['http://172.20.0.5/', /private/],
  ['http://192.168.1.1/', /private/],
  ['http://169.254.169.254/latest/meta-data', /link-local/],
  ['http://100.100.100.200/', /carrier-grade NAT/],
  ['http://0.0.0.0:8081/routes', /unspecified/],
  ['http://224.0.0.1/', /multicast/],
  ['http://[fd12:3456::1]/', /unique-local/],
  ['http://[fe80::1]/', /link-local/],
  ['http://[ff02::1]/', /multicast/],
  ['http://[::]/', /unspecified/],
  ['http://[64:ff9b::a00:1]/', /\(10\.0\.0\.1\) is a private address/],
] as const;

describe('webhook targets', () => {
  let t: TestApp;
  let allowed: TestApp;
  let dept: string;
  let admin: string;
  const hook = receiver();
  const box = () => loadSecretBox(join(t.config.dataDir, 'secret.key'), undefined);

  before(async () => {
    await hook.listen();
    // Two platforms: the default (nothing internal allowed), and one whose operator allows loopback.
    [t, allowed] = await Promise.all([
      testApp(),
      testApp({ webhookAllow: ['127.0.0.0/8', 'hooks.internal'] }),
    ]);
    dept = await t.department('WH');
    admin = (await t.user('dept-admin', dept)).token;
  });
  after(async () => {
    await hook.close();
    await Promise.all([t.close(), allowed.close()]);
  });

  const add = (app: TestApp, token: string, url: string) =>
    app.request(token, {
      method: 'POST',
      url: '/api/v1/notification-channels',
      payload: { kind: 'webhook', url },
    });

  it('refuses internal addresses by default with a precise 400, and writes nothing', async () => {
    for (const [url, why] of internal) {
      const res = await add(t, admin, url);
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      assert.equal(res.json().code, 'GOVHOST_WEBHOOK_TARGET_FORBIDDEN', url);
      assert.match(res.json().detail, why, url);
      assert.match(res.json().detail, /GOVHOST_WEBHOOK_ALLOW/);
    }
    // A name is judged by what it resolves to (here by the system's resolver, from /etc/hosts).
    const byName = await add(t, admin, `http://localhost:${hook.port()}/hook`);
    assert.equal(byName.json().code, 'GOVHOST_WEBHOOK_TARGET_FORBIDDEN', byName.body);
    assert.match(byName.json().detail, /^localhost resolves to .*loopback/);
    // Only http and https.
    const ftp = await add(t, admin, 'ftp://203.0.113.7/x');
    assert.deepEqual([ftp.statusCode, ftp.json().code], [400, 'GOVHOST_VALIDATION']);
    // The central team is held to the same rule.
    const wide = await add(t, t.adminToken, `http://127.0.0.1:${hook.port()}/`);
    assert.equal(wide.json().code, 'GOVHOST_WEBHOOK_TARGET_FORBIDDEN');

    const rows = await t.db.selectFrom('notification_channels').select('id').execute();
    assert.equal(rows.length, 0);
    assert.equal(hook.got.length, 0, 'nothing was sent to the internal receiver');
    // A public address is fine (never contacted here: only its address is checked).
    const ok = await add(t, admin, 'https://203.0.113.7/govhost');
    assert.equal(ok.statusCode, 201, ok.body);
  });

  it('GOVHOST_WEBHOOK_ALLOW lets the operator allow a network or a host, and delivery then works', async () => {
    const d = await allowed.department('WA');
    const a = (await allowed.user('dept-admin', d)).token;
    const res = await add(allowed, a, `http://127.0.0.1:${hook.port()}/allowed`);
    assert.equal(res.statusCode, 201, res.body);
    const sent = await allowed.request(a, {
      method: 'POST',
      url: `/api/v1/notification-channels/${res.json().channel.id}/test`,
    });
    assert.equal(sent.statusCode, 200, sent.body);
    assert.equal(hook.got.at(-1)?.url, '/allowed');
    // Outside the allowed network stays refused.
    const other = await add(allowed, a, 'http://10.0.0.1/');
    assert.equal(other.json().code, 'GOVHOST_WEBHOOK_TARGET_FORBIDDEN');
    // A listed host name is trusted without a look-up when the channel is added.
    const host = await add(allowed, a, 'https://hooks.internal/govhost');
    assert.equal(host.statusCode, 201, host.body);
  });

  it('checks again at delivery: a channel to a now-forbidden address is refused, and not contacted', async () => {
    const secretBox = box();
    const channel = {
      id: '00000000-0000-4000-8000-000000000001',
      department_id: null,
      kind: 'webhook',
      url: `http://127.0.0.1:${hook.port()}/old`,
      addresses: null,
      secret_sealed: secretBox.seal('whsec_test'),
      min_severity: null,
      created_by: 'test',
      created_at: new Date(),
    } satisfies ChannelRow;
    const before = hook.got.length;
    const config = { smtpUrl: null, mailFrom: 'x@y.example', webhookAllow: [] };
    await assert.rejects(deliver({ box: secretBox, config }, channel, '{}', 2000), (err: Error) => {
      assert.match(err.message, /^refused: 127\.0\.0\.1 is a loopback address/);
      return true;
    });
    assert.equal(hook.got.length, before);
    // Through the API: a channel stored before this rule (or while its address was allowed).
    const { id: departmentId } = await t.db
      .selectFrom('departments')
      .select('id')
      .where('code', '=', dept)
      .executeTakeFirstOrThrow();
    const { id } = await t.db
      .insertInto('notification_channels')
      .values({
        department_id: departmentId,
        kind: 'webhook',
        url: channel.url,
        addresses: null,
        secret_sealed: channel.secret_sealed,
        min_severity: null,
        created_by: 'before-the-rule',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const res = await t.request(admin, { method: 'POST', url: `/api/v1/notification-channels/${id}/test` });
    assert.equal(res.statusCode, 502, res.body);
    assert.equal(res.json().code, 'GOVHOST_NOTIFICATION_FAILED');
    assert.match(res.json().detail, /refused: 127\.0\.0\.1 is a loopback address/);
    assert.equal(hook.got.length, before);
  });

  it('DNS rebinding: the name is resolved again at delivery, and the connection goes to the checked address', async () => {
    const secretBox = box();
    const url = `http://hooks.rebind.test:${hook.port()}/rebound`;
    // Public when the channel is added, loopback when the notification is sent.
    const rebinding = scripted([['198.51.100.20'], ['127.0.0.1']]);
    const policy = new WebhookPolicy([], rebinding);
    await policy.check(new URL(url));
    const channel = {
      id: '00000000-0000-4000-8000-000000000002',
      department_id: null,
      kind: 'webhook',
      url,
      addresses: null,
      secret_sealed: secretBox.seal('whsec_test'),
      min_severity: null,
      created_by: 'test',
      created_at: new Date(),
    } satisfies ChannelRow;
    const config = { smtpUrl: null, mailFrom: 'x@y.example', webhookAllow: [] as string[] };
    const before = hook.got.length;
    await assert.rejects(
      deliver({ box: secretBox, config, resolve: rebinding }, channel, '{}', 2000),
      /refused: hooks\.rebind\.test resolves to 127\.0\.0\.1, a loopback address/,
    );
    assert.deepEqual(rebinding.calls, ['hooks.rebind.test', 'hooks.rebind.test']);
    assert.equal(hook.got.length, before);

    // One internal address among public ones is refused too.
    const mixed = scripted([['198.51.100.20', '127.0.0.1']]);
    await assert.rejects(
      deliver({ box: secretBox, config, resolve: mixed }, channel, '{}', 2000),
      /loopback/,
    );

    // Allowed, the delivery reaches the address the resolver gave: the system cannot resolve
    // hooks.rebind.test, so this proves no second look-up; Host still names the URL's host.
    const pinned = scripted([['127.0.0.1']]);
    const detail = await deliver(
      { box: secretBox, config: { ...config, webhookAllow: ['127.0.0.1'] }, resolve: pinned },
      channel,
      '{"id":"x"}',
      2000,
    );
    assert.match(detail, /answered 200$/);
    const got = hook.got.at(-1);
    assert.equal(got?.url, '/rebound');
    assert.equal(got?.headers.host, `hooks.rebind.test:${hook.port()}`);
    assert.ok(got?.headers['x-govhost-signature']);
  });

  it('does not follow a redirect, and says when a name does not resolve', async () => {
    const bouncer = receiver(302, 'http://169.254.169.254/latest/meta-data');
    await bouncer.listen();
    try {
      const secretBox = box();
      const channel = {
        id: '00000000-0000-4000-8000-000000000003',
        department_id: null,
        kind: 'webhook',
        url: `http://127.0.0.1:${bouncer.port()}/bounce`,
        addresses: null,
        secret_sealed: secretBox.seal('whsec_test'),
        min_severity: null,
        created_by: 'test',
        created_at: new Date(),
      } satisfies ChannelRow;
      const config = { smtpUrl: null, mailFrom: 'x@y.example', webhookAllow: ['127.0.0.1'] };
      await assert.rejects(
        deliver({ box: secretBox, config }, channel, '{}', 2000),
        /^DeliveryError: HTTP 302$/,
      );
      assert.equal(bouncer.got.length, 1);
    } finally {
      await bouncer.close();
    }
    const nowhere: Resolve = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    await assert.rejects(
      new WebhookPolicy([], nowhere).check(new URL('https://hooks.nowhere.test/')),
      (err) => {
        assert.ok(err instanceof WebhookTargetError);
        assert.equal(err.reason, 'unresolved');
        assert.equal(err.message, 'hooks.nowhere.test does not resolve (ENOTFOUND)');
        return true;
      },
    );
  });

  it('classifies addresses, IPv4 inside IPv6 included', () => {
    assert.equal(internalKind('8.8.8.8'), null);
    assert.equal(internalKind('2001:4860:4860::8888'), null);
    assert.equal(internalKind('::ffff:8.8.8.8'), null);
    assert.equal(internalKind('::ffff:10.0.0.1'), 'a private address');
    assert.equal(internalKind('::ffff:7f00:1'), 'a loopback address');
    assert.equal(internalKind('::7f00:1'), 'a loopback address', 'IPv4-compatible');
    assert.equal(internalKind('172.15.255.255'), null);
    assert.equal(internalKind('172.16.0.0'), 'a private address');
    assert.equal(internalKind('172.31.255.255'), 'a private address');
    assert.equal(internalKind('172.32.0.0'), null);
    assert.equal(internalKind('255.255.255.255'), 'a reserved address');
    assert.equal(internalKind('fe80::1%eth0'), 'a link-local address');
  });
});
