import type { ServiceDay } from './settlement.logic.ts';

/**
 * Reconciled days as CSV (RFC 4180, CRLF), one line per difference and one `none` line for a
 * service whose day agreed; amounts in HK cents. Every field is a code, a slug, an id or a number,
 * so none needs quoting. Shared by the API and the CLI.
 */
export function reconciliationCsv(days: ServiceDay[]): string {
  const head = 'day,department,service,kind,item,payment_id,refund_id,ledger_amount,provider_amount';
  const lines = days.flatMap((d) =>
    d.differences.length === 0
      ? [[d.day, d.department, d.service, 'none', '', '', '', '', ''].join(',')]
      : d.differences.map((x) =>
          [
            d.day,
            d.department,
            d.service,
            x.kind,
            x.item,
            x.paymentId,
            x.refundId ?? '',
            x.ledgerAmount ?? '',
            x.providerAmount ?? '',
          ].join(','),
        ),
  );
  return `${[head, ...lines].join('\r\n')}\r\n`;
}
