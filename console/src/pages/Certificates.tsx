import { type FormEvent, useEffect, useRef, useState } from 'react';
import { type Certificate, get, type ServiceHttps, send } from '../api.ts';
import { useLoad, useSubmit } from '../hooks.ts';
import { useI18n } from '../i18n.tsx';
import { Badge, Field, Message, Status, Table } from '../ui.tsx';

// The default of GOVHOST_ACME_ALERT_DAYS, the window in which the expiry alert fires: inside it,
// a certificate is marked, as a hint to renew (the alert itself follows the configured window).
const DUE_DAYS = 14;

function DaysLeft({ c }: { c: Certificate }) {
  const { t } = useI18n();
  if (c.daysLeft < 0) return <Badge tone="bad">{t('certExpired')}</Badge>;
  const text = t('certDaysLeft', { days: String(c.daysLeft) });
  return c.daysLeft <= DUE_DAYS ? <Badge tone="warn">{text}</Badge> : <span>{text}</span>;
}

/**
 * Operators: the certificates the routers serve, an upload checked by the API before it is stored
 * (the refusal says why), and removal after a confirmation (the names it covers stop being served
 * over HTTPS with the next route table).
 */
export function CertificatesPage() {
  const { t, time } = useI18n();
  const list = useLoad(
    async () => (await get<{ items: Certificate[] }>('/certificates')).items,
    'certificates',
  );
  const s = useSubmit();
  const [form, setForm] = useState({ chain: '', key: '', host: '' });
  const [removing, setRemoving] = useState<string | null>(null);
  const upload = (e: FormEvent) => {
    e.preventDefault();
    void s.run(async () => {
      const body = { chain: form.chain, key: form.key, ...(form.host ? { host: form.host } : {}) };
      const c = await send<Certificate>('POST', '/certificates', body);
      // The key is sealed by the API and never shown again: nor is it kept in the page.
      setForm({ chain: '', key: '', host: '' });
      list.reload();
      return t('certAdded', { names: c.names.join(', ') });
    });
  };
  const set = (name: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [name]: e.target.value }));
  return (
    <>
      <h1>{t('certificates')}</h1>
      <p className="muted">{t('certificatesIntro')}</p>
      <Status loading={list.loading} error={list.data ? null : list.error} />
      {list.data && list.data.length === 0 && <p>{t('noCertificates')}</p>}
      {list.data && list.data.length > 0 && (
        <Table caption={t('certificates')} wide>
          <thead>
            <tr>
              <th scope="col">{t('certNames')}</th>
              <th scope="col">{t('certIssuer')}</th>
              <th scope="col">{t('certExpires')}</th>
              <th scope="col">{t('certSource')}</th>
              <th scope="col">{t('actions')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((c) => (
              <tr key={c.id} data-certificate={c.id}>
                <td>
                  {c.names.map((n) => (
                    <code key={n}>{n} </code>
                  ))}
                </td>
                <td>{c.issuer}</td>
                <td>
                  {time(c.notAfter)} (<DaysLeft c={c} />)
                </td>
                <td>
                  {c.source === 'acme' ? 'ACME' : t('byAt', { user: c.createdBy, at: time(c.createdAt) })}
                </td>
                <td>
                  {removing === c.id ? (
                    <ConfirmRemove
                      c={c}
                      busy={s.busy}
                      onClose={() => setRemoving(null)}
                      onConfirm={() =>
                        s.run(async () => {
                          try {
                            await send('DELETE', `/certificates/${c.id}`);
                            return t('certRemoved', { names: c.names.join(', ') });
                          } finally {
                            setRemoving(null);
                            list.reload();
                          }
                        })
                      }
                    />
                  ) : (
                    <button type="button" onClick={() => setRemoving(c.id)}>
                      {t('remove')} <span className="visually-hidden">{c.names.join(', ')}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <Message msg={s.msg} />
      <form className="card form" onSubmit={upload} aria-labelledby="h-cert-add">
        <h2 id="h-cert-add">{t('certAdd')}</h2>
        <p className="muted">{t('certAddIntro')}</p>
        <Field label={t('certChain')} name="chain" error={s.fields.chain} idPrefix="cert">
          {(p) => (
            <textarea
              {...p}
              required
              rows={6}
              spellCheck={false}
              autoComplete="off"
              placeholder="-----BEGIN CERTIFICATE-----"
              value={form.chain}
              onChange={set('chain')}
            />
          )}
        </Field>
        <Field label={t('certKey')} name="key" error={s.fields.key} idPrefix="cert">
          {(p) => (
            <textarea
              {...p}
              required
              rows={4}
              spellCheck={false}
              autoComplete="off"
              placeholder="-----BEGIN PRIVATE KEY-----"
              value={form.key}
              onChange={set('key')}
            />
          )}
        </Field>
        <Field label={t('certHost')} name="host" error={s.fields.host} idPrefix="cert">
          {(p) => (
            <input
              {...p}
              maxLength={253}
              autoComplete="off"
              placeholder="etax.ird.gov.hk"
              value={form.host}
              onChange={set('host')}
            />
          )}
        </Field>
        <button type="submit" className="primary" disabled={s.busy}>
          {t('certUpload')}
        </button>
      </form>
    </>
  );
}

function ConfirmRemove({
  c,
  busy,
  onClose,
  onConfirm,
}: {
  c: Certificate;
  busy: boolean;
  onClose(): void;
  onConfirm(): void;
}) {
  const { t } = useI18n();
  const confirm = useRef<HTMLButtonElement>(null);
  // Keyboard users land on the question they are asked.
  useEffect(() => confirm.current?.focus(), []);
  return (
    <span>
      {t('certRemoveQuestion', { names: c.names.join(', ') })}{' '}
      <button type="button" ref={confirm} className="primary" disabled={busy} onClick={onConfirm}>
        {t('certRemoveConfirm')}
      </button>{' '}
      <button type="button" onClick={onClose}>
        {t('cancel')}
      </button>
    </span>
  );
}

/** A service's HTTPS settings: redirect plain HTTP and send HSTS, both on by default. */
export function ServiceHttpsSettings({ base, canWrite }: { base: string; canWrite: boolean }) {
  const { t } = useI18n();
  const https = useLoad(() => get<ServiceHttps>(`${base}/https`), `${base}/https`);
  const s = useSubmit();
  // The box shows what was asked at once; the API's answer (or, refused, the stored value) follows.
  const [shown, setShown] = useState<ServiceHttps | null>(null);
  const current = shown ?? https.data;
  const change = (patch: Partial<ServiceHttps>) => {
    if (current) setShown({ ...current, ...patch });
    return s.run(async () => {
      try {
        setShown(await send<ServiceHttps>('PATCH', `${base}/https`, patch));
      } catch (err) {
        setShown(null);
        https.reload();
        throw err;
      }
      return t('httpsSaved');
    });
  };
  const box = (name: keyof ServiceHttps, label: string) => (
    <label className="check">
      <input
        type="checkbox"
        name={name}
        checked={current?.[name] ?? false}
        disabled={!canWrite || s.busy}
        onChange={(e) => void change({ [name]: e.target.checked })}
      />{' '}
      {label}
    </label>
  );
  return (
    <section aria-labelledby="h-https">
      <h2 id="h-https">{t('https')}</h2>
      <p className="muted">{t('httpsIntro')}</p>
      <Status loading={https.loading} error={current ? null : https.error} />
      {current && (
        <fieldset className="card form">
          <legend>{t('https')}</legend>
          {box('httpsRedirect', t('httpsRedirect'))}
          {box('hsts', t('hsts'))}
        </fieldset>
      )}
      <Message msg={s.msg} />
    </section>
  );
}
