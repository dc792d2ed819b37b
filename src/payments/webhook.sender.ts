/**
 * Delivers payment webhooks from the outbox (decision 047). A hosted service is reached only through
 * the router, as citizens reach it: the POST goes to the router's listener with the webhook URL's
 * host name as Host, so the router picks the service's instances, and the platform never connects
 * to an instance's port itself. Signed as GovHost's notifications are (`X-GovHost-Signature` v1),
 * with the service's secret as it is when the attempt is made.
 */
import { lookup } from 'node:dns/promises';
import type { OutboxSender } from '../monitoring/notification.dispatcher.ts';
import { postWebhook } from '../monitoring/notification.senders.ts';
import type { Db } from '../platform/database.ts';
import { parseIp } from '../platform/ip.ts';
import type { SecretBox } from '../platform/secrets.ts';
import * as repo from './webhook.repository.ts';

/** The router's own address for a connection from this host: a wildcard listen address is loopback. */
async function routerAddress(routerUrl: string): Promise<{ address: string; family: 4 | 6; port: number }> {
  const r = new URL(routerUrl);
  const name = r.hostname.replace(/^\[|\]$/g, '');
  const address = name === '0.0.0.0' ? '127.0.0.1' : name === '::' ? '::1' : name;
  const port = Number(r.port) || 80;
  if (parseIp(address)) return { address, family: address.includes(':') ? 6 : 4, port };
  const found = await lookup(address);
  return { address: found.address, family: found.family === 6 ? 6 : 4, port };
}

/** The outbox's sender for `payments` rows; `routerUrl` is the running router's (null: none yet). */
export function paymentWebhookSender(deps: {
  db: Db;
  box: SecretBox;
  routerUrl: () => string | null;
}): OutboxSender {
  return async ({ target: serviceId, body }, timeoutMs) => {
    const hook = await repo.find(deps.db, serviceId);
    // Removed since it was queued: retried (it may be set again) until the outbox gives up.
    if (!hook) throw new Error('the service has no payment webhook now');
    const routerUrl = deps.routerUrl();
    if (!routerUrl) throw new Error('no router runs on this platform yet');
    const router = await routerAddress(routerUrl);
    // The hop from the platform to its router is plain HTTP inside the platform; the Host names
    // the service (its port, if any, is the citizen-facing one, which the router ignores).
    const url = new URL(hook.url);
    url.protocol = 'http:';
    const status = await postWebhook(url.toString(), deps.box.open(hook.secret_sealed), body, timeoutMs, {
      target: async () => ({ hostname: url.hostname, ...router }),
    });
    return `payment webhook ${hook.url} answered ${status} through the router`;
  };
}
