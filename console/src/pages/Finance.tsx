import { type FormEvent, useEffect, useState } from 'react';
import { can } from '../access.ts';
import { get, type Me, type Page, send } from '../api.ts';
import { LineChart } from '../Chart.tsx';
import { type Submitting, useLoad, useSubmit } from '../hooks.ts';
import { type MessageKey, useI18n } from '../i18n.tsx';
import { Link } from '../router.tsx';
import { Badge, Bar, Field, Message, Status, Table } from '../ui.tsx';

// Finance's shapes, as /api/v1/finance answers them (src/finance/finance.schema.ts).
interface AnnexRow {
  key: string;
  section: string;
  labelEn: string;
  labelZh: string;
  sum: boolean;
  byYear: number[];
  total: number | null;
}
interface BusinessCase {
  scenario: string;
  years: string[];
  annex: AnnexRow[];
  detail: AnnexRow[];
  totals: { cost: number; savings: number; net: number };
}
interface Scenario {
  name: string;
  description: string;
  builtIn: boolean;
  basedOn: string | null;
  updatedBy: string | null;
  updatedAt: string | null;
  model: {
    years: string[];
    nonRecurring: { contingency: { amounts: number[] } | { rate: number } };
  } & Record<string, unknown>;
}
type Resource = 'memory-gb-hour' | 'cpu-hour' | 'storage-gb-hour' | 'request-thousand' | 'staging-minute';
const RESOURCES: Resource[] = [
  'memory-gb-hour',
  'cpu-hour',
  'storage-gb-hour',
  'request-thousand',
  'staging-minute',
];
interface Rate {
  resource: Resource;
  validFrom: string;
  centsPerUnit: number;
  note: string;
  createdBy: string;
}
interface RateProposal {
  scenario: string;
  year: string;
  recurringCostCents: number;
  hours: number;
  capacity: { cpu: number; memoryGb: number };
  utilisation: number;
  memoryShare: number;
  rates: { resource: Resource; centsPerUnit: number; recoversCents: number }[];
}
/** What a proposal is asked with (the API's query, and with `validFrom` its adopt body). */
interface ProposalAsk {
  scenario: string;
  year: string;
  utilisation: number;
  memoryShare: number;
}
interface Budget {
  department: string;
  period: 'month' | 'year';
  amountCents: number;
  thresholds: number[];
  periodKey: string;
  spentCents: number;
  alerts: { threshold: number; spentCents: number; at: string }[];
}
interface Statement {
  department: string;
  month: string;
  partial: boolean;
  pricedTo: string;
  lines: {
    service: string;
    resource: Resource;
    rateFrom: string;
    centsPerUnit: number;
    quantity: number;
    amountCents: number;
  }[];
  unpricedHours: number;
  adjustments: { forMonth: string | null; amountCents: number; reason: string; by: string; at: string }[];
  closed: boolean;
  closedAt: string | null;
  totalCents: number;
}

const TABS: { id: string; label: MessageKey; central: boolean }[] = [
  { id: 'business-case', label: 'businessCase', central: true },
  { id: 'statements', label: 'statements', central: false },
  { id: 'rates', label: 'rateCard', central: false },
];

const resourceKey = (r: Resource) => `res_${r.replaceAll('-', '_')}` as MessageKey;
const thisMonth = () => new Date().toISOString().slice(0, 7);
const today = () => new Date().toISOString().slice(0, 10);

/** Money as the locale writes it: HK$ thousands for the business case, HK cents for charges. */
export function useMoney() {
  const { lang } = useI18n();
  const locale = lang === 'en' ? 'en-HK' : 'zh-HK';
  const thousands = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const hkd = new Intl.NumberFormat(locale, { style: 'currency', currency: 'HKD' });
  return { thousands: (n: number) => thousands.format(n), cents: (c: number) => hkd.format(c / 100) };
}

/**
 * Finance: the business case of a scenario (central roles), monthly statements per department
 * (a department's users see only their own: the API answers only those) and the rate card.
 */
export function FinancePage({ me, tab }: { me: Me; tab: string }) {
  const { t } = useI18n();
  const central = !me.department;
  const tabs = TABS.filter((x) => central || !x.central);
  const current = tabs.find((x) => x.id === tab)?.id ?? tabs[0]?.id;
  const canWrite = can(me.role, 'finance:write');
  return (
    <>
      <h1>{t('finance')}</h1>
      <nav aria-label={t('finance')} className="tabs">
        <ul>
          {tabs.map((x) => (
            <li key={x.id}>
              <Link href={`/finance/${x.id}`} aria-current={current === x.id ? 'page' : undefined}>
                {t(x.label)}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      {current === 'business-case' ? (
        <BusinessCaseTab canWrite={canWrite} />
      ) : current === 'rates' ? (
        <RatesTab canWrite={canWrite} central={central} />
      ) : (
        <StatementsTab me={me} />
      )}
    </>
  );
}

function BusinessCaseTab({ canWrite }: { canWrite: boolean }) {
  const { t } = useI18n();
  const [name, setName] = useState('paper');
  const list = useLoad(() => get<Scenario[]>('/finance/scenarios'), 'finance:scenarios');
  const bc = useLoad(
    () => get<BusinessCase>(`/finance/business-case?scenario=${encodeURIComponent(name)}`),
    `finance:bc:${name}`,
  );
  // Kept here, not in the form: a new copy's form appears only once the list has it.
  const copy = useSubmit();
  const scenario = list.data?.find((s) => s.name === name);
  const changed = (to: string) => {
    list.reload();
    if (to === name) bc.reload();
    else setName(to);
  };
  return (
    <>
      <p className="muted">{t('businessCaseIntro')}</p>
      <Status loading={list.loading} error={list.data ? null : list.error} />
      {list.data && (
        <label className="inline-label">
          {t('scenario')}{' '}
          <select value={name} onChange={(e) => setName(e.target.value)} data-testid="scenario">
            {list.data.map((s) => (
              <option key={s.name} value={s.name}>
                {s.name}
                {s.builtIn ? ` (${t('builtIn')})` : ''}
              </option>
            ))}
          </select>
        </label>
      )}
      {scenario && (
        <p data-testid="scenario-description">
          {scenario.description}
          {scenario.basedOn && <> · {t('basedOn', { name: scenario.basedOn })}</>}
        </p>
      )}
      <Status loading={bc.loading} error={bc.data ? null : bc.error} />
      {bc.data && <Annex bc={bc.data} />}
      {canWrite && scenario && <ScenarioForms scenario={scenario} copy={copy} onChanged={changed} />}
      {canWrite && <Message msg={copy.msg} />}
    </>
  );
}

/** The annex as the paper prints it, with cost, savings and cumulative net savings drawn by year. */
function Annex({ bc }: { bc: BusinessCase }) {
  const { t, lang } = useI18n();
  const { thousands } = useMoney();
  const row = (key: string) => bc.annex.find((r) => r.key === key);
  const series = (key: string, label: MessageKey) => ({
    label: t(label),
    data: (row(key)?.byYear ?? []).map((v, i) => ({ t: i, v })),
  });
  const label = (r: AnnexRow) => (lang === 'en' ? r.labelEn : r.labelZh);
  const table = (rows: AnnexRow[], caption: string, testid: string) => (
    <Table caption={caption} wide>
      <thead>
        <tr>
          <th scope="col">{t('annexRow')}</th>
          {bc.years.map((y) => (
            <th scope="col" key={y} className="num">
              {y}
            </th>
          ))}
          <th scope="col" className="num">
            {t('total')}
          </th>
        </tr>
      </thead>
      <tbody data-testid={testid}>
        {rows.map((r) => (
          <tr key={r.key} data-row={r.key} className={r.sum ? 'sum' : undefined}>
            <th scope="row">{label(r)}</th>
            {r.byYear.map((v, i) => (
              <td key={bc.years[i]} className="num">
                {thousands(v)}
              </td>
            ))}
            <td className="num">{r.total === null ? '—' : thousands(r.total)}</td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
  return (
    <>
      <dl className="figures" data-testid="bc-totals">
        <div data-total="cost">
          <dt>{t('totalCost')}</dt>
          <dd>{thousands(bc.totals.cost)}</dd>
        </div>
        <div data-total="savings">
          <dt>{t('totalSavings')}</dt>
          <dd>{thousands(bc.totals.savings)}</dd>
        </div>
        <div data-total="net">
          <dt>{t('netSavings')}</dt>
          <dd>{thousands(bc.totals.net)}</dd>
        </div>
      </dl>
      <p className="muted">{t('hkdThousands')}</p>
      <LineChart
        id="business-case"
        title={t('businessCaseChart')}
        from={0}
        to={Math.max(0, bc.years.length - 1)}
        formatX={(i) => bc.years[i] ?? ''}
        lines={[
          series('cost.total', 'totalCost'),
          series('savings.total', 'totalSavings'),
          series('net.cumulative', 'cumulativeNet'),
        ]}
      />
      <h2>{t('annex')}</h2>
      {table(bc.annex, t('annexCaption', { scenario: bc.scenario }), 'annex')}
      <h2>{t('annexDetail')}</h2>
      {table(bc.detail, t('annexDetail'), 'annex-detail')}
    </>
  );
}

/** Copy a scenario; edit a copy (its description, its contingency as a rate, every amount as JSON). */
function ScenarioForms({
  scenario,
  copy,
  onChanged,
}: {
  scenario: Scenario;
  copy: Submitting;
  onChanged(name: string): void;
}) {
  const { t } = useI18n();
  const edit = useSubmit();
  const [newName, setNewName] = useState('');
  const [newDescription, setNewDescription] = useState('');
  const c = scenario.model.nonRecurring.contingency;
  const [description, setDescription] = useState(scenario.description);
  const [rate, setRate] = useState('rate' in c ? String(Math.round(c.rate * 1e4) / 100) : '');
  const [model, setModel] = useState(JSON.stringify(scenario.model, null, 1));
  // A different scenario chosen, or this one saved: the form shows what is stored.
  useEffect(() => {
    const k = scenario.model.nonRecurring.contingency;
    setDescription(scenario.description);
    setRate('rate' in k ? String(Math.round(k.rate * 1e4) / 100) : '');
    setModel(JSON.stringify(scenario.model, null, 1));
  }, [scenario]);

  const doCopy = (e: FormEvent) => {
    e.preventDefault();
    void copy.run(async () => {
      const made = await send<Scenario>('POST', '/finance/scenarios', {
        name: newName.trim(),
        from: scenario.name,
        ...(newDescription.trim() ? { description: newDescription.trim() } : {}),
      });
      setNewName('');
      setNewDescription('');
      onChanged(made.name);
      return t('scenarioCopied', { name: made.name });
    });
  };
  const doEdit = (e: FormEvent) => {
    e.preventDefault();
    void edit.run(async () => {
      let parsed: Scenario['model'];
      try {
        parsed = JSON.parse(model) as Scenario['model'];
      } catch {
        return { ok: false, text: t('modelNotJson') };
      }
      // The rate field, when filled, is the contingency; left empty, the model's own stands.
      if (rate.trim() !== '') parsed.nonRecurring.contingency = { rate: Number(rate) / 100 };
      await send('PUT', `/finance/scenarios/${encodeURIComponent(scenario.name)}`, {
        model: parsed,
        description,
      });
      onChanged(scenario.name);
      return t('scenarioSaved', { name: scenario.name });
    });
  };
  return (
    <>
      <form className="card form" onSubmit={doCopy} aria-labelledby="h-copy">
        <h2 id="h-copy">{t('copyScenario', { name: scenario.name })}</h2>
        <Field label={t('scenarioName')} name="name" error={copy.fields.name} idPrefix="copy">
          {(p) => (
            <input
              {...p}
              required
              pattern="[a-z][a-z0-9\-]{0,38}[a-z0-9]"
              autoComplete="off"
              value={newName}
              onChange={(e) => setNewName(e.target.value)}
            />
          )}
        </Field>
        <Field label={t('description')} name="description" error={copy.fields.description} idPrefix="copy">
          {(p) => <input {...p} value={newDescription} onChange={(e) => setNewDescription(e.target.value)} />}
        </Field>
        <button type="submit" className="primary" disabled={copy.busy}>
          {t('copy')}
        </button>
      </form>
      {scenario.builtIn ? (
        <p className="muted">{t('scenarioReadOnly')}</p>
      ) : (
        <form className="card form" onSubmit={doEdit} aria-labelledby="h-edit">
          <h2 id="h-edit">{t('editScenario', { name: scenario.name })}</h2>
          <Field label={t('description')} name="description" error={edit.fields.description} idPrefix="edit">
            {(p) => <input {...p} value={description} onChange={(e) => setDescription(e.target.value)} />}
          </Field>
          <Field label={t('contingencyRate')} name="rate" idPrefix="edit">
            {(p) => (
              <input
                {...p}
                type="number"
                min={0}
                max={100}
                step="any"
                value={rate}
                onChange={(e) => setRate(e.target.value)}
              />
            )}
          </Field>
          <Field label={t('costModelJson')} name="model" error={edit.fields.model} idPrefix="edit">
            {(p) => (
              <textarea
                {...p}
                rows={12}
                spellCheck={false}
                value={model}
                onChange={(e) => setModel(e.target.value)}
              />
            )}
          </Field>
          <button type="submit" className="primary" disabled={edit.busy}>
            {t('save')}
          </button>
          <Message msg={edit.msg} />
        </form>
      )}
    </>
  );
}

function StatementsTab({ me }: { me: Me }) {
  const { t, time } = useI18n();
  const { cents } = useMoney();
  const depts = useLoad(
    () => get<Page<{ code: string; nameEn: string; nameZh: string }>>('/departments?limit=500'),
    'finance:departments',
  );
  const [dept, setDept] = useState(me.department ?? '');
  const [month, setMonth] = useState(thisMonth());
  const chosen = dept || depts.data?.items[0]?.code || '';
  const query = `department=${encodeURIComponent(chosen)}&month=${encodeURIComponent(month)}`;
  const st = useLoad(
    () =>
      chosen && /^\d{4}-\d{2}$/.test(month)
        ? get<Statement>(`/finance/statements?${query}`)
        : Promise.resolve(null),
    `finance:statement:${query}`,
  );
  const s = st.data;
  const budgets = useLoad(
    () =>
      chosen
        ? get<Budget[]>(`/finance/budgets?department=${encodeURIComponent(chosen)}`)
        : Promise.resolve([]),
    `finance:budgets:${chosen}`,
  );
  return (
    <>
      <p className="muted">{t('statementsIntro')}</p>
      <div className="form inline">
        {me.department ? (
          <p>
            {t('department')}: <strong>{me.department}</strong>
          </p>
        ) : (
          <label>
            {t('department')}
            <select
              value={chosen}
              onChange={(e) => setDept(e.target.value)}
              data-testid="statement-department"
            >
              {(depts.data?.items ?? []).map((d) => (
                <option key={d.code} value={d.code}>
                  {d.code}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          {t('month')}
          <input type="month" value={month} required onChange={(e) => setMonth(e.target.value)} />
        </label>
      </div>
      <Status loading={st.loading} error={s ? null : st.error} />
      {s && (
        <section aria-labelledby="h-statement" data-statement={`${s.department}/${s.month}`}>
          <h2 id="h-statement">{t('statementOf', { dept: s.department, month: s.month })}</h2>
          <p>
            {s.closed ? (
              <Badge tone="ok">{t('monthClosed', { at: s.closedAt ? time(s.closedAt) : '' })}</Badge>
            ) : s.partial ? (
              <Badge tone="warn">{t('monthPartial', { to: time(s.pricedTo) })}</Badge>
            ) : (
              <Badge tone="neutral">{t('monthOpen')}</Badge>
            )}{' '}
            <a
              href={`/api/v1/finance/statements?${query}&format=csv`}
              download={`govhost-statement-${s.department}-${s.month}.csv`}
            >
              {t('downloadCsv')}
            </a>
          </p>
          <dl className="figures">
            <div data-testid="statement-total">
              <dt>{t('total')}</dt>
              <dd>{cents(s.totalCents)}</dd>
            </div>
          </dl>
          {s.unpricedHours > 0 && <p>{t('unpricedHours', { hours: s.unpricedHours })}</p>}
          {(budgets.data ?? []).map((b) => (
            <div key={b.period} data-budget={b.period}>
              <Bar
                label={t(b.period === 'month' ? 'budgetMonth' : 'budgetYear', { period: b.periodKey })}
                value={b.spentCents}
                max={b.amountCents}
                format={cents}
              />
              <p className="muted">
                {t('budgetThresholds', { list: b.thresholds.map((x) => `${x} %`).join(', ') })}
                {b.alerts.length > 0 &&
                  ` ${t('budgetTold', { list: b.alerts.map((x) => `${x.threshold} % (${time(x.at)})`).join(', ') })}`}
              </p>
            </div>
          ))}
          {s.lines.length === 0 ? (
            <p>{t('noStatementLines')}</p>
          ) : (
            <Table caption={t('statementLines')} wide>
              <thead>
                <tr>
                  <th scope="col">{t('service')}</th>
                  <th scope="col">{t('resource')}</th>
                  <th scope="col">{t('rateFrom')}</th>
                  <th scope="col" className="num">
                    {t('centsPerUnit')}
                  </th>
                  <th scope="col" className="num">
                    {t('quantity')}
                  </th>
                  <th scope="col" className="num">
                    {t('amount')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {s.lines.map((l) => (
                  <tr
                    key={`${l.service}:${l.resource}:${l.rateFrom}`}
                    data-line={`${l.service}:${l.resource}`}
                  >
                    <td>{l.service}</td>
                    <td>{t(resourceKey(l.resource))}</td>
                    <td>{l.rateFrom}</td>
                    <td className="num">{l.centsPerUnit}</td>
                    <td className="num">{l.quantity}</td>
                    <td className="num">{cents(l.amountCents)}</td>
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
          {s.adjustments.length > 0 && (
            <Table caption={t('adjustments')}>
              <thead>
                <tr>
                  <th scope="col">{t('adjustmentFor')}</th>
                  <th scope="col">{t('reason')}</th>
                  <th scope="col">{t('createdBy')}</th>
                  <th scope="col" className="num">
                    {t('amount')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {s.adjustments.map((a) => (
                  <tr key={`${a.at}:${a.reason}`}>
                    <td>{a.forMonth ?? '—'}</td>
                    <td>{a.reason}</td>
                    <td>{a.by}</td>
                    <td className="num">{cents(a.amountCents)}</td>
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
        </section>
      )}
    </>
  );
}

function RatesTab({ canWrite, central }: { canWrite: boolean; central: boolean }) {
  const { t } = useI18n();
  const rates = useLoad(() => get<Rate[]>('/finance/rates'), 'finance:rates');
  const s = useSubmit();
  const [f, setF] = useState({ resource: RESOURCES[0] as Resource, validFrom: today(), cents: '', note: '' });
  const add = (e: FormEvent) => {
    e.preventDefault();
    void s.run(async () => {
      await send('POST', '/finance/rates', {
        resource: f.resource,
        validFrom: f.validFrom,
        centsPerUnit: Number(f.cents),
        ...(f.note.trim() ? { note: f.note.trim() } : {}),
      });
      setF({ ...f, cents: '', note: '' });
      rates.reload();
      return t('rateAdded', { resource: t(resourceKey(f.resource)), from: f.validFrom });
    });
  };
  return (
    <>
      <p className="muted">{t('rateCardIntro')}</p>
      <Status loading={rates.loading} error={rates.data ? null : rates.error} />
      {rates.data &&
        (rates.data.length === 0 ? (
          <p>{t('noRates')}</p>
        ) : (
          <Table caption={t('rateCard')}>
            <thead>
              <tr>
                <th scope="col">{t('resource')}</th>
                <th scope="col">{t('rateFrom')}</th>
                <th scope="col" className="num">
                  {t('centsPerUnit')}
                </th>
                <th scope="col">{t('note')}</th>
                <th scope="col">{t('createdBy')}</th>
              </tr>
            </thead>
            <tbody>
              {rates.data.map((r) => (
                <tr key={`${r.resource}:${r.validFrom}`} data-rate={`${r.resource}:${r.validFrom}`}>
                  <td>{t(resourceKey(r.resource))}</td>
                  <td>{r.validFrom}</td>
                  <td className="num">{r.centsPerUnit}</td>
                  <td>{r.note || '—'}</td>
                  <td>{r.createdBy}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        ))}
      {canWrite && (
        <form className="card form inline" onSubmit={add} aria-labelledby="h-add-rate">
          <h2 id="h-add-rate">{t('addRate')}</h2>
          <Field label={t('resource')} name="resource" error={s.fields.resource} idPrefix="rate">
            {(p) => (
              <select
                {...p}
                value={f.resource}
                onChange={(e) => setF({ ...f, resource: e.target.value as Resource })}
              >
                {RESOURCES.map((r) => (
                  <option key={r} value={r}>
                    {t(resourceKey(r))}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('rateFrom')} name="validFrom" error={s.fields.validFrom} idPrefix="rate">
            {(p) => (
              <input
                {...p}
                type="date"
                required
                min={today()}
                value={f.validFrom}
                onChange={(e) => setF({ ...f, validFrom: e.target.value })}
              />
            )}
          </Field>
          <Field label={t('centsPerUnit')} name="centsPerUnit" error={s.fields.centsPerUnit} idPrefix="rate">
            {(p) => (
              <input
                {...p}
                type="number"
                required
                min={0}
                step="any"
                value={f.cents}
                onChange={(e) => setF({ ...f, cents: e.target.value })}
              />
            )}
          </Field>
          <Field label={t('note')} name="note" error={s.fields.note} idPrefix="rate">
            {(p) => <input {...p} value={f.note} onChange={(e) => setF({ ...f, note: e.target.value })} />}
          </Field>
          <button type="submit" className="primary" disabled={s.busy}>
            {t('addRate')}
          </button>
        </form>
      )}
      <Message msg={s.msg} />
      {central && <RateProposalSection canWrite={canWrite} onAdopted={rates.reload} />}
    </>
  );
}

const asQuery = (a: ProposalAsk) =>
  new URLSearchParams({
    scenario: a.scenario,
    year: a.year,
    utilisation: String(a.utilisation),
    memoryShare: String(a.memoryShare),
  }).toString();

/**
 * Rates derived from the cost model (central roles: the business case is theirs): a scenario, a
 * year, a utilisation and memory's share of the cost; finance adopts the proposal from a day on,
 * which the API computes again and adds in one step.
 */
function RateProposalSection({ canWrite, onAdopted }: { canWrite: boolean; onAdopted: () => void }) {
  const { t } = useI18n();
  const list = useLoad(() => get<Scenario[]>('/finance/scenarios'), 'finance:scenarios');
  const [f, setF] = useState({ scenario: 'paper', year: '', utilisation: '80', memoryShare: '50' });
  const [asked, setAsked] = useState<ProposalAsk | null>(null);
  const years = list.data?.find((x) => x.name === f.scenario)?.model.years ?? [];
  // Until someone picks one, the scenario's last year (the platform's running cost at its fullest).
  const year = years.includes(f.year) ? f.year : (years.at(-1) ?? '');
  const propose = (e: FormEvent) => {
    e.preventDefault();
    setAsked({
      scenario: f.scenario,
      year,
      utilisation: Number(f.utilisation) / 100,
      memoryShare: Number(f.memoryShare) / 100,
    });
  };
  return (
    <section aria-labelledby="h-proposal" data-testid="rate-proposal">
      <h2 id="h-proposal">{t('rateProposal')}</h2>
      <p className="muted">{t('rateProposalIntro')}</p>
      <Status loading={list.loading} error={list.data ? null : list.error} />
      {list.data && (
        <form className="card form inline" onSubmit={propose} aria-labelledby="h-proposal">
          <Field label={t('scenario')} name="scenario" idPrefix="proposal">
            {(p) => (
              <select {...p} value={f.scenario} onChange={(e) => setF({ ...f, scenario: e.target.value })}>
                {list.data?.map((x) => (
                  <option key={x.name} value={x.name}>
                    {x.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('financialYear')} name="year" idPrefix="proposal">
            {(p) => (
              <select {...p} value={year} onChange={(e) => setF({ ...f, year: e.target.value })}>
                {years.map((y) => (
                  <option key={y} value={y}>
                    {y}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <PercentField
            label={t('utilisationPercent')}
            name="utilisation"
            min={1}
            value={f.utilisation}
            onChange={(v) => setF({ ...f, utilisation: v })}
          />
          <PercentField
            label={t('memorySharePercent')}
            name="memoryShare"
            min={0}
            value={f.memoryShare}
            onChange={(v) => setF({ ...f, memoryShare: v })}
          />
          <button type="submit" disabled={!year}>
            {t('proposeRates')}
          </button>
        </form>
      )}
      {asked && <Proposal key={asQuery(asked)} ask={asked} canWrite={canWrite} onAdopted={onAdopted} />}
    </section>
  );
}

/** A percentage the proposal asks for: a required number from `min` to 100, fractions allowed. */
function PercentField(props: {
  label: string;
  name: string;
  min: number;
  value: string;
  onChange(value: string): void;
}) {
  return (
    <Field label={props.label} name={props.name} idPrefix="proposal">
      {(p) => (
        <input
          {...p}
          type="number"
          required
          min={props.min}
          max={100}
          step="any"
          value={props.value}
          onChange={(e) => props.onChange(e.target.value)}
        />
      )}
    </Field>
  );
}

function Proposal({
  ask,
  canWrite,
  onAdopted,
}: {
  ask: ProposalAsk;
  canWrite: boolean;
  onAdopted: () => void;
}) {
  const { t } = useI18n();
  const { cents } = useMoney();
  const p = useLoad(() => get<RateProposal>(`/finance/rates/proposal?${asQuery(ask)}`), 'finance:proposal');
  const s = useSubmit();
  const [from, setFrom] = useState(today());
  const adopt = (e: FormEvent) => {
    e.preventDefault();
    void s.run(async () => {
      await send('POST', '/finance/rates/proposal/adopt', { ...ask, validFrom: from });
      onAdopted();
      return t('ratesAdopted', { from });
    });
  };
  const d = p.data;
  const one = (v: number) => String(Math.round(v * 10) / 10);
  return (
    <>
      <Status loading={p.loading} error={d ? null : p.error} />
      {d && (
        <>
          <Table caption={t('proposedRates')}>
            <thead>
              <tr>
                <th scope="col">{t('resource')}</th>
                <th scope="col" className="num">
                  {t('centsPerUnit')}
                </th>
                <th scope="col" className="num">
                  {t('recovers')}
                </th>
              </tr>
            </thead>
            <tbody>
              {d.rates.map((r) => (
                <tr key={r.resource} data-proposed={r.resource}>
                  <td>{t(resourceKey(r.resource))}</td>
                  <td className="num">{r.centsPerUnit}</td>
                  <td className="num">{cents(r.recoversCents)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
          <p data-testid="proposal-basis">
            {t('proposalBasis', {
              scenario: d.scenario,
              year: d.year,
              cost: cents(d.recurringCostCents),
              hours: String(d.hours),
              cpu: one(d.capacity.cpu),
              memory: one(d.capacity.memoryGb),
              utilisation: one(d.utilisation * 100),
              share: one(d.memoryShare * 100),
            })}
          </p>
          {canWrite && (
            <form className="card form inline" onSubmit={adopt} aria-labelledby="h-adopt">
              <h3 id="h-adopt">{t('adoptRates')}</h3>
              <Field label={t('adoptFrom')} name="validFrom" error={s.fields.validFrom} idPrefix="adopt">
                {(props) => (
                  <input
                    {...props}
                    type="date"
                    required
                    min={today()}
                    value={from}
                    onChange={(e) => setFrom(e.target.value)}
                  />
                )}
              </Field>
              <button type="submit" className="primary" disabled={s.busy}>
                {t('adoptRates')}
              </button>
            </form>
          )}
          <Message msg={s.msg} />
        </>
      )}
    </>
  );
}
