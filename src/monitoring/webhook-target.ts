/**
 * Where a webhook may go. Anyone who can add a channel chooses the URL the platform POSTs to,
 * from inside the platform's network: without a rule, a department could make GovHost call the
 * router's admin port, a database, or a cloud metadata service. So a webhook may reach only
 * public addresses, unless the operator lists a host or network in GOVHOST_WEBHOOK_ALLOW.
 *
 * The check runs twice: when the channel is added (a precise 400 for its author) and at every
 * delivery, on the addresses the host name resolves to then; the connection is made to the very
 * address that was checked, so a name that resolves to a public address for the check and to an
 * internal one a moment later (DNS rebinding) gains nothing.
 */
import { lookup } from 'node:dns/promises';
import { formatIp, inNetwork, type Network, parseIp, parseNetwork } from '../platform/ip.ts';

/** A host name's addresses, as `dns.lookup(name, { all: true })` gives them. */
export type Resolve = (hostname: string) => Promise<{ address: string; family: number }[]>;

export const systemResolve: Resolve = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** How long a name may take to resolve before the check gives up. */
const RESOLVE_TIMEOUT_MS = 5_000;

/** Address ranges no webhook reaches unless allowed, with what they are (for the message). */
const BLOCKED: [string, string][] = [
  ['0.0.0.0/32', 'the unspecified address'],
  ['0.0.0.0/8', 'a "this network" address'],
  ['127.0.0.0/8', 'a loopback address'],
  ['10.0.0.0/8', 'a private address'],
  ['172.16.0.0/12', 'a private address'],
  ['192.168.0.0/16', 'a private address'],
  // Carrier-grade NAT space: inside clouds it holds internal services (some metadata endpoints).
  ['100.64.0.0/10', 'a shared (carrier-grade NAT) address'],
  ['169.254.0.0/16', 'a link-local address'],
  ['192.0.0.0/24', 'a reserved address'],
  ['198.18.0.0/15', 'a reserved (benchmarking) address'],
  ['224.0.0.0/4', 'a multicast address'],
  ['240.0.0.0/4', 'a reserved address'],
  ['::/128', 'the unspecified address'],
  ['::1/128', 'a loopback address'],
  ['fe80::/10', 'a link-local address'],
  ['fec0::/10', 'a site-local address'],
  ['fc00::/7', 'a unique-local address'],
  ['ff00::/8', 'a multicast address'],
  ['100::/64', 'a reserved (discard) address'],
];
const BLOCKED_NETS = BLOCKED.map(([cidr, what]) => ({ net: parseNetwork(cidr) as Network, what }));

/** Why an address may not be reached (e.g. `a loopback address`), or null when it is public. */
export function internalKind(address: string): string | null {
  const ip = parseIp(address);
  if (!ip) return 'not an IP address';
  return BLOCKED_NETS.find((b) => inNetwork(ip, b.net))?.what ?? null;
}

export class WebhookTargetError extends Error {
  override name = 'WebhookTargetError';
  constructor(
    /** `forbidden`: internal and not allowed; `unresolved`: the name has no address now. */
    readonly reason: 'forbidden' | 'unresolved',
    message: string,
  ) {
    super(message);
  }
}

/** Where to connect for one delivery: the checked address, and the name for Host and TLS. */
export interface Target {
  hostname: string;
  address: string;
  family: 4 | 6;
  /** Another port than the URL's (a delivery through the router connects to the router's). */
  port?: number;
}

/** What a policy guards, for its messages, and how strict it is. */
export interface PolicyKind {
  /** Who is refused, e.g. `webhooks`. */
  subject: string;
  /** The variable an operator lists exceptions in. */
  variable: string;
  /**
   * Only listed hosts and networks may be reached, public or not: a legacy upstream of a
   * cut-over gets citizens' traffic, so an operator names each one (decision 035).
   */
  listedOnly: boolean;
}

const WEBHOOKS: PolicyKind = { subject: 'webhooks', variable: 'GOVHOST_WEBHOOK_ALLOW', listedOnly: false };

export class WebhookPolicy {
  private readonly hosts = new Set<string>();
  private readonly nets: Network[] = [];

  constructor(
    allow: readonly string[],
    private readonly resolve: Resolve = systemResolve,
    private readonly kind: PolicyKind = WEBHOOKS,
  ) {
    for (const entry of allow) {
      const net = parseNetwork(entry);
      if (net) this.nets.push(net);
      else this.hosts.add(entry.toLowerCase());
    }
  }

  /** The check when a channel is added: a listed host name needs no look-up. */
  async check(url: URL): Promise<void> {
    const name = url.hostname.toLowerCase().replace(/\.$/, '');
    if (this.hosts.has(name) && !parseIp(name)) return;
    await this.target(url);
  }

  /**
   * The address to connect to for `url`, after checking it: a listed host name is trusted
   * whatever it resolves to; otherwise every address of the name must be public or in a listed
   * network (one internal address among public ones is refused: it would be a coin toss).
   */
  async target(url: URL): Promise<Target> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new WebhookTargetError('forbidden', `${url.protocol} is not http or https`);
    }
    const hostname = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const literal = parseIp(hostname);
    if (literal) {
      this.mayReach(hostname, hostname);
      return { hostname, address: hostname, family: hostname.includes(':') ? 6 : 4 };
    }
    const name = hostname.replace(/\.$/, '');
    const addresses = await this.lookup(name);
    if (!this.hosts.has(name)) for (const a of addresses) this.mayReach(name, a.address);
    const first = addresses[0]!;
    return { hostname, address: first.address, family: first.family === 6 ? 6 : 4 };
  }

  private mayReach(name: string, address: string): void {
    const ip = parseIp(address);
    if (ip && this.nets.some((n) => inNetwork(ip, n))) return;
    const { subject, variable, listedOnly } = this.kind;
    const kind = internalKind(address) ?? (listedOnly ? 'not listed' : null);
    if (kind === null) return;
    // An IPv4 address carried in an IPv6 one is named too: it is the one that would be reached.
    const shown = ip?.v === 4 && address.includes(':') ? `${address} (${formatIp(ip)})` : address;
    const resolved = name === address ? `${shown} is` : `${name} resolves to ${shown},`;
    const rule = listedOnly
      ? `${subject} may only reach hosts and networks an operator lists in ${variable}`
      : `${subject} may only reach public addresses (an operator may allow this host or network in ${variable})`;
    throw new WebhookTargetError('forbidden', `${resolved} ${kind}: ${rule}`);
  }

  private async lookup(name: string): Promise<{ address: string; family: number }[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new WebhookTargetError(
              'unresolved',
              `${name} did not resolve within ${RESOLVE_TIMEOUT_MS / 1000} s`,
            ),
          ),
        RESOLVE_TIMEOUT_MS,
      );
    });
    try {
      const found = await Promise.race([this.resolve(name), timeout]);
      if (found.length === 0) throw new WebhookTargetError('unresolved', `${name} has no address`);
      return found;
    } catch (err) {
      if (err instanceof WebhookTargetError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new WebhookTargetError('unresolved', `${name} does not resolve (${code})`);
    } finally {
      clearTimeout(timer);
    }
  }
}
