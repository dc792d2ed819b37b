import { Type } from 'typebox';
import { DepartmentCode, Slug, Timestamp, Uuid } from '../platform/http-schemas.ts';
import { PageQuery } from '../platform/pagination.ts';
import { PAYMENT_STATES } from './states.ts';

const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);
export type PaymentStateValue = (typeof PAYMENT_STATES)[number];
export const PaymentState = Type.Enum(PAYMENT_STATES, {
  description: 'created → started → submitted → success | failed | cancelled | error (docs/payments.md)',
});
const Mode = Type.Enum(['test', 'live']);
const Language = Type.Enum(['en', 'zh-Hant']);
const Cents = Type.Integer({
  minimum: 1,
  maximum: 10_000_000_000,
  description: 'HK cents (HKD 1.00 is 100)',
});
const Metadata = Type.Record(
  Type.String({ pattern: '^[A-Za-z0-9_-]{1,30}$' }),
  Type.Union([Type.String({ maxLength: 100 }), Type.Number(), Type.Boolean()]),
  { maxProperties: 10, description: 'Up to 10 keys the service keeps with the payment' },
);

export const NewPayment = Type.Object(
  {
    amount: Cents,
    reference: Type.String({ minLength: 1, maxLength: 255, pattern: '^[^\\x00-\\x1f]+$' }),
    description: Type.String({ minLength: 1, maxLength: 255, pattern: '^[^\\x00-\\x1f]+$' }),
    returnUrl: Type.String({
      format: 'uri',
      pattern: '^https?://',
      maxLength: 2000,
      description: "On one of the service's own host names; http only with a test key (else 422)",
    }),
    language: Type.Optional(Language),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

export const Payment = Type.Object({
  id: Uuid,
  amount: Type.Integer(),
  currency: Type.Literal('HKD'),
  reference: Type.String(),
  description: Type.String(),
  returnUrl: Type.String(),
  language: Language,
  metadata: Metadata,
  state: PaymentState,
  mode: Mode,
  refunded: Type.Integer({ description: 'Cents refunded or being refunded' }),
  refundable: Type.Integer({ description: 'Cents that may still be refunded' }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  nextUrl: Type.Optional(
    Type.String({ description: 'On create: the hosted payment page to send the citizen to' }),
  ),
});

export const PaymentWithEvents = Type.Intersect([
  Payment,
  Type.Object({
    events: Type.Array(
      Type.Object({ from: Nullable(PaymentState), to: PaymentState, reason: Type.String(), at: Timestamp }),
    ),
  }),
]);

export const PaymentQuery = Type.Object(
  {
    ...PageQuery,
    reference: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    state: Type.Optional(PaymentState),
    fromDate: Type.Optional(Type.String({ format: 'date-time', description: 'Created at or after' })),
    toDate: Type.Optional(Type.String({ format: 'date-time', description: 'Created before' })),
  },
  { additionalProperties: false },
);

export const PaymentParams = Type.Object({ id: Uuid });
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.String({
    minLength: 1,
    maxLength: 255,
    pattern: '^[\\x21-\\x7e]+$',
    description: 'Required: the same key and body give the same result; another body is a 409',
  }),
});

export const NewRefund = Type.Object({ amount: Cents }, { additionalProperties: false });
export const Refund = Type.Object({
  id: Uuid,
  paymentId: Uuid,
  amount: Type.Integer(),
  state: Type.Enum(['submitted', 'success', 'error']),
  createdAt: Timestamp,
});

export const ServiceParams = Type.Object({ department: DepartmentCode, slug: Slug });
export const KeyParams = Type.Object({ department: DepartmentCode, slug: Slug, id: Uuid });
export const NewKey = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    mode: Type.Optional(Type.Enum(['test', 'live'], { default: 'test' })),
  },
  { additionalProperties: false },
);
export const PaymentKey = Type.Object({
  id: Uuid,
  name: Type.String(),
  mode: Mode,
  prefix: Type.String(),
  createdBy: Type.String(),
  createdAt: Timestamp,
  revokedAt: Nullable(Timestamp),
});

/** The search filter a `PaymentQuery` asks for, dates parsed. */
export const filterOf = (q: {
  reference?: string;
  state?: PaymentStateValue;
  fromDate?: string;
  toDate?: string;
}) => ({
  reference: q.reference,
  state: q.state,
  fromDate: q.fromDate ? new Date(q.fromDate) : undefined,
  toDate: q.toDate ? new Date(q.toDate) : undefined,
});
