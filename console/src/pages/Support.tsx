import { type FormEvent, type ReactNode, useState } from 'react';
import { can } from '../access.ts';
import { get, type Me, type Page, send } from '../api.ts';
import { useLoad, useSubmit } from '../hooks.ts';
import { type MessageKey, useI18n } from '../i18n.tsx';
import { Link, navigate } from '../router.tsx';
import { Badge, Field, Message, Status, Table } from '../ui.tsx';
import { TicketAttachments, type TicketExtras, TicketLinks, TicketWatchers } from './SupportExtras.tsx';

// The support desk's shapes, as /api/v1/tickets answers them.
const PRIORITIES = ['P1', 'P2', 'P3', 'P4'] as const;
const KINDS = ['incident', 'service-request', 'question'] as const;
interface Clock {
  targetMinutes: number;
  elapsedMinutes: number;
  dueAt: string | null;
  state: 'running' | 'paused' | 'met' | 'breached';
  near: boolean;
}
interface Ticket extends TicketExtras {
  id: number;
  department: string;
  service: string | null;
  kind: (typeof KINDS)[number];
  priority: string;
  title: string;
  description: string;
  status: string;
  nextStates: string[];
  slaTier: string;
  raisedBy: string;
  raisedAt: string;
  assignee: string | null;
  sla: { response: Clock; resolution: Clock } | null;
  responseBreachedAt: string | null;
  resolutionBreachedAt: string | null;
  timeline?: {
    kind: string;
    internal: boolean;
    by: string;
    from: string | null;
    to: string | null;
    body: string;
    at: string;
  }[];
}
interface Target {
  priority: string;
  tier: string;
  responseMinutes: number;
  resolutionMinutes: number;
  hours: string;
}

const statusKey = (s: string) => `tstatus_${s.replaceAll('-', '_')}` as MessageKey;
const TONE: Record<string, 'ok' | 'bad' | 'warn' | 'neutral'> = { resolved: 'ok', closed: 'ok', new: 'warn' };
const breached = (t: Ticket) => Boolean(t.responseBreachedAt || t.resolutionBreachedAt);

function ClockText({ c }: { c: Clock }) {
  const { t } = useI18n();
  const tone =
    c.state === 'breached'
      ? 'bad'
      : c.near && c.state !== 'met'
        ? 'warn'
        : c.state === 'met'
          ? 'ok'
          : 'neutral';
  return (
    <>
      <Badge tone={tone}>{t(`clock_${c.state}` as MessageKey)}</Badge>{' '}
      {t('clockMinutes', { elapsed: c.elapsedMinutes, target: c.targetMinutes })}
    </>
  );
}

const time = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')}Z`;

/** Tickets the user may see, and the form to raise one. */
export function SupportPage({ me }: { me: Me }) {
  const { t } = useI18n();
  const list = useLoad(() => get<Page<Ticket>>('/tickets?limit=100'), 'tickets');
  const s = useSubmit();
  const [form, setForm] = useState({
    title: '',
    description: '',
    priority: 'P3',
    kind: 'question',
    service: '',
    department: '',
  });
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm({ ...form, [k]: e.target.value });
  const raise = (e: FormEvent) => {
    e.preventDefault();
    void s.run(async () => {
      const made = await send<Ticket>('POST', '/tickets', {
        title: form.title,
        description: form.description,
        priority: form.priority,
        kind: form.kind,
        ...(form.service ? { service: form.service } : {}),
        ...(form.department ? { department: form.department } : {}),
      });
      navigate(`/support/tickets/${made.id}`);
      return t('ticketRaised', { id: made.id });
    });
  };
  return (
    <>
      <h1>{t('support')}</h1>
      <p>{t('supportIntro')}</p>
      <p>
        {can(me.role, 'ticket:operate') && (
          <>
            <Link href="/support/sla">{t('slaTargets')}</Link>
            {' · '}
          </>
        )}
        <Link href="/support/report">{t('monthlyReport')}</Link>
      </p>
      <Status loading={list.loading} error={list.error} />
      {list.data && (
        <Table caption={t('tickets')}>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">{t('priority')}</th>
              <th scope="col">{t('ticketTitle')}</th>
              <th scope="col">{t('department')}</th>
              <th scope="col">{t('state')}</th>
              <th scope="col">{t('assignee')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((x) => (
              <tr key={x.id} data-ticket={x.id}>
                <td>
                  <Link href={`/support/tickets/${x.id}`}>#{x.id}</Link>
                </td>
                <td>{x.priority}</td>
                <td>{x.title}</td>
                <td>{x.service ?? x.department}</td>
                <td>
                  <Badge tone={breached(x) ? 'bad' : (TONE[x.status] ?? 'neutral')}>
                    {t(statusKey(x.status))}
                  </Badge>
                  {breached(x) && <> {t('slaBreached')}</>}
                </td>
                <td>{x.assignee ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      {list.data?.items.length === 0 && <p>{t('noTickets')}</p>}
      {can(me.role, 'ticket:write') && (
        <form className="card form" onSubmit={raise} aria-labelledby="h-raise">
          <h2 id="h-raise">{t('raiseTicket')}</h2>
          <Field label={t('ticketTitle')} name="title" error={s.fields.title}>
            {(p) => <input {...p} required maxLength={200} value={form.title} onChange={set('title')} />}
          </Field>
          <Field label={t('ticketDescription')} name="description" error={s.fields.description}>
            {(p) => (
              <textarea
                {...p}
                required
                rows={4}
                maxLength={20000}
                value={form.description}
                onChange={set('description')}
              />
            )}
          </Field>
          <Field label={t('priority')} name="priority">
            {(p) => (
              <select {...p} value={form.priority} onChange={set('priority')}>
                {PRIORITIES.map((x) => (
                  <option key={x} value={x}>
                    {x}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('ticketKind')} name="kind">
            {(p) => (
              <select {...p} value={form.kind} onChange={set('kind')}>
                {KINDS.map((x) => (
                  <option key={x} value={x}>
                    {t(`tkind_${x.replace('-', '_')}` as MessageKey)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('ticketService')} name="service" error={s.fields.service}>
            {(p) => <input {...p} maxLength={60} value={form.service} onChange={set('service')} />}
          </Field>
          {!me.department && (
            <Field label={t('department')} name="department" error={s.fields.department}>
              {(p) => <input {...p} maxLength={10} value={form.department} onChange={set('department')} />}
            </Field>
          )}
          <button type="submit" className="primary" disabled={s.busy}>
            {t('raiseTicket')}
          </button>
        </form>
      )}
      <Message msg={s.msg} />
    </>
  );
}

/** One ticket: its clocks, the desk's actions, comments and the timeline. */
export function TicketPage({ id, me }: { id: number; me: Me }) {
  const { t } = useI18n();
  const item = useLoad(() => get<Ticket>(`/tickets/${id}`), `ticket-${id}`);
  const s = useSubmit();
  const [to, setTo] = useState('');
  const [note, setNote] = useState('');
  const [comment, setComment] = useState('');
  const [internal, setInternal] = useState(false);
  const desk = can(me.role, 'ticket:operate');
  const x = item.data;
  const act = (e: FormEvent, path: string, body: object, done: string) => {
    e.preventDefault();
    void s.run(async () => {
      await send('POST', `/tickets/${id}${path}`, body);
      setNote('');
      setComment('');
      item.reload();
      return done;
    });
  };
  const row = (label: MessageKey, value: ReactNode) => (
    <div>
      <dt>{t(label)}</dt>
      <dd>{value ?? '—'}</dd>
    </div>
  );
  return (
    <>
      <p>
        <Link href="/support">{t('backToSupport')}</Link>
      </p>
      <Status loading={item.loading} error={x ? null : item.error} />
      {x && (
        <>
          <h1>
            #{x.id}: {x.title}
          </h1>
          <p data-testid="ticket-status">
            <Badge tone={TONE[x.status] ?? 'neutral'}>{t(statusKey(x.status))}</Badge>
            {breached(x) && (
              <>
                {' '}
                <Badge tone="bad">{t('slaBreached')}</Badge>
              </>
            )}
          </p>
          <dl className="figures">
            {row('priority', x.priority)}
            {row('ticketKind', t(`tkind_${x.kind.replace('-', '_')}` as MessageKey))}
            {row('department', x.department)}
            {row('ticketService', x.service)}
            {row('raisedBy', `${x.raisedBy}, ${time(x.raisedAt)}`)}
            {row('assignee', x.assignee)}
            {row('tier', x.slaTier)}
            {x.sla && row('firstResponse', <ClockText c={x.sla.response} />)}
            {x.sla && row('resolution', <ClockText c={x.sla.resolution} />)}
          </dl>
          <p className="pre">{x.description}</p>
          {x.nextStates.length > 0 && (
            <form
              className="card form inline"
              aria-labelledby="h-move"
              onSubmit={(e) => {
                const target = to || x.nextStates[0] || '';
                act(
                  e,
                  '/move',
                  { to: target, ...(note ? { note } : {}) },
                  t('ticketMoved', { status: t(statusKey(target)) }),
                );
                setTo('');
              }}
            >
              <h2 id="h-move">{t('moveTicket')}</h2>
              <label>
                {t('nextState')}
                <select name="to" value={to || x.nextStates[0]} onChange={(e) => setTo(e.target.value)}>
                  {x.nextStates.map((n) => (
                    <option key={n} value={n}>
                      {t(statusKey(n))}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                {t('moveReason')}
                <input name="note" maxLength={2000} value={note} onChange={(e) => setNote(e.target.value)} />
              </label>
              <button type="submit" className="primary" disabled={s.busy}>
                {t('move')}
              </button>
            </form>
          )}
          {desk && !x.assignee && (
            <form
              className="card form inline"
              aria-labelledby="h-assign"
              onSubmit={(e) => act(e, '/assign', { assignee: me.username }, t('assignedToMe'))}
            >
              <h2 id="h-assign">{t('assignee')}</h2>
              <button type="submit" disabled={s.busy}>
                {t('assignToMe')}
              </button>
            </form>
          )}
          {x.status !== 'closed' && can(me.role, 'ticket:write') && (
            <form
              className="card form"
              aria-labelledby="h-comment"
              onSubmit={(e) => act(e, '/comments', { body: comment, internal }, t('commented'))}
            >
              <h2 id="h-comment">{t('addComment')}</h2>
              <Field label={t('comment')} name="comment">
                {(p) => (
                  <textarea
                    {...p}
                    required
                    rows={3}
                    maxLength={20000}
                    value={comment}
                    onChange={(e) => setComment(e.target.value)}
                  />
                )}
              </Field>
              {desk && (
                <label>
                  <input
                    type="checkbox"
                    name="internal"
                    checked={internal}
                    onChange={(e) => setInternal(e.target.checked)}
                  />{' '}
                  {t('internalComment')}
                </label>
              )}
              <button type="submit" className="primary" disabled={s.busy}>
                {t('addComment')}
              </button>
            </form>
          )}
          <Message msg={s.msg} />
          <TicketWatchers x={x} me={me} reload={item.reload} />
          <TicketLinks x={x} me={me} reload={item.reload} />
          <TicketAttachments x={x} me={me} reload={item.reload} />
          <h2>{t('timeline')}</h2>
          <Table caption={t('timeline')}>
            <thead>
              <tr>
                <th scope="col">{t('created')}</th>
                <th scope="col">{t('createdBy')}</th>
                <th scope="col">{t('step')}</th>
                <th scope="col">{t('comment')}</th>
              </tr>
            </thead>
            <tbody>
              {(x.timeline ?? []).map((ev, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: the timeline only grows at its end, so an entry's index is its identity
                <tr key={`${ev.at}:${i}`} data-kind={ev.kind}>
                  <td>{time(ev.at)}</td>
                  <td>{ev.by}</td>
                  <td>
                    {ev.kind === 'status' && ev.to
                      ? `${ev.from ? `${t(statusKey(ev.from))} → ` : ''}${t(statusKey(ev.to))}`
                      : t(`tevent_${ev.kind}` as MessageKey)}
                    {ev.internal && <> ({t('internalComment')})</>}
                  </td>
                  <td>{ev.body || '—'}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        </>
      )}
    </>
  );
}

/** The SLA targets by tier and priority; the desk changes them here. */
export function SlaTargetsPage() {
  const { t } = useI18n();
  const list = useLoad(() => get<Target[]>('/support/sla-targets'), 'sla-targets');
  const s = useSubmit();
  const [f, setF] = useState({ tier: 'gold', priority: 'P1', response: '', resolution: '', hours: '24x7' });
  const save = (e: FormEvent) => {
    e.preventDefault();
    void s.run(async () => {
      await send('PUT', `/support/sla-targets/${f.tier}/${f.priority}`, {
        responseMinutes: Number(f.response),
        resolutionMinutes: Number(f.resolution),
        hours: f.hours,
      });
      list.reload();
      return t('targetSaved');
    });
  };
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) =>
    setF({ ...f, [k]: e.target.value });
  return (
    <>
      <p>
        <Link href="/support">{t('backToSupport')}</Link>
      </p>
      <h1>{t('slaTargets')}</h1>
      <Status loading={list.loading} error={list.error} />
      {list.data && (
        <Table caption={t('slaTargets')}>
          <thead>
            <tr>
              <th scope="col">{t('tier')}</th>
              <th scope="col">{t('priority')}</th>
              <th scope="col">{t('firstResponse')}</th>
              <th scope="col">{t('resolution')}</th>
              <th scope="col">{t('slaHours')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((x) => (
              <tr key={`${x.tier}/${x.priority}`} data-target={`${x.tier}/${x.priority}`}>
                <td>{x.tier}</td>
                <td>{x.priority}</td>
                <td>{t('minutes', { n: x.responseMinutes })}</td>
                <td>{t('minutes', { n: x.resolutionMinutes })}</td>
                <td>{x.hours === '24x7' ? t('hours24x7') : t('hoursBusiness')}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <form className="card form" onSubmit={save} aria-labelledby="h-target">
        <h2 id="h-target">{t('setTarget')}</h2>
        <Field label={t('tier')} name="tier">
          {(p) => (
            <select {...p} value={f.tier} onChange={set('tier')}>
              {['gold', 'silver', 'bronze'].map((x) => (
                <option key={x}>{x}</option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('priority')} name="priority">
          {(p) => (
            <select {...p} value={f.priority} onChange={set('priority')}>
              {PRIORITIES.map((x) => (
                <option key={x}>{x}</option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('firstResponseMinutes')} name="responseMinutes" error={s.fields.responseMinutes}>
          {(p) => (
            <input {...p} type="number" min={1} required value={f.response} onChange={set('response')} />
          )}
        </Field>
        <Field label={t('resolutionMinutes')} name="resolutionMinutes" error={s.fields.resolutionMinutes}>
          {(p) => (
            <input {...p} type="number" min={1} required value={f.resolution} onChange={set('resolution')} />
          )}
        </Field>
        <Field label={t('slaHours')} name="hours">
          {(p) => (
            <select {...p} value={f.hours} onChange={set('hours')}>
              <option value="24x7">{t('hours24x7')}</option>
              <option value="business">{t('hoursBusiness')}</option>
            </select>
          )}
        </Field>
        <button type="submit" className="primary" disabled={s.busy}>
          {t('setTarget')}
        </button>
      </form>
      <Message msg={s.msg} />
    </>
  );
}
