import {
  get,
  type Page,
  type Status as RunStatus,
  type Service,
  type ServiceSummary,
  servicePath,
} from '../api.ts';
import { useLoad } from '../hooks.ts';
import { useI18n } from '../i18n.tsx';
import { Link } from '../router.tsx';
import { Badge, Status, Table } from '../ui.tsx';

interface Row {
  service: Service;
  live: ServiceSummary | null;
}

/**
 * The catalog's list and the runtime's live state of the same page of services: two requests
 * however many services there are. Polled so the list stays current.
 */
async function loadRows(department?: string): Promise<Row[]> {
  const q = `limit=500${department ? `&department=${encodeURIComponent(department)}` : ''}`;
  const [page, live] = await Promise.all([
    get<Page<Service>>(`/services?${q}`),
    get<Page<ServiceSummary>>(`/runtime/services?${q}`).catch(() => null),
  ]);
  const byKey = new Map((live?.items ?? []).map((l) => [l.service, l]));
  return page.items.map((service) => ({
    service,
    live: byKey.get(`${service.department}/${service.slug}`) ?? null,
  }));
}

/** The summary of a service's full runtime status, for the same badge as the list's. */
export const summaryOf = (
  s: RunStatus,
): Pick<ServiceSummary, 'release' | 'desiredInstances' | 'running'> => ({
  release: s.release?.version ?? null,
  desiredInstances: s.desired.instances,
  running: s.instances.filter((i) => i.state === 'healthy' && i.serving).length,
});

export function LiveState({
  live,
}: {
  live: Pick<ServiceSummary, 'release' | 'desiredInstances' | 'running'> | null;
}) {
  const { t } = useI18n();
  if (!live) return <Badge tone="neutral">{t('unknown')}</Badge>;
  if (live.release === null) return <Badge tone="neutral">{t('notDeployed')}</Badge>;
  const up = live.running;
  const want = live.desiredInstances;
  const tone = up >= want && want > 0 ? 'ok' : up === 0 && want > 0 ? 'bad' : 'warn';
  return <Badge tone={tone}>{t('instancesUp', { up, want })}</Badge>;
}

export function ServicesTable({ department }: { department?: string }) {
  const { t, lang } = useI18n();
  const rows = useLoad(() => loadRows(department), `services:${department ?? ''}`, 5000);
  return (
    <>
      <Status loading={rows.loading} error={rows.data ? null : rows.error} />
      {rows.data && rows.data.length === 0 && <p>{t('noServices')}</p>}
      {rows.data && rows.data.length > 0 && (
        <Table caption={t('services')}>
          <thead>
            <tr>
              <th scope="col">{t('name')}</th>
              <th scope="col">{t('department')}</th>
              <th scope="col">{t('state')}</th>
              <th scope="col">{t('tier')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.data.map(({ service: s, live }) => (
              <tr key={`${s.department}/${s.slug}`} data-service={`${s.department}/${s.slug}`}>
                <td>
                  <Link href={servicePath(s.department, s.slug)}>{lang === 'en' ? s.nameEn : s.nameZh}</Link>
                  <div className="muted">{s.slug}</div>
                </td>
                <td>{s.department}</td>
                <td>
                  <LiveState live={live} />
                </td>
                <td>{s.slaTier}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </>
  );
}

export function ServicesPage() {
  const { t } = useI18n();
  return (
    <>
      <h1>{t('services')}</h1>
      <ServicesTable />
    </>
  );
}
