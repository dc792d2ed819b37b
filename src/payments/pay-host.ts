import type { Config } from '../platform/config.ts';
import { hostOf } from '../router/headers.ts';
import type { Route } from '../router/route-table.ts';

/** The host name citizens pay at: `pay.<GOVHOST_DOMAIN>` (docs/payments.md). */
export const payHostname = (domain: string) => `pay.${domain}`;

/** Where citizens reach the payment host: through the router, as they reach every service. */
export const payBaseUrl = (config: Pick<Config, 'domain' | 'routerPort'>) =>
  `http://${payHostname(config.domain)}${config.routerPort === 80 ? '' : `:${config.routerPort}`}`;

/** The hosted payment page of one payment. */
export const payPageUrl = (config: Pick<Config, 'domain' | 'routerPort'>, id: string) =>
  `${payBaseUrl(config)}/pay/${id}`;

/**
 * The host name a request was sent to, lower case, without its port and final dot: the router's
 * own reading of the Host header, so that every request the router sends here as the payment
 * host's is taken for one (`pay.localhost.` had reached the staff API and the console).
 */
export const requestHostname = (host: string | undefined): string => hostOf(host);

/**
 * The router's route for the payment host: to this platform's own server, whose address is known
 * only once it listens (`platformUrl`, `http://host:port`). A wildcard listen address is reached
 * on loopback, where the local router runs; on Kubernetes the router reaches the control plane's
 * service, as pods do.
 */
export function payHostRoute(
  config: Pick<Config, 'domain' | 'runtime' | 'k8sControlPlaneUrl'>,
  platformUrl: string,
): Route {
  const url =
    config.runtime === 'kubernetes'
      ? config.k8sControlPlaneUrl.replace(/\/$/, '')
      : platformUrl.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:');
  return {
    hostname: payHostname(config.domain),
    service: 'GovHost/pay',
    kind: 'proxy',
    // Its requests carry the router's platform key: live payment keys need to know they came by HTTPS.
    platform: true,
    backends: [{ id: 'govhost-platform', url }],
  };
}
