import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, ERROR_CODES, type ErrorCode } from './errors.ts';
import type { FieldError } from './validation.ts';

/** `type` URI of a problem: stable, derived from its code. */
export const problemType = (code: ErrorCode) =>
  `urn:govhost:problem:${code
    .replace(/^GOVHOST_/, '')
    .toLowerCase()
    .replaceAll('_', '-')}`;

// Fastify's own errors for what a client sent, with the code we answer them with.
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'GOVHOST_INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'GOVHOST_INVALID_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'GOVHOST_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'GOVHOST_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'GOVHOST_BAD_REQUEST',
};

function send(
  reply: FastifyReply,
  req: FastifyRequest,
  code: ErrorCode,
  detail: string,
  ext: Record<string, unknown> = {},
) {
  const { status, title } = ERROR_CODES[code];
  return reply
    .status(status)
    .type('application/problem+json')
    .send({
      type: problemType(code),
      title,
      status,
      detail,
      code,
      instance: req.url,
      requestId: req.id,
      ...ext,
    });
}

/**
 * Fastify's `frameworkErrors`: a URL the router cannot read (a broken %-escape, a path segment past
 * `maxParamLength`) is answered like any bad input, not with Fastify's own JSON.
 */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  const detail =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? `a path segment is longer than ${MAX_PARAM_LENGTH} characters`
      : `the path is not a valid URL: ${err.message}`;
  return send(reply, req, 'GOVHOST_BAD_REQUEST', detail);
}

/**
 * The longest path segment the router reads: a 200-character subject (the longest a path
 * parameter's schema allows) percent-encoded as UTF-8 takes up to 1,800.
 */
export const MAX_PARAM_LENGTH = 2048;

/** The one place where errors become RFC 9457 problem documents. */
export function registerProblemHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError & { fieldErrors?: FieldError[] }, req, reply) => {
    if (err instanceof DomainError) {
      // A problem that says how long to wait says it in the header too, where clients look.
      const wait = err.extensions.retryAfter;
      if (typeof wait === 'number') reply.header('retry-after', String(wait));
      return send(reply, req, err.code, err.message, err.extensions);
    }
    if (err.code === 'FST_ERR_VALIDATION') {
      const where = err.validationContext ?? 'request';
      const errors = (err.fieldErrors ?? []).map((f) => ({ ...f, field: `${where}${f.field}` }));
      const detail = errors.map((e) => `${e.field} ${e.message}`).join('; ') || err.message;
      return send(reply, req, 'GOVHOST_VALIDATION', detail, { errors });
    }
    const mapped = err.code ? FASTIFY_CODES[err.code] : undefined;
    if (mapped) return send(reply, req, mapped, err.message);
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return send(reply, req, 'GOVHOST_BAD_REQUEST', err.message);
    }
    // Internals stay in the log; the client gets the request id to quote.
    req.log.error({ err }, 'request failed');
    return send(reply, req, 'GOVHOST_INTERNAL', `an internal error occurred; quote request id ${req.id}`);
  });
  app.setNotFoundHandler((req, reply) =>
    send(reply, req, 'GOVHOST_ROUTE_NOT_FOUND', `no endpoint ${req.method} ${req.url.split('?')[0]}`),
  );
}
