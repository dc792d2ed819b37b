/** The console talks to the platform only through its public REST API, as the signed-in user. */

/** One field the API refused, e.g. `{ field: 'body/goLive', message: 'is in the past …' }`. */
export interface FieldProblem {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldProblem[] = [],
  ) {
    super(message);
  }
}

function csrfToken(): string {
  const m = /(?:^|;\s*)govhost_csrf=([^;]*)/.exec(document.cookie);
  return m?.[1] ? decodeURIComponent(m[1]) : '';
}

/** Called when the platform says the session is gone, so the app can show the sign-in page. */
let onUnauthenticated: () => void = () => {};
export function setUnauthenticatedHandler(fn: () => void): void {
  onUnauthenticated = fn;
}

export async function request(
  method: string,
  path: string,
  body?: unknown,
  signal?: AbortSignal,
  /** More request headers, e.g. the Idempotency-Key of a refund. */
  extra: Record<string, string> = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...extra, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') headers['x-csrf-token'] = csrfToken();
  const res = await fetch(`/api/v1${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  if (!res.ok) {
    let code = `HTTP_${res.status}`;
    let detail = res.statusText;
    let fields: FieldProblem[] = [];
    try {
      const p = (await res.json()) as { code?: string; detail?: string; errors?: FieldProblem[] };
      code = p.code ?? code;
      detail = p.detail ?? detail;
      fields = Array.isArray(p.errors) ? p.errors : [];
    } catch {
      // Not a problem document; keep the status line.
    }
    if (res.status === 401 && path !== '/auth/session') onUnauthenticated();
    throw new ApiError(res.status, code, detail, fields);
  }
  return res;
}

export async function get<T>(path: string): Promise<T> {
  return (await (await request('GET', path)).json()) as T;
}

export async function send<T>(
  method: 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) {
  const res = await request(method, path, body, undefined, headers);
  return (res.status === 204 ? null : await res.json()) as T;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface Me {
  username: string;
  role: string;
  department: string | null;
  locale?: 'en' | 'zh-Hant' | null;
}

export interface User {
  id: string;
  username: string;
  displayName: string;
  email: string | null;
  department: string | null;
  role: string;
  disabled: boolean;
  hasPassword: boolean;
  createdAt: string;
}

export interface ApiToken {
  id: string;
  name: string;
  user: string;
  kind: 'api' | 'session';
  scope: 'read' | 'write';
  prefix: string;
  state: 'active' | 'expired' | 'revoked';
  expiresAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
}

export interface Service {
  department: string;
  slug: string;
  nameEn: string;
  nameZh: string;
  slaTier: string;
  slaTarget: number;
  lifecycle: string;
  hostname: string;
}

export type InstanceState =
  | 'starting'
  | 'healthy'
  | 'unhealthy'
  | 'backoff'
  | 'crash-loop'
  | 'stopping'
  | 'stopped';

export interface Instance {
  instanceId: string;
  state: InstanceState;
  serving: boolean;
  pid: number | null;
  port: number;
  restarts: number;
  startedAt: string;
  memoryBytes: number | null;
  release: number | null;
}

export interface Deployment {
  id: string;
  kind: string;
  state: 'running' | 'succeeded' | 'failed';
  message: string;
  release: number | null;
  createdBy: string;
  startedAt: string;
}

export interface Release {
  version: number;
  status: string;
  kind: string;
  description: string;
  instances: number;
  memoryMb: number;
  createdBy: string;
  createdAt: string;
}

export interface Status {
  url: string;
  desired: { instances: number; memoryMb: number };
  release: Release | null;
  lastDeployment: Deployment | null;
  instances: Instance[];
  runAs: { name: string; uid: number } | null;
  isolation: {
    network: { enforced: boolean; reason: string | null };
    users: { enforced: boolean; reason: string | null };
  };
}

/** One service's live state, from the runtime's list of them all. */
export interface ServiceSummary {
  service: string;
  lifecycle: string;
  desiredInstances: number;
  release: number | null;
  instances: number;
  running: number;
}

export interface Variable {
  key: string;
  value: string;
  secret: boolean;
}

export interface MetricsPoint {
  t: string;
  requests: { total: number; '5xx': number };
  errorRate: number | null;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
}

export interface ServiceMetrics {
  from: string;
  to: string;
  points: MetricsPoint[];
  instances: {
    instanceId: string;
    points: { t: string; cpu: number; memoryMaxBytes: number | null }[];
  }[];
  current: { state: 'up' | 'down' | 'unknown' } | null;
}

export interface Alert {
  id: string;
  rule: string;
  state: 'firing' | 'resolved';
  message: string;
  startedAt: string;
  resolvedAt: string | null;
}

export interface Incident {
  id: number;
  service: string;
  severity: string;
  state: 'open' | 'resolved';
  title: string;
  openedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
}

export interface SlaLine {
  department: string;
  service: string;
  /** The service's state now; a retired one appears for the months it was active. */
  lifecycle: string;
  tier: string;
  target: number;
  downtimeMinutes: number;
  availability: number | null;
  met: boolean | null;
  outages: number;
  incidents: number;
}

export interface Department {
  code: string;
  nameEn: string;
  nameZh: string;
}

export interface AuditRecord {
  seq: number;
  at: string;
  actor: string;
  department: string | null;
  action: string;
  targetType: string;
  targetId: string;
}

/** A certificate the routers serve (src/edge/certificates.schema.ts); never its key. */
export interface Certificate {
  id: string;
  names: string[];
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  fingerprint: string;
  keyType: string;
  source: 'uploaded' | 'acme';
  createdBy: string;
  createdAt: string;
}

/** A service's HTTPS settings, both on by default. */
export interface ServiceHttps {
  httpsRedirect: boolean;
  hsts: boolean;
}

export type DomainState = 'pending' | 'approved' | 'rejected';

/** A service's claim on a custom host name (src/edge/domains.logic.ts). */
export interface Domain {
  hostname: string;
  service: string;
  state: DomainState;
  source: 'api' | 'manifest';
  txtRecord: { name: string; value: string };
  requestedBy: string;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  rejectReason: string | null;
}

export type RequestState = 'pending' | 'approved' | 'rejected' | 'cancelled';

export interface HostingRequest {
  id: string;
  department: string;
  service: string;
  slug: string;
  nameEn: string;
  nameZh: string;
  origin: 'new' | 'migrated';
  slaTier: string;
  instances: number;
  memoryMb: number;
  cpu: number;
  goLive: string;
  state: RequestState;
  reasons: string[];
  requestedBy: string;
  decidedBy: string | null;
  autoApproved: boolean;
  rejectReason: string | null;
  hostname: string | null;
  submittedAt: string;
  approvedAt: string | null;
  leadTimeMs: number | null;
}

export interface LeadTimes {
  count: number;
  medianMs: number | null;
  p90Ms: number | null;
}

export interface Quota {
  department: string;
  limits: { memoryMb: number; instances: number; services: number };
  isDefault: boolean;
  usage: { services: number; instances: number; memoryMb: number };
}

export type FarmState = 'planned' | 'ordered' | 'active' | 'retired';

export interface Farm {
  code: string;
  name: string;
  state: FarmState;
  phase: number;
  isLocal: boolean;
  capacity: { vcpu: number; memoryMb: number; storageGb: number };
  overcommit: { cpu: number; memory: number };
  reservable: { cpu: number; memoryMb: number };
  reserved: { instances: number; services: number; cpu: number; memoryMb: number };
  used: { cpu: number; memoryMb: number; measuredServices: number } | null;
}

export interface Sharing {
  totals: {
    activeFarms: number;
    services: number;
    instances: number;
    servicesPerActiveFarm: number | null;
  };
  departments: {
    department: string;
    services: number;
    instances: number;
    reserved: { cpu: number; memoryMb: number };
    farmsAlone: number | null;
  }[];
  standalone: {
    farmsIfAlone: number | null;
    farmsShared: number | null;
    farmsAvoided: number | null;
    costPerFarmHkd: number;
    costAvoidedHkd: number | null;
  };
}

export interface Forecast {
  from: string;
  months: number;
  target: number;
  scenario: string | null;
  referenceFarm: { code: string; vcpu: number; memoryMb: number; storageGb: number } | null;
  runsOut: { cpu: string | null; memory: string | null; storage: string | null };
  recommendations: {
    farm: number;
    resource: 'cpu' | 'memory' | 'storage';
    neededFor: string;
    commissionBy: string;
    orderBy: string;
    late: boolean;
  }[];
  pipelineLines: number;
  series: {
    month: string;
    farmsActive: number;
    cpu: { demand: number; capacity: number; utilisation: number | null };
    memory: { demandMb: number; capacityMb: number; utilisation: number | null };
    storage: { demandGb: number; capacityGb: number; utilisation: number | null };
    withRecommended: { farms: number; cpuUtilisation: number | null; memoryUtilisation: number | null };
    actions: string[];
  }[];
}

export interface PlannedDemand {
  id: string;
  kind: 'hosting-request' | 'migration-wave' | 'growth';
  department: string | null;
  services: number;
  instancesPerService: number;
  memoryMbPerInstance: number;
  growthPctPerMonth: number | null;
  goLive: string;
  scenario: string | null;
  note: string;
  totalMemoryMb: number;
  totalCpu: number;
}

export interface Energy {
  month: string;
  partial: boolean;
  farms: {
    code: string;
    state: FarmState;
    hours: number;
    basis: 'measured' | 'reserved';
    utilisation: number;
    watts: number;
    kWh: number;
    services: { service: string; share: number; kWh: number }[];
  }[];
  totals: { farms: number; kWh: number; unallocatedKWh: number };
}

export interface UnmetDemand {
  id: string;
  department: string | null;
  service: string;
  instances: number;
  memoryMb: number;
  reason: string;
  at: string;
}

export const servicePath = (dept: string, slug: string) =>
  `/services/${encodeURIComponent(dept)}/${encodeURIComponent(slug)}`;
