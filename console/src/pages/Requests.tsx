import { type FormEvent, type ReactNode, useEffect, useRef, useState } from 'react';
import { can } from '../access.ts';
import {
  get,
  type HostingRequest,
  type LeadTimes,
  type Me,
  type Page,
  type Quota,
  type RequestState,
  send,
} from '../api.ts';
import { type Submitting, useLoad, useSubmit } from '../hooks.ts';
import { type MessageKey, useI18n } from '../i18n.tsx';
import { Badge, Bar, Field, Message, memMb, num, Status, Table, useDuration } from '../ui.tsx';

const STATES: RequestState[] = ['pending', 'approved', 'rejected', 'cancelled'];
const STATE_TONE: Record<RequestState, 'ok' | 'bad' | 'warn' | 'neutral'> = {
  pending: 'warn',
  approved: 'ok',
  rejected: 'bad',
  cancelled: 'neutral',
};
const TIERS = ['gold', 'silver', 'bronze'] as const;

/**
 * Hosting requests: a department asks for a service and sees its quota and its requests (with
 * why one waits, and how long one took); operators work the queue of waiting requests.
 */
export function RequestsPage({ me }: { me: Me }) {
  const { t } = useI18n();
  const canSubmit = can(me.role, 'request:write');
  const canApprove = can(me.role, 'request:approve');
  const [state, setState] = useState<RequestState | 'all'>('all');
  const query = state === 'all' ? '' : `&state=${state}`;
  const list = useLoad(
    () => get<Page<HostingRequest>>(`/requests?limit=200${query}`),
    `requests:${state}`,
    10000,
  );
  const dept = me.department;
  const quota = useLoad(
    () => (dept ? get<Quota>(`/departments/${encodeURIComponent(dept)}/quota`) : Promise.resolve(null)),
    `quota:${dept ?? ''}`,
  );
  const leadTimes = useLoad(() => get<LeadTimes>('/requests/lead-times'), 'lead-times');
  const changed = () => {
    list.reload();
    quota.reload();
    leadTimes.reload();
  };

  return (
    <>
      <h1>{t('hostingRequests')}</h1>
      {dept && (
        <section aria-labelledby="h-quota">
          <h2 id="h-quota">{t('quotaOf', { dept })}</h2>
          <Status loading={quota.loading} error={quota.data ? null : quota.error} />
          {quota.data && <QuotaBars quota={quota.data} />}
        </section>
      )}
      <LeadTimeFigures report={leadTimes.data} />
      {canApprove && <ApprovalQueue onChange={changed} />}
      <section aria-labelledby="h-requests">
        <h2 id="h-requests">{t('requestList')}</h2>
        <label className="inline-label">
          {t('show')}{' '}
          <select
            name="state"
            value={state}
            onChange={(e) => setState(e.target.value as RequestState | 'all')}
          >
            <option value="all">{t('allStates')}</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {t(`req_${s}`)}
              </option>
            ))}
          </select>
        </label>
        <Status loading={list.loading} error={list.data ? null : list.error} />
        {list.data && (
          <RequestTable
            items={list.data.items}
            caption={t('requestList')}
            actions={canSubmit ? (r) => <WithdrawButton request={r} onDone={changed} /> : undefined}
          />
        )}
      </section>
      {canSubmit && <NewRequestForm me={me} onDone={changed} />}
    </>
  );
}

/** Memory, instances and services of a department against its quota. */
export function QuotaBars({ quota }: { quota: Quota }) {
  const { t } = useI18n();
  return (
    <>
      <div className="bars">
        <Bar label={t('memory')} value={quota.usage.memoryMb} max={quota.limits.memoryMb} format={memMb} />
        <Bar label={t('instances')} value={quota.usage.instances} max={quota.limits.instances} />
        <Bar label={t('servicesCount')} value={quota.usage.services} max={quota.limits.services} />
      </div>
      {quota.isDefault && <p className="muted">{t('defaultQuota')}</p>}
    </>
  );
}

function LeadTimeFigures({ report }: { report: LeadTimes | null }) {
  const { t } = useI18n();
  const duration = useDuration();
  if (!report || report.count === 0) return null;
  return (
    <section aria-labelledby="h-lead">
      <h2 id="h-lead">{t('leadTimes')}</h2>
      <dl className="figures">
        <div>
          <dt>{t('provisioned')}</dt>
          <dd>{report.count}</dd>
        </div>
        <div>
          <dt>{t('median')}</dt>
          <dd>{duration(report.medianMs)}</dd>
        </div>
        <div>
          <dt>{t('p90')}</dt>
          <dd>{duration(report.p90Ms)}</dd>
        </div>
      </dl>
    </section>
  );
}

/** The decision or the wait, in words: reasons, lead time and address, or why it was refused. */
function Details({ r }: { r: HostingRequest }) {
  const { t } = useI18n();
  const duration = useDuration();
  if (r.state === 'pending') {
    return r.reasons.length > 0 ? (
      <ul className="reasons">
        {r.reasons.map((x) => (
          <li key={x}>{x}</li>
        ))}
      </ul>
    ) : (
      <>—</>
    );
  }
  if (r.state === 'approved') {
    return (
      <>
        <strong data-testid="lead-time">{t('readyIn', { time: duration(r.leadTimeMs) })}</strong>,{' '}
        {r.autoApproved ? t('autoApproved') : t('approvedBy', { user: r.decidedBy ?? '' })}
        {r.hostname && (
          <div>
            <code>{r.hostname}</code>
          </div>
        )}
      </>
    );
  }
  if (r.state === 'rejected') {
    return <>{t('rejectedBy', { user: r.decidedBy ?? '', reason: r.rejectReason ?? '' })}</>;
  }
  return <>—</>;
}

function RequestTable({
  items,
  caption,
  actions,
}: {
  items: HostingRequest[];
  caption: string;
  actions?: ((r: HostingRequest) => ReactNode) | undefined;
}) {
  const { t, time, lang } = useI18n();
  if (items.length === 0) return <p>{t('noRequests')}</p>;
  return (
    <Table caption={caption} wide>
      <thead>
        <tr>
          <th scope="col">{t('service')}</th>
          <th scope="col">{t('state')}</th>
          <th scope="col">{t('tier')}</th>
          <th scope="col">{t('size')}</th>
          <th scope="col">{t('goLive')}</th>
          <th scope="col">{t('details')}</th>
          <th scope="col">{t('submitted')}</th>
          {actions && <th scope="col">{t('actions')}</th>}
        </tr>
      </thead>
      <tbody>
        {items.map((r) => (
          <tr key={r.id} data-request={r.service} data-state={r.state}>
            <td>
              {lang === 'en' ? r.nameEn : r.nameZh}
              <div className="muted">{r.service}</div>
            </td>
            <td>
              <Badge tone={STATE_TONE[r.state]}>{t(`req_${r.state}`)}</Badge>
            </td>
            <td>{t(`tier_${r.slaTier as (typeof TIERS)[number]}`)}</td>
            <td>
              {t('sizeValue', { instances: r.instances, memory: memMb(r.memoryMb), cpu: num(r.cpu, 2) })}
            </td>
            <td>{r.goLive}</td>
            <td>
              <Details r={r} />
            </td>
            <td>
              {time(r.submittedAt)}
              <div className="muted">{r.requestedBy}</div>
            </td>
            {actions && (
              <td>
                <div className="actions">{actions(r)}</div>
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

function WithdrawButton({ request: r, onDone }: { request: HostingRequest; onDone(): void }) {
  const { t } = useI18n();
  const s = useSubmit();
  if (r.state !== 'pending') return null;
  const withdraw = () =>
    s.run(async () => {
      await send('POST', `/requests/${r.id}/cancel`);
      onDone();
      return t('requestWithdrawn', { service: r.service });
    });
  return (
    <div>
      <button type="button" onClick={withdraw} disabled={s.busy}>
        {t('withdraw')} <span className="visually-hidden">{r.service}</span>
      </button>
      <Message msg={s.msg} />
    </div>
  );
}

/** Requests waiting for an operator, every department's, with approve and reject. */
function ApprovalQueue({ onChange }: { onChange(): void }) {
  const { t } = useI18n();
  const queue = useLoad(
    () => get<Page<HostingRequest>>('/requests?state=pending&limit=200'),
    'requests:queue',
    10000,
  );
  const s = useSubmit();
  const [rejecting, setRejecting] = useState<string | null>(null);
  const done = () => {
    queue.reload();
    onChange();
  };
  const approve = (r: HostingRequest) =>
    s.run(async () => {
      try {
        await send('POST', `/requests/${r.id}/approve`);
        return t('requestApproved', { service: r.service });
      } finally {
        // Refused or not, the queue shows the request's state and reasons as they now are.
        done();
      }
    });

  return (
    <section aria-labelledby="h-queue">
      <h2 id="h-queue">{t('approvalQueue')}</h2>
      <Status loading={queue.loading} error={queue.data ? null : queue.error} />
      {queue.data && queue.data.items.length === 0 && <p>{t('noPending')}</p>}
      {queue.data && queue.data.items.length > 0 && (
        <RequestTable
          items={queue.data.items}
          caption={t('approvalQueue')}
          actions={(r) =>
            rejecting === r.id ? (
              <RejectForm
                request={r}
                submitting={s}
                onClose={() => {
                  setRejecting(null);
                  // Back to the button that opened the form, once it is shown again.
                  setTimeout(() => document.getElementById(`reject-open-${r.id}`)?.focus());
                }}
                onDone={() => {
                  setRejecting(null);
                  done();
                }}
              />
            ) : (
              <>
                <button type="button" className="primary" onClick={() => approve(r)} disabled={s.busy}>
                  {t('approve')} <span className="visually-hidden">{r.service}</span>
                </button>
                <button type="button" id={`reject-open-${r.id}`} onClick={() => setRejecting(r.id)}>
                  {t('reject')} <span className="visually-hidden">{r.service}</span>
                </button>
              </>
            )
          }
        />
      )}
      <Message msg={s.msg} />
    </section>
  );
}

function RejectForm({
  request: r,
  submitting: s,
  onClose,
  onDone,
}: {
  request: HostingRequest;
  submitting: Submitting;
  onClose(): void;
  onDone(): void;
}) {
  const { t } = useI18n();
  const [reason, setReason] = useState('');
  const input = useRef<HTMLInputElement>(null);
  // Keyboard users land in the reason they are asked for.
  useEffect(() => input.current?.focus(), []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void s.run(async () => {
      await send('POST', `/requests/${r.id}/reject`, { reason });
      onDone();
      return t('requestRejected', { service: r.service });
    });
  };
  const id = `reject-${r.id}`;
  return (
    <form className="reject-form" onSubmit={submit} noValidate>
      <label htmlFor={id}>
        {t('rejectReason', { service: r.service })}
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
      <button type="submit" className="primary" disabled={s.busy}>
        {t('confirmReject')}
      </button>
      <button type="button" onClick={onClose}>
        {t('cancel')}
      </button>
    </form>
  );
}

const today = () => new Date().toISOString().slice(0, 10);

const EMPTY = {
  department: '',
  slug: '',
  nameEn: '',
  nameZh: '',
  description: '',
  origin: 'new',
  egisRef: '',
  web: true,
  mobile: false,
  personalised: false,
  slaTier: 'silver',
  instances: '1',
  memoryMb: '256',
  cpu: '',
  storageMb: '',
  goLive: '',
  justification: '',
  environment: '',
};

/** `KEY=value` lines into an object; the number of the first line that is not one. */
function parseEnv(text: string): { env: Record<string, string>; badLine: number | null } {
  const env: Record<string, string> = {};
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) return { env, badLine: i + 1 };
    env[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return { env, badLine: null };
}

const numberOrUndefined = (v: string) => (v.trim() === '' ? undefined : Number(v));

/**
 * The fields the API takes. The browser's own checks are off (noValidate): the API's problem
 * response is the one judge, and its message for each field is shown under that field.
 */
function NewRequestForm({ me, onDone }: { me: Me; onDone(): void }) {
  const { t } = useI18n();
  const [f, setF] = useState({ ...EMPTY, goLive: today() });
  const s = useSubmit();
  const [envError, setEnvError] = useState<string | undefined>(undefined);
  const set = (k: keyof typeof EMPTY) => (e: { target: { value: string } }) =>
    setF({ ...f, [k]: e.target.value });
  const tick = (k: 'web' | 'mobile' | 'personalised') => (e: { target: { checked: boolean } }) =>
    setF({ ...f, [k]: e.target.checked });
  const platform = !me.department;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const { env, badLine } = parseEnv(f.environment);
    setEnvError(badLine === null ? undefined : t('envLineBad', { n: badLine }));
    if (badLine !== null) return;
    const body: Record<string, unknown> = {
      slug: f.slug,
      nameEn: f.nameEn,
      nameZh: f.nameZh,
      origin: f.origin,
      channels: [...(f.web ? ['web'] : []), ...(f.mobile ? ['mobile'] : [])],
      slaTier: f.slaTier,
      instances: numberOrUndefined(f.instances),
      memoryMb: numberOrUndefined(f.memoryMb),
      cpu: numberOrUndefined(f.cpu),
      storageMb: numberOrUndefined(f.storageMb),
      goLive: f.goLive,
    };
    if (platform && f.department.trim()) body.department = f.department.trim().toUpperCase();
    if (f.description.trim()) body.description = f.description;
    if (f.justification.trim()) body.justification = f.justification;
    if (f.origin === 'migrated' && f.egisRef.trim()) body.egisRef = f.egisRef.trim();
    if (f.personalised) body.personalised = true;
    if (Object.keys(env).length > 0) body.environment = env;
    const ok = await s.run(async () => {
      const r = await send<HostingRequest>('POST', '/requests', body);
      onDone();
      return r.state === 'approved'
        ? t('submittedApproved', { service: r.service, host: r.hostname ?? '' })
        : t('submittedQueued', { service: r.service, reasons: r.reasons.join('; ') });
    });
    if (ok) setF({ ...EMPTY, department: f.department, goLive: today() });
  };

  const err = s.fields;
  const text = (name: keyof typeof EMPTY, label: MessageKey, extra: Record<string, unknown> = {}) => (
    <Field label={t(label)} name={name} error={err[name]} idPrefix="req">
      {(p) => <input {...p} {...extra} value={String(f[name])} onChange={set(name)} />}
    </Field>
  );

  return (
    <form className="card form wide" onSubmit={submit} noValidate aria-labelledby="h-new-request">
      <h2 id="h-new-request">{t('newRequest')}</h2>
      {platform && text('department', 'department', { required: true, autoComplete: 'off' })}
      {text('slug', 'slug', { required: true, autoComplete: 'off', spellCheck: false })}
      <div className="grid2">
        {text('nameEn', 'nameEn', { required: true, lang: 'en' })}
        {text('nameZh', 'nameZh', { required: true, lang: 'zh-Hant' })}
      </div>
      <Field label={t('description')} name="description" error={err.description} idPrefix="req">
        {(p) => <textarea {...p} rows={2} value={f.description} onChange={set('description')} />}
      </Field>
      <div className="grid2">
        <Field label={t('origin')} name="origin" error={err.origin} idPrefix="req">
          {(p) => (
            <select {...p} value={f.origin} onChange={set('origin')}>
              <option value="new">{t('origin_new')}</option>
              <option value="migrated">{t('origin_migrated')}</option>
            </select>
          )}
        </Field>
        {f.origin === 'migrated' && text('egisRef', 'egisRef')}
        <Field label={t('tier')} name="slaTier" error={err.slaTier} idPrefix="req">
          {(p) => (
            <select {...p} value={f.slaTier} onChange={set('slaTier')}>
              {TIERS.map((x) => (
                <option key={x} value={x}>
                  {t(`tier_${x}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <fieldset
        aria-invalid={err.channels ? true : undefined}
        aria-describedby={err.channels ? 'req-channels-error' : undefined}
      >
        <legend>{t('channels')}</legend>
        <label className="check">
          <input type="checkbox" name="web" checked={f.web} onChange={tick('web')} /> {t('channel_web')}
        </label>
        <label className="check">
          <input type="checkbox" name="mobile" checked={f.mobile} onChange={tick('mobile')} />{' '}
          {t('channel_mobile')}
        </label>
        {err.channels && (
          <span id="req-channels-error" className="field-error">
            {err.channels}
          </span>
        )}
      </fieldset>
      <label className="check">
        <input type="checkbox" name="personalised" checked={f.personalised} onChange={tick('personalised')} />{' '}
        {t('personalised')}
      </label>
      <div className="grid2">
        {text('instances', 'instancesCount', { type: 'number', min: 1, max: 100, required: true })}
        {text('memoryMb', 'memoryMb', { type: 'number', min: 16, max: 16384, required: true })}
        {text('cpu', 'cpuPerInstance', { type: 'number', min: 0.01, max: 64, step: 'any' })}
        {text('storageMb', 'storageMbPerInstance', { type: 'number', min: 0 })}
        {text('goLive', 'goLiveDate', { type: 'date', required: true })}
      </div>
      <Field label={t('justification')} name="justification" error={err.justification} idPrefix="req">
        {(p) => <textarea {...p} rows={2} value={f.justification} onChange={set('justification')} />}
      </Field>
      <Field label={t('environment')} name="environment" error={envError ?? err.environment} idPrefix="req">
        {(p) => (
          <textarea {...p} rows={3} spellCheck={false} value={f.environment} onChange={set('environment')} />
        )}
      </Field>
      <button type="submit" className="primary" disabled={s.busy}>
        {t('submitRequest')}
      </button>
      <Message
        msg={s.msg && !s.msg.ok ? { ok: false, text: t('notSubmitted', { detail: s.msg.text }) } : s.msg}
      />
    </form>
  );
}
