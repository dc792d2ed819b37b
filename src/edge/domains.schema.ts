import { Type } from 'typebox';
import { DepartmentCode, Slug, Timestamp } from '../platform/http-schemas.ts';
import { DOMAIN_STATES } from './domains.tables.ts';

export const DomainState = Type.Enum(DOMAIN_STATES, {
  description: 'pending (waiting for an operator), approved (routed), rejected (not routed, with the reason)',
});

/** As typed: Unicode (IDN) names are accepted and stored as punycode. */
const HostnameInput = Type.String({
  minLength: 1,
  maxLength: 255,
  description: 'A host name such as etax.ird.gov.hk (lower-cased; an IDN is stored as punycode)',
});

export const Domain = Type.Object({
  hostname: Type.String(),
  service: Type.String({ description: 'DEPT/slug' }),
  state: DomainState,
  source: Type.Enum(['api', 'manifest'], {
    description: 'Claimed through the API, or by a manifest routes:',
  }),
  txtRecord: Type.Object(
    { name: Type.String(), value: Type.String() },
    {
      description:
        'The TXT record that proves control of the name (checked at approval when the platform says so)',
    },
  ),
  requestedBy: Type.String(),
  requestedAt: Timestamp,
  decidedBy: Type.Union([Type.String(), Type.Null()]),
  decidedAt: Type.Union([Timestamp, Type.Null()]),
  rejectReason: Type.Union([Type.String(), Type.Null()]),
});

export const NewDomain = Type.Object({ hostname: HostnameInput }, { additionalProperties: false });
export const ServiceDomainParams = Type.Object({
  department: DepartmentCode,
  slug: Slug,
  hostname: HostnameInput,
});
export const DomainParams = Type.Object({ hostname: HostnameInput });
export const RejectDomain = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false },
);
