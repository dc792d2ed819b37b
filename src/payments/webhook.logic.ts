/**
 * A service's payment webhook (decision 047): the URL on its own host it is told at when a payment
 * or refund changes state, and the secret those webhooks are signed with (shown once, rotatable).
 * Set by the service's department admins and developers, as payment keys are; audited.
 */
import { recordChange } from '../audit/audit.logic.ts';
import { resolveService } from '../catalog/service.logic.ts';
import { storedLeafFingerprints } from '../edge/certificates.logic.ts';
import { httpsRedirectOn } from '../edge/service-https.logic.ts';
import { newWebhookSecret } from '../monitoring/notification.senders.ts';
import type { Config } from '../platform/config.ts';
import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import type { SecretBox } from '../platform/secrets.ts';
import {
  auditContext,
  authorize,
  type Caller,
  departmentScope,
  type Principal,
} from '../tenancy/principal.ts';
import type { RouterTrust } from './live-mode.ts';
import { checkOwnHostUrl } from './return-url.ts';
import * as repo from './webhook.repository.ts';

export interface WebhookDeps {
  db: Db;
  config: Pick<Config, 'domain'>;
  box: SecretBox;
  /** The router this process runs (null or absent: none here), for the redirect check. */
  routerTrust?: () => RouterTrust | null;
}

export interface PaymentWebhook {
  /** `DEPT/slug`. */
  service: string;
  url: string;
  updatedBy: string;
  updatedAt: string;
}

const present = (r: repo.WebhookRow, service: string): PaymentWebhook => ({
  service,
  url: r.url,
  updatedBy: r.updated_by,
  updatedAt: r.updated_at.toISOString(),
});

const none = (key: string) =>
  new DomainError('GOVHOST_PAYMENT_WEBHOOK_NOT_FOUND', `${key} has no payment webhook`);

export async function getWebhook(
  deps: Pick<WebhookDeps, 'db'>,
  caller: Principal,
  department: string,
  slug: string,
): Promise<PaymentWebhook> {
  authorize(caller, 'payments:read');
  const svc = await resolveService(deps.db, caller, department, slug);
  const row = await repo.find(deps.db, svc.id, departmentScope(caller));
  if (!row) throw none(`${department}/${slug}`);
  return present(row, `${department.toUpperCase()}/${slug}`);
}

/**
 * Refuses an http URL the router would answer with a redirect (decision 051): it serves HTTPS, a
 * certificate of the platform's store covers the host, and the service keeps its redirect on. Such
 * a webhook would never arrive; the https URL would. Known only where this process runs the
 * router; elsewhere the outbox's error says it at the first delivery.
 */
async function refuseRedirectedHttp(deps: WebhookDeps, serviceId: string, url: URL): Promise<void> {
  if (url.protocol !== 'http:' || !deps.routerTrust?.()?.servesHttps) return;
  if ((await storedLeafFingerprints(deps.db, url.hostname)).length === 0) return;
  if (!(await httpsRedirectOn(deps.db, serviceId))) return;
  throw new DomainError(
    'GOVHOST_PAYMENT_WEBHOOK_URL',
    `${url.hostname} redirects plain HTTP to HTTPS, so webhooks to an http URL would never arrive: use https://${url.hostname}${url.pathname}${url.search}`,
  );
}

/**
 * Sets the URL (a first set makes the signing secret, returned this once), or with `rotate` makes
 * a new secret for the webhook as it is. Webhooks still waiting in the outbox go out signed with
 * the secret current when they are sent.
 */
export async function setWebhook(
  deps: WebhookDeps,
  caller: Caller,
  department: string,
  slug: string,
  input: { url?: string; rotate?: boolean },
): Promise<{ webhook: PaymentWebhook; secret: string | null }> {
  authorize(caller, 'payments:keys');
  const svc = await resolveService(deps.db, caller, department, slug);
  const key = `${department.toUpperCase()}/${slug}`;
  // Checked before the transaction: it reads the service's approved host names.
  const checked =
    input.url === undefined
      ? null
      : await checkOwnHostUrl(deps.db, deps.config.domain, svc.id, input.url, {
          httpsOnly: false,
          code: 'GOVHOST_PAYMENT_WEBHOOK_URL',
          what: 'webhook URL',
        });
  if (checked) await refuseRedirectedHttp(deps, svc.id, checked);
  const url = checked?.toString() ?? null;
  return deps.db.transaction().execute(async (trx) => {
    const before = await repo.find(trx, svc.id);
    if (!before && url === null) throw none(key);
    const secret = !before || input.rotate ? newWebhookSecret() : null;
    await repo.upsert(trx, {
      service_id: svc.id,
      department_id: svc.department_id,
      url: url ?? (before?.url as string),
      secret_sealed: secret ? deps.box.seal(secret) : (before?.secret_sealed as string),
      updated_by: caller.username,
    });
    const webhook = present((await repo.find(trx, svc.id))!, key);
    await recordChange(trx, auditContext(caller), {
      action: secret && before ? 'payment-webhook.rotate' : 'payment-webhook.set',
      targetType: 'payment-webhook',
      targetId: svc.id,
      departmentId: svc.department_id,
      ...(before ? { before: present(before, key) } : {}),
      after: webhook,
    });
    return { webhook, secret };
  });
}

export async function removeWebhook(
  deps: Pick<WebhookDeps, 'db'>,
  caller: Caller,
  department: string,
  slug: string,
) {
  authorize(caller, 'payments:keys');
  const svc = await resolveService(deps.db, caller, department, slug);
  const key = `${department.toUpperCase()}/${slug}`;
  await deps.db.transaction().execute(async (trx) => {
    const before = await repo.find(trx, svc.id);
    if (!before || !(await repo.remove(trx, svc.id))) throw none(key);
    await recordChange(trx, auditContext(caller), {
      action: 'payment-webhook.remove',
      targetType: 'payment-webhook',
      targetId: svc.id,
      departmentId: svc.department_id,
      before: present(before, key),
    });
  });
}
