import { Type } from 'typebox';

/** An RFC 9457 problem document, as every error answers. */
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'Stable error code, e.g. GOVHOST_SERVICE_NOT_FOUND' }),
    instance: Type.String(),
    requestId: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { additionalProperties: true },
);

/** Response map entry shared by every authenticated route. */
export const problemResponses = { '4xx': Problem, '5xx': Problem };

/**
 * Problem statuses a route answers beyond those the document derives for every operation
 * (openapi-document.ts), e.g. `...problems(422)` where the logic refuses a well-formed request.
 */
export const problems = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), Problem])) as Record<string, typeof Problem>;

export const secured = [{ bearer: [] as string[] }];

export const DepartmentCode = Type.String({
  pattern: '^[A-Za-z][A-Za-z0-9]{1,9}$',
  description: 'Department code, e.g. IRD',
});
export const Name = Type.String({ minLength: 1, maxLength: 200 });
export const Slug = Type.String({
  pattern: '^[a-z][a-z0-9-]{0,38}[a-z0-9]$',
  description: 'Lower-case letters, digits and hyphens, 2-40 characters, starting with a letter',
});
export const Username = Type.String({
  pattern: '^[a-z][a-z0-9._-]{1,63}$',
  description: 'Lower-case login name',
});
export const Uuid = Type.String({ format: 'uuid' });
export const Timestamp = Type.String({ format: 'date-time' });
