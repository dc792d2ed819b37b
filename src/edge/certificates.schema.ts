import { Type } from 'typebox';
import { Timestamp, Uuid } from '../platform/http-schemas.ts';
import { MULTILINE } from '../platform/validation.ts';

// A chain of a leaf and a few issuers is a few KB; a bundle of a hundred is still far below this.
const PEM_MAX = 256 * 1024;

export const NewCertificate = Type.Object(
  {
    chain: Type.String({
      minLength: 1,
      maxLength: PEM_MAX,
      [MULTILINE]: true,
      description: 'PEM certificates: the leaf first, then each issuer in order (a root is not required)',
    }),
    key: Type.String({
      minLength: 1,
      maxLength: PEM_MAX,
      [MULTILINE]: true,
      description: "The leaf's private key, PEM, unencrypted (it is sealed at rest)",
    }),
    host: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 253,
        description: 'Refuse unless the leaf covers this host name',
      }),
    ),
  },
  { additionalProperties: false },
);

export const Certificate = Type.Object({
  id: Uuid,
  names: Type.Array(Type.String(), { description: 'DNS names covered (subjectAltName), e.g. *.ird.gov.hk' }),
  subject: Type.String(),
  issuer: Type.String(),
  notBefore: Timestamp,
  notAfter: Timestamp,
  daysLeft: Type.Integer({ description: 'Whole days until the leaf expires; negative once it has' }),
  fingerprint: Type.String({ description: "SHA-256 of the leaf's DER, hex" }),
  keyType: Type.String({ description: 'rsa-2048, ec-prime256v1, …' }),
  source: Type.Union([Type.Literal('uploaded'), Type.Literal('acme')]),
  createdBy: Type.String(),
  createdAt: Timestamp,
});

export const CertificateParams = Type.Object({ id: Uuid });

export const ServiceHttps = Type.Object({
  httpsRedirect: Type.Boolean({ description: 'Plain-HTTP requests are redirected to HTTPS (default true)' }),
  hsts: Type.Boolean({ description: 'HTTPS answers carry Strict-Transport-Security (default true)' }),
});

export const ServiceHttpsPatch = Type.Partial(ServiceHttps, {
  additionalProperties: false,
  minProperties: 1,
});
