import { get, type Incident, type Page } from '../api.ts';
import { useLoad } from '../hooks.ts';
import { useI18n } from '../i18n.tsx';
import { Link } from '../router.tsx';
import { Status } from '../ui.tsx';
import { IncidentTable } from './Service.tsx';

export function IncidentsPage({ state }: { state: string }) {
  const { t } = useI18n();
  const want = state === 'all' || state === 'resolved' ? state : 'open';
  const list = useLoad(
    () => get<Page<Incident>>(`/incidents?state=${want}&limit=100`),
    `incidents:${want}`,
    10000,
  );
  return (
    <>
      <h1>{want === 'open' ? t('openIncidents') : t('incidents')}</h1>
      <nav aria-label={t('incidents')} className="tabs">
        <ul>
          {(['open', 'resolved', 'all'] as const).map((s) => (
            <li key={s}>
              <Link href={`/incidents?state=${s}`} aria-current={want === s ? 'page' : undefined}>
                {s === 'all' ? t('incidents') : t(s)}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <Status loading={list.loading} error={list.data ? null : list.error} />
      {list.data && <IncidentTable items={list.data.items} onChange={list.reload} />}
    </>
  );
}
