import { useState } from 'react';
import { type AuditRecord, get } from '../api.ts';
import { useLoad } from '../hooks.ts';
import { useI18n } from '../i18n.tsx';
import { Status, Table } from '../ui.tsx';

interface AuditPage {
  items: AuditRecord[];
  nextBefore: number | null;
}

/** The audit API pages by sequence number; the text filter narrows the records loaded so far. */
export function AuditPage() {
  const { t, time } = useI18n();
  const [before, setBefore] = useState<number[]>([]);
  const [filter, setFilter] = useState('');
  const cursor = before[before.length - 1];
  const page = useLoad(
    () => get<AuditPage>(`/audit?limit=100${cursor ? `&before=${cursor}` : ''}`),
    `audit:${cursor ?? ''}`,
  );
  const f = filter.trim().toLowerCase();
  const rows = (page.data?.items ?? []).filter(
    (r) =>
      !f ||
      [r.actor, r.action, r.targetType, r.targetId, r.department ?? ''].some((x) =>
        x.toLowerCase().includes(f),
      ),
  );
  return (
    <>
      <h1>{t('audit')}</h1>
      <label className="inline-label">
        {t('filter')}{' '}
        <input type="search" name="filter" value={filter} onChange={(e) => setFilter(e.target.value)} />
      </label>
      <Status loading={page.loading} error={page.error} />
      {page.data && rows.length === 0 && <p>{t('noRecords')}</p>}
      {rows.length > 0 && (
        <Table caption={t('audit')}>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">{t('when')}</th>
              <th scope="col">{t('actor')}</th>
              <th scope="col">{t('department')}</th>
              <th scope="col">{t('action')}</th>
              <th scope="col">{t('target_')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.seq}>
                <td>{r.seq}</td>
                <td>{time(r.at)}</td>
                <td>{r.actor}</td>
                <td>{r.department ?? '—'}</td>
                <td>
                  <code>{r.action}</code>
                </td>
                <td>
                  {r.targetType} <code className="muted">{r.targetId.slice(0, 12)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      {page.data?.nextBefore && (
        <button type="button" onClick={() => setBefore((b) => [...b, page.data!.nextBefore!])}>
          {t('older')}
        </button>
      )}
    </>
  );
}
