/**
 * What the server's request log says about a request. Fastify's own serializer logs the whole
 * URL, query string included; a signed droplet URL's signature (or any token a client put in a
 * query string) would then sit in log files readable by operators who must not be able to fetch
 * with it. Values of such parameters are replaced before the line is written.
 */
import type { FastifyRequest } from 'fastify';

export const REDACTED = '[redacted]';

/** Parameter names whose values are credentials: signatures, tokens, keys, passwords. */
const SECRET_NAME = /sig|token|secret|key|pass|auth|cred|session|jwt|code/i;
/** Values that are credentials whatever their name: GovHost API tokens. */
const SECRET_VALUE = /^ghk_/;

function decoded(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/**
 * `url` with the values of credential-like query parameters replaced by `[redacted]`, the rest
 * kept as sent.
 *
 * @example redactQuery('/a?expires=1&signature=abc') // '/a?expires=1&signature=[redacted]'
 */
export function redactQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const [name, value] = [pair.slice(0, eq), pair.slice(eq + 1)];
      return SECRET_NAME.test(decoded(name)) || SECRET_VALUE.test(decoded(value))
        ? `${name}=${REDACTED}`
        : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

/** Fastify's request serializer, with the query string redacted. */
export function serializeRequest(req: FastifyRequest) {
  return {
    method: req.method,
    url: redactQuery(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}
