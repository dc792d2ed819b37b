/**
 * Domain errors know nothing of HTTP: each carries a stable code, registered once below with the
 * status and title that the one problem handler (problem.ts) answers with.
 */
export const ERROR_CODES = {
  GOVHOST_VALIDATION: { status: 400, title: 'The request is not valid' },
  GOVHOST_BAD_REQUEST: { status: 400, title: 'Bad request' },
  GOVHOST_INVALID_JSON: { status: 400, title: 'The request body is not valid JSON' },
  GOVHOST_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The request body has an unsupported media type' },
  GOVHOST_BODY_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  GOVHOST_UNAUTHENTICATED: { status: 401, title: 'Authentication is required' },
  GOVHOST_TOKEN_INVALID: { status: 401, title: 'The credential is invalid, expired or revoked' },
  GOVHOST_LOGIN_FAILED: { status: 401, title: 'Wrong user name or password' },
  GOVHOST_SIGN_IN_THROTTLED: { status: 429, title: 'Too many failed sign-ins: wait before trying again' },
  GOVHOST_ROUTE_STREAM_BUSY: {
    status: 429,
    title: 'Too many routers are waiting on this replica for a route table: ask again later',
  },
  GOVHOST_SIGN_IN_LOCKED: { status: 423, title: 'Sign-in is locked after too many failed passwords' },
  GOVHOST_SIGN_IN_NOT_LOCKED: {
    status: 404,
    title: 'No failed sign-ins are counted for this user or address',
  },
  GOVHOST_FORBIDDEN: { status: 403, title: 'Your role does not allow this' },
  GOVHOST_CSRF: { status: 403, title: 'A cookie-authenticated change needs the X-CSRF-Token header' },
  GOVHOST_NOT_FOUND: { status: 404, title: 'Not found' },
  GOVHOST_ROUTE_NOT_FOUND: { status: 404, title: 'No such endpoint' },
  GOVHOST_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  GOVHOST_DEPARTMENT_NOT_FOUND: { status: 404, title: 'Department not found' },
  GOVHOST_DEPARTMENT_EXISTS: { status: 409, title: 'A department with this code exists' },
  GOVHOST_DEPARTMENT_NOT_EMPTY: { status: 409, title: 'The department still has users or services' },
  GOVHOST_USER_NOT_FOUND: { status: 404, title: 'User not found' },
  GOVHOST_USER_EXISTS: { status: 409, title: 'A user with this name exists' },
  GOVHOST_ROLE_NOT_ALLOWED: { status: 422, title: 'This role cannot be given here' },
  GOVHOST_TOKEN_NOT_FOUND: { status: 404, title: 'Token not found' },
  GOVHOST_SERVICE_NOT_FOUND: { status: 404, title: 'Service not found' },
  GOVHOST_SERVICE_EXISTS: { status: 409, title: 'A service with this slug exists in the department' },
  GOVHOST_SERVICE_IN_USE: {
    status: 409,
    title: 'Records that must be kept (payments) refer to this service: retire it instead',
  },
  GOVHOST_LIFECYCLE_TRANSITION: { status: 409, title: 'The service cannot move to that lifecycle state' },
  GOVHOST_BUNDLE_TOO_LARGE: { status: 413, title: 'The bundle is larger than allowed' },
  GOVHOST_BUNDLE_INVALID: { status: 422, title: 'The bundle cannot be deployed' },
  GOVHOST_MANIFEST_INVALID: { status: 422, title: 'The manifest is not valid' },
  GOVHOST_RELEASE_NOT_FOUND: { status: 404, title: 'Release not found' },
  GOVHOST_DEPLOY_IN_PROGRESS: { status: 409, title: 'Another deploy of this service is in progress' },
  GOVHOST_ALERT_RULE_INVALID: { status: 422, title: 'The alert rule setting is not valid' },
  GOVHOST_INCIDENT_NOT_FOUND: { status: 404, title: 'Incident not found' },
  GOVHOST_INCIDENT_STATE: { status: 409, title: 'The incident is not in a state that allows this' },
  GOVHOST_CHANNEL_NOT_FOUND: { status: 404, title: 'Notification channel not found' },
  GOVHOST_EMAIL_NOT_CONFIGURED: { status: 409, title: 'E-mail is not configured on this platform' },
  GOVHOST_NOTIFICATION_FAILED: { status: 502, title: 'The notification could not be delivered' },
  GOVHOST_WEBHOOK_TARGET_FORBIDDEN: {
    status: 400,
    title: 'The webhook URL points at an internal address the platform may not reach',
  },
  GOVHOST_WEBHOOK_TARGET_UNRESOLVED: { status: 400, title: 'The webhook host name does not resolve' },
  GOVHOST_MAINTENANCE_NOT_FOUND: { status: 404, title: 'Maintenance notice not found' },
  GOVHOST_MAINTENANCE_CLOSED: { status: 409, title: 'The maintenance notice is already cancelled or over' },
  GOVHOST_QUOTA_EXCEEDED: { status: 409, title: "The department's quota does not allow this" },
  GOVHOST_INSUFFICIENT_CAPACITY: {
    status: 409,
    title: 'Insufficient capacity: no active farm can hold this',
  },
  GOVHOST_REQUEST_NOT_FOUND: { status: 404, title: 'Hosting request not found' },
  GOVHOST_REQUEST_EXISTS: {
    status: 409,
    title: 'A hosting request for this service is already waiting',
  },
  GOVHOST_REQUEST_STATE: { status: 409, title: 'The hosting request is no longer pending' },
  GOVHOST_DEMAND_NOT_FOUND: { status: 404, title: 'Planned demand not found' },
  GOVHOST_SCENARIO_NOT_FOUND: { status: 404, title: 'No planned demand has this scenario name' },
  GOVHOST_FARM_NOT_FOUND: { status: 404, title: 'Farm not found' },
  GOVHOST_FARM_EXISTS: { status: 409, title: 'A farm with this code exists' },
  GOVHOST_FARM_STATE: { status: 409, title: 'The farm cannot move to that state' },
  GOVHOST_FARM_IN_USE: { status: 409, title: 'The farm still holds reservations' },
  GOVHOST_DROPLET_URL_INVALID: { status: 403, title: 'The droplet URL is not validly signed' },
  GOVHOST_DROPLET_URL_EXPIRED: { status: 403, title: 'The droplet URL has expired: ask for a new one' },
  GOVHOST_STAGING_URL_INVALID: { status: 403, title: 'The staging URL is not validly signed' },
  GOVHOST_STAGING_URL_EXPIRED: { status: 403, title: 'The staging URL has expired' },
  GOVHOST_STAGING_URL_USED: { status: 409, title: 'The upload URL has been used: each takes one upload' },
  GOVHOST_DROPLET_TOO_LARGE: {
    status: 413,
    title: "The droplet is larger than the staging's disk allowance",
  },
  GOVHOST_DROPLET_SHA256_MISMATCH: { status: 422, title: 'The uploaded archive does not match its sha256' },
  GOVHOST_BLOB_CORRUPT: { status: 500, title: 'A stored bundle or droplet does not match its sha256' },
  GOVHOST_BLOB_NOT_FOUND: { status: 500, title: 'A stored bundle or droplet is missing' },
  GOVHOST_CERTIFICATE_UNREADABLE: {
    status: 400,
    title: 'The certificate chain or key is not readable PEM (the reason says which)',
  },
  GOVHOST_CERTIFICATE_INVALID: {
    status: 422,
    title: 'Routers cannot serve this certificate (the reason says why)',
  },
  GOVHOST_CERTIFICATE_EXISTS: { status: 409, title: 'This certificate is already stored' },
  GOVHOST_CERTIFICATE_NOT_FOUND: { status: 404, title: 'Certificate not found' },
  GOVHOST_DOMAIN_INVALID: { status: 422, title: 'The host name is not valid' },
  GOVHOST_DOMAIN_RESERVED: { status: 422, title: "The host name is one of the platform's own names" },
  GOVHOST_DOMAIN_TAKEN: { status: 409, title: 'The host name is already claimed by a service' },
  GOVHOST_DOMAIN_NOT_FOUND: { status: 404, title: 'No claim on this host name' },
  GOVHOST_DOMAIN_STATE: { status: 409, title: 'The host name claim is not in a state that allows this' },
  GOVHOST_DOMAIN_DNS_CHECK_FAILED: {
    status: 422,
    title: 'The DNS TXT record that proves control of the host name is missing or wrong',
  },
  GOVHOST_PAYMENT_NOT_FOUND: { status: 404, title: 'Payment not found' },
  GOVHOST_PAYMENT_KEY_NOT_FOUND: { status: 404, title: 'Payment key not found' },
  GOVHOST_PAYMENT_TRANSITION: {
    status: 409,
    title: 'The payment cannot move to that state from where it stands',
  },
  GOVHOST_PAYMENT_LIVE_UNAVAILABLE: {
    status: 403,
    title: 'Live payments are not available here',
  },
  GOVHOST_REFUND_EXCEEDS_CAPTURE: {
    status: 409,
    title: 'The refund would take more than the payment captured, or the payment did not succeed',
  },
  GOVHOST_PAYMENT_RETURN_URL: {
    status: 422,
    title: "The return URL is not on one of the service's own host names",
  },
  GOVHOST_PAYMENT_WEBHOOK_URL: {
    status: 422,
    title: "The webhook URL is not on one of the service's own host names",
  },
  GOVHOST_PAYMENT_WEBHOOK_NOT_FOUND: { status: 404, title: 'The service has no payment webhook' },
  GOVHOST_PAYMENT_PROVIDER_UNAVAILABLE: { status: 503, title: 'The payment provider cannot be reached' },
  GOVHOST_REFUND_NOT_FOUND: { status: 404, title: 'Refund not found' },
  GOVHOST_IDEMPOTENCY_KEY_REUSED: {
    status: 409,
    title: 'This Idempotency-Key was first used with another request',
  },
  GOVHOST_MIGRATION_ITEM_NOT_FOUND: { status: 404, title: 'Migration item not found' },
  GOVHOST_MIGRATION_ITEM_EXISTS: {
    status: 409,
    title: 'The department already has a migration item with this reference',
  },
  GOVHOST_MIGRATION_WAVE_NOT_FOUND: { status: 404, title: 'Migration wave not found' },
  GOVHOST_MIGRATION_WAVE_EXISTS: { status: 409, title: 'A migration wave with this number exists' },
  GOVHOST_MIGRATION_TRANSITION: {
    status: 409,
    title: 'The migration item cannot move to that state from where it stands',
  },
  GOVHOST_MIGRATION_INVALID: { status: 422, title: 'The migration item is not valid' },
  GOVHOST_MIGRATION_CSV: { status: 422, title: 'The CSV inventory has errors; nothing was imported' },
  GOVHOST_CUTOVER_NOT_FOUND: { status: 404, title: 'The service fronts no legacy upstream' },
  GOVHOST_CUTOVER_INVALID: { status: 422, title: 'The cut-over is not valid' },
  GOVHOST_LEGACY_FORBIDDEN: {
    status: 422,
    title:
      "The legacy upstream is not on the allow-list (GOVHOST_LEGACY_ALLOW) or is one of the platform's own ports",
  },
  GOVHOST_TICKET_NOT_FOUND: { status: 404, title: 'Support ticket not found' },
  GOVHOST_TICKET_TRANSITION: {
    status: 409,
    title: 'The ticket cannot move to that status from where it stands',
  },
  GOVHOST_TICKET_INVALID: { status: 422, title: 'The support ticket request is not valid' },
  GOVHOST_ATTACHMENT_TYPE: {
    status: 415,
    title: 'Attachments may be PNG, JPEG, PDF or plain text (checked by content)',
  },
  GOVHOST_ATTACHMENT_TOO_LARGE: { status: 413, title: 'The attachment is larger than allowed' },
  GOVHOST_ATTACHMENT_NOT_FOUND: { status: 404, title: 'Attachment not found' },
  GOVHOST_FINANCE_SCENARIO_NOT_FOUND: { status: 404, title: 'No business-case scenario has this name' },
  GOVHOST_FINANCE_SCENARIO_EXISTS: { status: 409, title: 'A business-case scenario with this name exists' },
  GOVHOST_FINANCE_SCENARIO_READ_ONLY: {
    status: 409,
    title: "The paper's scenario is built in: copy it to change it",
  },
  GOVHOST_FINANCE_MONTH_CLOSED: {
    status: 409,
    title: 'The month is closed: book a correction as an adjustment in an open month',
  },
  GOVHOST_FINANCE_INVALID: { status: 422, title: 'The finance input is not valid' },
  GOVHOST_FINANCE_BUDGET_NOT_FOUND: { status: 404, title: 'The department has no budget for this period' },
  GOVHOST_NOT_READY: { status: 503, title: 'The platform is not ready' },
  GOVHOST_BUSY: {
    status: 503,
    title: 'The control plane is busy with the same work for others: retry later',
  },
  GOVHOST_INTERNAL: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    detail?: string,
    /** Extra members for the problem document, e.g. the list of invalid fields. */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail ?? ERROR_CODES[code].title);
    this.name = 'DomainError';
  }
}

export const notFound = (code: ErrorCode, detail: string) => new DomainError(code, detail);
