import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('defaults to PGlite in ./.govhost on loopback', () => {
    const c = loadConfig({});
    assert.equal(c.databaseUrl, null);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.domain, 'localhost');
    assert.match(c.dataDir, /\.govhost$/);
    assert.ok(Object.isFrozen(c));
  });

  it('names every wrong variable and its value', () => {
    const err = (() => {
      try {
        loadConfig({ GOVHOST_PORT: 'eighty', GOVHOST_LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x' });
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof ConfigError);
    assert.equal(err.problems.length, 3);
    assert.match(err.message, /GOVHOST_PORT .*"eighty"/);
    assert.match(err.message, /GOVHOST_LOG_LEVEL/);
    assert.match(err.message, /DATABASE_URL/);
  });

  it('refuses the removed GOVHOST_ROUTER_TRUST_FORWARDED, naming GOVHOST_ROUTER_TRUSTED_PROXIES', () => {
    assert.throws(
      () => loadConfig({ GOVHOST_ROUTER_TRUST_FORWARDED: 'true' }),
      /GOVHOST_ROUTER_TRUST_FORWARDED is no longer read.*GOVHOST_ROUTER_TRUSTED_PROXIES/,
    );
    assert.deepEqual(loadConfig({ GOVHOST_ROUTER_TRUSTED_PROXIES: '10.1.0.0/16' }).routerTrustedProxies, [
      '10.1.0.0/16',
    ]);
    assert.throws(
      () => loadConfig({ GOVHOST_ROUTER_TRUSTED_PROXIES: 'lb.example' }),
      /GOVHOST_ROUTER_TRUSTED_PROXIES/,
    );
  });

  it('takes GOVHOST_AUDIT_KEY only as the base64 of 32 bytes', () => {
    const key = randomBytes(32).toString('base64');
    assert.equal(loadConfig({ GOVHOST_AUDIT_KEY: key }).auditKey, key);
    assert.equal(loadConfig({}).auditKey, null);
    assert.throws(
      () => loadConfig({ GOVHOST_AUDIT_KEY: 'c2hvcnQ=' }),
      /GOVHOST_AUDIT_KEY \(audit chain key\) must be the base64 encoding of 32 bytes/,
    );
  });

  it('reads an optional JSON file, and the environment wins over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'govhost-config-'));
    const file = join(dir, 'govhost.json');
    writeFileSync(file, JSON.stringify({ port: 9000, domain: 'gov.example' }));
    const c = loadConfig({ GOVHOST_CONFIG: file, GOVHOST_PORT: '9100' });
    assert.equal(c.port, 9100);
    assert.equal(c.domain, 'gov.example');
  });

  it('reads the webhook allow-list: host names, addresses and networks; refuses anything else', () => {
    assert.deepEqual(loadConfig({}).webhookAllow, []);
    const c = loadConfig({
      GOVHOST_WEBHOOK_ALLOW: ' Hooks.Internal.gov.hk., 10.0.0.0/8 ,127.0.0.1,fd00::/8,',
    });
    assert.deepEqual(c.webhookAllow, ['hooks.internal.gov.hk', '10.0.0.0/8', '127.0.0.1', 'fd00::/8']);
    for (const bad of ['10.0.0.0/33', '1.2.3', 'http://x.example', 'a b']) {
      assert.throws(
        () => loadConfig({ GOVHOST_WEBHOOK_ALLOW: bad }),
        /GOVHOST_WEBHOOK_ALLOW \(webhook allow-list\) has .* which is not a host name, an IP address or a network/,
        bad,
      );
    }
    assert.equal(loadConfig({}).notificationRetentionDays, 90);
    assert.equal(loadConfig({ GOVHOST_NOTIFICATION_RETENTION_DAYS: '30' }).notificationRetentionDays, 30);
    assert.throws(() => loadConfig({ GOVHOST_NOTIFICATION_RETENTION_DAYS: '0' }), /notification retention/);
  });

  it("reads the service users' prefix and uid range; refuses a bad name or an empty range", () => {
    const d = loadConfig({});
    assert.deepEqual([d.serviceUserPrefix, d.serviceUidMin, d.serviceUidMax], [null, 70_000, 79_999]);
    const c = loadConfig({
      GOVHOST_SERVICE_USER_PREFIX: 'svc_a-',
      GOVHOST_SERVICE_UID_MIN: '200000',
      GOVHOST_SERVICE_UID_MAX: '200099',
    });
    assert.deepEqual([c.serviceUserPrefix, c.serviceUidMin, c.serviceUidMax], ['svc_a-', 200_000, 200_099]);
    for (const bad of ['Root', '1abc', 'a b', 'a'.repeat(17), 'x:y']) {
      assert.throws(() => loadConfig({ GOVHOST_SERVICE_USER_PREFIX: bad }), /service user name prefix/, bad);
    }
    assert.throws(
      () => loadConfig({ GOVHOST_SERVICE_UID_MIN: '0' }),
      /lowest service uid\) must be a whole number from 1000/,
    );
    assert.throws(
      () => loadConfig({ GOVHOST_SERVICE_UID_MIN: '90000', GOVHOST_SERVICE_UID_MAX: '80000' }),
      /GOVHOST_SERVICE_UID_MIN \(90000\) must not be above GOVHOST_SERVICE_UID_MAX \(80000\)/,
    );
  });

  it('rejects an unknown setting in the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'govhost-config-'));
    const file = join(dir, 'govhost.json');
    writeFileSync(file, JSON.stringify({ prot: 9000 }));
    assert.throws(() => loadConfig({ GOVHOST_CONFIG: file }), /unknown setting "prot"/);
  });
});
