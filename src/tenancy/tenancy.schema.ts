import { Type } from 'typebox';
import { DepartmentCode, Name, Timestamp, Username, Uuid } from '../platform/http-schemas.ts';
import { ROLES } from './roles.ts';

export const Role = Type.Enum(ROLES, {
  description:
    'platform-admin, operator, finance, router (platform roles; router only reads the route table); dept-admin, dept-developer, dept-viewer',
});

export const Department = Type.Object({
  code: Type.String(),
  nameEn: Type.String(),
  nameZh: Type.String(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const NewDepartment = Type.Object(
  {
    code: Type.String({ pattern: '^[A-Z][A-Z0-9]{1,9}$', description: 'Upper-case code, e.g. IRD' }),
    nameEn: Name,
    nameZh: Name,
  },
  { additionalProperties: false },
);

export const DepartmentPatch = Type.Object(
  { nameEn: Type.Optional(Name), nameZh: Type.Optional(Name) },
  { additionalProperties: false, minProperties: 1 },
);

export const DepartmentParams = Type.Object({ code: DepartmentCode });

export const User = Type.Object({
  id: Uuid,
  username: Type.String(),
  displayName: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  department: Type.Union([Type.String(), Type.Null()]),
  role: Role,
  disabled: Type.Boolean(),
  hasPassword: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const Password = Type.String({ minLength: 12, maxLength: 200, description: 'At least 12 characters' });
const Email = Type.String({ format: 'email', maxLength: 200 });

export const NewUser = Type.Object(
  {
    username: Username,
    displayName: Name,
    email: Type.Optional(Email),
    role: Role,
    department: Type.Optional(DepartmentCode),
    password: Type.Optional(Password),
  },
  { additionalProperties: false },
);

export const UserPatch = Type.Object(
  {
    displayName: Type.Optional(Name),
    email: Type.Optional(Type.Union([Email, Type.Null()])),
    role: Type.Optional(Role),
    disabled: Type.Optional(Type.Boolean()),
    password: Type.Optional(Password),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const UserParams = Type.Object({ username: Username });

export const Token = Type.Object({
  id: Uuid,
  name: Type.String(),
  user: Type.String(),
  kind: Type.Union([Type.Literal('api'), Type.Literal('session')]),
  scope: Type.Union([Type.Literal('read'), Type.Literal('write')]),
  prefix: Type.String({ description: 'First characters of the secret, to tell tokens apart' }),
  state: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]),
  expiresAt: Timestamp,
  revokedAt: Type.Union([Timestamp, Type.Null()]),
  lastUsedAt: Type.Union([Timestamp, Type.Null()]),
  createdAt: Timestamp,
});

export const NewToken = Type.Object(
  {
    name: Name,
    scope: Type.Optional(Type.Union([Type.Literal('read'), Type.Literal('write')])),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 365, default: 90 })),
    user: Type.Optional(Username),
  },
  { additionalProperties: false },
);

export const NewRouterToken = Type.Object(
  {
    name: Type.String({
      pattern: '^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$|^[a-z0-9]$',
      description: 'the router, e.g. `edge-1`: its user is `router-<name>`',
    }),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 365, default: 365 })),
  },
  { additionalProperties: false },
);

export const Login = Type.Object(
  { username: Username, password: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

export const Locale = Type.Enum(['en', 'zh-Hant'], { description: "The console's language" });

export const Me = Type.Object({
  username: Type.String(),
  role: Role,
  department: Type.Union([Type.String(), Type.Null()]),
  tokenScope: Type.Union([Type.Literal('read'), Type.Literal('write')]),
  locale: Type.Union([Locale, Type.Null()], { description: 'null until the user chooses a language' }),
});

export const MePatch = Type.Object({ locale: Locale }, { additionalProperties: false });
