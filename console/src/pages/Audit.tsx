import { useState } from 'react';
import { type AuditRecord, get } from '../api.ts';
import { useLoad } from '../hooks.ts';
import { useI18n } from '../i18n.tsx';
import { Status, Table } from '../ui.tsx';

interface AuditPage {
  items: AuditRecord[];
  nextBefore: number | null;
}

/** Filters the server applies (action or family `service.`, actor, department). */
interface ServerFilter {
  action: string;
  actor: string;
  department: string;
}

/**
 * The audit API filters by action, actor and department and pages by sequence number; the text
 * filter then narrows the records loaded so far.
 */
export function AuditPage() {
  const { t, time } = useI18n();
  const [before, setBefore] = useState<number[]>([]);
  const [filter, setFilter] = useState('');
  const [server, setServer] = useState<ServerFilter>({ action: '', actor: '', department: '' });
  const [draft, setDraft] = useState<ServerFilter>(server);
  const cursor = before[before.length - 1];
  const query = new URLSearchParams({ limit: '100' });
  if (cursor) query.set('before', String(cursor));
  for (const [k, v] of Object.entries(server)) if (v.trim()) query.set(k, v.trim());
  const page = useLoad(() => get<AuditPage>(`/audit?${query.toString()}`), `audit:${query.toString()}`);
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
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          setBefore([]);
          setServer(draft);
        }}
      >
        {(['action', 'actor', 'department'] as const).map((k) => (
          <label key={k} className="inline-label">
            {t(k)}{' '}
            <input
              name={`audit-${k}`}
              value={draft[k]}
              placeholder={k === 'action' ? 'service.' : ''}
              onChange={(e) => setDraft({ ...draft, [k]: e.target.value })}
            />
          </label>
        ))}
        <button type="submit">{t('applyFilters')}</button>
      </form>
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
