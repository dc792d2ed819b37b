/**
 * fast-check arbitraries from the OpenAPI 3.0 schemas our document uses (api-fuzz.test.ts): values
 * a schema accepts, and values it refuses with the reason. Covers what the routes declare: type,
 * enum, nullable, anyOf, numeric bounds (3.0's boolean exclusive bounds), multipleOf, string
 * lengths, pattern, format (uuid, date, date-time, email), arrays with bounds and uniqueness,
 * objects with required, additionalProperties (false or a schema) and property counts.
 */
import fc from 'fast-check';

export interface Schema {
  type?: string;
  enum?: unknown[];
  nullable?: boolean;
  anyOf?: Schema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  minProperties?: number;
  maxProperties?: number;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  'x-multiline'?: boolean;
}

/** A value the schema refuses, and why (for the failure message). */
export interface Invalid {
  value: unknown;
  why: string;
}

/** Overrides for named fields, e.g. webhook URLs that must stay on this machine. */
export type Hints = Record<string, fc.Arbitrary<unknown>>;

// The same control characters the validator refuses (validation.ts); a test tells them apart.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROLS = ['\u0000', '\u0007', '\u001b[31m', '\u007f', '\u0085', '\u009b'];
// Long enough to meet any bound, short enough to keep cases cheap.
const TEXT_CAP = 60;

const dateOnly = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2040-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
const dateTime = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2040-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());

function validString(s: Schema): fc.Arbitrary<string> {
  const min = s.minLength ?? 0;
  const max = s.maxLength ?? Number.MAX_SAFE_INTEGER;
  const fits = (v: string) => v.length >= min && v.length <= max;
  if (s.format === 'uuid') return fc.uuid();
  if (s.format === 'date') return dateOnly;
  if (s.format === 'date-time') return dateTime;
  if (s.format === 'email') return fc.emailAddress().filter(fits);
  if (s.pattern) return fc.stringMatching(new RegExp(s.pattern)).filter(fits);
  const cap = Math.max(min, Math.min(max, TEXT_CAP));
  const text = fc
    .oneof(
      fc.string({ minLength: min, maxLength: cap }),
      fc.string({ unit: 'grapheme', minLength: min, maxLength: cap }),
    )
    .filter((v) => fits(v) && !CONTROL.test(v));
  // The longest text the schema allows, now and then: bounds are where code breaks.
  return max <= 100_000 ? fc.oneof({ arbitrary: text, weight: 9 }, fc.constant('長'.repeat(max))) : text;
}

function numberBounds(s: Schema) {
  const integer = s.type === 'integer';
  const lo = s.minimum ?? (integer ? -(2 ** 31) : -1e9);
  const hi = s.maximum ?? (integer ? 2 ** 31 : 1e9);
  return { integer, lo, hi };
}

function validNumber(s: Schema): fc.Arbitrary<number> {
  const { integer, lo, hi } = numberBounds(s);
  if (s.multipleOf) {
    const step = s.multipleOf;
    return fc
      .integer({ min: Math.ceil(lo / step), max: Math.floor(hi / step) })
      .map((k) => Number((k * step).toFixed(10)))
      .filter((v) => (!s.exclusiveMinimum || v > lo) && (!s.exclusiveMaximum || v < hi));
  }
  if (integer) {
    const min = s.exclusiveMinimum ? lo + 1 : lo;
    const max = s.exclusiveMaximum ? hi - 1 : hi;
    return fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max));
  }
  return fc.oneof(
    fc.double({
      min: lo,
      max: hi,
      minExcluded: s.exclusiveMinimum === true,
      maxExcluded: s.exclusiveMaximum === true,
      noNaN: true,
      noDefaultInfinity: true,
    }),
    // Tiny and extreme figures such as 5e-324 are where loops over derived quantities run away.
    fc
      .constantFrom(Number.MIN_VALUE, 1e-9, lo, hi)
      .filter(
        (v) => v >= lo && v <= hi && (!s.exclusiveMinimum || v > lo) && (!s.exclusiveMaximum || v < hi),
      ),
  );
}

/** Values that `s` accepts. */
export function valid(s: Schema, hints: Hints = {}): fc.Arbitrary<unknown> {
  const base = validNonNull(s, hints);
  return s.nullable ? fc.oneof({ arbitrary: base, weight: 4 }, fc.constant(null)) : base;
}

function validNonNull(s: Schema, hints: Hints): fc.Arbitrary<unknown> {
  if (s.anyOf) return fc.oneof(...s.anyOf.map((x) => valid(x, hints)));
  if (s.enum) return fc.constantFrom(...s.enum);
  switch (s.type) {
    case 'string':
      return validString(s);
    case 'integer':
    case 'number':
      return validNumber(s);
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const item = valid(s.items ?? {}, hints);
      const constraints = { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 4, 4) };
      return s.uniqueItems
        ? fc.uniqueArray(item, { ...constraints, selector: (v) => JSON.stringify(v) })
        : fc.array(item, constraints);
    }
    case 'object':
      return validObject(s, hints);
    default:
      return fc.oneof(fc.string(), fc.integer(), fc.boolean());
  }
}

function validObject(s: Schema, hints: Hints): fc.Arbitrary<Record<string, unknown>> {
  const props = s.properties ?? {};
  const model = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, hints[k] ?? valid(v, hints)]));
  const fixed = fc.record(model, { requiredKeys: s.required ?? [] });
  const count = (o: object) => Object.keys(o).length;
  const fits = (o: object) => count(o) >= (s.minProperties ?? 0) && count(o) <= (s.maxProperties ?? 1e9);
  if (typeof s.additionalProperties !== 'object') return fixed.filter(fits);
  const extra = fc.dictionary(
    fc.stringMatching(/^[A-Z][A-Z0-9_]{0,15}$/),
    valid(s.additionalProperties, hints),
    {
      maxKeys: Math.min(s.maxProperties ?? 3, 3),
    },
  );
  return fc
    .tuple(fixed, extra)
    .map(([a, b]) => ({ ...b, ...a }))
    .filter(fits);
}

const pick = <T>(xs: T[]): fc.Arbitrary<T> => fc.constantFrom(...xs);

/**
 * Values that `s` refuses. `inText` is for query strings and paths, where every value arrives as
 * text and numbers are coerced: there a wrong type is a word, and null does not exist.
 */
export function invalid(s: Schema, inText = false): fc.Arbitrary<Invalid> | null {
  const out: fc.Arbitrary<Invalid>[] = [];
  const add = (why: string, value: unknown) => out.push(fc.constant({ value, why }));
  if (!s.nullable && !inText && !s.anyOf) add('null', null);
  if (s.anyOf) {
    // Refused by every branch: a type none of them has.
    if (!s.anyOf.some((x) => x.type === 'boolean' || (x.enum ?? []).includes(true))) add('a boolean', true);
    return out.length > 0 ? fc.oneof(...out) : null;
  }
  if (s.enum) {
    add('a value outside the enum', 'not-in-the-enum');
    if (!inText) add('a number for an enum', 7);
  }
  switch (s.enum ? undefined : s.type) {
    case 'string': {
      if (!inText) add('a number for a string', 42);
      if (s.maxLength !== undefined && s.maxLength < 200_000) add('too long', 'x'.repeat(s.maxLength + 1));
      if (s.minLength) add('too short', 'x'.repeat(s.minLength - 1));
      if (s.format === 'uuid') add('not a uuid', 'not-a-uuid');
      if (s.format === 'date') add('not a date', '2026-13-45');
      if (s.format === 'date-time') {
        add('not a date-time', 'yesterday');
        // RFC 3339 has a year 0000; PostgreSQL's timestamps do not (it was a 500).
        add('a date-time of the year 0000', '0000-01-01T00:00:00Z');
      }
      if (s.format === 'email') add('not an e-mail address', 'nobody');
      if (s.pattern) add('against the pattern', '!bad value');
      const controls = s['x-multiline'] ? CONTROLS : [...CONTROLS, '\n'];
      out.push(
        fc
          .tuple(valid({ ...s, nullable: false }) as fc.Arbitrary<string>, pick(controls))
          .map(([v, c]) => ({ value: `${v.slice(0, 5)}${c}${v.slice(5)}`, why: 'a control character' })),
      );
      // Half a UTF-16 pair, which only JSON can carry (a URL encodes it as U+FFFD): no UTF-8 form.
      if (!inText) {
        out.push(
          (valid({ ...s, nullable: false }) as fc.Arbitrary<string>).map((v) => ({
            value: `${v.slice(0, 5)}\ud800${v.slice(5)}`,
            why: 'a lone surrogate',
          })),
        );
      }
      break;
    }
    case 'integer':
    case 'number': {
      const { integer, lo, hi } = numberBounds(s);
      add(inText ? 'a word for a number' : 'a string for a number', inText ? 'many' : '5');
      if (s.minimum !== undefined) add('below the minimum', s.exclusiveMinimum ? lo : lo - 1);
      if (s.maximum !== undefined) add('above the maximum', s.exclusiveMaximum ? hi : hi + 1);
      if (integer) add('a fraction for an integer', 1.5);
      break;
    }
    case 'boolean':
      add(inText ? 'a word for a boolean' : 'a string for a boolean', 'maybe');
      break;
    case 'array': {
      if (!inText) add('an object for an array', { a: 1 });
      if (s.maxItems !== undefined) {
        out.push(
          fc
            .array(valid(s.items ?? {}), { minLength: s.maxItems + 1, maxLength: s.maxItems + 1 })
            .map((value) => ({ value, why: 'too many items' })),
        );
      }
      if (s.minItems) add('too few items', []);
      const bad = s.items ? invalid(s.items, inText) : null;
      if (bad) out.push(bad.map((b) => ({ value: [b.value], why: `an item ${b.why}` })));
      break;
    }
    case 'object':
      if (!inText) out.push(...invalidObject(s));
      break;
  }
  return out.length > 0 ? fc.oneof(...out) : null;
}

function invalidObject(s: Schema): fc.Arbitrary<Invalid>[] {
  const out: fc.Arbitrary<Invalid>[] = [
    fc.constant({ value: ['an', 'array'], why: 'an array for an object' }),
  ];
  const good = valid(s) as fc.Arbitrary<Record<string, unknown>>;
  const required = s.required ?? [];
  if (required.length > 0) {
    out.push(
      fc.tuple(good, pick(required)).map(([o, k]) => {
        const { [k]: _gone, ...rest } = o;
        return { value: rest, why: `without required ${k}` };
      }),
    );
  }
  if (s.additionalProperties === false) {
    out.push(good.map((o) => ({ value: { ...o, notAField: 1 }, why: 'an unknown field' })));
  }
  if (s.minProperties) out.push(fc.constant({ value: {}, why: 'too few fields' }));
  // One field made invalid, the others valid.
  const fields = Object.entries(s.properties ?? {}).flatMap(([k, v]) => {
    const bad = invalid(v);
    return bad ? [bad.map((b) => ({ value: b.value, why: `${k}: ${b.why}`, key: k }))] : [];
  });
  if (fields.length > 0) {
    out.push(
      fc
        .tuple(good, fc.oneof(...fields))
        .map(([o, b]) => ({ value: { ...o, [b.key]: b.value }, why: b.why })),
    );
  }
  return out;
}
