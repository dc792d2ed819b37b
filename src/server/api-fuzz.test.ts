// test-seconds: 60
// Fuzzes every operation of the served OpenAPI document: valid and invalid requests generated from
// each operation's schemas (api-fuzz.arbitraries.ts), sent as a department developer and as a
// platform admin to the real app on a store with real things in it (api-fuzz.fixtures.ts).
// Asserts: no 5xx; every 4xx a problem document with a status the operation declares; nothing
// written on a 4xx; a request the schema refuses gets a 400 (415, 413); the audit chain verifies.
//
// Bounded: GOVHOST_FUZZ_CASES cases per operation and fuzzer (CI default below), seeded by
// GOVHOST_FUZZ_SEED (a fixed default, so CI is repeatable; the seed is printed on failure), and
// cut at GOVHOST_FUZZ_SECONDS, cases taken round-robin so a cut leaves every operation covered.
//
// It runs on PGlite only (docs/decisions/015-api-fuzz.md): what it tests is the HTTP layer and the
// logic behind it, which do not change with the store; PGlite is PostgreSQL, so a NUL byte or an
// overflow that slipped past validation fails the same way on both.
// test-store: once
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { verifyChain } from '../audit/audit.logic.ts';
import { serviceHostname } from '../catalog/service.logic.ts';
import { type TestApp, testApp } from '../test-support/app.ts';
import { type Hints, type Invalid, invalid, type Schema, valid } from './api-fuzz.arbitraries.ts';
import { type FuzzStore, fingerprinter, fuzzStore, realParams } from './api-fuzz.fixtures.ts';

const SEED = Number(process.env.GOVHOST_FUZZ_SEED ?? 20261206);
const CASES = Number(process.env.GOVHOST_FUZZ_CASES ?? 8);
const SECONDS = Number(process.env.GOVHOST_FUZZ_SECONDS ?? 45);

/**
 * Operations not fuzzed here, each with why. Deploying a bundle is fuzzed for what the document
 * can say of it (no body, a body that is not a bundle); a real bundle has its own suites.
 */
const EXCLUDED: Record<string, string> = {
  // Downloads the whole store as an archive; the API-only app holds no store handle, and its input
  // is only the token (backup.test.ts covers it).
  'GET /api/v1/backup': 'a whole-store download with no input but the token',
};

/** Operations whose refusals write on purpose (what the 4xx's "nothing written" check allows). */
const RECORDED_REFUSALS = new Set(['POST /api/v1/auth/login', 'POST /api/v1/auth/session']);

interface Operation {
  method: string;
  path: string;
  parameters: { name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema: Schema }[];
  body: Schema | null;
  declared: Set<number>;
}

interface Case {
  mode: string;
  /** Real ids (an index into the live rows) or a generated value, per path parameter. */
  path: Record<string, { real: number | null; value: unknown }>;
  query: Record<string, unknown>;
  /** Headers the operation takes (a payment's Idempotency-Key): without them it never got past 400. */
  headers: Record<string, unknown>;
  /** A raw body is made when sent: a megabyte per case would otherwise sit in memory all run. */
  body?: { json: unknown } | { raw: () => string; type: string };
  /** The statuses a refused request must get; absent for requests the schema accepts. */
  expect?: number[];
  why: string;
}

function operations(spec: {
  paths: Record<string, Record<string, Record<string, unknown> & { responses: object }>>;
}): Operation[] {
  return Object.entries(spec.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      parameters: (op.parameters ?? []) as Operation['parameters'],
      body:
        ((op.requestBody as { content?: Record<string, { schema: Schema }> } | undefined)?.content?.[
          'application/json'
        ]?.schema as Schema | undefined) ?? null,
      declared: new Set(Object.keys(op.responses).map(Number)),
    })),
  );
}

const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** The cases for one operation: most valid, the rest refused for one reason each. */
function caseArbitrary(op: Operation, hints: Hints, bodyLimit: number): fc.Arbitrary<Case> {
  const inPath = op.parameters.filter((p) => p.in === 'path');
  const inQuery = op.parameters.filter((p) => p.in === 'query');
  const inHeader = op.parameters.filter((p) => p.in === 'header');
  // Following logs streams until the client leaves: a case sends follow=false.
  const querySchema = (p: Operation['parameters'][number]) =>
    p.name === 'follow' && op.path.endsWith('/logs') ? { enum: [false] } : p.schema;
  const path = fc.record(
    Object.fromEntries(
      inPath.map((p) => [
        p.name,
        fc.record({
          real: fc.option(fc.nat(), { freq: 8, nil: null }).map((n) => (n === null ? null : n)),
          value: valid(p.schema),
        }),
      ]),
    ),
  );
  const query = fc.record(
    Object.fromEntries(inQuery.map((p) => [p.name, hints[p.name] ?? valid(querySchema(p))])),
    {
      requiredKeys: inQuery.filter((p) => p.required).map((p) => p.name),
    },
  );
  const headers = fc.record(Object.fromEntries(inHeader.map((p) => [p.name, valid(p.schema)])), {
    requiredKeys: inHeader.filter((p) => p.required).map((p) => p.name),
  });
  const body = op.body ? valid(op.body, hints).map((json) => ({ json })) : fc.constant(undefined);
  const good = fc.record({ path, query, headers, body }).map((c) => ({ ...c, mode: 'valid', why: 'valid' }));
  const variants: fc.Arbitrary<Case>[] = [good, good, good];
  const refused = (arb: fc.Arbitrary<Invalid>, f: (c: Case, b: Invalid) => Case) =>
    fc.tuple(good, arb).map(([c, b]) => f(c, b));
  for (const p of inPath) {
    const bad = invalid(p.schema, true);
    if (bad) {
      variants.push(
        refused(bad, (c, b) => ({
          ...c,
          mode: 'bad path',
          path: { ...c.path, [p.name]: { real: null, value: b.value } },
          // A value that is no path segment (empty) finds no route at all.
          expect: [400, 404],
          why: `path ${p.name}: ${b.why}`,
        })),
      );
    }
  }
  for (const p of inPath.slice(0, 1)) {
    // What the router itself refuses, before any schema: written as is, not encoded.
    const raw = (why: string, value: string, expect: number[]) =>
      good.map((c) => ({
        ...c,
        mode: 'bad path',
        path: { ...c.path, [p.name]: { real: null, value: { raw: value } } },
        expect,
        why: `path ${p.name}: ${why}`,
      }));
    variants.push(
      raw('a broken %-escape', '%E0%A4%A', [400]),
      // The router finds no route for some such paths, and says a segment is too long for others.
      raw('a segment past the router limit', 'x'.repeat(3000), [400, 404]),
    );
  }
  for (const p of inQuery) {
    const bad = invalid(querySchema(p), true);
    if (bad) {
      variants.push(
        refused(bad, (c, b) => ({
          ...c,
          mode: 'bad query',
          query: { ...c.query, [p.name]: b.value },
          expect: [400],
          why: `query ${p.name}: ${b.why}`,
        })),
      );
    }
  }
  for (const p of inHeader) {
    // Only what HTTP can carry in a header: the client refuses to send a control character.
    const bad = invalid(p.schema, true)?.filter((b) => /^[\x20-\x7e]*$/.test(String(b.value)));
    if (bad) {
      variants.push(
        refused(bad, (c, b) => ({
          ...c,
          mode: 'bad header',
          headers: { ...c.headers, [p.name]: b.value },
          expect: [400],
          why: `header ${p.name}: ${b.why}`,
        })),
      );
    }
  }
  if (op.body) {
    const bad = invalid(op.body);
    if (bad) {
      const badBody = refused(bad, (c, b) => ({
        ...c,
        mode: 'bad body',
        body: { json: b.value },
        expect: [400],
        why: `body ${b.why}`,
      }));
      variants.push(badBody, badBody);
    }
    const textField =
      Object.entries(op.body.properties ?? {}).find(([, v]) => v.type === 'string')?.[0] ?? 'huge';
    const raw = (why: string, rawText: () => string, type: string, expect: number) =>
      good.map((c) => ({ ...c, mode: 'bad body', body: { raw: rawText, type }, expect: [expect], why }));
    variants.push(
      raw('invalid JSON', () => '{"a":', 'application/json', 400),
      raw('a form body', () => 'a=1', 'application/x-www-form-urlencoded', 415),
      // Within the limit: the schema refuses it (a text field's maxLength, or an unknown field).
      // Past it: the parser does, before any schema.
      raw(
        'a huge string within the body limit',
        () => JSON.stringify({ [textField]: 'x'.repeat(bodyLimit - 64) }),
        'application/json',
        400,
      ),
      raw(
        'a body past the limit',
        () => JSON.stringify({ huge: 'x'.repeat(bodyLimit + 1) }),
        'application/json',
        413,
      ),
    );
  }
  return fc.oneof(...variants);
}

/** A lone surrogate has no UTF-8 form: a client sends U+FFFD for it, as URL encoders do. */
const wellFormed = (s: string) =>
  s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

async function build(t: TestApp, store: FuzzStore, op: Operation, c: Case) {
  let url = op.path;
  const placeholders = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
  if (placeholders.length > 0) {
    const rows = await realParams(t, store, op.path);
    for (const name of placeholders) {
      const choice = c.path[name];
      // A real value most of the time; a generated one where none exists (yet) or by choice.
      const real =
        choice?.real != null && rows.length > 0 ? rows[choice.real % rows.length]?.[name] : undefined;
      const value = real ?? choice?.value;
      const raw = typeof value === 'object' && value !== null && 'raw' in value ? String(value.raw) : null;
      url = url.replace(`{${name}}`, raw ?? encodeURIComponent(wellFormed(text(value))));
    }
  }
  const qs = new URLSearchParams(
    Object.entries(c.query).map(([k, v]): [string, string] => [k, text(v)]),
  ).toString();
  if (qs) url += `?${qs}`;
  const headers = Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k, text(v)]));
  const body = c.body;
  if (!body) return { url, headers };
  if ('raw' in body) return { url, payload: body.raw(), headers: { ...headers, 'content-type': body.type } };
  return {
    url,
    payload: JSON.stringify(body.json),
    headers: { ...headers, 'content-type': 'application/json' },
  };
}

describe('API fuzz: every operation of the served document', () => {
  let t: TestApp;
  let store: FuzzStore;
  before(async () => {
    t = await testApp();
    store = await fuzzStore(t);
  });
  after(() => t.close());

  it('answers valid and invalid requests without a 5xx, with declared problems, writing nothing on a 4xx', async (ctx) => {
    const spec = (await t.request(null, { method: 'GET', url: '/api/v1/openapi.json' })).json();
    const ops = operations(spec).filter((op) => !EXCLUDED[`${op.method} ${op.path}`]);
    const [a, b] = store.departments as [string, string];
    const hints: Hints = {
      // Webhooks and mail stay on this machine: loopback targets are refused before any traffic.
      url: fc.constantFrom('http://127.0.0.1:9/hook', 'https://localhost/hook', 'not a url at all'),
      // A payment's way back: on the payment key's service's own host (else 422), or elsewhere.
      returnUrl: fc.constantFrom(
        `http://${serviceHostname(store.paymentService.slug, store.paymentService.department, t.config.domain)}/done`,
        `https://${serviceHostname(store.paymentService.slug, store.paymentService.department, t.config.domain)}/done?ref=1`,
        'https://evil.example/',
      ),
      department: fc.oneof(fc.constantFrom(a, b), fc.stringMatching(/^[A-Z][A-Z0-9]{1,9}$/)),
      service: fc.constantFrom(`${a}/portal`, `${a}/forms`, `${b}/elsewhere`, `${a}/none`),
      user: fc.constantFrom(...store.ownUsers, 'nobody'),
      // A long poll's wait is valid up to a minute, and a minute is what such a case would cost
      // the run: the answers, not the waiting, are what is fuzzed (invalid waits are still sent).
      waitSec: fc.integer({ min: 0, max: 1 }),
    };
    const digest = await fingerprinter(t);
    const plan = ops.flatMap((op, i) =>
      store.fuzzers.map((fuzzer, j) => ({
        op,
        fuzzer,
        cases: fc.sample(caseArbitrary(op, hints, t.config.bodyLimit), {
          seed: SEED + i * 7 + j,
          numRuns: CASES,
        }),
      })),
    );
    // Deletions go last in each round, so that what they remove was fuzzed first.
    plan.sort((x, y) => Number(x.op.method === 'DELETE') - Number(y.op.method === 'DELETE'));
    const failures: string[] = [];
    const seen = new Map<string, Map<number, number>>();
    // The first 400 that a schema-valid case got, per operation: how to read coverage (a rule
    // beyond the schema, e.g. dates in order, refuses most generated requests).
    const refusedValid = new Map<string, string>();
    const started = Date.now();
    let sent = 0;
    let cut = false;
    let before = await digest();
    rounds: for (let round = 0; round < CASES; round++) {
      for (const { op, fuzzer, cases } of plan) {
        if (Date.now() - started > SECONDS * 1000) {
          cut = true;
          break rounds;
        }
        const c = cases[round] as Case;
        const req = await build(t, store, op, c);
        // The payments API for hosted services takes a payment key, never a staff token.
        const token = op.path.startsWith('/api/v1/payments') ? store.paymentKey : fuzzer.token;
        const res = await t.request(token, { method: op.method as 'GET', ...req });
        sent++;
        const key = `${op.method} ${op.path}`;
        if (!c.expect && res.statusCode === 400 && !refusedValid.has(key)) {
          refusedValid.set(key, `${c.why}: ${res.json().detail}`.slice(0, 200));
        }
        const counts = seen.get(key) ?? new Map<number, number>();
        counts.set(res.statusCode, (counts.get(res.statusCode) ?? 0) + 1);
        seen.set(key, counts);
        const after = await digest();
        // A failed sign-in is counted and audited on purpose: that is how throttling and the
        // audit trail see password guessing.
        const recorded = RECORDED_REFUSALS.has(key) && res.statusCode === 401;
        const problems = check(op, c, res, before !== after && !recorded);
        before = after;
        for (const p of problems) {
          failures.push(
            `${p}\n    as ${fuzzer.name}: ${op.method} ${req.url.slice(0, 300)}\n    case: ${c.why}; body ${text(req.payload ?? '').slice(0, 300)}\n    answer: ${res.statusCode} ${res.body.slice(0, 300)}`,
          );
        }
        // A failed sign-in is a 401 of its own; any other means the run locked itself out.
        if (
          res.statusCode === 401 &&
          (await t.request(fuzzer.token, { method: 'GET', url: '/api/v1/me' })).statusCode === 401
        ) {
          throw new Error(`${fuzzer.name} lost its token at ${key}: ${res.body}`);
        }
        if (
          res.statusCode === 401 &&
          token === store.paymentKey &&
          (await t.request(token, { method: 'GET', url: '/api/v1/payments?limit=1' })).statusCode === 401
        ) {
          throw new Error(`the run lost its payment key at ${key}: ${res.body}`);
        }
      }
    }
    const summary = [...seen].map(
      ([k, m]) =>
        `${k}: ${[...m].map(([s, n]) => `${s}×${n}`).join(' ')}${refusedValid.has(k) ? ` (valid refused: ${refusedValid.get(k)})` : ''}`,
    );
    ctx.diagnostic(
      `${sent} requests in ${Date.now() - started} ms, seed ${SEED}${cut ? ', cut by the time cap' : ''}`,
    );
    for (const line of summary) ctx.diagnostic(line);
    assert.equal(seen.size, ops.length, 'every operation got a case');
    const chain = await verifyChain(t.db);
    assert.ok(chain.ok, `audit chain: ${JSON.stringify(chain)}`);
    assert.equal(
      failures.length,
      0,
      `${failures.length} failures; GOVHOST_FUZZ_SEED=${SEED} GOVHOST_FUZZ_CASES=${CASES} repeats this run\n${failures.join('\n')}`,
    );
  });
});

function check(
  op: Operation,
  c: Case,
  res: { statusCode: number; headers: Record<string, unknown>; body: string },
  wrote: boolean,
): string[] {
  const out: string[] = [];
  const status = res.statusCode;
  // The app has no payment provider: a refund it reaches says so with the 503 it declares.
  const unavailable = status === 503 && op.declared.has(503);
  if (status >= 500 && !unavailable) out.push(`a ${status}`);
  if (c.expect && !c.expect.includes(status)) {
    out.push(`refused input answered ${status}, not ${c.expect.join(' or ')}`);
  }
  if (status >= 400) {
    if (!op.declared.has(status)) out.push(`status ${status} is not declared by the operation`);
    if (!/^application\/problem\+json/.test(String(res.headers['content-type']))) {
      out.push(`a ${status} that is not application/problem+json`);
    } else {
      const p = JSON.parse(res.body) as Record<string, unknown>;
      if (typeof p.type !== 'string' || typeof p.title !== 'string' || p.status !== status) {
        out.push('a problem without type, title and its status');
      }
    }
    if ((status < 500 || unavailable) && wrote) out.push(`a ${status} that wrote to the store`);
  }
  // A stack frame (`at f (file.ts:12:5)`) tells an attacker the code's layout: never in an answer.
  if (/\bat .*\.[cm]?[jt]s:\d+:\d+/.test(res.body)) out.push('a stack trace in the answer');
  return out;
}
