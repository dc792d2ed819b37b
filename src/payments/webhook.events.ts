/**
 * What a service is told when one of its payments or refunds changes state (decision 047). The
 * webhook is queued in the outbox in the transaction that makes the change, so the change and its
 * webhook commit together: a platform killed after the commit sends it after its restart, one
 * killed before has neither. Its id is the event's own, the same on every retry, so the receiver
 * drops a second delivery.
 */
import { queueForSender } from '../monitoring/notification.logic.ts';
import type { Executor } from '../platform/database.ts';
import type { Payment, Refund } from './payment.logic.ts';
import * as repo from './webhook.repository.ts';

/** The outbox sender that delivers these rows (see webhook.sender.ts). */
export const WEBHOOK_SENDER = 'payments';

export type WebhookEventType =
  | 'payment.started'
  | 'payment.submitted'
  | 'payment.success'
  | 'payment.failed'
  | 'payment.cancelled'
  | 'payment.error'
  | 'refund.success'
  | 'refund.error';

/** The body a service receives: the payment as the API shows it, and for a refund event the refund. */
export interface WebhookEvent {
  /** `payment-event-<n>` or `refund-<refund id>-<state>`: stable across retries. */
  id: string;
  type: WebhookEventType;
  /** The payment's mode: test payments never move money. */
  mode: 'test' | 'live';
  createdAt: string;
  payment: Payment;
  refund?: Refund;
}

/**
 * Queues `event` for the service's webhook, if it has one; call inside the change's transaction.
 * `hasWebhook`: whether it has one, when the caller read that already in this transaction.
 */
export async function queueWebhook(
  trx: Executor,
  serviceId: string,
  event: WebhookEvent,
  hasWebhook?: boolean,
): Promise<boolean> {
  if (!(hasWebhook ?? (await repo.find(trx, serviceId)))) return false;
  await queueForSender(trx, {
    sender: WEBHOOK_SENDER,
    target: serviceId,
    event: event.type,
    body: JSON.stringify(event),
  });
  return true;
}
