import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkCertificate } from './tls-certs.ts';
import { NO_OPENSSL, TestCa } from './tls-testing.ts';

describe('certificate checks at upload', { skip: NO_OPENSSL }, () => {
  let ca: TestCa;
  before(() => {
    ca = new TestCa();
  });
  after(() => ca?.close());
  const now = () => new Date();

  test('a good chain: the names it covers, its dates, its fingerprint', () => {
    const pem = ca.issue(['etax.ird.gov.hk', '*.ird.gov.hk']);
    const r = checkCertificate(pem.chain, pem.key, now());
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.facts.names, ['etax.ird.gov.hk', '*.ird.gov.hk']);
    assert.ok(r.facts.notAfter > new Date());
    assert.match(r.facts.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.match(r.facts.issuer, /GovHost Test Intermediate/);
  });

  test('refusals say why', () => {
    const good = ca.issue(['a.ird.gov.hk']);
    const expired = ca.issue(['old.ird.gov.hk'], -1);
    const other = new TestCa();
    try {
      const foreign = other.issue(['a.ird.gov.hk']);
      const cases: [string, string, string, RegExp][] = [
        ['not-pem', 'hello', good.key, /no PEM block/],
        [
          'unreadable',
          '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
          good.key,
          /cannot be read/,
        ],
        ['key-unreadable', good.chain, 'not a key', /not an unencrypted PEM private key/],
        ['key-mismatch', good.chain, ca.strayKey(), /does not belong to the first certificate/],
        ['expired', expired.chain, expired.key, /the certificate expired on \d{4}-/],
        // The leaf of one CA followed by another CA's intermediate: the chain does not verify.
        [
          'chain',
          foreign.chain.slice(0, foreign.chain.indexOf('-----END CERTIFICATE-----') + 26) + ca.intermediate,
          foreign.key,
          /certificate 1 of the chain \(CN=a.ird.gov.hk\) is not signed by certificate 2 \(CN=GovHost Test Intermediate\)/,
        ],
        ['ca-leaf', ca.intermediate, readKey(ca, 'int.key'), /is a CA certificate/],
      ];
      for (const [problem, chain, key, reason] of cases) {
        const r = checkCertificate(chain, key, now());
        assert.equal(r.ok, false, problem);
        if (r.ok) continue;
        assert.equal(r.problem, problem, `${problem}: ${r.reason}`);
        assert.match(r.reason, reason);
      }
    } finally {
      other.close();
    }
  });

  test('without a clock (the router reading its table) an expired certificate is readable', () => {
    const expired = ca.issue(['old.ird.gov.hk'], -1);
    assert.equal(checkCertificate(expired.chain, expired.key, null).ok, true);
  });
});

function readKey(ca: TestCa, name: string): string {
  return readFileSync(join(ca.dir, name), 'utf8');
}
