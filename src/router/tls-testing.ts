/**
 * Certificates for the TLS tests, made with Debian's `openssl` CLI in a temporary folder: a CA,
 * an intermediate, and leaves signed by it (EC P-256, fast to make). Tests skip, saying so, when
 * openssl is missing (`.ci/run` installs it).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';

export const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
export const NO_OPENSSL = !hasOpenssl && 'openssl is not installed (apt-get install openssl; .ci/run does)';

export interface Pem {
  chain: string;
  key: string;
}

/** A throwaway CA with an intermediate; `issue` makes leaves for DNS names. */
export class TestCa {
  readonly dir = mkdtempSync(join(tmpdir(), 'govhost-tls-'));
  #n = 0;
  /** The root's certificate (PEM): what a client trusts. */
  readonly root: string;
  readonly intermediate: string;

  constructor() {
    this.#ssl(
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2'],
      ...['-keyout', this.#p('root.key'), '-out', this.#p('root.pem'), '-subj', '/CN=GovHost Test Root'],
      ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'],
    );
    writeFileSync(this.#p('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n');
    this.#newKey('int.key');
    this.#ssl(
      'req',
      '-new',
      '-key',
      this.#p('int.key'),
      '-out',
      this.#p('int.csr'),
      '-subj',
      '/CN=GovHost Test Intermediate',
    );
    this.#sign('int.csr', 'root', 'ca.ext', 2, 'int.pem');
    this.root = readFileSync(this.#p('root.pem'), 'utf8');
    this.intermediate = readFileSync(this.#p('int.pem'), 'utf8');
  }

  /**
   * A leaf for `names` signed by the intermediate, chain = leaf + intermediate. `days` below 0
   * gives one that has expired.
   */
  issue(names: string[], days = 2): Pem {
    const n = ++this.#n;
    this.#newKey(`leaf${n}.key`);
    this.#ssl(
      'req',
      '-new',
      '-key',
      this.#p(`leaf${n}.key`),
      '-out',
      this.#p(`leaf${n}.csr`),
      '-subj',
      `/CN=${names[0]}`,
    );
    writeFileSync(this.#p(`leaf${n}.ext`), `subjectAltName=${names.map((d) => `DNS:${d}`).join(',')}\n`);
    this.#sign(`leaf${n}.csr`, 'int', `leaf${n}.ext`, days, `leaf${n}.pem`);
    return {
      chain: readFileSync(this.#p(`leaf${n}.pem`), 'utf8') + this.intermediate,
      key: readFileSync(this.#p(`leaf${n}.key`), 'utf8'),
    };
  }

  /** A fresh private key that belongs to no certificate. */
  strayKey(): string {
    this.#newKey('stray.key');
    return readFileSync(this.#p('stray.key'), 'utf8');
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  #p = (name: string) => join(this.dir, name);
  #ssl(...args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: 'pipe' });
  }
  #newKey(name: string): void {
    this.#ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', this.#p(name));
  }
  #sign(csr: string, ca: string, ext: string, days: number, out: string): void {
    this.#ssl(
      ...['x509', '-req', '-in', this.#p(csr), '-CA', this.#p(`${ca}.pem`), '-CAkey', this.#p(`${ca}.key`)],
      ...['-CAcreateserial', '-days', String(days), '-extfile', this.#p(ext), '-out', this.#p(out)],
    );
  }
}

export interface Handshake {
  /** The certificate the router showed, or null when the handshake failed before one. */
  cert: PeerCertificate | null;
  error: string | null;
  protocol: string | null;
}

/** Opens a TLS connection to the router with `servername` as SNI (null: none) and closes it. */
export function handshake(port: number, servername: string | null, ca: string): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ca,
      // Without SNI there is no name to check; the test looks at what the router showed.
      ...(servername === null ? { checkServerIdentity: () => undefined } : { servername }),
    });
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      resolve({ cert, error: null, protocol: socket.getProtocol() });
      socket.destroy();
    });
    socket.once('error', (err) => {
      const cert = socket.getPeerCertificate();
      resolve({
        cert: cert && Object.keys(cert).length > 0 ? cert : null,
        error: err.message,
        protocol: null,
      });
      socket.destroy();
    });
  });
}
