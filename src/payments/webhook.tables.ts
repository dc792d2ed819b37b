import type { ColumnType } from 'kysely';

/**
 * Where a service is told of its payments' changes (0046): one URL on the service's own host and
 * the secret its webhooks are signed with, sealed (the platform must sign with it, so it cannot be
 * a hash as payment keys are).
 */
export interface PaymentWebhookTable {
  service_id: string;
  department_id: string;
  url: string;
  secret_sealed: string;
  updated_by: string;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

declare module '../platform/database.ts' {
  interface Database {
    payment_webhooks: PaymentWebhookTable;
  }
}
