import { type FormEvent, useEffect, useState } from 'react';
import { can } from '../access.ts';
import {
  type Department,
  type Energy,
  type Farm,
  type Forecast,
  get,
  type Me,
  type Page,
  type PlannedDemand,
  type Quota,
  type Sharing,
  send,
  type UnmetDemand,
} from '../api.ts';
import { LineChart } from '../Chart.tsx';
import { useLoad, useSubmit } from '../hooks.ts';
import { type MessageKey, useI18n } from '../i18n.tsx';
import { Link } from '../router.tsx';
import { Badge, Bar, Field, Message, memMb, num, pct, Status, Table } from '../ui.tsx';
import { QuotaBars } from './Requests.tsx';

const TABS: { id: string; label: MessageKey }[] = [
  { id: 'farms', label: 'farms' },
  { id: 'forecast', label: 'forecast' },
  { id: 'energy', label: 'energy' },
  { id: 'quotas', label: 'quotas' },
];

const FARM_TONE = { active: 'ok', planned: 'neutral', ordered: 'warn', retired: 'neutral' } as const;

const thisMonth = () => new Date().toISOString().slice(0, 7);
const monthStart = (m: string) => Date.parse(`${m}-01T00:00:00Z`);

/** The central team's capacity desk: farms and sharing, the forecast, energy, quotas. */
export function CapacityPage({ me, tab }: { me: Me; tab: string }) {
  const { t } = useI18n();
  const current = TABS.some((x) => x.id === tab) ? tab : 'farms';
  return (
    <>
      <h1>{t('capacity')}</h1>
      <nav aria-label={t('capacity')} className="tabs">
        <ul>
          {TABS.map((x) => (
            <li key={x.id}>
              <Link href={`/capacity/${x.id}`} aria-current={current === x.id ? 'page' : undefined}>
                {t(x.label)}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      {current === 'forecast' ? (
        <ForecastTab />
      ) : current === 'energy' ? (
        <EnergyTab />
      ) : current === 'quotas' ? (
        <QuotasTab canWrite={can(me.role, 'capacity:write')} />
      ) : (
        <FarmsTab />
      )}
    </>
  );
}

function FarmsTab() {
  const { t, lang } = useI18n();
  const farms = useLoad(() => get<{ items: Farm[] }>('/farms'), 'farms', 30000);
  const sharing = useLoad(() => get<Sharing>('/capacity/sharing'), 'sharing', 60000);
  const money = new Intl.NumberFormat(lang === 'en' ? 'en-HK' : 'zh-HK', {
    style: 'currency',
    currency: 'HKD',
    maximumFractionDigits: 0,
  });
  const sh = sharing.data;
  return (
    <>
      <section aria-labelledby="h-sharing">
        <h2 id="h-sharing">{t('sharing')}</h2>
        <Status loading={sharing.loading} error={sh ? null : sharing.error} />
        {sh && (
          <>
            <dl className="figures" data-testid="sharing">
              <div>
                <dt>{t('activeFarms')}</dt>
                <dd>{sh.totals.activeFarms}</dd>
              </div>
              <div>
                <dt>{t('servicesCount')}</dt>
                <dd>{sh.totals.services}</dd>
              </div>
              <div>
                <dt>{t('instances')}</dt>
                <dd>{sh.totals.instances}</dd>
              </div>
              <div>
                <dt>{t('servicesPerFarm')}</dt>
                <dd>
                  {sh.totals.servicesPerActiveFarm === null ? '—' : num(sh.totals.servicesPerActiveFarm)}
                </dd>
              </div>
              <div>
                <dt>{t('farmsIfAlone')}</dt>
                <dd>{sh.standalone.farmsIfAlone ?? '—'}</dd>
              </div>
              <div>
                <dt>{t('farmsAvoided')}</dt>
                <dd data-testid="farms-avoided">{sh.standalone.farmsAvoided ?? '—'}</dd>
              </div>
              <div>
                <dt>{t('costAvoided')}</dt>
                <dd>
                  {sh.standalone.costAvoidedHkd === null ? '—' : money.format(sh.standalone.costAvoidedHkd)}
                </dd>
              </div>
            </dl>
            {sh.departments.length > 0 && (
              <>
                <h3 className="sub">{t('farmsAlonePerDept')}</h3>
                <Table caption={t('farmsAlonePerDept')}>
                  <thead>
                    <tr>
                      <th scope="col">{t('department')}</th>
                      <th scope="col">{t('servicesCount')}</th>
                      <th scope="col">{t('instances')}</th>
                      <th scope="col">{t('reservedMemory')}</th>
                      <th scope="col">{t('farmsAlone')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {sh.departments.map((d) => (
                      <tr key={d.department}>
                        <td>{d.department}</td>
                        <td>{d.services}</td>
                        <td>{d.instances}</td>
                        <td>{memMb(d.reserved.memoryMb)}</td>
                        <td>{d.farmsAlone ?? '—'}</td>
                      </tr>
                    ))}
                  </tbody>
                </Table>
              </>
            )}
          </>
        )}
      </section>
      <section aria-labelledby="h-farms">
        <h2 id="h-farms">{t('farms')}</h2>
        <Status loading={farms.loading} error={farms.data ? null : farms.error} />
        {farms.data && farms.data.items.length === 0 && <p>{t('noFarms')}</p>}
        {farms.data && farms.data.items.length > 0 && (
          <Table caption={t('farms')} wide>
            <thead>
              <tr>
                <th scope="col">{t('farm')}</th>
                <th scope="col">{t('state')}</th>
                <th scope="col">{t('phase')}</th>
                <th scope="col">{t('vcpu')}</th>
                <th scope="col">{t('memory')}</th>
                <th scope="col">{t('storage')}</th>
                <th scope="col">{t('overcommit')}</th>
                <th scope="col">{t('reserved')}</th>
                <th scope="col">{t('used')}</th>
              </tr>
            </thead>
            <tbody>
              {farms.data.items.map((f) => (
                <tr key={f.code} data-farm={f.code}>
                  <td>
                    <strong>{f.code}</strong>
                    <div className="muted">{f.name}</div>
                    {f.isLocal && <Badge tone="neutral">{t('thisHost')}</Badge>}
                  </td>
                  <td>
                    <Badge tone={FARM_TONE[f.state]}>{t(`farm_${f.state}`)}</Badge>
                  </td>
                  <td>{f.phase}</td>
                  <td>{num(f.capacity.vcpu)}</td>
                  <td>{memMb(f.capacity.memoryMb)}</td>
                  <td>
                    {f.capacity.storageGb >= 1024
                      ? `${num(f.capacity.storageGb / 1024)} TB`
                      : `${f.capacity.storageGb} GB`}
                  </td>
                  <td>
                    {num(f.overcommit.cpu, 2)} / {num(f.overcommit.memory, 2)}
                  </td>
                  <td>
                    <Bar
                      label={t('cpuShort')}
                      value={f.reserved.cpu}
                      max={f.reservable.cpu}
                      format={(n) => num(n, 2)}
                    />
                    <Bar
                      label={t('memory')}
                      value={f.reserved.memoryMb}
                      max={f.reservable.memoryMb}
                      format={memMb}
                    />
                    <div className="muted">
                      {f.reserved.services} {t('servicesCount')} · {f.reserved.instances} {t('instances')}
                    </div>
                  </td>
                  <td>
                    {f.used ? (
                      <>
                        {t('cpuShort')} {num(f.used.cpu, 2)} · {memMb(f.used.memoryMb)}
                      </>
                    ) : (
                      t('notMeasured')
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </section>
    </>
  );
}

/** Every planned-demand line (paged through), for the scenario names and the pipeline table. */
async function loadDemand(): Promise<PlannedDemand[]> {
  const all: PlannedDemand[] = [];
  for (let offset = 0; ; offset += 500) {
    const page = await get<Page<PlannedDemand>>(`/capacity/demand?limit=500&offset=${offset}`);
    all.push(...page.items);
    if (all.length >= page.total || page.items.length === 0) return all;
  }
}

interface ForecastParams {
  from: string;
  months: string;
  target: string;
  leadMonths: string;
  scenario: string;
}

function ForecastTab() {
  const { t } = useI18n();
  const [draft, setDraft] = useState<ForecastParams>({
    from: thisMonth(),
    months: '36',
    target: '80',
    leadMonths: '3',
    scenario: '',
  });
  const [params, setParams] = useState(draft);
  const q = new URLSearchParams({
    from: params.from,
    months: params.months,
    target: String(Number(params.target) / 100),
    leadMonths: params.leadMonths,
  });
  if (params.scenario) q.set('scenario', params.scenario);
  const forecast = useLoad(
    () => get<Forecast>(`/capacity/forecast?${q.toString()}`),
    `forecast:${q.toString()}`,
  );
  const demand = useLoad(loadDemand, 'demand');
  const scenarios = [
    ...new Set((demand.data ?? []).map((d) => d.scenario).filter((s): s is string => !!s)),
  ].sort();
  const set = (k: keyof ForecastParams) => (e: { target: { value: string } }) =>
    setDraft({ ...draft, [k]: e.target.value });
  const f = forecast.data;

  return (
    <>
      <form
        className="card form inline"
        onSubmit={(e) => {
          e.preventDefault();
          setParams(draft);
        }}
        aria-label={t('forecast')}
      >
        <Field label={t('fromMonth')} name="from" idPrefix="fc">
          {(p) => <input {...p} type="month" required value={draft.from} onChange={set('from')} />}
        </Field>
        <Field label={t('months')} name="months" idPrefix="fc">
          {(p) => (
            <input
              {...p}
              type="number"
              min={1}
              max={120}
              required
              value={draft.months}
              onChange={set('months')}
            />
          )}
        </Field>
        <Field label={t('targetPct')} name="target" idPrefix="fc">
          {(p) => (
            <input
              {...p}
              type="number"
              min={1}
              max={100}
              required
              value={draft.target}
              onChange={set('target')}
            />
          )}
        </Field>
        <Field label={t('leadMonths')} name="leadMonths" idPrefix="fc">
          {(p) => (
            <input
              {...p}
              type="number"
              min={0}
              max={60}
              required
              value={draft.leadMonths}
              onChange={set('leadMonths')}
            />
          )}
        </Field>
        <Field label={t('scenario')} name="scenario" idPrefix="fc">
          {(p) => (
            <select {...p} value={draft.scenario} onChange={set('scenario')}>
              <option value="">{t('baseline')}</option>
              {scenarios.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="submit" className="primary">
          {t('showForecast')}
        </button>
      </form>
      <Status loading={forecast.loading} error={forecast.error} />
      {f && <ForecastView f={f} />}
      <section aria-labelledby="h-pipeline">
        <h2 id="h-pipeline">{t('pipeline')}</h2>
        <Status loading={demand.loading} error={demand.data ? null : demand.error} />
        {demand.data && demand.data.length === 0 && <p>{t('noPipeline')}</p>}
        {demand.data && demand.data.length > 0 && (
          <Table caption={t('pipeline')} wide>
            <thead>
              <tr>
                <th scope="col">{t('kind')}</th>
                <th scope="col">{t('department')}</th>
                <th scope="col">{t('servicesCount')}</th>
                <th scope="col">{t('size')}</th>
                <th scope="col">{t('goLive')}</th>
                <th scope="col">{t('scenario')}</th>
                <th scope="col">{t('note')}</th>
              </tr>
            </thead>
            <tbody>
              {demand.data.map((d) => (
                <tr key={d.id} data-demand={d.kind}>
                  <td>{t(`kind_${d.kind}`)}</td>
                  <td>{d.department ?? '—'}</td>
                  <td>{d.services}</td>
                  <td>
                    {d.growthPctPerMonth !== null
                      ? t('growthPct', { pct: num(d.growthPctPerMonth) })
                      : `${d.instancesPerService} × ${memMb(d.memoryMbPerInstance)} (${memMb(d.totalMemoryMb)})`}
                  </td>
                  <td>{d.goLive}</td>
                  <td>{d.scenario ?? '—'}</td>
                  <td>{d.note}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </section>
    </>
  );
}

function ForecastView({ f }: { f: Forecast }) {
  const { t, lang } = useI18n();
  const monthName = new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'zh-HK', {
    year: 'numeric',
    month: 'short',
    timeZone: 'UTC',
  });
  const month = (m: string | null) => (m ? monthName.format(monthStart(m)) : '—');
  const runsOut = (m: string | null) => (m ? month(m) : t('notWithin', { n: f.months }));
  const first = f.series[0]?.month ?? f.from;
  const last = f.series[f.series.length - 1]?.month ?? f.from;
  const line = (pick: (s: Forecast['series'][number]) => number | null) =>
    f.series.map((s) => {
      const v = pick(s);
      return { t: monthStart(s.month), v: v === null ? null : v * 100 };
    });
  const targetPct = num(f.target * 100);

  return (
    <>
      <section aria-labelledby="h-runout">
        <h2 id="h-runout">{f.scenario ? `${t('forecast')}: ${f.scenario}` : t('forecast')}</h2>
        <dl className="figures" data-testid="runs-out">
          <div>
            <dt>{t('runsOutCpu')}</dt>
            <dd>{runsOut(f.runsOut.cpu)}</dd>
          </div>
          <div>
            <dt>{t('runsOutMemory')}</dt>
            <dd>{runsOut(f.runsOut.memory)}</dd>
          </div>
          <div>
            <dt>{t('runsOutStorage')}</dt>
            <dd>{runsOut(f.runsOut.storage)}</dd>
          </div>
          <div>
            <dt>{t('referenceFarm')}</dt>
            <dd>
              {f.referenceFarm
                ? `${f.referenceFarm.code}: ${num(f.referenceFarm.vcpu)} ${t('vcpu')}, ${memMb(f.referenceFarm.memoryMb)}, ${num(f.referenceFarm.storageGb)} GB`
                : '—'}
            </dd>
          </div>
          <div>
            <dt>{t('pipelineLines')}</dt>
            <dd>{f.pipelineLines}</dd>
          </div>
        </dl>
      </section>
      <LineChart
        id="utilisation"
        title={t('utilisationChart')}
        from={monthStart(first)}
        to={monthStart(last)}
        formatX={(tt) => monthName.format(tt)}
        lines={[
          { label: t('cpuShort'), data: line((s) => s.cpu.utilisation) },
          { label: t('memory'), data: line((s) => s.memory.utilisation) },
          { label: t('storage'), data: line((s) => s.storage.utilisation) },
        ]}
        reference={{ value: f.target * 100, label: t('targetLine', { value: targetPct }) }}
      />
      <section aria-labelledby="h-recommend">
        <h2 id="h-recommend">{t('recommendations')}</h2>
        {f.recommendations.length === 0 ? (
          <p>{t('noRecommendations')}</p>
        ) : (
          <Table caption={t('recommendations')}>
            <thead>
              <tr>
                <th scope="col">{t('farm')}</th>
                <th scope="col">{t('resource')}</th>
                <th scope="col">{t('neededFor')}</th>
                <th scope="col">{t('commissionBy')}</th>
                <th scope="col">{t('orderBy')}</th>
                <th scope="col">{t('state')}</th>
              </tr>
            </thead>
            <tbody>
              {f.recommendations.map((r) => (
                <tr key={r.farm} data-recommendation={r.farm}>
                  <td>{t('farmNo', { n: r.farm })}</td>
                  <td>{t(r.resource === 'cpu' ? 'cpuShort' : r.resource)}</td>
                  <td>{month(r.neededFor)}</td>
                  <td>{month(r.commissionBy)}</td>
                  <td>
                    <strong>{month(r.orderBy)}</strong>
                  </td>
                  <td>
                    {r.late ? <Badge tone="bad">{t('late')}</Badge> : <Badge tone="ok">{t('onTime')}</Badge>}
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </section>
      <details>
        <summary>{t('monthByMonth')}</summary>
        <Table caption={t('monthByMonth')} wide>
          <thead>
            <tr>
              <th scope="col">{t('month')}</th>
              <th scope="col">{t('farmsCount')}</th>
              <th scope="col">{t('cpuDemand')}</th>
              <th scope="col">{t('utilisation')}</th>
              <th scope="col">{t('memoryDemand')}</th>
              <th scope="col">{t('utilisation')}</th>
              <th scope="col">{t('storageDemand')}</th>
              <th scope="col">{t('utilisation')}</th>
              <th scope="col">{t('actions')}</th>
            </tr>
          </thead>
          <tbody>
            {f.series.map((s) => (
              <tr key={s.month}>
                <td>{month(s.month)}</td>
                <td>{s.farmsActive}</td>
                <td>
                  {num(s.cpu.demand)} / {num(s.cpu.capacity)}
                </td>
                <td>{pct(s.cpu.utilisation)}</td>
                <td>
                  {memMb(s.memory.demandMb)} / {memMb(s.memory.capacityMb)}
                </td>
                <td>{pct(s.memory.utilisation)}</td>
                <td>
                  {num(s.storage.demandGb)} / {num(s.storage.capacityGb)} GB
                </td>
                <td>{pct(s.storage.utilisation)}</td>
                <td>{s.actions.join('; ')}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      </details>
    </>
  );
}

function EnergyTab() {
  const { t } = useI18n();
  const [month, setMonth] = useState(thisMonth());
  const energy = useLoad(
    () => get<Energy>(`/capacity/energy?month=${encodeURIComponent(month)}`),
    `energy:${month}`,
  );
  const e = energy.data;
  const shares = (e?.farms ?? []).flatMap((f) => f.services.map((s) => ({ farm: f.code, ...s })));
  return (
    <>
      <Field label={t('month')} name="month" idPrefix="energy">
        {(p) => (
          <input
            {...p}
            type="month"
            value={month}
            onChange={(ev) => ev.target.value && setMonth(ev.target.value)}
          />
        )}
      </Field>
      <Status loading={energy.loading} error={energy.error} />
      {e && (
        <>
          <dl className="figures" data-testid="energy">
            <div>
              <dt>{t('totalKwh')}</dt>
              <dd>{num(e.totals.kWh)}</dd>
            </div>
            <div>
              <dt>{t('farms')}</dt>
              <dd>{e.totals.farms}</dd>
            </div>
            <div>
              <dt>{t('unallocated')}</dt>
              <dd>{num(e.totals.unallocatedKWh)}</dd>
            </div>
          </dl>
          {e.partial && <p className="muted">{t('monthSoFar')}</p>}
          <section aria-labelledby="h-energy-farms">
            <h2 id="h-energy-farms">{t('farms')}</h2>
            {e.farms.length === 0 ? (
              <p>{t('noFarms')}</p>
            ) : (
              <Table caption={t('farms')} wide>
                <thead>
                  <tr>
                    <th scope="col">{t('farm')}</th>
                    <th scope="col">{t('state')}</th>
                    <th scope="col">{t('hours')}</th>
                    <th scope="col">{t('basis')}</th>
                    <th scope="col">{t('utilisation')}</th>
                    <th scope="col">{t('watts')}</th>
                    <th scope="col">{t('totalKwh')}</th>
                  </tr>
                </thead>
                <tbody>
                  {e.farms.map((f) => (
                    <tr key={f.code} data-energy-farm={f.code}>
                      <td>{f.code}</td>
                      <td>{t(`farm_${f.state}`)}</td>
                      <td>{num(f.hours)}</td>
                      <td>{t(`basis_${f.basis}`)}</td>
                      <td>{pct(f.utilisation)}</td>
                      <td>{Math.round(f.watts)}</td>
                      <td>{num(f.kWh)}</td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            )}
          </section>
          {shares.length > 0 && (
            <section aria-labelledby="h-energy-shares">
              <h2 id="h-energy-shares">{t('serviceShares')}</h2>
              <Table caption={t('serviceShares')}>
                <thead>
                  <tr>
                    <th scope="col">{t('service')}</th>
                    <th scope="col">{t('farm')}</th>
                    <th scope="col">{t('share')}</th>
                    <th scope="col">{t('totalKwh')}</th>
                  </tr>
                </thead>
                <tbody>
                  {shares.map((s) => (
                    <tr key={`${s.farm}:${s.service}`}>
                      <td>{s.service}</td>
                      <td>{s.farm}</td>
                      <td>{pct(s.share)}</td>
                      <td>{num(s.kWh, 2)}</td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            </section>
          )}
        </>
      )}
    </>
  );
}

async function loadQuotas(): Promise<{ department: Department; quota: Quota }[]> {
  const depts = await get<Page<Department>>('/departments?limit=500');
  return Promise.all(
    depts.items.map(async (department) => ({
      department,
      quota: await get<Quota>(`/departments/${encodeURIComponent(department.code)}/quota`),
    })),
  );
}

function QuotasTab({ canWrite }: { canWrite: boolean }) {
  const { t, lang, time } = useI18n();
  const quotas = useLoad(loadQuotas, 'quotas');
  const unmet = useLoad(() => get<Page<UnmetDemand>>('/capacity/unmet-demand?limit=20'), 'unmet');
  const [editing, setEditing] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const chosen = quotas.data?.find((q) => q.department.code === editing);
  return (
    <>
      <section aria-labelledby="h-quotas">
        <h2 id="h-quotas">{t('departmentQuotas')}</h2>
        <Status loading={quotas.loading} error={quotas.data ? null : quotas.error} />
        {quotas.data && (
          <Table caption={t('departmentQuotas')}>
            <thead>
              <tr>
                <th scope="col">{t('department')}</th>
                <th scope="col">{t('quotas')}</th>
                {canWrite && <th scope="col">{t('actions')}</th>}
              </tr>
            </thead>
            <tbody>
              {quotas.data.map(({ department: d, quota }) => (
                <tr key={d.code} data-quota={d.code}>
                  <td>
                    <strong>{d.code}</strong>
                    <div className="muted">{lang === 'en' ? d.nameEn : d.nameZh}</div>
                  </td>
                  <td>
                    <QuotaBars quota={quota} />
                  </td>
                  {canWrite && (
                    <td>
                      <button
                        type="button"
                        onClick={() => {
                          setSaved(null);
                          setEditing(d.code);
                        }}
                      >
                        {t('edit')} <span className="visually-hidden">{d.code}</span>
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </Table>
        )}
        <p role="status">{saved ? t('quotaSaved', { dept: saved }) : ''}</p>
        {canWrite && chosen && (
          <QuotaForm
            key={chosen.department.code}
            quota={chosen.quota}
            onDone={(code) => {
              setEditing(null);
              setSaved(code);
              quotas.reload();
            }}
          />
        )}
      </section>
      <section aria-labelledby="h-unmet">
        <h2 id="h-unmet">{t('unmetDemand')}</h2>
        <Status loading={unmet.loading} error={unmet.data ? null : unmet.error} />
        {unmet.data && unmet.data.items.length === 0 && <p>{t('noUnmet')}</p>}
        {unmet.data && unmet.data.items.length > 0 && (
          <Table caption={t('unmetDemand')}>
            <thead>
              <tr>
                <th scope="col">{t('when')}</th>
                <th scope="col">{t('service')}</th>
                <th scope="col">{t('size')}</th>
                <th scope="col">{t('reason')}</th>
              </tr>
            </thead>
            <tbody>
              {unmet.data.items.map((u) => (
                <tr key={u.id}>
                  <td>{time(u.at)}</td>
                  <td>{u.service}</td>
                  <td>
                    {u.instances} × {memMb(u.memoryMb)}
                  </td>
                  <td>{u.reason}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </section>
    </>
  );
}

function QuotaForm({ quota, onDone }: { quota: Quota; onDone(code: string): void }) {
  const { t } = useI18n();
  const [f, setF] = useState({
    memoryMb: String(quota.limits.memoryMb),
    instances: String(quota.limits.instances),
    services: String(quota.limits.services),
  });
  const s = useSubmit();
  // The form opens below the table: take keyboard users to it.
  useEffect(() => document.getElementById('quota-memoryMb')?.focus(), []);
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) =>
    setF({ ...f, [k]: e.target.value });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void s.run(async () => {
      await send('PUT', `/departments/${encodeURIComponent(quota.department)}/quota`, {
        memoryMb: Number(f.memoryMb),
        instances: Number(f.instances),
        services: Number(f.services),
      });
      onDone(quota.department);
      return t('quotaSaved', { dept: quota.department });
    });
  };
  const fields: { k: keyof typeof f; label: MessageKey }[] = [
    { k: 'memoryMb', label: 'memoryLimitMb' },
    { k: 'instances', label: 'instances' },
    { k: 'services', label: 'servicesCount' },
  ];
  return (
    <form className="card form inline" onSubmit={submit} noValidate aria-labelledby="h-set-quota">
      <h3 id="h-set-quota">{t('setQuotaOf', { dept: quota.department })}</h3>
      {fields.map(({ k, label }) => (
        <Field key={k} label={t(label)} name={k} error={s.fields[k]} idPrefix="quota">
          {(p) => <input {...p} type="number" min={0} required value={f[k]} onChange={set(k)} />}
        </Field>
      ))}
      <button type="submit" className="primary" disabled={s.busy}>
        {t('save')}
      </button>
      <Message msg={s.msg} />
    </form>
  );
}
