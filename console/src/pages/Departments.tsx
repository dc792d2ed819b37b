import { type Department, get, type Incident, type Page, type Service } from '../api.ts';
import { useLoad } from '../hooks.ts';
import { useI18n } from '../i18n.tsx';
import { Link } from '../router.tsx';
import { Badge, Status, Table } from '../ui.tsx';
import { ServicesTable } from './Services.tsx';

interface Overview {
  departments: Department[];
  services: Service[];
  open: Incident[];
}

async function load(): Promise<Overview> {
  const [d, s, i] = await Promise.all([
    get<Page<Department>>('/departments?limit=500'),
    get<Page<Service>>('/services?limit=500'),
    get<Page<Incident>>('/incidents?state=open&limit=500'),
  ]);
  return { departments: d.items, services: s.items, open: i.items };
}

/** Every department and service, with open incidents as the platform's health at a glance. */
export function DepartmentsPage() {
  const { t, lang } = useI18n();
  const o = useLoad(load, 'departments', 15000);
  const data = o.data;
  return (
    <>
      <h1>{t('departments')}</h1>
      <Status loading={o.loading} error={data ? null : o.error} />
      {data && (
        <>
          <section aria-labelledby="h-health">
            <h2 id="h-health">{t('platformHealth')}</h2>
            <dl className="figures">
              <div>
                <dt>{t('departments')}</dt>
                <dd>{data.departments.length}</dd>
              </div>
              <div>
                <dt>{t('servicesCount')}</dt>
                <dd>{data.services.length}</dd>
              </div>
              <div>
                <dt>{t('openIncidents')}</dt>
                <dd>
                  <Link href="/incidents">{data.open.length}</Link>
                </dd>
              </div>
            </dl>
          </section>
          <section aria-labelledby="h-depts">
            <h2 id="h-depts">{t('departments')}</h2>
            <Table caption={t('departments')}>
              <thead>
                <tr>
                  <th scope="col">{t('department')}</th>
                  <th scope="col">{t('name')}</th>
                  <th scope="col">{t('servicesCount')}</th>
                  <th scope="col">{t('openIncidents')}</th>
                </tr>
              </thead>
              <tbody>
                {data.departments.map((d) => {
                  const open = data.open.filter((i) => i.service.startsWith(`${d.code}/`)).length;
                  return (
                    <tr key={d.code}>
                      <td>{d.code}</td>
                      <td>{lang === 'en' ? d.nameEn : d.nameZh}</td>
                      <td>{data.services.filter((s) => s.department === d.code).length}</td>
                      <td>{open > 0 ? <Badge tone="bad">{open}</Badge> : <Badge tone="ok">0</Badge>}</td>
                    </tr>
                  );
                })}
              </tbody>
            </Table>
          </section>
        </>
      )}
      <section aria-labelledby="h-all">
        <h2 id="h-all">{t('allServices')}</h2>
        <ServicesTable />
      </section>
    </>
  );
}
