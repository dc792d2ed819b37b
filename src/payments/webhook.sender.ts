/**
 * Delivers payment webhooks from the outbox (decisions 047 and 051). A hosted service is reached
 * only through the router, as citizens reach it, and the platform never connects to an instance's
 * port itself. An `https:` URL goes to the router's TLS listener with the URL's host name as SNI
 * and Host, pinned to the certificates the platform stored for that name, so the service sees it
 * as any citizen's HTTPS request (and its HTTPS redirect does not apply). An `http:` URL goes to
 * the router's plain listener, where a service that redirects to HTTPS answers 308. Signed as
 * GovHost's notifications are (`X-GovHost-Signature` v1), with the service's secret as it is when
 * the attempt is made.
 */
import { lookup } from 'node:dns/promises';
import { storedLeafFingerprints } from '../edge/certificates.logic.ts';
import { connectPinned } from '../edge/pinned-tls.ts';
import type { OutboxSender } from '../monitoring/notification.dispatcher.ts';
import { DeliveryError, postWebhook } from '../monitoring/notification.senders.ts';
import type { Db } from '../platform/database.ts';
import { parseIp } from '../platform/ip.ts';
import type { SecretBox } from '../platform/secrets.ts';
import * as repo from './webhook.repository.ts';

/** The router's own address for a connection from this host: a wildcard listen address is loopback. */
async function routerAddress(routerUrl: string): Promise<{ address: string; family: 4 | 6; port: number }> {
  const r = new URL(routerUrl);
  const name = r.hostname.replace(/^\[|\]$/g, '');
  const address = name === '0.0.0.0' ? '127.0.0.1' : name === '::' ? '::1' : name;
  const port = Number(r.port) || (r.protocol === 'https:' ? 443 : 80);
  if (parseIp(address)) return { address, family: address.includes(':') ? 6 : 4, port };
  const found = await lookup(address);
  return { address: found.address, family: found.family === 6 ? 6 : 4, port };
}

/** What the outbox records when a service redirects the plain-HTTP webhook (decision 051). */
const redirectedMessage = (url: URL, status: number) =>
  `HTTP ${status}: ${url.hostname} redirects plain HTTP to HTTPS, so a webhook to an http URL is never delivered; set the webhook URL to https://${url.hostname}${url.pathname}${url.search}`;

/**
 * The outbox's sender for `payments` rows. `routerUrl` is the running router's plain listener,
 * `routerHttpsUrl` its TLS listener (null: none, or no router yet).
 */
export function paymentWebhookSender(deps: {
  db: Db;
  box: SecretBox;
  routerUrl: () => string | null;
  routerHttpsUrl: () => string | null;
}): OutboxSender {
  return async ({ target: serviceId, body }, timeoutMs) => {
    const hook = await repo.find(deps.db, serviceId);
    // Removed since it was queued: retried (it may be set again) until the outbox gives up.
    if (!hook) throw new Error('the service has no payment webhook now');
    const url = new URL(hook.url);
    const secret = deps.box.open(hook.secret_sealed);
    if (url.protocol === 'https:') {
      const httpsUrl = deps.routerHttpsUrl();
      if (!httpsUrl)
        throw new Error(
          'the router serves no HTTPS (GOVHOST_ROUTER_HTTPS_PORT is not set, or no router runs here yet): an https webhook URL cannot be delivered',
        );
      const router = await routerAddress(httpsUrl);
      const fingerprints = await storedLeafFingerprints(deps.db, url.hostname);
      if (fingerprints.length === 0)
        throw new Error(
          `no valid certificate in the platform's store covers ${url.hostname}: the router cannot serve it over HTTPS (add one, or let ACME issue it)`,
        );
      const status = await postWebhook(url.toString(), secret, body, timeoutMs, {
        target: async () => ({ hostname: url.hostname, ...router }),
        // The connection is made, and the router's certificate compared, before a byte is sent.
        connect: () =>
          connectPinned({ ...router, servername: url.hostname, fingerprints, timeoutMs }).catch(
            (err: Error) => {
              throw new DeliveryError(`the router's HTTPS listener ${httpsUrl}: ${err.message}`);
            },
          ),
      }).catch((err: unknown) => {
        if (err instanceof DeliveryError && err.status !== null)
          throw new DeliveryError(
            `HTTP ${err.status} from ${hook.url} over HTTPS through the router`,
            err.status,
          );
        throw err;
      });
      return `payment webhook ${hook.url} answered ${status} through the router's HTTPS listener`;
    }
    const routerUrl = deps.routerUrl();
    if (!routerUrl) throw new Error('no router runs on this platform yet');
    const router = await routerAddress(routerUrl);
    // Host names the service (its port, if any, is the citizen-facing one, which the router ignores).
    try {
      const status = await postWebhook(url.toString(), secret, body, timeoutMs, {
        target: async () => ({ hostname: url.hostname, ...router }),
      });
      return `payment webhook ${hook.url} answered ${status} through the router`;
    } catch (err) {
      const status = err instanceof DeliveryError ? err.status : null;
      if (status === 301 || status === 308) throw new DeliveryError(redirectedMessage(url, status), status);
      throw err;
    }
  };
}
