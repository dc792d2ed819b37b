/**
 * Platform roles act across departments; department roles act inside one. `router` is a machine's
 * role: a router following the control plane reads the route table and nothing else (decision 028).
 */
export const PLATFORM_ROLES = ['platform-admin', 'operator', 'finance', 'router'] as const;
export const DEPARTMENT_ROLES = ['dept-admin', 'dept-developer', 'dept-viewer'] as const;
export const ROLES = [...PLATFORM_ROLES, ...DEPARTMENT_ROLES] as const;
export type Role = (typeof ROLES)[number];

export const isDepartmentRole = (role: Role): boolean =>
  (DEPARTMENT_ROLES as readonly string[]).includes(role);

/**
 * What each role may do. Department roles are further limited, in the repositories, to rows of
 * their own department; this table only says which kinds of action a role may take at all.
 */
export const PERMISSIONS = {
  'department:read': ['platform-admin', 'operator', 'finance', 'dept-admin', 'dept-developer', 'dept-viewer'],
  'department:write': ['platform-admin'],
  'user:read': ['platform-admin', 'operator', 'dept-admin', 'dept-developer', 'dept-viewer'],
  'user:write': ['platform-admin', 'dept-admin'],
  'token:manage-others': ['platform-admin', 'dept-admin'],
  'service:read': ['platform-admin', 'operator', 'finance', 'dept-admin', 'dept-developer', 'dept-viewer'],
  'service:write': ['platform-admin', 'operator', 'dept-admin', 'dept-developer'],
  'audit:read': ['platform-admin', 'operator', 'dept-admin'],
  'audit:verify': ['platform-admin', 'operator'],
  /** Failed sign-ins and locks: the central desk sees them and lifts a lock. */
  'sign-in:read': ['platform-admin', 'operator'],
  'sign-in:unlock': ['platform-admin', 'operator'],
  // Monitoring: metrics, alerts, incidents and SLA figures of the caller's services.
  'monitoring:read': ['platform-admin', 'operator', 'finance', 'dept-admin', 'dept-developer', 'dept-viewer'],
  /** Per-service alert thresholds and the department's notification channels. */
  'alerting:write': ['platform-admin', 'operator', 'dept-admin'],
  /** Acknowledge, assign, annotate and resolve incidents: the central team's 24x7 desk. */
  'incident:write': ['platform-admin', 'operator'],
  /** Maintenance notices on the public status page. */
  'maintenance:write': ['platform-admin', 'operator'],
  // Capacity: farms, placement, forecast and the sharing report are the central team's; a
  // department reads its own quota, usage and requests through 'service:read'.
  'capacity:read': ['platform-admin', 'operator', 'finance'],
  /** Farms, overcommit ratios, quotas, demand pipeline and scenarios. */
  'capacity:write': ['platform-admin', 'operator'],
  /** Ask for hosting: a department's own requests. */
  'request:write': ['platform-admin', 'operator', 'dept-admin', 'dept-developer'],
  /** Approve or reject hosting requests waiting in the queue. */
  'request:approve': ['platform-admin', 'operator'],
  /** Claim and remove a service's custom host names (routed only once an operator approves). */
  'domain:write': ['platform-admin', 'operator', 'dept-admin', 'dept-developer'],
  /** Approve or reject custom host names waiting in the queue, for every department. */
  'domain:approve': ['platform-admin', 'operator'],
  /**
   * The migration programme: a department keeps its own inventory and moves its items; operators
   * see and move every department's, and alone plan the waves.
   */
  'migration:write': ['platform-admin', 'operator', 'dept-admin', 'dept-developer'],
  'migration:plan': ['platform-admin', 'operator'],
  /**
   * Front a service with its legacy upstream and shift citizens' traffic between them (decision
   * 035): it points the platform's edge at an address of the operator's choosing, so only the
   * central team may; a department reads its own through 'service:read'.
   */
  'migration:cutover': ['platform-admin', 'operator'],
  /** Back up the whole platform: the archive holds every department's data and the keys. */
  'platform:backup': ['platform-admin'],
  /** Where each host's ACME certificate stands (hosts of every department: the central team's). */
  'acme:read': ['platform-admin', 'operator'],
  /**
   * Follow the route table (every service's host name and backends): all a router's token may do
   * (role `router`, `govhost tokens create-router`; decisions 023, 028).
   */
  'routes:read': ['platform-admin', 'operator', 'router'],
  /** TLS certificates the routers serve (any department's hosts): the central team's (decision 031). */
  'certificates:read': ['platform-admin', 'operator'],
  'certificates:write': ['platform-admin', 'operator'],
  /** Support tickets: a department raises, comments on and reopens its own; the desk, all (issue 17). */
  'ticket:write': ['platform-admin', 'operator', 'dept-admin', 'dept-developer'],
  /** The desk's side: assign, internal notes, status, links, SLA targets. */
  'ticket:operate': ['platform-admin', 'operator'],
  /** Payments of the caller's services (decision 040); payment keys are made by those who deploy. */
  'payments:read': ['platform-admin', 'operator', 'finance', 'dept-admin', 'dept-developer', 'dept-viewer'],
  'payments:keys': ['dept-admin', 'dept-developer'],
  /**
   * Refunding a payment from the console (decision 048): the department's admins, as the issue
   * asks; the central roles read payments but give no department's money back.
   */
  'payments:refund': ['dept-admin'],
  /** Running a day's reconciliation with the provider's settlement report (issue 19). */
  'payments:reconcile': ['platform-admin', 'operator', 'finance', 'dept-admin'],
  /**
   * Finance (issue 18): the business case and every department's usage and statements for the
   * central roles; a department's admin and viewer read only their own department's.
   */
  'finance:read': ['platform-admin', 'operator', 'finance', 'dept-admin', 'dept-viewer'],
  /** Business-case scenarios, the rate card, closing months and budgets. */
  'finance:write': ['platform-admin', 'finance'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export const roleAllows = (role: Role, permission: Permission): boolean =>
  (PERMISSIONS[permission] as readonly Role[]).includes(role);

/** Actions that change nothing: a read-only token may take them. */
export const isReadOnly = (permission: Permission): boolean => /:(read|verify)$/.test(permission);
