import { get, type Page, type Status as RunStatus, type Service, servicePath } from '../api.ts';
import { useLoad } from '../hooks.ts';
import { useI18n } from '../i18n.tsx';
import { Link } from '../router.tsx';
import { Badge, Status, Table } from '../ui.tsx';

interface Row {
  service: Service;
  status: RunStatus | null;
}

/** Each service's live state comes from its runtime status; polled so the list stays current. */
async function loadRows(department?: string): Promise<Row[]> {
  const q = department ? `&department=${encodeURIComponent(department)}` : '';
  const page = await get<Page<Service>>(`/services?limit=500${q}`);
  return Promise.all(
    page.items.map(async (service) => ({
      service,
      status: await get<RunStatus>(`${servicePath(service.department, service.slug)}/status`).catch(
        () => null,
      ),
    })),
  );
}

export function LiveState({ status }: { status: RunStatus | null }) {
  const { t } = useI18n();
  if (!status) return <Badge tone="neutral">{t('unknown')}</Badge>;
  if (!status.release) return <Badge tone="neutral">{t('notDeployed')}</Badge>;
  const up = status.instances.filter((i) => i.state === 'healthy' && i.serving).length;
  const want = status.desired.instances;
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
            {rows.data.map(({ service: s, status }) => (
              <tr key={`${s.department}/${s.slug}`} data-service={`${s.department}/${s.slug}`}>
                <td>
                  <Link href={servicePath(s.department, s.slug)}>{lang === 'en' ? s.nameEn : s.nameZh}</Link>
                  <div className="muted">{s.slug}</div>
                </td>
                <td>{s.department}</td>
                <td>
                  <LiveState status={status} />
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
