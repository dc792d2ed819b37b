import { Type } from 'typebox';
import { DepartmentCode, Name, Slug, Timestamp, Uuid } from '../platform/http-schemas.ts';
import { MULTILINE } from '../platform/validation.ts';
import { CHANNELS, LIFECYCLE_STATES, ORIGINS } from './catalog.tables.ts';
import { SLA_TIER_NAMES } from './sla-tiers.ts';

export const Origin = Type.Enum(ORIGINS, { description: 'migrated from EGIS, or new on the platform' });
export const Channel = Type.Enum(CHANNELS);
export const Lifecycle = Type.Enum(LIFECYCLE_STATES);
export const SlaTier = Type.Enum(SLA_TIER_NAMES, {
  description: 'gold 99.95 %, silver 99.9 %, bronze 99.5 %',
});
const Channels = Type.Array(Channel, { minItems: 1, maxItems: 2, uniqueItems: true });
const Description = Type.String({ maxLength: 2000, [MULTILINE]: true });
const EgisRef = Type.String({ minLength: 1, maxLength: 64, description: "The service's identifier on EGIS" });

export const Service = Type.Object({
  id: Uuid,
  department: Type.String(),
  slug: Type.String(),
  nameEn: Type.String(),
  nameZh: Type.String(),
  description: Type.String(),
  origin: Origin,
  egisRef: Type.Union([Type.String(), Type.Null()]),
  channels: Type.Array(Channel),
  personalised: Type.Boolean({ description: "Linked to citizens' MyGovHK accounts" }),
  slaTier: SlaTier,
  slaTarget: Type.Number({ description: 'Availability target of the tier, in percent' }),
  lifecycle: Lifecycle,
  hostname: Type.String({ description: 'Where citizens reach the service' }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const NewService = Type.Object(
  {
    department: Type.Optional(DepartmentCode),
    slug: Slug,
    nameEn: Name,
    nameZh: Name,
    description: Type.Optional(Description),
    origin: Origin,
    egisRef: Type.Optional(EgisRef),
    channels: Channels,
    personalised: Type.Optional(Type.Boolean()),
    slaTier: SlaTier,
  },
  { additionalProperties: false },
);

export const ServicePatch = Type.Object(
  {
    nameEn: Type.Optional(Name),
    nameZh: Type.Optional(Name),
    description: Type.Optional(Description),
    egisRef: Type.Optional(Type.Union([EgisRef, Type.Null()])),
    channels: Type.Optional(Channels),
    personalised: Type.Optional(Type.Boolean()),
    slaTier: Type.Optional(SlaTier),
    lifecycle: Type.Optional(Lifecycle),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const ServiceParams = Type.Object({ department: DepartmentCode, slug: Slug });
