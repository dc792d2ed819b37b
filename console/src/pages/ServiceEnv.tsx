import { type FormEvent, Fragment, useState } from 'react';
import { type Deployment, get, type Page, send, type Variable } from '../api.ts';
import { errorText, useLoad } from '../hooks.ts';
import { useI18n } from '../i18n.tsx';
import { Badge, Status, Table } from '../ui.tsx';
import { StagingLog } from './StagingLog.tsx';

/**
 * The service's variables. A secret's value goes to the platform once and is never shown again:
 * the API answers with a mask, and the form clears it after saving.
 */
export function EnvEditor({ base }: { base: string }) {
  const { t } = useI18n();
  const env = useLoad(() => get<{ items: Variable[] }>(`${base}/env`), `${base}/env`);
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [secret, setSecret] = useState(false);
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);

  const change = async (
    body: { set?: Record<string, string>; unset?: string[]; secret?: boolean },
    done: string,
  ) => {
    setBusy(true);
    setMsg(null);
    try {
      const res = await send<{ deployment: Deployment | null }>('PATCH', `${base}/env`, body);
      setMsg({ ok: true, text: res.deployment ? `${done} ${t('envRollout')}` : done });
      env.reload();
      return true;
    } catch (err) {
      setMsg({ ok: false, text: errorText(err) });
      return false;
    } finally {
      setBusy(false);
    }
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await change({ set: { [key]: value }, secret }, t('envSaved', { key }))) {
      setKey('');
      setValue('');
      setSecret(false);
    }
  };

  return (
    <section aria-labelledby="h-env">
      <h2 id="h-env">{t('env')}</h2>
      <Status loading={env.loading} error={env.data ? null : env.error} />
      {env.data && env.data.items.length === 0 && <p>{t('noEnv')}</p>}
      {env.data && env.data.items.length > 0 && (
        <Table caption={t('env')}>
          <thead>
            <tr>
              <th scope="col">{t('key')}</th>
              <th scope="col">{t('value')}</th>
              <th scope="col">{t('actions')}</th>
            </tr>
          </thead>
          <tbody>
            {env.data.items.map((v) => (
              <tr key={v.key} data-env={v.key} data-secret={v.secret ? 'true' : 'false'}>
                <td>
                  <code>{v.key}</code>
                </td>
                <td>
                  {v.secret ? <Badge tone="neutral">{t('secretHidden')}</Badge> : <code>{v.value}</code>}
                </td>
                <td>
                  <button
                    type="button"
                    disabled={busy}
                    onClick={() => change({ unset: [v.key] }, t('envRemoved', { key: v.key }))}
                  >
                    {t('unset')} <span className="visually-hidden">{v.key}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <p role="status" className={msg && !msg.ok ? 'error' : undefined}>
        {msg?.text ?? ''}
      </p>
      <form className="card form" onSubmit={submit} aria-labelledby="h-env-set">
        <h3 id="h-env-set">{t('setVariable')}</h3>
        <label>
          {t('key')}
          <input
            name="envKey"
            required
            pattern="[A-Za-z_][A-Za-z0-9_]{0,127}"
            autoComplete="off"
            value={key}
            onChange={(e) => setKey(e.target.value)}
          />
        </label>
        <label>
          {t('value')}
          <input
            name="envValue"
            type={secret ? 'password' : 'text'}
            autoComplete="off"
            maxLength={32768}
            value={value}
            onChange={(e) => setValue(e.target.value)}
          />
        </label>
        <label className="check">
          <input
            type="checkbox"
            name="envSecret"
            checked={secret}
            onChange={(e) => setSecret(e.target.checked)}
          />
          {t('secretFlag')}
        </label>
        <button type="submit" className="primary" disabled={busy}>
          {t('save')}
        </button>
      </form>
    </section>
  );
}

const PAGE = 20;

/** Every deploy, rollback, environment change and scaling of the service, newest first. */
export function DeployHistory({ base }: { base: string }) {
  const { t, time } = useI18n();
  const [offset, setOffset] = useState(0);
  const path = `${base}/deployments?limit=${PAGE}&offset=${offset}`;
  const page = useLoad(() => get<Page<Deployment>>(path), path, 5000);
  const d = page.data;
  // A deploy still running shows its staging as it happens, as `govhost deploy` does; others open
  // on request. What the reader opened or closed stays so across the page's polls.
  const [chosen, setChosen] = useState<Record<string, boolean>>({});
  const isOpen = (x: Deployment) => chosen[x.id] ?? (x.kind === 'deploy' && x.state === 'running');
  const toggle = (x: Deployment) => setChosen((c) => ({ ...c, [x.id]: !isOpen(x) }));
  return (
    <section aria-labelledby="h-history">
      <h2 id="h-history">{t('history')}</h2>
      <Status loading={page.loading} error={d ? null : page.error} />
      {d && d.items.length === 0 && <p>{t('noDeployments')}</p>}
      {d && d.items.length > 0 && (
        <Table caption={t('history')}>
          <thead>
            <tr>
              <th scope="col">{t('started')}</th>
              <th scope="col">{t('kind')}</th>
              <th scope="col">{t('state')}</th>
              <th scope="col">{t('release')}</th>
              <th scope="col">{t('createdBy')}</th>
              <th scope="col">{t('message')}</th>
            </tr>
          </thead>
          <tbody>
            {d.items.map((x) => (
              <Fragment key={x.id}>
                <tr data-deployment-kind={x.kind} data-deployment-state={x.state}>
                  <td>{time(x.startedAt)}</td>
                  <td>{x.kind}</td>
                  <td>
                    <Badge tone={x.state === 'succeeded' ? 'ok' : x.state === 'failed' ? 'bad' : 'warn'}>
                      {t(`deploy_${x.state}`)}
                    </Badge>
                  </td>
                  <td>{x.release === null ? '—' : `v${x.release}`}</td>
                  <td>{x.createdBy}</td>
                  <td>
                    {x.message}
                    {x.kind === 'deploy' && x.release !== null && (
                      <>
                        {' '}
                        <button
                          type="button"
                          aria-expanded={isOpen(x)}
                          aria-controls={`staging-${x.id}`}
                          onClick={() => toggle(x)}
                        >
                          {isOpen(x) ? t('hideStagingLog') : t('showStagingLog')}
                        </button>
                      </>
                    )}
                  </td>
                </tr>
                {x.release !== null && isOpen(x) && (
                  <tr id={`staging-${x.id}`}>
                    <td colSpan={6}>
                      <StagingLog base={base} release={x.release} />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </Table>
      )}
      {d && (
        <p className="pager">
          <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            {t('newer')}
          </button>{' '}
          <button type="button" disabled={offset + PAGE >= d.total} onClick={() => setOffset(offset + PAGE)}>
            {t('older')}
          </button>
        </p>
      )}
    </section>
  );
}
