import { type FormEvent, useEffect, useRef, useState } from 'react';
import { type Domain, type DomainState, get, type Page, send } from '../api.ts';
import { useLoad, useSubmit } from '../hooks.ts';
import { useI18n } from '../i18n.tsx';
import { Badge, Message, Status, Table } from '../ui.tsx';

const TONE: Record<DomainState, 'ok' | 'bad' | 'warn'> = { approved: 'ok', rejected: 'bad', pending: 'warn' };

function StateCell({ d }: { d: Domain }) {
  const { t } = useI18n();
  return (
    <>
      <Badge tone={TONE[d.state]}>{t(`domain_${d.state}`)}</Badge>
      {d.state === 'rejected' && d.rejectReason && <> {t('domainRejectedWhy', { reason: d.rejectReason })}</>}
    </>
  );
}

/** The service's custom host names with their state, and a form to claim one (department writers). */
export function ServiceDomains({ base, canWrite }: { base: string; canWrite: boolean }) {
  const { t, time } = useI18n();
  const domains = useLoad(() => get<Domain[]>(`${base}/domains`), `${base}/domains`);
  const [hostname, setHostname] = useState('');
  const s = useSubmit();
  const add = (e: FormEvent) => {
    e.preventDefault();
    void s.run(async () => {
      const d = await send<Domain>('POST', `${base}/domains`, { hostname });
      setHostname('');
      domains.reload();
      return t('domainClaimed', { hostname: d.hostname });
    });
  };
  const remove = (d: Domain) =>
    s.run(async () => {
      await send('DELETE', `${base}/domains/${encodeURIComponent(d.hostname)}`);
      domains.reload();
      return t('domainRemoved', { hostname: d.hostname });
    });
  return (
    <section aria-labelledby="h-domains">
      <h2 id="h-domains">{t('domains')}</h2>
      <p className="muted">{t('domainsIntro')}</p>
      <Status loading={domains.loading} error={domains.data ? null : domains.error} />
      {domains.data && domains.data.length === 0 && <p>{t('noDomains')}</p>}
      {domains.data && domains.data.length > 0 && (
        <Table caption={t('domains')} wide>
          <thead>
            <tr>
              <th scope="col">{t('hostname')}</th>
              <th scope="col">{t('state')}</th>
              <th scope="col">{t('txtRecord')}</th>
              <th scope="col">{t('requested')}</th>
              {canWrite && <th scope="col">{t('actions')}</th>}
            </tr>
          </thead>
          <tbody>
            {domains.data.map((d) => (
              <tr key={d.hostname} data-domain={d.hostname} data-state={d.state}>
                <td>
                  <code>{d.hostname}</code>
                </td>
                <td>
                  <StateCell d={d} />
                </td>
                <td>
                  <code>{`${d.txtRecord.name} TXT "${d.txtRecord.value}"`}</code>
                </td>
                <td>{t('byAt', { user: d.requestedBy, at: time(d.requestedAt) })}</td>
                {canWrite && (
                  <td>
                    <button type="button" disabled={s.busy} onClick={() => remove(d)}>
                      {t('remove')} <span className="visually-hidden">{d.hostname}</span>
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <Message msg={s.msg} />
      {canWrite && (
        <form className="card form inline" onSubmit={add} aria-labelledby="h-domain-add">
          <h3 id="h-domain-add">{t('claimDomain')}</h3>
          <label>
            {t('hostname')}
            <input
              name="hostname"
              required
              maxLength={255}
              autoComplete="off"
              placeholder="etax.ird.gov.hk"
              value={hostname}
              onChange={(e) => setHostname(e.target.value)}
            />
          </label>
          <button type="submit" className="primary" disabled={s.busy}>
            {t('claim')}
          </button>
        </form>
      )}
    </section>
  );
}

/** Operators: claims waiting for a decision, every department's, with approve and reject. */
export function DomainQueuePage() {
  const { t, time } = useI18n();
  const queue = useLoad(() => get<Page<Domain>>('/domains?state=pending&limit=200'), 'domains:queue', 10000);
  const s = useSubmit();
  const [rejecting, setRejecting] = useState<string | null>(null);
  const approve = (d: Domain) =>
    s.run(async () => {
      try {
        await send('POST', `/domains/${encodeURIComponent(d.hostname)}/approve`);
        return t('domainApproved', { hostname: d.hostname, service: d.service });
      } finally {
        queue.reload();
      }
    });
  return (
    <>
      <h1>{t('domainQueue')}</h1>
      <p className="muted">{t('domainQueueIntro')}</p>
      <Status loading={queue.loading} error={queue.data ? null : queue.error} />
      {queue.data && queue.data.items.length === 0 && <p>{t('noPendingDomains')}</p>}
      {queue.data && queue.data.items.length > 0 && (
        <Table caption={t('domainQueue')} wide>
          <thead>
            <tr>
              <th scope="col">{t('hostname')}</th>
              <th scope="col">{t('service')}</th>
              <th scope="col">{t('requested')}</th>
              <th scope="col">{t('actions')}</th>
            </tr>
          </thead>
          <tbody>
            {queue.data.items.map((d) => (
              <tr key={d.hostname} data-domain={d.hostname}>
                <td>
                  <code>{d.hostname}</code>
                </td>
                <td>{d.service}</td>
                <td>{t('byAt', { user: d.requestedBy, at: time(d.requestedAt) })}</td>
                <td>
                  {rejecting === d.hostname ? (
                    <RejectDomain
                      domain={d}
                      busy={s.busy}
                      run={s.run}
                      onClose={() => setRejecting(null)}
                      onDone={() => {
                        setRejecting(null);
                        queue.reload();
                      }}
                    />
                  ) : (
                    <>
                      <button type="button" className="primary" disabled={s.busy} onClick={() => approve(d)}>
                        {t('approve')} <span className="visually-hidden">{d.hostname}</span>
                      </button>{' '}
                      <button type="button" onClick={() => setRejecting(d.hostname)}>
                        {t('reject')} <span className="visually-hidden">{d.hostname}</span>
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <Message msg={s.msg} />
    </>
  );
}

function RejectDomain({
  domain: d,
  busy,
  run,
  onClose,
  onDone,
}: {
  domain: Domain;
  busy: boolean;
  run: ReturnType<typeof useSubmit>['run'];
  onClose(): void;
  onDone(): void;
}) {
  const { t } = useI18n();
  const [reason, setReason] = useState('');
  const input = useRef<HTMLInputElement>(null);
  // Keyboard users land in the reason they are asked for.
  useEffect(() => input.current?.focus(), []);
  const id = `reject-domain-${d.hostname}`;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await send('POST', `/domains/${encodeURIComponent(d.hostname)}/reject`, { reason });
      onDone();
      return t('domainRejected', { hostname: d.hostname });
    });
  };
  return (
    <form className="reject-form" onSubmit={submit} noValidate>
      <label htmlFor={id}>
        {t('domainRejectReason', { hostname: d.hostname })}
        <input
          id={id}
          ref={input}
          name="reason"
          required
          maxLength={2000}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') onClose();
          }}
        />
      </label>
      <button type="submit" className="primary" disabled={busy}>
        {t('confirmReject')}
      </button>
      <button type="button" onClick={onClose}>
        {t('cancel')}
      </button>
    </form>
  );
}
