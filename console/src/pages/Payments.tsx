import { type FormEvent, useState } from 'react';
import { can } from '../access.ts';
import { get, type Me, type Page, type Service, send, servicePath } from '../api.ts';
import { LineChart } from '../Chart.tsx';
import { useLoad, useSubmit } from '../hooks.ts';
import { type MessageKey, useI18n } from '../i18n.tsx';
import { Link } from '../router.tsx';
import { Badge, Field, Message, pct, Status, Table } from '../ui.tsx';
import { useMoney } from './Finance.tsx';

// The payment service's shapes for staff, as /api/v1 answers them (src/payments/*.routes.ts).
interface Figures {
  payments: number;
  succeeded: number;
  finished: number;
  successRate: number | null;
  captured: number;
  refunds: number;
  refunded: number;
}
interface Summary {
  from: string;
  to: string;
  totals: Figures;
  services: (Figures & { department: string; service: string })[];
  periods: (Figures & { period: string })[];
}
type PaymentState = 'created' | 'started' | 'submitted' | 'success' | 'failed' | 'cancelled' | 'error';
const STATES: PaymentState[] = ['created', 'started', 'submitted', 'success', 'failed', 'cancelled', 'error'];
interface Payment {
  id: string;
  amount: number;
  reference: string;
  description: string;
  state: PaymentState;
  mode: 'test' | 'live';
  refunded: number;
  refundable: number;
  createdAt: string;
}
interface Refund {
  id: string;
  amount: number;
  state: 'submitted' | 'success' | 'error';
  createdAt: string;
}
interface PaymentDetail extends Payment {
  events: { from: PaymentState | null; to: PaymentState; reason: string; at: string }[];
  refunds: Refund[];
  ledger: {
    id: string;
    kind: string;
    refundId: string | null;
    at: string;
    entries: { account: string; amount: number }[];
  }[];
}

const DAY_MS = 86_400_000;
const isDay = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s);
const dayOf = (d: Date) => d.toISOString().slice(0, 10);
const TONE: Record<PaymentState, 'ok' | 'bad' | 'warn' | 'neutral'> = {
  created: 'neutral',
  started: 'neutral',
  submitted: 'warn',
  success: 'ok',
  failed: 'bad',
  cancelled: 'neutral',
  error: 'bad',
};
const paymentsPath = (dept: string, slug: string) =>
  `/payments/${encodeURIComponent(dept)}/${encodeURIComponent(slug)}`;

function StateBadge({ state }: { state: PaymentState }) {
  const { t } = useI18n();
  return <Badge tone={TONE[state]}>{t(`pstate_${state}` as MessageKey)}</Badge>;
}

/**
 * Payments per department and service over a period (volumes, success rate, refunds) with their
 * CSV and the reconciliation's; department users see only their own department (the API answers
 * only that), the central roles pick one or see all.
 */
export function PaymentsPage({ me }: { me: Me }) {
  const { t } = useI18n();
  const { cents } = useMoney();
  const [f, setF] = useState({
    department: me.department ?? '',
    service: '',
    from: dayOf(new Date(Date.now() - 29 * DAY_MS)),
    to: dayOf(new Date()),
    by: 'day' as 'day' | 'month',
    mode: '',
  });
  const depts = useLoad(
    () => (me.department ? Promise.resolve(null) : get<Page<{ code: string }>>('/departments?limit=500')),
    'payments:departments',
  );
  const services = useLoad(
    () =>
      f.department
        ? get<Page<Service>>(`/services?department=${encodeURIComponent(f.department)}&limit=500`)
        : Promise.resolve(null),
    `payments:services:${f.department}`,
  );
  const params = new URLSearchParams({ from: f.from, to: f.to });
  if (f.department) params.set('department', f.department);
  if (f.department && f.service) params.set('service', f.service);
  if (f.mode) params.set('mode', f.mode);
  const window = params.toString();
  const valid = isDay(f.from) && isDay(f.to);
  const summary = useLoad(
    () => (valid ? get<Summary>(`/payment-summary?${window}&by=${f.by}`) : Promise.resolve(null)),
    `payments:summary:${window}:${f.by}`,
  );
  const s = summary.data;
  const recon = new URLSearchParams({ format: 'csv' });
  if (f.department) recon.set('department', f.department);
  if (f.department && f.service) recon.set('service', f.service);
  const figureCells = (x: Figures) => (
    <>
      <td className="num">{x.payments}</td>
      <td className="num">{x.succeeded}</td>
      <td className="num">{pct(x.successRate)}</td>
      <td className="num">{cents(x.captured)}</td>
      <td className="num">{x.refunds}</td>
      <td className="num">{cents(x.refunded)}</td>
    </>
  );
  const figureHeads = (
    <>
      <th scope="col" className="num">
        {t('paymentsMade')}
      </th>
      <th scope="col" className="num">
        {t('paymentsSucceeded')}
      </th>
      <th scope="col" className="num">
        {t('successRate')}
      </th>
      <th scope="col" className="num">
        {t('capturedHkd')}
      </th>
      <th scope="col" className="num">
        {t('refundsMade')}
      </th>
      <th scope="col" className="num">
        {t('refundedHkd')}
      </th>
    </>
  );
  return (
    <>
      <h1>{t('payments')}</h1>
      <p className="muted">{t('paymentsIntro')}</p>
      <div className="form inline">
        {me.department ? (
          <p>
            {t('department')}: <strong>{me.department}</strong>
          </p>
        ) : (
          <label>
            {t('department')}
            <select
              value={f.department}
              onChange={(e) => setF({ ...f, department: e.target.value, service: '' })}
              data-testid="payments-department"
            >
              <option value="">{t('allDepartments')}</option>
              {(depts.data?.items ?? []).map((d) => (
                <option key={d.code} value={d.code}>
                  {d.code}
                </option>
              ))}
            </select>
          </label>
        )}
        {f.department && (
          <label>
            {t('service')}
            <select value={f.service} onChange={(e) => setF({ ...f, service: e.target.value })}>
              <option value="">{t('allServices')}</option>
              {(services.data?.items ?? []).map((x) => (
                <option key={x.slug} value={x.slug}>
                  {x.slug}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          {t('fromDay')}
          <input type="date" required value={f.from} onChange={(e) => setF({ ...f, from: e.target.value })} />
        </label>
        <label>
          {t('toDay')}
          <input type="date" required value={f.to} onChange={(e) => setF({ ...f, to: e.target.value })} />
        </label>
        <label>
          {t('byPeriod')}
          <select value={f.by} onChange={(e) => setF({ ...f, by: e.target.value as 'day' | 'month' })}>
            <option value="day">{t('byDay')}</option>
            <option value="month">{t('byMonth')}</option>
          </select>
        </label>
        <label>
          {t('paymentMode')}
          <select value={f.mode} onChange={(e) => setF({ ...f, mode: e.target.value })}>
            <option value="">{t('allModes')}</option>
            <option value="test">{t('mode_test')}</option>
            <option value="live">{t('mode_live')}</option>
          </select>
        </label>
      </div>
      <p className="actions">
        <a href={`/api/v1/payment-report?${window}`} download>
          {t('paymentsCsv')}
        </a>
        <a href={`/api/v1/payment-reconciliations?${recon}`} download>
          {t('reconciliationCsv')}
        </a>
      </p>
      <Status loading={summary.loading} error={s ? null : summary.error} />
      {s && (
        <section aria-labelledby="h-payment-figures" data-summary={`${s.from}/${s.to}`}>
          <h2 id="h-payment-figures" className="visually-hidden">
            {t('total')}
          </h2>
          <dl className="figures" data-testid="payment-totals">
            {(
              [
                ['payments', 'paymentsMade', String(s.totals.payments)],
                ['succeeded', 'paymentsSucceeded', String(s.totals.succeeded)],
                ['successRate', 'successRate', pct(s.totals.successRate)],
                ['captured', 'capturedHkd', cents(s.totals.captured)],
                ['refunds', 'refundsMade', String(s.totals.refunds)],
                ['refunded', 'refundedHkd', cents(s.totals.refunded)],
              ] as const
            ).map(([key, label, value]) => (
              <div key={key} data-figure={key}>
                <dt>{t(label)}</dt>
                <dd>{value}</dd>
              </div>
            ))}
          </dl>
          {s.services.length === 0 ? (
            <p>{t('noPaymentsInPeriod')}</p>
          ) : (
            <>
              <h2>{t('paymentsByService')}</h2>
              <Table caption={t('paymentsByService')} wide>
                <thead>
                  <tr>
                    <th scope="col">{t('service')}</th>
                    {figureHeads}
                  </tr>
                </thead>
                <tbody>
                  {s.services.map((x) => (
                    <tr key={`${x.department}/${x.service}`} data-service={`${x.department}/${x.service}`}>
                      <th scope="row">
                        <Link href={paymentsPath(x.department, x.service)}>
                          {x.department}/{x.service}
                        </Link>
                      </th>
                      {figureCells(x)}
                    </tr>
                  ))}
                </tbody>
              </Table>
              <h2>{t('paymentsByPeriod')}</h2>
              <LineChart
                id="payments"
                title={t('paymentsChart')}
                from={0}
                to={Math.max(0, s.periods.length - 1)}
                formatX={(i) => s.periods[i]?.period ?? ''}
                lines={(
                  [
                    ['paymentsMade', 'payments'],
                    ['paymentsSucceeded', 'succeeded'],
                    ['refundsMade', 'refunds'],
                  ] as const
                ).map(([label, key]) => ({
                  label: t(label),
                  data: s.periods.map((x, i) => ({ t: i, v: x[key] })),
                }))}
              />
              {/* The chart shows every day or month; the table only those with something in them. */}
              <Table caption={t('paymentsByPeriod')} wide>
                <thead>
                  <tr>
                    <th scope="col">{t('period')}</th>
                    {figureHeads}
                  </tr>
                </thead>
                <tbody>
                  {s.periods
                    .filter((x) => x.payments + x.refunds > 0)
                    .map((x) => (
                      <tr key={x.period} data-period={x.period}>
                        <th scope="row">{x.period}</th>
                        {figureCells(x)}
                      </tr>
                    ))}
                </tbody>
              </Table>
            </>
          )}
        </section>
      )}
    </>
  );
}

const PAGE = 50;

/** A service's payments, newest first, by state, reference and the days they were made. */
export function ServicePaymentsPage({ dept, slug }: { dept: string; slug: string }) {
  const { t, time } = useI18n();
  const { cents } = useMoney();
  const [draft, setDraft] = useState({ state: '', reference: '', from: '', to: '' });
  const [q, setQ] = useState(draft);
  const [offset, setOffset] = useState(0);
  const params = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  if (q.state) params.set('state', q.state);
  if (q.reference.trim()) params.set('reference', q.reference.trim());
  if (isDay(q.from)) params.set('fromDate', `${q.from}T00:00:00Z`);
  if (isDay(q.to)) params.set('toDate', new Date(Date.parse(`${q.to}T00:00:00Z`) + DAY_MS).toISOString());
  const base = `${servicePath(dept, slug)}/payments`;
  const list = useLoad(() => get<Page<Payment>>(`${base}?${params}`), `payments:list:${base}?${params}`);
  const search = (e: FormEvent) => {
    e.preventDefault();
    setOffset(0);
    setQ(draft);
  };
  const d = list.data;
  return (
    <>
      <p>
        <Link href="/payments">{t('backToPayments')}</Link>
      </p>
      <h1>{t('paymentsOf', { service: `${dept}/${slug}` })}</h1>
      <form className="form inline" onSubmit={search} aria-label={t('searchPayments')}>
        <label>
          {t('state')}
          <select value={draft.state} onChange={(e) => setDraft({ ...draft, state: e.target.value })}>
            <option value="">{t('allStates')}</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {t(`pstate_${s}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('paymentReference')}
          <input
            value={draft.reference}
            onChange={(e) => setDraft({ ...draft, reference: e.target.value })}
          />
        </label>
        <label>
          {t('fromDay')}
          <input
            type="date"
            value={draft.from}
            onChange={(e) => setDraft({ ...draft, from: e.target.value })}
          />
        </label>
        <label>
          {t('toDay')}
          <input type="date" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        </label>
        <button type="submit">{t('searchPayments')}</button>
      </form>
      <Status loading={list.loading} error={d ? null : list.error} />
      {d &&
        (d.items.length === 0 ? (
          <p>{t('noPaymentsFound')}</p>
        ) : (
          <Table caption={t('paymentsOf', { service: `${dept}/${slug}` })} wide>
            <thead>
              <tr>
                <th scope="col">{t('paymentReference')}</th>
                <th scope="col">{t('state')}</th>
                <th scope="col" className="num">
                  {t('amount')}
                </th>
                <th scope="col" className="num">
                  {t('refundedHkd')}
                </th>
                <th scope="col">{t('paymentMode')}</th>
                <th scope="col">{t('created')}</th>
              </tr>
            </thead>
            <tbody>
              {d.items.map((p) => (
                <tr key={p.id} data-payment={p.reference}>
                  <th scope="row">
                    <Link href={`${paymentsPath(dept, slug)}/${p.id}`}>{p.reference}</Link>
                  </th>
                  <td>
                    <StateBadge state={p.state} />
                  </td>
                  <td className="num">{cents(p.amount)}</td>
                  <td className="num">{cents(p.refunded)}</td>
                  <td>{t(`mode_${p.mode}`)}</td>
                  <td>{time(p.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        ))}
      {d && d.total > PAGE && (
        <p className="pager">
          <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            {t('newer')}
          </button>{' '}
          <button type="button" disabled={offset + PAGE >= d.total} onClick={() => setOffset(offset + PAGE)}>
            {t('older')}
          </button>
        </p>
      )}
    </>
  );
}

/** A fresh Idempotency-Key: crypto.getRandomValues, which unlike randomUUID needs no HTTPS. */
function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `console-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** One payment: its states with their reasons, its refunds and ledger postings; a refund form for its admins. */
export function PaymentPage({ me, dept, slug, id }: { me: Me; dept: string; slug: string; id: string }) {
  const { t, time } = useI18n();
  const { cents } = useMoney();
  const path = `${servicePath(dept, slug)}/payments/${encodeURIComponent(id)}`;
  const loaded = useLoad(() => get<PaymentDetail>(path), `payments:detail:${path}`);
  const p = loaded.data;
  return (
    <>
      <p>
        <Link href={paymentsPath(dept, slug)}>{t('paymentsOf', { service: `${dept}/${slug}` })}</Link>
      </p>
      <Status loading={loaded.loading} error={p ? null : loaded.error} />
      {p && (
        <>
          <h1>{t('paymentOf', { reference: p.reference })}</h1>
          <dl className="figures" data-testid="payment-facts">
            <div data-figure="state">
              <dt>{t('state')}</dt>
              <dd>
                <StateBadge state={p.state} />
              </dd>
            </div>
            <div data-figure="amount">
              <dt>{t('amount')}</dt>
              <dd>{cents(p.amount)}</dd>
            </div>
            <div data-figure="refunded">
              <dt>{t('refundedHkd')}</dt>
              <dd>{cents(p.refunded)}</dd>
            </div>
            <div data-figure="refundable">
              <dt>{t('refundable')}</dt>
              <dd>{cents(p.refundable)}</dd>
            </div>
          </dl>
          <p>
            {p.description} · {t(`mode_${p.mode}`)} · {time(p.createdAt)}
          </p>
          {can(me.role, 'payments:refund') && p.refundable > 0 && (
            <RefundForm path={path} refundable={p.refundable} onDone={loaded.reload} />
          )}
          <h2>{t('paymentHistory')}</h2>
          <Table caption={t('paymentHistory')}>
            <thead>
              <tr>
                <th scope="col">{t('stateFrom')}</th>
                <th scope="col">{t('stateTo')}</th>
                <th scope="col">{t('reason')}</th>
                <th scope="col">{t('when')}</th>
              </tr>
            </thead>
            <tbody>
              {p.events.map((e) => (
                <tr key={`${e.to}:${e.at}`}>
                  <td>{e.from ? t(`pstate_${e.from}` as MessageKey) : '—'}</td>
                  <td>{t(`pstate_${e.to}` as MessageKey)}</td>
                  <td>
                    <code>{e.reason}</code>
                  </td>
                  <td>{time(e.at)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
          <h2>{t('paymentRefunds')}</h2>
          {p.refunds.length === 0 ? (
            <p>{t('noRefunds')}</p>
          ) : (
            <Table caption={t('paymentRefunds')}>
              <thead>
                <tr>
                  <th scope="col" className="num">
                    {t('amount')}
                  </th>
                  <th scope="col">{t('state')}</th>
                  <th scope="col">{t('when')}</th>
                </tr>
              </thead>
              <tbody data-testid="refunds">
                {p.refunds.map((r) => (
                  <tr key={r.id}>
                    <td className="num">{cents(r.amount)}</td>
                    <td>{t(`rstate_${r.state}` as MessageKey)}</td>
                    <td>{time(r.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
          <h2>{t('ledgerPostings')}</h2>
          <Table caption={t('ledgerPostings')}>
            <thead>
              <tr>
                <th scope="col">{t('kind')}</th>
                <th scope="col">{t('ledgerAccount')}</th>
                <th scope="col" className="num">
                  {t('amount')}
                </th>
                <th scope="col">{t('when')}</th>
              </tr>
            </thead>
            <tbody>
              {p.ledger.flatMap((posting) =>
                posting.entries.map((e) => (
                  <tr key={`${posting.id}:${e.account}`}>
                    <td>{posting.kind}</td>
                    <td>
                      <code>{e.account}</code>
                    </td>
                    <td className="num">{cents(e.amount)}</td>
                    <td>{time(posting.at)}</td>
                  </tr>
                )),
              )}
            </tbody>
          </Table>
        </>
      )}
    </>
  );
}

/**
 * A full or partial refund. One Idempotency-Key per refund meant: kept across a double click or a
 * retry after a refusal (a refused request claims nothing), replaced once a refund was made.
 */
function RefundForm({ path, refundable, onDone }: { path: string; refundable: number; onDone(): void }) {
  const { t } = useI18n();
  const { cents } = useMoney();
  const s = useSubmit();
  const [amount, setAmount] = useState((refundable / 100).toFixed(2));
  const [key, setKey] = useState(newIdempotencyKey);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void s.run(async () => {
      const value = Math.round(Number(amount) * 100);
      const r = await send<Refund>('POST', `${path}/refunds`, { amount: value }, { 'idempotency-key': key });
      setKey(newIdempotencyKey());
      // The next refund's default: what is left, the whole of it.
      if (r.state !== 'error') setAmount(((refundable - r.amount) / 100).toFixed(2));
      onDone();
      const text = { amount: cents(r.amount) };
      if (r.state === 'success') return t('refundDone', text);
      return { ok: false, text: t(r.state === 'error' ? 'refundRefused' : 'refundPending', text) };
    });
  };
  return (
    <form className="card form" onSubmit={submit} aria-labelledby="h-refund">
      <h2 id="h-refund">{t('refundPayment')}</h2>
      <Field label={t('refundAmount')} name="amount" error={s.fields.amount} idPrefix="refund">
        {(p) => (
          <input
            {...p}
            type="number"
            required
            min="0.01"
            step="0.01"
            inputMode="decimal"
            value={amount}
            onChange={(e) => setAmount(e.target.value)}
          />
        )}
      </Field>
      <p className="muted">{t('refundHint', { amount: cents(refundable) })}</p>
      <button type="submit" className="primary" disabled={s.busy}>
        {t('refundSubmit')}
      </button>
      <Message msg={s.msg} />
    </form>
  );
}
