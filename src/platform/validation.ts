import { Ajv, type ErrorObject, type Options } from 'ajv';
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

function make(opts: Options): Ajv {
  const ajv = new Ajv({ ...BASE, ...opts });
  addFormats.default(ajv);
  return ajv;
}

// A JSON body has real types, so "5" is not 5; query strings and paths are text and are coerced.
const strict = make({ coerceTypes: false });
const coercing = make({ coerceTypes: 'array' });

/** Fastify's validator: strict types for bodies, coercion for query strings, params and headers. */
export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const validate = (httpPart === 'body' ? strict : coercing).compile(schema as object);
  return (data: unknown) =>
    validate(data) ? { value: data } : { error: validationError(validate.errors ?? []) };
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
