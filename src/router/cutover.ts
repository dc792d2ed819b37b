import type { ClientInfo } from './headers.ts';
import type { RequestHead } from './http1-request.ts';
import type { Cutover } from './route-table.ts';

/**
 * Label under which a cut-over route's requests to its legacy upstream are counted; the new
 * release's stay under the service's own label. A service label never holds a space.
 */
export const legacyLabel = (service: string) => `${service} (legacy)`;

/** FNV-1a of a string, 32 bits: cheap, and spreads addresses that differ in one digit. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Whether `target` (origin-form) is `prefix` itself or below it, segment by segment. */
function underPrefix(target: string, prefix: string): boolean {
  if (!target.startsWith(prefix)) return false;
  if (target.length === prefix.length || prefix.endsWith('/')) return true;
  const next = target.charCodeAt(prefix.length);
  return next === 0x2f /* / */ || next === 0x3f /* ? */;
}

/**
 * The client a sticky cut-over keys on: the peer, or behind a trusted load balancer the address it
 * added last to X-Forwarded-For (the one the balancer saw; earlier entries are the client's word).
 */
function clientKey(head: RequestHead, client: ClientInfo): string {
  if (!client.trusted) return client.address;
  let last: string | null = null;
  for (let i = 0; i < head.lower.length; i++) if (head.lower[i] === 'x-forwarded-for') last = head.values[i]!;
  if (last === null) return client.address;
  const comma = last.lastIndexOf(',');
  return (comma === -1 ? last : last.slice(comma + 1)).trim() || client.address;
}

/**
 * One route's split between its new release and the legacy upstream, built once per table. Not
 * sticky, requests take turns: of every 100 requests exactly `percent` go to the new release
 * (per router worker), so a shift is visible at once and measurable over a few hundred requests.
 */
export class CutoverSplit {
  readonly #percent: number;
  readonly #paths: readonly string[];
  readonly #sticky: boolean;
  #turn = 0;

  constructor(cutover: Cutover) {
    this.#percent = cutover.percent;
    this.#paths = cutover.newPaths ?? [];
    this.#sticky = cutover.sticky === true;
  }

  /** True when this request goes to the new release, false for the legacy upstream. */
  toNew(head: RequestHead, client: ClientInfo): boolean {
    const target = head.target;
    for (const p of this.#paths) if (underPrefix(target, p)) return true;
    const percent = this.#percent;
    if (percent === 100) return true;
    if (percent === 0) return false;
    if (this.#sticky) return fnv1a(clientKey(head, client)) % 100 < percent;
    this.#turn += percent;
    if (this.#turn < 100) return false;
    this.#turn -= 100;
    return true;
  }
}

/**
 * The request head with its Host header replaced by `host` (a legacy service that answers only to
 * its old name). X-Forwarded-Host still carries the citizen's host.
 */
export function withHost(head: RequestHead, host: string): RequestHead {
  const names: string[] = [];
  const values: string[] = [];
  const lower: string[] = [];
  for (let i = 0; i < head.names.length; i++) {
    if (head.lower[i] === 'host') continue;
    names.push(head.names[i]!);
    values.push(head.values[i]!);
    lower.push(head.lower[i]!);
  }
  names.push('Host');
  values.push(host);
  lower.push('host');
  return { ...head, names, values, lower, hostFromTarget: false };
}
