/**
 * A TLS connection from the platform to its own router, trusting only what the platform itself
 * stored for the name (decision 051): the router serves the certificates of this store, so the
 * leaf it presents for a name must be one of them, byte for byte. No CA list is involved. The
 * system's would refuse an operator's private CA or a test CA, and would accept any certificate a
 * public CA issued for the name to someone else.
 *
 * Node (20) checks a chain only up to a self-signed root it is given; a stored chain often has
 * none (ACME sends leaf and intermediate), so the chain is not what is checked. The handshake
 * still proves the router holds the leaf's key (TLS's CertificateVerify), and the leaf is compared
 * with the stored ones before the caller gets the socket: nothing is written on a connection
 * whose certificate is not the platform's own.
 */
import { createHash } from 'node:crypto';
import { connect, type TLSSocket } from 'node:tls';

/** The router answered with a certificate the store does not hold for the name, or no handshake. */
export class PinnedTlsError extends Error {
  override name = 'PinnedTlsError';
}

export interface PinnedTarget {
  /** An IP address (the router's, looked up already). */
  address: string;
  port: number;
  /** Sent as SNI: the router picks its certificate by it. */
  servername: string;
  /** SHA-256 of each acceptable leaf's DER, hex (`storedLeafFingerprints`). */
  fingerprints: readonly string[];
  timeoutMs: number;
}

const leafFingerprint = (socket: TLSSocket): string | null => {
  const leaf = socket.getPeerX509Certificate();
  return leaf ? createHash('sha256').update(leaf.raw).digest('hex') : null;
};

/** Resolves with the socket once the handshake is done and the leaf is a stored one; else rejects. */
export function connectPinned(t: PinnedTarget): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    if (t.fingerprints.length === 0) {
      reject(new PinnedTlsError(`the platform stores no valid certificate for ${t.servername}`));
      return;
    }
    const socket = connect({
      host: t.address,
      port: t.port,
      servername: t.servername,
      minVersion: 'TLSv1.2',
      ALPNProtocols: ['http/1.1'],
      // Trust is the pin below, not a CA list (see the top of the file): an unverified chain must
      // not end the handshake before the leaf can be compared.
      rejectUnauthorized: false,
    });
    const timer = setTimeout(
      () => socket.destroy(new PinnedTlsError(`no TLS handshake within ${t.timeoutMs} ms`)),
      t.timeoutMs,
    );
    // Kept after the handover as well (a settled promise ignores it): the HTTP client adds its own
    // listener a tick later, and an error in between must not go unhandled.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err instanceof PinnedTlsError ? err : new PinnedTlsError(err.code ?? err.message));
    });
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const got = leafFingerprint(socket);
      if (got !== null && t.fingerprints.includes(got)) {
        resolve(socket);
        return;
      }
      socket.destroy();
      reject(
        new PinnedTlsError(
          `the router presented a certificate for ${t.servername} that the platform did not store (sha256 ${got ?? 'none'})`,
        ),
      );
    });
  });
}
