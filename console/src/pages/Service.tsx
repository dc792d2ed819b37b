import { type FormEvent, useEffect, useRef, useState } from 'react';
import {
  type Alert,
  ApiError,
  type Deployment,
  get,
  type Incident,
  type Page,
  type Release,
  type Status as RunStatus,
  type Service,
  type ServiceMetrics,
  type SlaLine,
  send,
  servicePath,
} from '../api.ts';
import { LineChart, type Series } from '../Chart.tsx';
import { useLoad, useTextStream } from '../hooks.ts';
import { type MessageKey, useI18n } from '../i18n.tsx';
import { Link } from '../router.tsx';
import { Badge, mb, Status, Table } from '../ui.tsx';
import { ServiceHttpsSettings } from './Certificates.tsx';
import { ServiceDomains } from './Domains.tsx';
import { DeployHistory, EnvEditor } from './ServiceEnv.tsx';
import { LiveState, summaryOf } from './Services.tsx';

const TABS: { id: string; label: MessageKey }[] = [
  { id: 'overview', label: 'overview' },
  { id: 'history', label: 'history' },
  { id: 'env', label: 'env' },
  { id: 'domains', label: 'domains' },
  { id: 'logs', label: 'logs' },
  { id: 'charts', label: 'charts' },
  { id: 'health', label: 'health' },
];

export function ServicePage({
  dept,
  slug,
  tab,
  canClaimDomains,
  canChangeService,
}: {
  dept: string;
  slug: string;
  tab: string;
  /** The caller's role may claim and remove custom domains (the API decides; this hides the form). */
  canClaimDomains: boolean;
  /** The caller's role may change the service's settings, HTTPS among them (the API decides). */
  canChangeService: boolean;
}) {
  const { t, lang } = useI18n();
  const base = servicePath(dept, slug);
  const service = useLoad(() => get<Service>(base), base);

  if (service.error instanceof ApiError && service.error.status === 404) {
    return (
      <>
        <h1>{t('serviceNotFound')}</h1>
        <p>{t('serviceNotFoundText')}</p>
        <p>
          <Link href="/">{t('backToServices')}</Link>
        </p>
      </>
    );
  }
  if (!service.data) return <Status loading={service.loading} error={service.error} />;
  const s = service.data;
  return (
    <>
      <h1>
        {lang === 'en' ? s.nameEn : s.nameZh} <span className="muted">{`${s.department}/${s.slug}`}</span>
      </h1>
      <nav aria-label={t('service')} className="tabs">
        <ul>
          {TABS.map((x) => (
            <li key={x.id}>
              <Link href={`${base}/${x.id}`} aria-current={tab === x.id ? 'page' : undefined}>
                {t(x.label)}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      {tab === 'history' ? (
        <DeployHistory base={base} />
      ) : tab === 'env' ? (
        <EnvEditor base={base} />
      ) : tab === 'domains' ? (
        <>
          <ServiceDomains base={base} canWrite={canClaimDomains} />
          <ServiceHttpsSettings base={base} canWrite={canChangeService} />
        </>
      ) : tab === 'logs' ? (
        <Logs base={base} />
      ) : tab === 'charts' ? (
        <Charts base={base} />
      ) : tab === 'health' ? (
        <Health service={s} />
      ) : (
        <Overview base={base} />
      )}
    </>
  );
}

function Overview({ base }: { base: string }) {
  const { t, time } = useI18n();
  const status = useLoad(() => get<RunStatus>(`${base}/status`), `${base}/status`, 3000);
  const releases = useLoad(() => get<{ items: Release[] }>(`${base}/releases`), `${base}/releases`);
  const st = status.data;

  return (
    <>
      <section aria-labelledby="h-instances">
        <h2 id="h-instances">{t('instances')}</h2>
        <Status loading={status.loading} error={st ? null : status.error} />
        {st && (
          <>
            <p>
              <LiveState live={summaryOf(st)} />{' '}
              {st.release && (
                <>
                  {t('address')}: <code>{st.url}</code>
                </>
              )}
            </p>
            {st.lastDeployment && (
              <p className="muted" data-testid="last-deployment">
                {t('lastDeployment')}: {st.lastDeployment.kind} · {t(`deploy_${st.lastDeployment.state}`)} ·{' '}
                {st.lastDeployment.message}
              </p>
            )}
            <p className="muted" data-testid="isolation">
              {t('isolation')}:{' '}
              {st.runAs ? t('runsAs', { user: st.runAs.name, uid: st.runAs.uid }) : st.isolation.users.reason}{' '}
              ·{' '}
              {st.isolation.network.enforced
                ? t('networkEnforced')
                : t('networkNotEnforced', { reason: st.isolation.network.reason ?? '' })}
            </p>
            {st.instances.length === 0 ? (
              <p>{t('noInstances')}</p>
            ) : (
              <Table caption={t('instances')}>
                <thead>
                  <tr>
                    <th scope="col">{t('instance')}</th>
                    <th scope="col">{t('state')}</th>
                    <th scope="col">{t('release')}</th>
                    <th scope="col">{t('restarts')}</th>
                    <th scope="col">{t('memory')}</th>
                    <th scope="col">{t('started')}</th>
                  </tr>
                </thead>
                <tbody>
                  {st.instances.map((i) => (
                    <tr key={i.instanceId} data-instance-state={i.state}>
                      <td>
                        <code>{i.instanceId}</code>
                      </td>
                      <td>
                        <Badge tone={i.state === 'healthy' && i.serving ? 'ok' : 'warn'}>
                          {t(`instance_${i.state}`)}
                        </Badge>
                      </td>
                      <td>{i.release ?? '—'}</td>
                      <td>{i.restarts}</td>
                      <td>{mb(i.memoryBytes)}</td>
                      <td>{time(i.startedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            )}
            <ScaleForm base={base} desired={st.desired} onDone={status.reload} />
          </>
        )}
      </section>

      <section aria-labelledby="h-releases">
        <h2 id="h-releases">{t('releases')}</h2>
        <Status loading={releases.loading} error={releases.error} />
        {releases.data && (
          <ReleaseTable
            base={base}
            items={releases.data.items}
            current={st?.release?.version ?? null}
            onDone={() => {
              releases.reload();
              status.reload();
            }}
          />
        )}
      </section>
    </>
  );
}

function ScaleForm({
  base,
  desired,
  onDone,
}: {
  base: string;
  desired: { instances: number; memoryMb: number };
  onDone(): void;
}) {
  const { t } = useI18n();
  const [instances, setInstances] = useState(String(desired.instances));
  const [memory, setMemory] = useState(String(desired.memoryMb));
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setMsg(null);
    try {
      const body: { instances?: number; memoryMb?: number } = {};
      if (Number(instances) !== desired.instances) body.instances = Number(instances);
      if (Number(memory) !== desired.memoryMb) body.memoryMb = Number(memory);
      if (Object.keys(body).length === 0) body.instances = Number(instances);
      const d = await send<Deployment>('POST', `${base}/scale`, body);
      setMsg({ ok: true, text: t('scaleStarted', { message: d.message }) });
      onDone();
    } catch (err) {
      setMsg({ ok: false, text: err instanceof Error ? err.message : String(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card form inline" onSubmit={submit} aria-labelledby="h-scale">
      <h3 id="h-scale">{t('scale')}</h3>
      <label>
        {t('instancesCount')}
        <input
          name="instances"
          type="number"
          min={0}
          max={100}
          required
          value={instances}
          onChange={(e) => setInstances(e.target.value)}
        />
      </label>
      <label>
        {t('memoryMb')}
        <input
          name="memoryMb"
          type="number"
          min={16}
          max={16384}
          required
          value={memory}
          onChange={(e) => setMemory(e.target.value)}
        />
      </label>
      <button type="submit" className="primary" disabled={busy}>
        {t('apply')}
      </button>
      <p role="status" className={msg && !msg.ok ? 'error' : undefined}>
        {msg?.text ?? ''}
      </p>
    </form>
  );
}

function ReleaseTable({
  base,
  items,
  current,
  onDone,
}: {
  base: string;
  items: Release[];
  current: number | null;
  onDone(): void;
}) {
  const { t, time } = useI18n();
  const [msg, setMsg] = useState('');
  const rollback = async (version: number) => {
    try {
      await send('POST', `${base}/rollback`, { to: version });
      setMsg(t('rollbackDone'));
      onDone();
    } catch (err) {
      setMsg(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <>
      <Table caption={t('releases')}>
        <thead>
          <tr>
            <th scope="col">{t('version')}</th>
            <th scope="col">{t('state')}</th>
            <th scope="col">{t('description')}</th>
            <th scope="col">{t('createdBy')}</th>
            <th scope="col">{t('created')}</th>
            <th scope="col">{t('actions')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((r) => (
            <tr key={r.version}>
              <td>v{r.version}</td>
              <td>{r.status}</td>
              <td>{r.description}</td>
              <td>{r.createdBy}</td>
              <td>{time(r.createdAt)}</td>
              <td>
                {r.version !== current && r.status !== 'failed' && (
                  <button type="button" onClick={() => rollback(r.version)}>
                    {t('rollback')} <span className="visually-hidden">v{r.version}</span>
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <p role="status">{msg}</p>
    </>
  );
}

function Logs({ base }: { base: string }) {
  const { t } = useI18n();
  const [paused, setPaused] = useState(false);
  // One long response: the tail, then each new line as the instances print it.
  const logs = useTextStream(`${base}/logs?tail=300&follow=true`, paused);
  const box = useRef<HTMLElement>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll when new text arrives
  useEffect(() => {
    if (box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [logs.data]);
  return (
    <section aria-labelledby="h-logs">
      <h2 id="h-logs">{t('liveLogs')}</h2>
      <p className="muted">
        {t('logsUpdated')}{' '}
        <button type="button" onClick={() => setPaused((p) => !p)} aria-pressed={paused}>
          {paused ? t('resume') : t('pause')}
        </button>
      </p>
      <Status loading={logs.loading && logs.data === null} error={logs.data === null ? logs.error : null} />
      {logs.data !== null && (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the log box scrolls and must be reachable by keyboard
        <section className="logs-box" ref={box} tabIndex={0} aria-label={t('logs')}>
          <pre className="logs" data-testid="logs">
            {logs.data || t('noLogs')}
          </pre>
        </section>
      )}
    </section>
  );
}

const RANGES: { id: string; label: MessageKey; seconds: number; step: number }[] = [
  { id: '1h', label: 'lastHour', seconds: 3600, step: 60 },
  { id: '6h', label: 'last6h', seconds: 6 * 3600, step: 300 },
  { id: '24h', label: 'last24h', seconds: 24 * 3600, step: 900 },
  { id: '7d', label: 'last7d', seconds: 7 * 86400, step: 3600 },
];

function Charts({ base }: { base: string }) {
  const { t } = useI18n();
  const [rangeId, setRangeId] = useState('1h');
  const range = RANGES.find((r) => r.id === rangeId) ?? RANGES[0]!;
  const metrics = useLoad(
    () => {
      const to = new Date();
      const from = new Date(to.getTime() - range.seconds * 1000);
      return get<ServiceMetrics>(
        `${base}/metrics?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}&step=${range.step}`,
      );
    },
    `${base}/metrics:${range.id}`,
    30000,
  );
  const m = metrics.data;
  const series = (pick: (p: ServiceMetrics['points'][number]) => number | null): Series[] =>
    (m?.points ?? []).map((p) => ({ t: Date.parse(p.t), v: pick(p) }));
  // Instances report separately; the service's CPU and memory are their sums at each step.
  const summed = (pick: (p: ServiceMetrics['instances'][number]['points'][number]) => number | null) => {
    const by = new Map<number, number | null>();
    for (const inst of m?.instances ?? []) {
      for (const p of inst.points) {
        const tt = Date.parse(p.t);
        const v = pick(p);
        const prev = by.get(tt);
        by.set(tt, v === null ? (prev ?? null) : (prev ?? 0) + v);
      }
    }
    return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([tt, v]) => ({ t: tt, v }));
  };

  return (
    <section aria-labelledby="h-charts">
      <h2 id="h-charts">{t('charts')}</h2>
      <label className="inline-label">
        {t('range')}{' '}
        <select value={rangeId} onChange={(e) => setRangeId(e.target.value)} name="range">
          {RANGES.map((r) => (
            <option key={r.id} value={r.id}>
              {t(r.label)}
            </option>
          ))}
        </select>
      </label>
      <Status loading={metrics.loading && !m} error={m ? null : metrics.error} />
      {m && (
        <div className="charts">
          <LineChart
            from={Date.parse(m.from)}
            to={Date.parse(m.to)}
            id="requests"
            title={t('requests')}
            data={series((p) => p.requests.total)}
          />
          <LineChart
            from={Date.parse(m.from)}
            to={Date.parse(m.to)}
            id="errors"
            title={t('errors')}
            data={series((p) => (p.errorRate === null ? null : p.errorRate * 100))}
          />
          <LineChart
            from={Date.parse(m.from)}
            to={Date.parse(m.to)}
            id="latency"
            title={t('latency')}
            data={series((p) => p.latencyMs.p95)}
          />
          <LineChart
            from={Date.parse(m.from)}
            to={Date.parse(m.to)}
            id="cpu"
            title={t('cpu')}
            data={summed((p) => p.cpu * 100)}
          />
          <LineChart
            from={Date.parse(m.from)}
            to={Date.parse(m.to)}
            id="memory"
            title={t('memoryChart')}
            data={summed((p) => (p.memoryMaxBytes === null ? null : p.memoryMaxBytes / 1048576))}
          />
        </div>
      )}
    </section>
  );
}

function Health({ service }: { service: Service }) {
  const { t, time } = useI18n();
  const ref = encodeURIComponent(`${service.department}/${service.slug}`);
  const month = new Date().toISOString().slice(0, 7);
  const alerts = useLoad(
    () => get<Page<Alert>>(`/alerts?state=all&limit=20&service=${ref}`),
    `alerts:${ref}`,
    15000,
  );
  const incidents = useLoad(
    () => get<Page<Incident>>(`/incidents?state=all&limit=20&service=${ref}`),
    `incidents:${ref}`,
    15000,
  );
  const sla = useLoad(
    () =>
      get<{ services: SlaLine[] }>(
        `/reports/sla?month=${month}&department=${encodeURIComponent(service.department)}`,
      ),
    `sla:${ref}:${month}`,
  );
  const line = sla.data?.services.find(
    (l) => l.service === service.slug || l.service.endsWith(`/${service.slug}`),
  );

  return (
    <>
      <section aria-labelledby="h-sla">
        <h2 id="h-sla">{t('sla')}</h2>
        <Status loading={sla.loading} error={sla.error} />
        {sla.data && !line && <p>{t('noSla')}</p>}
        {line && (
          <dl className="figures">
            <div>
              <dt>{t('availability')}</dt>
              <dd>{line.availability === null ? '—' : `${line.availability.toFixed(3)}%`}</dd>
            </div>
            <div>
              <dt>{t('target')}</dt>
              <dd>{line.target}%</dd>
            </div>
            <div>
              <dt>{t('downtime')}</dt>
              <dd>{line.downtimeMinutes}</dd>
            </div>
            <div>
              <dt>{t('outages')}</dt>
              <dd>{line.outages}</dd>
            </div>
            <div>
              <dt>{t('met')}</dt>
              <dd>{line.met === null ? '—' : line.met ? t('yes') : t('no')}</dd>
            </div>
          </dl>
        )}
      </section>
      <section aria-labelledby="h-alerts">
        <h2 id="h-alerts">{t('alerts')}</h2>
        <Status loading={alerts.loading} error={alerts.error} />
        {alerts.data && alerts.data.items.length === 0 && <p>{t('noAlerts')}</p>}
        {alerts.data && alerts.data.items.length > 0 && (
          <Table caption={t('alerts')}>
            <thead>
              <tr>
                <th scope="col">{t('rule')}</th>
                <th scope="col">{t('state')}</th>
                <th scope="col">{t('message')}</th>
                <th scope="col">{t('since')}</th>
                <th scope="col">{t('resolvedAt')}</th>
              </tr>
            </thead>
            <tbody>
              {alerts.data.items.map((a) => (
                <tr key={a.id}>
                  <td>{a.rule}</td>
                  <td>
                    <Badge tone={a.state === 'firing' ? 'bad' : 'ok'}>{t(a.state)}</Badge>
                  </td>
                  <td>{a.message}</td>
                  <td>{time(a.startedAt)}</td>
                  <td>{time(a.resolvedAt)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </section>
      <section aria-labelledby="h-incidents">
        <h2 id="h-incidents">{t('incidents')}</h2>
        <Status loading={incidents.loading} error={incidents.error} />
        {incidents.data && <IncidentTable items={incidents.data.items} onChange={incidents.reload} />}
      </section>
    </>
  );
}

export function IncidentTable({ items, onChange }: { items: Incident[]; onChange(): void }) {
  const { t, time } = useI18n();
  const [msg, setMsg] = useState('');
  if (items.length === 0) return <p>{t('noIncidents')}</p>;
  const act = async (id: number, what: 'acknowledge' | 'resolve') => {
    try {
      await send('POST', `/incidents/${id}/${what}`, what === 'resolve' ? {} : undefined);
      setMsg('');
      onChange();
    } catch (err) {
      setMsg(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <>
      <Table caption={t('incidents')}>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">{t('service')}</th>
            <th scope="col">{t('severity')}</th>
            <th scope="col">{t('title')}</th>
            <th scope="col">{t('state')}</th>
            <th scope="col">{t('opened')}</th>
            <th scope="col">{t('acknowledged')}</th>
            <th scope="col">{t('actions')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((i) => (
            <tr key={i.id} data-incident={i.id} data-incident-state={i.state}>
              <td>{i.id}</td>
              <td>{i.service}</td>
              <td>{i.severity}</td>
              <td>{i.title}</td>
              <td>
                <Badge tone={i.state === 'open' ? 'bad' : 'ok'}>{t(i.state)}</Badge>
              </td>
              <td>{time(i.openedAt)}</td>
              <td>{i.acknowledgedAt ? `${time(i.acknowledgedAt)} (${i.acknowledgedBy ?? ''})` : '—'}</td>
              <td className="actions">
                {i.state === 'open' && !i.acknowledgedAt && (
                  <button type="button" onClick={() => act(i.id, 'acknowledge')}>
                    {t('acknowledge')} <span className="visually-hidden">#{i.id}</span>
                  </button>
                )}
                {i.state === 'open' && (
                  <button type="button" onClick={() => act(i.id, 'resolve')}>
                    {t('resolve')} <span className="visually-hidden">#{i.id}</span>
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <p role="status" className="error">
        {msg}
      </p>
    </>
  );
}
