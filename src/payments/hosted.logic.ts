/**
 * What the hosted payment page does (decision 043): shows a payment, sends the citizen on to the
 * provider, brings the payment up to date when the citizen comes back, and sends them to the
 * service by a link that works once.
 */
import { randomBytes } from 'node:crypto';
import { serviceById } from '../catalog/service.logic.ts';
import type { Db } from '../platform/database.ts';
import { hashSecret } from '../tenancy/token.logic.ts';
import * as links from './hosted.repository.ts';
import type { PageOfPayment } from './hosted-page.ts';
import { transition } from './payment.logic.ts';
import type { PaymentRow } from './payment.repository.ts';
import * as repo from './payment.repository.ts';
import type { PaymentProvider } from './provider.ts';
import { startAtProvider, syncWithProvider } from './provider-flow.ts';

/** The hosted page reaches any payment by its id (a random UUID, as GOV.UK Pay's next_url is). */
const ANY = { departmentId: null };

export const isPaymentId = (id: string) =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);

/** The payment as the page shows it; null when there is none. */
export async function pagePayment(db: Db, domain: string, id: string): Promise<PageOfPayment | null> {
  if (!isPaymentId(id)) return null;
  const row = await repo.findById(db, ANY, id);
  if (!row) return null;
  const service = await serviceById(db, row.service_id, domain);
  const name = row.language === 'zh-Hant' ? service?.nameZh : service?.nameEn;
  return {
    id: row.id,
    language: row.language,
    mode: row.mode,
    state: row.state,
    serviceName: name ?? service?.slug ?? '',
    description: row.description,
    reference: row.reference,
    amount: Number(row.amount),
    createdAt: row.created_at,
  };
}

/**
 * The payment behind a page's path, for the steps that show nothing of it but what it needs (no
 * service name): its row, handed on to the step so that it is read once; null when there is none.
 */
export async function pageRow(db: Db, id: string): Promise<PaymentRow | null> {
  if (!isPaymentId(id)) return null;
  return (await repo.findById(db, ANY, id)) ?? null;
}

/** True when the payment outlived its time to be paid (the expiry job moves it within a minute). */
export const isOverdue = (p: { createdAt: Date }, minutes: number, now = new Date()) =>
  now.getTime() - p.createdAt.getTime() > minutes * 60_000;

/**
 * The citizen pressed "continue": an overdue payment expires now (the page then says so); any
 * other payable one is opened at the provider, which sends the citizen back to `backUrl`.
 */
export async function continueToProvider(
  db: Db,
  provider: PaymentProvider,
  p: PaymentRow,
  expiryMinutes: number,
  backUrl: string,
): Promise<{ redirectUrl: string } | { expired: true }> {
  if (p.state === 'created' && isOverdue({ createdAt: p.created_at }, expiryMinutes)) {
    await transition(db, ANY, p.id, 'cancelled', 'expired');
    return { expired: true };
  }
  return startAtProvider(db, provider, ANY, p.id, backUrl, p);
}

/**
 * The citizen is back from the provider: the payment is brought up to what the provider says,
 * then it gets its one return link. `pay`: no outcome yet (the citizen came back without paying),
 * so back to the payment page; `used`: the return link was issued before.
 */
export async function backFromProvider(
  db: Db,
  provider: PaymentProvider,
  read: PaymentRow,
): Promise<{ token: string } | 'pay' | 'used'> {
  const { id } = read;
  // The state the sync moved it to; read again only when it moved nothing (pending, or moved before).
  const synced = await syncWithProvider(db, provider, ANY, id, read);
  const state = synced ? synced.state : (await repo.findById(db, ANY, id))?.state;
  if (!state || state === 'created' || state === 'started') return 'pay';
  const token = randomBytes(24).toString('base64url');
  return (await links.insertReturnLink(db, id, hashSecret(token))) ? { token } : 'used';
}

/** Spends a return link: the payment's return URL the first time, null ever after. */
export async function spendReturnLink(db: Db, token: string): Promise<string | null> {
  if (!/^[\w-]{1,100}$/.test(token)) return null;
  return (await links.spendReturnLink(db, hashSecret(token))) ?? null;
}
