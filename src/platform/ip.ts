/**
 * IP addresses and networks as bytes, for deciding where the platform may send a request: exact
 * prefix matching on 4 or 16 bytes, with IPv4 addresses carried inside IPv6 ones (`::ffff:a.b.c.d`
 * and the like) unwrapped to IPv4 first, so that one cannot slip past an IPv4 rule.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface Ip {
  v: 4 | 6;
  bytes: number[];
}

export interface Network extends Ip {
  prefix: number;
}

function ipv4Bytes(s: string): number[] | null {
  if (!isIPv4(s)) return null;
  return s.split('.').map(Number);
}

function ipv6Bytes(s: string): number[] | null {
  if (!isIPv6(s)) return null;
  let text = s.toLowerCase().replace(/%.*$/, '');
  // A dotted IPv4 tail stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  const v4 = ipv4Bytes(text.slice(lastColon + 1));
  if (v4) {
    const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
    text = `${text.slice(0, lastColon + 1)}${hex(v4[0]!, v4[1]!)}:${hex(v4[2]!, v4[3]!)}`;
  }
  const groupsOf = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const double = text.indexOf('::');
  let groups: number[];
  if (double === -1) {
    groups = groupsOf(text);
  } else {
    const head = groupsOf(text.slice(0, double));
    const rest = groupsOf(text.slice(double + 2));
    groups = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  }
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) return null;
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

const startsWith = (bytes: number[], prefix: number[]) => prefix.every((b, i) => bytes[i] === b);
const zeros = (n: number) => new Array<number>(n).fill(0);

/**
 * Parses an IPv4 or IPv6 address (brackets and a zone allowed). An IPv6 address that carries an
 * IPv4 one is returned as that IPv4 address: IPv4-mapped `::ffff:0:0/96`, the old IPv4-compatible
 * `::/96` (except `::` and `::1`), and the NAT64 prefix `64:ff9b::/96`, which a NAT64 gateway
 * forwards to the IPv4 address inside.
 */
export function parseIp(raw: string): Ip | null {
  const s = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
  const v4 = ipv4Bytes(s);
  if (v4) return { v: 4, bytes: v4 };
  const v6 = ipv6Bytes(s);
  if (!v6) return null;
  const unspecifiedOrLoopback = startsWith(v6, zeros(15)) && v6[15]! <= 1;
  const embedded =
    startsWith(v6, [...zeros(10), 0xff, 0xff]) ||
    startsWith(v6, [0, 0x64, 0xff, 0x9b, ...zeros(8)]) ||
    (startsWith(v6, zeros(12)) && !unspecifiedOrLoopback);
  if (embedded) return { v: 4, bytes: v6.slice(12) };
  return { v: 6, bytes: v6 };
}

/** `10.0.0.0/8`, `fd00::/8`, or a single address (the whole width). Null when it is not one. */
export function parseNetwork(raw: string): Network | null {
  const slash = raw.indexOf('/');
  const addr = slash === -1 ? raw : raw.slice(0, slash);
  const ip = parseIp(addr);
  if (!ip) return null;
  const width = ip.v === 4 ? 32 : 128;
  if (slash === -1) return { ...ip, prefix: width };
  const p = raw.slice(slash + 1);
  if (!/^\d{1,3}$/.test(p)) return null;
  let prefix = Number(p);
  // `::ffff:10.0.0.0/104` names an IPv4 network: its prefix counts the IPv6 bits before it.
  if (ip.v === 4 && isIPv6(addr.replace(/^\[|\]$/g, ''))) prefix -= 96;
  if (prefix < 0 || prefix > width) return null;
  return { ...ip, prefix };
}

export function inNetwork(ip: Ip, net: Network): boolean {
  if (ip.v !== net.v) return false;
  let bits = net.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip.bytes[i]! & mask) !== (net.bytes[i]! & mask)) return false;
  }
  return true;
}

/** The address in its usual text form (IPv6 without compression: it is only for messages and sockets). */
export function formatIp(ip: Ip): string {
  if (ip.v === 4) return ip.bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((ip.bytes[i]! << 8) | ip.bytes[i + 1]!).toString(16));
  return groups.join(':');
}
