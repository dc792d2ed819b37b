/**
 * When live payment keys work (decision 049): live money needs a live provider (a real acquirer's
 * adapter, or the sandbox standing in when configured so) and HTTPS from the caller to the
 * platform, which the platform knows only of requests that came through the router's TLS
 * listener. The router proves that a request came through it with its platform key
 * (`X-GovHost-Router-Key`, router/probe-key.ts), which it adds only to the platform's own routes
 * and drops from clients; only then is its X-Forwarded-Proto believed.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../platform/config.ts';
import { PLATFORM_KEY_HEADER } from '../router/probe-key.ts';
import { payHostname } from './pay-host.ts';
import type { KeyMode } from './payments.tables.ts';
import { httpProvider, type PaymentProvider } from './provider.ts';

/** What this process knows of the router in front of it; null when it runs none (an API-only replica). */
export interface RouterTrust {
  platformKey: string;
  servesHttps: boolean;
}

/** The providers of the two modes: test payments reach only the sandbox. */
export interface Providers {
  test: PaymentProvider | null;
  live: PaymentProvider | null;
}

export function paymentProviders(
  config: Pick<Config, 'paymentsSandboxUrl' | 'paymentsLiveProviderUrl'>,
): Providers {
  const live = config.paymentsLiveProviderUrl;
  const liveUrl = live === 'sandbox' ? config.paymentsSandboxUrl : live;
  return {
    test: config.paymentsSandboxUrl ? httpProvider(config.paymentsSandboxUrl) : null,
    live: liveUrl ? httpProvider(liveUrl) : null,
  };
}

export const providerFor = (providers: Providers, mode: KeyMode) => providers[mode];

/** The modes whose payments the sandbox holds: test ones, and live ones when it stands in. */
export const sandboxModes = (config: Pick<Config, 'paymentsLiveProviderUrl'>): KeyMode[] =>
  config.paymentsLiveProviderUrl === 'sandbox' ? ['test', 'live'] : ['test'];

/** Why no live key can be made here, or null when one can. */
export function liveKeysUnavailable(
  config: Pick<Config, 'paymentsSandboxUrl' | 'paymentsLiveProviderUrl'>,
  router: RouterTrust | null,
): string | null {
  if (!config.paymentsLiveProviderUrl)
    return 'no live payment provider is configured (GOVHOST_PAYMENTS_LIVE_PROVIDER_URL)';
  if (config.paymentsLiveProviderUrl === 'sandbox' && !config.paymentsSandboxUrl)
    return 'the live provider is the sandbox, and no sandbox is configured (GOVHOST_PAYMENTS_SANDBOX_URL)';
  if (!router?.servesHttps)
    return 'the router does not serve HTTPS (GOVHOST_ROUTER_HTTPS_PORT), or this process does not run it';
  return null;
}

/** True when the request came through the router's HTTPS listener (see the top of this file). */
export function cameOverHttps(headers: IncomingHttpHeaders, router: RouterTrust | null): boolean {
  const given = headers[PLATFORM_KEY_HEADER];
  if (!router || typeof given !== 'string') return false;
  const want = Buffer.from(router.platformKey);
  const got = Buffer.from(given);
  return got.length === want.length && timingSafeEqual(got, want) && headers['x-forwarded-proto'] === 'https';
}

/** Why this request may not use a live key, or null when it may. */
export function liveRequestRefused(
  config: Pick<Config, 'domain' | 'paymentsSandboxUrl' | 'paymentsLiveProviderUrl'>,
  router: RouterTrust | null,
  headers: IncomingHttpHeaders,
): string | null {
  const why = liveKeysUnavailable(config, router);
  if (why) return `live payment keys cannot be used here: ${why}`;
  if (!cameOverHttps(headers, router))
    return `a live payment key is accepted only over HTTPS through the router, at https://${payHostname(config.domain)}/api/v1/payments`;
  return null;
}
