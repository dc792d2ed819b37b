import type { ClientConnection } from './client-conn.ts';
import type { RequestHead } from './http1-request.ts';

/**
 * ACME HTTP-01 (RFC 8555 §8.3): the CA fetches `http://<host>/.well-known/acme-challenge/<token>`
 * and expects the key authorization. The router answers it on its HTTP port from the route
 * table's `acmeChallenges`, for any host (a host is validated before its route exists) and before
 * any redirect to HTTPS or proxying: a service cannot answer, or spoil, another's challenge.
 */
export const ACME_CHALLENGE = '/.well-known/acme-challenge/';

/** True for a challenge path. Cheap for other requests: nearly every target fails at the `.`. */
export function isChallenge(target: string): boolean {
  return target.charCodeAt(1) === 46 && target.startsWith(ACME_CHALLENGE);
}

/** Answers a challenge request: the key authorization as text/plain, or 404 for an unknown token. */
export function answerChallenge(
  conn: ClientConnection,
  head: RequestHead,
  start: number,
  hasBody: boolean,
): void {
  const target = head.target;
  const q = target.indexOf('?');
  const token = target.slice(ACME_CHALLENGE.length, q === -1 ? undefined : q);
  const keyAuthorization = conn.ctx.index.challenge(token);
  if (keyAuthorization === undefined) {
    conn.page(head, 404, 'No ACME challenge is waiting for this token.', null, start, { close: hasBody });
    return;
  }
  if (head.method !== 'GET' && head.method !== 'HEAD') {
    conn.page(head, 405, undefined, null, start, { close: hasBody, extra: 'Allow: GET, HEAD\r\n' });
    return;
  }
  // The key authorization is base64url and a dot (checked with the table): one byte a character.
  const body = head.method === 'HEAD' ? '' : keyAuthorization;
  conn.reply(
    (close) =>
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n' +
      `Content-Length: ${keyAuthorization.length}\r\nCache-Control: no-store\r\n` +
      `${close ? 'Connection: close\r\n' : ''}\r\n${body}`,
    hasBody,
  );
}
