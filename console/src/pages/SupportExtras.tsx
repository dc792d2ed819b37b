import { type FormEvent, useState } from 'react';
import { can } from '../access.ts';
import { get, type Me, send } from '../api.ts';
import { useLoad, useSubmit } from '../hooks.ts';
import { useI18n } from '../i18n.tsx';
import { Link } from '../router.tsx';
import { Field, Message, Status, Table } from '../ui.tsx';

// The parts of a ticket these sections show, as /api/v1/tickets/{id} answers them.
export interface TicketExtras {
  id: number;
  status: string;
  service: string | null;
  watchers: string[];
  incidents: number[];
  attachments?: {
    id: string;
    filename: string;
    mediaType: string;
    sizeBytes: number;
    by: string;
    at: string;
  }[];
}

/** The API's limit (src/support/ticket.logic.ts): refused here first, so a large file is never sent. */
const ATTACHMENT_LIMIT = 512 * 1024;

const base64Of = (file: File) =>
  new Promise<string>((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error ?? new Error('the file could not be read'));
    r.readAsDataURL(file);
  });

/** Attachments: the list with download links, and the upload (its refusals said in the form). */
export function TicketAttachments({ x, me, reload }: { x: TicketExtras; me: Me; reload(): void }) {
  const { t } = useI18n();
  const s = useSubmit();
  const [file, setFile] = useState<File | null>(null);
  const upload = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    void s.run(async () => {
      if (!file) throw new Error(t('chooseFile'));
      if (file.size > ATTACHMENT_LIMIT)
        throw new Error(t('attachmentTooLarge', { name: file.name, size: file.size }));
      await send('POST', `/tickets/${x.id}/attachments`, {
        filename: file.name,
        contentBase64: await base64Of(file),
      });
      form.reset();
      setFile(null);
      reload();
      return t('attached', { name: file.name });
    });
  };
  const files = x.attachments ?? [];
  return (
    <section aria-labelledby="h-attachments">
      <h2 id="h-attachments">{t('attachments')}</h2>
      {files.length === 0 ? (
        <p>{t('noAttachments')}</p>
      ) : (
        <Table caption={t('attachments')}>
          <thead>
            <tr>
              <th scope="col">{t('file')}</th>
              <th scope="col">{t('mediaType')}</th>
              <th scope="col">{t('sizeBytes')}</th>
              <th scope="col">{t('createdBy')}</th>
            </tr>
          </thead>
          <tbody>
            {files.map((f) => (
              <tr key={f.id} data-attachment={f.filename}>
                <td>
                  <a href={`/api/v1/tickets/${x.id}/attachments/${f.id}`} download={f.filename}>
                    {f.filename}
                  </a>
                </td>
                <td>{f.mediaType}</td>
                <td>{f.sizeBytes}</td>
                <td>{f.by}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      {x.status !== 'closed' && can(me.role, 'ticket:write') && (
        <form className="card form" aria-labelledby="h-attach" onSubmit={upload}>
          <h3 id="h-attach">{t('attachFile')}</h3>
          <p id="attach-hint">{t('attachHint')}</p>
          <Field label={t('file')} name="attachment" error={s.fields.contentBase64 ?? s.fields.filename}>
            {(p) => (
              <input
                {...p}
                type="file"
                aria-describedby={[p['aria-describedby'], 'attach-hint'].filter(Boolean).join(' ')}
                accept="image/png,image/jpeg,application/pdf,text/plain"
                onChange={(e) => setFile(e.target.files?.[0] ?? null)}
              />
            )}
          </Field>
          <button type="submit" disabled={s.busy}>
            {t('attachFile')}
          </button>
          <Message msg={s.msg} />
        </form>
      )}
    </section>
  );
}

/** Watchers: told of public changes beside the raiser; anyone who may write adds or removes them. */
export function TicketWatchers({ x, me, reload }: { x: TicketExtras; me: Me; reload(): void }) {
  const { t } = useI18n();
  const s = useSubmit();
  const [name, setName] = useState('');
  const save = (watchers: string[], done: string) =>
    void s.run(async () => {
      await send('PUT', `/tickets/${x.id}/watchers`, { watchers });
      setName('');
      reload();
      return done;
    });
  const writer = x.status !== 'closed' && can(me.role, 'ticket:write');
  return (
    <section aria-labelledby="h-watchers">
      <h2 id="h-watchers">{t('watchers')}</h2>
      {x.watchers.length === 0 ? (
        <p>{t('noWatchers')}</p>
      ) : (
        <ul className="plain" data-testid="watchers">
          {x.watchers.map((w) => (
            <li key={w}>
              {w}{' '}
              {writer && (
                <button
                  type="button"
                  disabled={s.busy}
                  onClick={() =>
                    save(
                      x.watchers.filter((o) => o !== w),
                      t('watcherRemoved', { name: w }),
                    )
                  }
                >
                  {t('removeWatcher', { name: w })}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {writer && (
        <form
          className="card form inline"
          aria-labelledby="h-add-watcher"
          onSubmit={(e) => {
            e.preventDefault();
            save([...x.watchers, name.trim()], t('watcherAdded', { name: name.trim() }));
          }}
        >
          <h3 id="h-add-watcher">{t('addWatcher')}</h3>
          <Field label={t('username')} name="watcher" error={s.fields.watchers}>
            {(p) => (
              <input {...p} required maxLength={64} value={name} onChange={(e) => setName(e.target.value)} />
            )}
          </Field>
          <button type="submit" disabled={s.busy}>
            {t('addWatcher')}
          </button>
        </form>
      )}
      <Message msg={s.msg} />
    </section>
  );
}

/** Links to monitoring incidents of the department and the service the ticket is about (the desk sets them). */
export function TicketLinks({ x, me, reload }: { x: TicketExtras; me: Me; reload(): void }) {
  const { t } = useI18n();
  const s = useSubmit();
  const [incident, setIncident] = useState('');
  const [service, setService] = useState('');
  const link = (e: FormEvent, body: object) => {
    e.preventDefault();
    void s.run(async () => {
      await send('POST', `/tickets/${x.id}/links`, body);
      setIncident('');
      setService('');
      reload();
      return t('linked');
    });
  };
  return (
    <section aria-labelledby="h-links">
      <h2 id="h-links">{t('links')}</h2>
      <p data-testid="ticket-incidents">
        {t('incidents')}:{x.incidents.length === 0 ? '—' : x.incidents.map((n) => `#${n}`).join(', ')}
      </p>
      {can(me.role, 'ticket:operate') && x.status !== 'closed' && (
        <>
          <form
            className="card form inline"
            aria-labelledby="h-link-incident"
            onSubmit={(e) => link(e, { incident: Number(incident) })}
          >
            <h3 id="h-link-incident">{t('linkIncident')}</h3>
            <Field label={t('incidentNumber')} name="incident" error={s.fields.incident}>
              {(p) => (
                <input
                  {...p}
                  type="number"
                  min={1}
                  required
                  value={incident}
                  onChange={(e) => setIncident(e.target.value)}
                />
              )}
            </Field>
            <button type="submit" disabled={s.busy}>
              {t('linkIncident')}
            </button>
          </form>
          <form
            className="card form inline"
            aria-labelledby="h-link-service"
            onSubmit={(e) => link(e, { service })}
          >
            <h3 id="h-link-service">{t('linkService')}</h3>
            <Field label={t('service')} name="linkService" error={s.fields.service}>
              {(p) => (
                <input
                  {...p}
                  required
                  maxLength={60}
                  value={service}
                  onChange={(e) => setService(e.target.value)}
                />
              )}
            </Field>
            <button type="submit" disabled={s.busy}>
              {t('linkService')}
            </button>
          </form>
        </>
      )}
      <Message msg={s.msg} />
    </section>
  );
}

interface ReportLine {
  department: string;
  priority: string;
  tickets: number;
  responded: number;
  responseMedianMinutes: number | null;
  responseBreaches: number;
  resolved: number;
  resolutionMedianMinutes: number | null;
  resolutionBreaches: number;
}

/** The monthly report: per department and priority, as a table and as the API's CSV. */
export function SupportReportPage() {
  const { t } = useI18n();
  const [month, setMonth] = useState(() => new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 7));
  const [shown, setShown] = useState(month);
  const report = useLoad(
    () => get<{ month: string; lines: ReportLine[] }>(`/support/reports/monthly?month=${shown}`),
    `support-report-${shown}`,
  );
  const dash = (n: number | null) => (n === null ? '—' : n);
  return (
    <>
      <p>
        <Link href="/support">{t('backToSupport')}</Link>
      </p>
      <h1>{t('monthlyReport')}</h1>
      <p>{t('monthlyReportIntro')}</p>
      <form
        className="card form inline"
        aria-labelledby="h-report-month"
        onSubmit={(e) => {
          e.preventDefault();
          setShown(month);
        }}
      >
        <h2 id="h-report-month">{t('month')}</h2>
        <Field label={t('month')} name="reportMonth">
          {(p) => (
            <input
              {...p}
              type="month"
              required
              pattern="\d{4}-\d{2}"
              value={month}
              onChange={(e) => setMonth(e.target.value)}
            />
          )}
        </Field>
        <button type="submit">{t('showReport')}</button>
      </form>
      <p>
        <a
          href={`/api/v1/support/reports/monthly?month=${shown}&format=csv`}
          download={`support-${shown}.csv`}
        >
          {t('downloadMonthCsv', { month: shown })}
        </a>
      </p>
      <Status loading={report.loading} error={report.error} />
      {report.data && report.data.lines.length === 0 && <p>{t('noTickets')}</p>}
      {report.data && report.data.lines.length > 0 && (
        <Table caption={t('monthlyReportOf', { month: report.data.month })}>
          <thead>
            <tr>
              <th scope="col">{t('department')}</th>
              <th scope="col">{t('priority')}</th>
              <th scope="col">{t('tickets')}</th>
              <th scope="col">{t('responded')}</th>
              <th scope="col">{t('responseMedian')}</th>
              <th scope="col">{t('responseBreaches')}</th>
              <th scope="col">{t('resolvedCount')}</th>
              <th scope="col">{t('resolutionMedian')}</th>
              <th scope="col">{t('resolutionBreaches')}</th>
            </tr>
          </thead>
          <tbody>
            {report.data.lines.map((l) => (
              <tr key={`${l.department}/${l.priority}`} data-line={`${l.department}/${l.priority}`}>
                <td>{l.department}</td>
                <td>{l.priority}</td>
                <td>{l.tickets}</td>
                <td>{l.responded}</td>
                <td>{dash(l.responseMedianMinutes)}</td>
                <td>{l.responseBreaches}</td>
                <td>{l.resolved}</td>
                <td>{dash(l.resolutionMedianMinutes)}</td>
                <td>{l.resolutionBreaches}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </>
  );
}
