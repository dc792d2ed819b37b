// When live payment keys may be made and used (decision 049), as pure rules: the live provider's
// setting, the reasons a live key is refused, and how a request proves it came over HTTPS through
// the router. The same rules through the API: payments.test.ts ("live keys"), and the router's
// side of the proof: router.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../platform/config.ts';
import { cameOverHttps, liveKeysUnavailable, paymentProviders, sandboxModes } from './live-mode.ts';

const router = { platformKey: 'p'.repeat(43), servesHttps: true };
const base = { paymentsSandboxUrl: 'http://127.0.0.1:7090', paymentsLiveProviderUrl: null };

describe('live payment keys', () => {
  it('the live provider is an https adapter, or the sandbox named plainly', () => {
    const load = (v: string) => loadConfig({ GOVHOST_PAYMENTS_LIVE_PROVIDER_URL: v }, { dataDir: '/tmp/x' });
    assert.equal(
      load('https://acquirer.example.gov.hk/').paymentsLiveProviderUrl,
      'https://acquirer.example.gov.hk',
    );
    assert.equal(load('sandbox').paymentsLiveProviderUrl, 'sandbox');
    assert.throws(() => load('http://acquirer.example.gov.hk'), /GOVHOST_PAYMENTS_LIVE_PROVIDER_URL.*https/);
    assert.equal(paymentProviders({ ...base, paymentsLiveProviderUrl: null }).live, null);
    assert.deepEqual(sandboxModes({ paymentsLiveProviderUrl: 'sandbox' }), ['test', 'live']);
    assert.deepEqual(sandboxModes({ paymentsLiveProviderUrl: 'https://a.example' }), ['test']);
  });

  it('are refused, saying why, without a live provider or a router serving HTTPS', () => {
    assert.match(liveKeysUnavailable(base, router) ?? '', /GOVHOST_PAYMENTS_LIVE_PROVIDER_URL/);
    const live = { ...base, paymentsLiveProviderUrl: 'sandbox' };
    assert.match(
      liveKeysUnavailable({ ...live, paymentsSandboxUrl: null }, router) ?? '',
      /GOVHOST_PAYMENTS_SANDBOX_URL/,
    );
    assert.match(liveKeysUnavailable(live, { ...router, servesHttps: false }) ?? '', /HTTPS_PORT/);
    assert.match(liveKeysUnavailable(live, null) ?? '', /does not run it/);
    assert.equal(liveKeysUnavailable(live, router), null);
  });

  it("believe X-Forwarded-Proto only next to the router's own key", () => {
    const key = router.platformKey;
    assert.equal(cameOverHttps({ 'x-govhost-router-key': key, 'x-forwarded-proto': 'https' }, router), true);
    assert.equal(cameOverHttps({ 'x-forwarded-proto': 'https' }, router), false);
    assert.equal(cameOverHttps({ 'x-govhost-router-key': key, 'x-forwarded-proto': 'http' }, router), false);
    assert.equal(
      cameOverHttps({ 'x-govhost-router-key': `${key}x`, 'x-forwarded-proto': 'https' }, router),
      false,
    );
    assert.equal(cameOverHttps({ 'x-govhost-router-key': key, 'x-forwarded-proto': 'https' }, null), false);
  });
});
