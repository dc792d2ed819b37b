import { Ajv, type ErrorObject, type FormatDefinition, type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

const BASE: Options = {
  // TypeBox adds its own annotation keys to schemas; they are not validation keywords.
  strict: false,
  allErrors: true,
  useDefaults: true,
  // Unknown fields are an error, not silently dropped: a typo must not pass unnoticed.
  removeAdditional: false,
};

// C0 controls, DEL and C1 controls: NUL breaks PostgreSQL text, ESC sequences rewrite a
// terminal, and none of them belongs in a name. Multi-line text keeps tab and line breaks.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_IN_LINE = /[\u0000-\u001f\u007f-\u009f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
// Half of a UTF-16 pair without the other half: JSON may escape one (`"\ud800"`), but it has no
// UTF-8 form, so it cannot be stored as sent (and the payments' request hash refused it with a 500).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Marks a string schema whose text may hold line breaks and tabs (descriptions, notes, env values). */
export const MULTILINE = 'x-multiline';
const TEXT_KEYWORD = 'x-text';
const UNICODE_KEYWORD = 'x-unicode';

/**
 * RFC 3339 date-times of the years 1 to 9999 in UTC, what PostgreSQL's timestamps read: ajv's own
 * format also takes the year 0000, which the store refused with a 500 (`fromDate=0000-01-01T00:00:00Z`).
 */
const rfc3339 = addFormats.default.get('date-time') as FormatDefinition<string>;
const dateTime: FormatDefinition<string> = {
  ...rfc3339,
  validate: (s: string) => {
    const year = new Date(s).getUTCFullYear();
    const v = rfc3339.validate;
    const shaped = typeof v === 'function' ? v(s) : new RegExp(v).test(s);
    return shaped && year >= 1 && year <= 9999;
  },
};

function make(opts: Options): Ajv {
  const ajv = new Ajv({ ...BASE, ...opts });
  addFormats.default(ajv);
  ajv.addFormat('date-time', dateTime);
  ajv.addKeyword({
    keyword: UNICODE_KEYWORD,
    type: 'string',
    schemaType: 'boolean',
    errors: false,
    validate: (_: boolean, data: string) => !LONE_SURROGATE.test(data),
  });
  ajv.addKeyword({
    keyword: TEXT_KEYWORD,
    type: 'string',
    schemaType: 'string',
    errors: false,
    validate: (kind: string, data: string) =>
      !(kind === 'multiline' ? CONTROL_IN_TEXT : CONTROL_IN_LINE).test(data),
  });
  return ajv;
}

/**
 * A copy of `schema` in which every string (but binary ones) refuses control characters: one
 * rule for every text field of every route, so none can forget it.
 */
function withTextRule(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withTextRule);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = withTextRule(v);
  const type = out.type;
  const isString = type === 'string' || (Array.isArray(type) && type.includes('string'));
  if (isString && out.format !== 'binary') {
    out[TEXT_KEYWORD] = out[MULTILINE] === true ? 'multiline' : 'line';
    out[UNICODE_KEYWORD] = true;
  }
  return out;
}

// A JSON body has real types, so "5" is not 5; query strings and paths are text and are coerced.
const strict = make({ coerceTypes: false });
const coercing = make({ coerceTypes: 'array' });

/**
 * Fastify's validator: strict types for bodies, coercion for query strings, params and headers.
 * Each schema is compiled on its route's first request, not at start: compiling every route's
 * schemas took about half a second of each start, for routes most processes never serve (decision
 * 045). The API fuzzer sends every operation, so a schema that cannot compile still fails a test.
 */
export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  let validate: ValidateFunction | undefined;
  return (data: unknown) => {
    validate ??= (httpPart === 'body' ? strict : coercing).compile(withTextRule(schema) as object);
    return validate(data) ? { value: data } : { error: validationError(validate.errors ?? []) };
  };
};

export interface FieldError {
  field: string;
  message: string;
}

function validationError(errors: ErrorObject[]): Error & { fieldErrors: FieldError[] } {
  const fieldErrors = errors.map((e) => {
    const at = e.instancePath || '';
    if (e.keyword === 'additionalProperties') {
      return {
        field: `${at}/${(e.params as { additionalProperty: string }).additionalProperty}`,
        message: 'is not a known field',
      };
    }
    if (e.keyword === 'required') {
      return {
        field: `${at}/${(e.params as { missingProperty: string }).missingProperty}`,
        message: 'is required',
      };
    }
    if (e.keyword === TEXT_KEYWORD) return { field: at, message: 'must not contain control characters' };
    if (e.keyword === UNICODE_KEYWORD) return { field: at, message: 'must not contain a lone surrogate' };
    if (e.keyword === 'enum') {
      return {
        field: at,
        message: `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`,
      };
    }
    return { field: at, message: e.message ?? 'is not valid' };
  });
  const err = new Error(fieldErrors.map((f) => `${f.field || '(body)'} ${f.message}`).join('; ')) as Error & {
    fieldErrors: FieldError[];
  };
  err.fieldErrors = fieldErrors;
  return err;
}
