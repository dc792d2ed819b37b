/**
 * Network isolation of service users on this host, with nftables. Hosted apps run as their own OS
 * users; on loopback they may open connections only to the ports allowed here (the router's public
 * port, the local DNS resolver, later the package mirrors). Other instances, the API, the router's
 * admin port, a local database: refused, so a department reaches another only through the router.
 *
 * One table per install (its name from the data folder), so two installs on a host never touch
 * each other's rules; it matches the socket owner (`meta skuid`) against a set of this install's
 * service uids, kept up to date as users come and go.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';

/** A port service users may connect to on loopback. */
export interface AllowedPort {
  protocol: 'tcp' | 'udp';
  port: number;
}

export interface IsolationRules {
  /** nftables table (family inet) of this install. */
  table: string;
  /** Service users' uids the rules apply to. */
  uids: readonly number[];
  allowed: readonly AllowedPort[];
}

/** Whether the rules are in force, and if not, why, as status output says it. */
export interface IsolationReport {
  enforced: boolean;
  reason: string | null;
}

/** This install's table name, e.g. `govhost_1a2b3c4d`. */
export function isolationTable(dataDir: string): string {
  return `govhost_${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 8)}`;
}

const elements = (values: readonly number[]) =>
  values.length === 0 ? '' : ` elements = { ${[...new Set(values)].sort((a, b) => a - b).join(', ')} };`;

/**
 * The whole table as one `nft -f` script: it declares the table, deletes it, and makes it again,
 * all in one transaction, so rules left by a crashed run are replaced atomically and there is no
 * moment without them.
 */
export function renderRuleset(rules: IsolationRules): string {
  const ports = (p: 'tcp' | 'udp') => rules.allowed.filter((a) => a.protocol === p).map((a) => a.port);
  const t = rules.table;
  return `table inet ${t}
delete table inet ${t}
table inet ${t} {
  set service_uids { typeof meta skuid;${elements(rules.uids)} }
  set allowed_tcp { typeof tcp dport;${elements(ports('tcp'))} }
  set allowed_udp { typeof udp dport;${elements(ports('udp'))} }
  chain output {
    type filter hook output priority filter; policy accept;
    # Only connections a service user opens: the replies of its own listening sockets (to the
    # router) are established traffic and pass. Locally bound traffic always leaves through lo,
    # whichever of the host's addresses it is sent to.
    meta skuid @service_uids oifname "lo" ct state new jump service_loopback
  }
  chain service_loopback {
    tcp dport @allowed_tcp accept
    udp dport @allowed_udp accept
    meta l4proto tcp reject with tcp reset
    reject
  }
}
`;
}

/** Runs `nft` with `args`, feeding `input` on stdin; rejects with nft's own message. */
function nft(args: string[], input?: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile('nft', args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        reject(new Error(code === 'ENOENT' ? 'nft not found' : stderr.trim() || err.message));
      } else resolvePromise(stdout);
    });
    // nft may exit before it reads its stdin (`add element` never reads it; a ruleset it refuses
    // ends it early): the EPIPE that follows says nothing the exit status and stderr do not, and
    // unheard it would end the whole platform.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input ?? '');
  });
}

/** Why the rules cannot be installed here, or null when they can be tried. */
export function isolationUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'the platform is not running as root';
  return null;
}

/** Installs (or atomically replaces) the table. */
export async function applyRules(rules: IsolationRules): Promise<void> {
  await nft(['-f', '-'], renderRuleset(rules));
}

/** Removes the table; nothing to do when it is not there. */
export async function removeRules(table: string): Promise<void> {
  await nft(['-f', '-'], `table inet ${table}\ndelete table inet ${table}\n`);
}

/** Adds a service user's uid to the table's set (a user made after start). */
export async function addServiceUid(table: string, uid: number): Promise<void> {
  await nft(['add', 'element', 'inet', table, 'service_uids', `{ ${uid} }`]);
}

/** Takes a uid out of the set; nothing to do when it is not in it. */
export async function removeServiceUid(table: string, uid: number): Promise<void> {
  await nft(['delete', 'element', 'inet', table, 'service_uids', `{ ${uid} }`]).catch((err: Error) => {
    if (!/No such file or directory/.test(err.message)) throw err;
  });
}

/** The table as nft lists it, or null when it is not installed. */
export async function listRules(table: string): Promise<string | null> {
  return nft(['list', 'table', 'inet', table]).catch(() => null);
}
