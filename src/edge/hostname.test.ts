import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nameCovers, normaliseHostname } from './hostname.ts';

test('a wildcard covers exactly one label', () => {
  assert.equal(nameCovers('*.ird.gov.hk', 'etax.ird.gov.hk'), true);
  assert.equal(nameCovers('*.ird.gov.hk', 'a.etax.ird.gov.hk'), false);
  assert.equal(nameCovers('*.ird.gov.hk', 'ird.gov.hk'), false);
  assert.equal(nameCovers('etax.ird.gov.hk', 'etax.ird.gov.hk'), true);
  assert.equal(nameCovers('etax.ird.gov.hk', 'x.ird.gov.hk'), false);
});

test('host names are normalised as the router matches them', () => {
  assert.equal(normaliseHostname('eTax.IRD.gov.hk.'), 'etax.ird.gov.hk');
  assert.throws(() => normaliseHostname('*.ird.gov.hk'), /wildcard/);
  assert.throws(() => normaliseHostname('https://etax.ird.gov.hk/'), /without scheme/);
});
