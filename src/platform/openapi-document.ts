/**
 * Final touches to the OpenAPI 3.0.3 document the route schemas generate:
 * - TypeBox writes JSON Schema 2020 numbers (`exclusiveMinimum: 0`), which OpenAPI 3.0 spells
 *   `minimum: 0, exclusiveMinimum: true`;
 * - the routes' shared `4xx`/`5xx` problem entries become the statuses each operation can answer,
 *   as `application/problem+json`: 400 for any input, 401 and 403 when it needs a token, 404 when
 *   its path, query or body names something that may not exist (a department, service, user or
 *   scenario), 409 for writes, 413 and 415 for a body, 500 always, and whatever a route declares
 *   itself (`problems(422)` for a refused bundle or role, 401/423/429 for a sign-in, …).
 */

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Rewrites 2020-style numeric exclusive bounds into OpenAPI 3.0's boolean form, in place. */
function exclusiveBounds(node: unknown): void {
  if (Array.isArray(node)) {
    for (const v of node) exclusiveBounds(v);
    return;
  }
  if (!isObject(node)) return;
  for (const [bound, flag] of [
    ['minimum', 'exclusiveMinimum'],
    ['maximum', 'exclusiveMaximum'],
  ] as const) {
    if (typeof node[flag] === 'number') {
      const limit = node[flag] as number;
      // Both given: the tighter one wins, as JSON Schema reads them together.
      const other = node[bound];
      const tighter = typeof other !== 'number' || (bound === 'minimum' ? limit >= other : limit <= other);
      if (tighter) {
        node[bound] = limit;
        node[flag] = true;
      } else delete node[flag];
    }
  }
  for (const v of Object.values(node)) exclusiveBounds(v);
}

const WRITES = new Set(['post', 'put', 'patch', 'delete']);
// Query parameters and body fields that name a thing to look up: unknown, it is a 404.
const REFERENCES = new Set(['department', 'service', 'user', 'scenario']);
const PROBLEM_TITLES: Record<string, string> = {
  '400': 'The request is not valid (a field, the query or the path)',
  '401': 'No valid token',
  '403': 'The caller’s role or token scope does not allow this',
  '404': 'Not found (or in another department)',
  '422': 'Well-formed, but not acceptable (a role, a bundle, a rule setting)',
  '423': 'Sign-in is locked for this user',
  '502': 'A notification could not be delivered',
  '409': 'Conflicts with the current state (exists already, in progress, over quota or capacity)',
  '413': 'The body is too large',
  '415': 'The body’s media type is not accepted',
  '429': 'Too many requests',
  '500': 'Internal error (logged; quote the request id)',
  '503': 'Not ready, or not available in this process',
};

/** Names of the operation's query parameters and JSON body fields. */
function referencesOf(op: Json): string[] {
  const params = Array.isArray(op.parameters)
    ? op.parameters.filter(isObject).map((p) => String(p.name))
    : [];
  const body = isObject(op.requestBody)
    ? (op.requestBody.content as Record<string, Json> | undefined)
    : undefined;
  const schema = body?.['application/json']?.schema;
  const fields = isObject(schema) && isObject(schema.properties) ? Object.keys(schema.properties) : [];
  return [...params, ...fields];
}

/** The statuses an operation's problems come with, derived as the module comment says. */
function problemStatuses(path: string, method: string, op: Json): string[] {
  const s = new Set(['400', '500']);
  if (Array.isArray(op.security) && op.security.length > 0) {
    s.add('401');
    s.add('403');
  }
  if (path.includes('{') || referencesOf(op).some((name) => REFERENCES.has(name))) s.add('404');
  if (WRITES.has(method)) s.add('409');
  if (op.requestBody) {
    s.add('413');
    s.add('415');
  }
  return [...s];
}

/** Applies both rewrites to a generated document; returns it. */
export function finishOpenApi<T>(doc: T): T {
  const d = doc as Json;
  exclusiveBounds(d.paths);
  exclusiveBounds(d.components);
  const operations = Object.entries((d.paths ?? {}) as Record<string, Json>).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([, op]) => isObject(op) && isObject(op.responses))
      .map(([method, op]) => ({
        path,
        method,
        op: op as Json,
        responses: (op as Json).responses as Record<string, Json>,
      })),
  );
  // The problem document's schema, as the routes' shared entry gives it.
  let problem: unknown;
  for (const { responses } of operations) {
    const generic = responses['4XX'] ?? responses['5XX'];
    problem ??= (generic?.content as Record<string, Json> | undefined)?.['application/json']?.schema;
  }
  for (const { path, method, op, responses } of operations) {
    delete responses['4XX'];
    delete responses['5XX'];
    const declared = Object.keys(responses).filter((k) => /^[45]\d\d$/.test(k));
    for (const status of new Set([...problemStatuses(path, method, op), ...declared])) {
      responses[status] = {
        description: PROBLEM_TITLES[status] ?? 'A problem',
        content: { 'application/problem+json': { schema: problem ?? { type: 'object' } } },
      };
    }
  }
  return doc;
}
