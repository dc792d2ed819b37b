import { type FormEvent, useState } from 'react';
import { get, type Page, send } from '../api.ts';
import { LineChart } from '../Chart.tsx';
import { useLoad, useSubmit } from '../hooks.ts';
import { type MessageKey, useI18n } from '../i18n.tsx';
import { Link } from '../router.tsx';
import { Badge, Message, Status, Table } from '../ui.tsx';

// The programme's shapes, as /api/v1/migration answers them.
const STATES = [
  'inventoried',
  'assessed',
  'scheduled',
  'migrating',
  'parallel-run',
  'cut-over',
  'decommissioned',
  'blocked',
] as const;
type ItemState = (typeof STATES)[number];

interface Item {
  id: string;
  department: string;
  ref: string;
  name: string;
  sourcePlatform: string;
  legacyUrl: string | null;
  contacts: string[];
  technology: string | null;
  dataSizeGb: number | null;
  complexity: string | null;
  targetService: string | null;
  wave: number | null;
  plannedOn: string | null;
  state: ItemState;
  blockedReason: string | null;
  nextStates: ItemState[];
  dependsOn: { item: string; state: ItemState }[];
  steps?: { from: ItemState | null; to: ItemState; reason: string | null; by: string; at: string }[];
}
interface Month {
  month: string;
  plannedRemaining: number;
  actualRemaining: number | null;
}
interface Curve {
  total: number;
  remaining: number;
  months: Month[];
}
interface WaveCurve extends Curve {
  number: number;
  name: string;
  plannedStart: string;
  plannedEnd: string;
}
interface Burndown {
  asOf: string;
  byState: Partial<Record<ItemState, number>>;
  overall: Curve;
  waves: WaveCurve[];
  departments: {
    department: string;
    items: number;
    remaining: number;
    plannedLastMonth: string | null;
    actualLastMonth: string | null;
  }[];
}

const TONE: Record<ItemState, 'ok' | 'bad' | 'warn' | 'neutral'> = {
  inventoried: 'neutral',
  assessed: 'neutral',
  scheduled: 'neutral',
  migrating: 'warn',
  'parallel-run': 'warn',
  'cut-over': 'ok',
  decommissioned: 'ok',
  blocked: 'bad',
};
const stateKey = (s: ItemState) => `mstate_${s.replace('-', '_')}` as MessageKey;

function StateBadge({ item }: { item: Pick<Item, 'state' | 'blockedReason'> }) {
  const { t } = useI18n();
  return (
    <>
      <Badge tone={TONE[item.state]}>{t(stateKey(item.state))}</Badge>
      {item.blockedReason && <> {t('blockedBecause', { reason: item.blockedReason })}</>}
    </>
  );
}

const monthStart = (m: string) => Date.parse(`${m}-01T00:00:00Z`);

/** Planned against actual, month by month; actual stops at the current month. */
function BurndownChart({ curve, id, title }: { curve: Curve; id: string; title: string }) {
  const { t, lang } = useI18n();
  const fmt = new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'zh-HK', {
    month: 'short',
    year: 'numeric',
    timeZone: 'UTC',
  });
  const first = curve.months[0]?.month;
  const last = curve.months.at(-1)?.month;
  if (!first || !last) return <p>{t('noBurndown')}</p>;
  return (
    <LineChart
      id={id}
      title={title}
      from={monthStart(first)}
      to={monthStart(last)}
      formatX={(tt) => fmt.format(tt)}
      lines={[
        {
          label: t('plannedRemaining'),
          data: curve.months.map((m) => ({ t: monthStart(m.month), v: m.plannedRemaining })),
        },
        {
          label: t('actualRemaining'),
          data: curve.months.map((m) => ({ t: monthStart(m.month), v: m.actualRemaining })),
        },
      ]}
    />
  );
}

function ItemsTable({ items, caption }: { items: Item[]; caption: string }) {
  const { t } = useI18n();
  if (items.length === 0) return <p>{t('noMigrationItems')}</p>;
  return (
    <Table caption={caption} wide>
      <thead>
        <tr>
          <th scope="col">{t('migrationItem')}</th>
          <th scope="col">{t('name')}</th>
          <th scope="col">{t('wave')}</th>
          <th scope="col">{t('plannedOn')}</th>
          <th scope="col">{t('state')}</th>
          <th scope="col">{t('targetService')}</th>
        </tr>
      </thead>
      <tbody>
        {items.map((i) => (
          <tr key={i.id} data-item={i.id} data-state={i.state}>
            <td>
              <Link href={`/migration/items/${i.id}`}>{i.id}</Link>
            </td>
            <td>{i.name}</td>
            <td>{i.wave ?? '—'}</td>
            <td>{i.plannedOn ?? '—'}</td>
            <td>
              <StateBadge item={i} />
            </td>
            <td>{i.targetService ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

/** The programme at a glance: items by state, the burndown, the waves, and when each department leaves. */
export function MigrationPage() {
  const { t } = useI18n();
  const b = useLoad(() => get<Burndown>('/migration/burndown'), 'migration:burndown');
  const d = b.data;
  return (
    <>
      <h1>{t('migration')}</h1>
      <p className="muted">{t('migrationIntro')}</p>
      <Status loading={b.loading} error={d ? null : b.error} />
      {d && (
        <>
          <section aria-labelledby="h-by-state">
            <h2 id="h-by-state">{t('itemsByState')}</h2>
            <dl className="figures" data-testid="by-state">
              {STATES.map((s) => (
                <div key={s} data-state={s}>
                  <dt>{t(stateKey(s))}</dt>
                  <dd>{d.byState[s] ?? 0}</dd>
                </div>
              ))}
            </dl>
            <p>{t('stillOnLegacy', { remaining: d.overall.remaining, total: d.overall.total })}</p>
          </section>
          <BurndownChart curve={d.overall} id="burndown" title={t('burndown')} />
          <section aria-labelledby="h-waves">
            <h2 id="h-waves">{t('waves')}</h2>
            {d.waves.length === 0 ? (
              <p>{t('noWaves')}</p>
            ) : (
              <Table caption={t('waves')}>
                <thead>
                  <tr>
                    <th scope="col">{t('wave')}</th>
                    <th scope="col">{t('plannedDates')}</th>
                    <th scope="col">{t('items')}</th>
                    <th scope="col">{t('leftLegacy')}</th>
                  </tr>
                </thead>
                <tbody>
                  {d.waves.map((w) => (
                    <tr key={w.number} data-wave={w.number}>
                      <td>
                        <Link href={`/migration/waves/${w.number}`}>{w.name}</Link>
                      </td>
                      <td>{t('fromTo', { from: w.plannedStart, to: w.plannedEnd })}</td>
                      <td>{w.total}</td>
                      <td>{w.total - w.remaining}</td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            )}
          </section>
          <section aria-labelledby="h-leaving">
            <h2 id="h-leaving">{t('departmentsLeaving')}</h2>
            <Table caption={t('departmentsLeaving')}>
              <thead>
                <tr>
                  <th scope="col">{t('department')}</th>
                  <th scope="col">{t('items')}</th>
                  <th scope="col">{t('remainingOnLegacy')}</th>
                  <th scope="col">{t('lastPlannedToLeave')}</th>
                  <th scope="col">{t('lastLeft')}</th>
                </tr>
              </thead>
              <tbody>
                {d.departments.map((x) => (
                  <tr key={x.department} data-department={x.department}>
                    <td>{x.department}</td>
                    <td>{x.items}</td>
                    <td>{x.remaining}</td>
                    <td>{x.plannedLastMonth ?? t('notPlanned')}</td>
                    <td>{x.actualLastMonth ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </Table>
          </section>
        </>
      )}
    </>
  );
}

/** One wave: its dates, its burndown and its items. */
export function MigrationWavePage({ number }: { number: number }) {
  const { t } = useI18n();
  const b = useLoad(() => get<Burndown>('/migration/burndown'), 'migration:burndown');
  const items = useLoad(
    () => get<Page<Item>>(`/migration/items?wave=${number}&limit=500`),
    `migration:wave:${number}`,
  );
  const wave = b.data?.waves.find((w) => w.number === number);
  return (
    <>
      <p>
        <Link href="/migration">{t('backToMigration')}</Link>
      </p>
      <Status loading={b.loading || items.loading} error={b.error ?? items.error} />
      {b.data && !wave && <h1>{t('notFound')}</h1>}
      {wave && items.data && (
        <>
          <h1>{wave.name}</h1>
          <p>
            {t('fromTo', { from: wave.plannedStart, to: wave.plannedEnd })} ·{' '}
            {t('stillOnLegacy', { remaining: wave.remaining, total: wave.total })}
          </p>
          <BurndownChart
            curve={wave}
            id={`burndown-wave-${number}`}
            title={t('waveBurndown', { wave: wave.name })}
          />
          <h2>{t('items')}</h2>
          <ItemsTable items={items.data.items} caption={t('waveItems', { wave: wave.name })} />
        </>
      )}
    </>
  );
}

/** One item: what it is, where it stands, its steps, and a form to move it (department writers, operators). */
export function MigrationItemPage({
  dept,
  itemRef,
  canMove,
}: {
  dept: string;
  itemRef: string;
  canMove: boolean;
}) {
  const { t, time } = useI18n();
  const path = `/migration/items/${encodeURIComponent(dept)}/${encodeURIComponent(itemRef)}`;
  const item = useLoad(() => get<Item>(path), path);
  const [to, setTo] = useState('');
  const [reason, setReason] = useState('');
  const s = useSubmit();
  const i = item.data;
  const move = (e: FormEvent) => {
    e.preventDefault();
    const target = to || i?.nextStates[0];
    if (!target) return;
    void s.run(async () => {
      const moved = await send<Item>('POST', `${path}/move`, { to: target, ...(reason ? { reason } : {}) });
      setTo('');
      setReason('');
      item.reload();
      return t('itemMoved', { item: moved.id, state: t(stateKey(moved.state)) });
    });
  };
  const row = (label: MessageKey, value: string | number | null) => (
    <div>
      <dt>{t(label)}</dt>
      <dd>{value === null || value === '' ? '—' : value}</dd>
    </div>
  );
  return (
    <>
      <p>
        <Link href="/migration">{t('backToMigration')}</Link>
      </p>
      <Status loading={item.loading} error={i ? null : item.error} />
      {i && (
        <>
          <h1>
            {i.id}: {i.name}
          </h1>
          <p data-testid="item-state">
            <StateBadge item={i} />
          </p>
          <dl className="figures">
            {row('sourcePlatform', i.sourcePlatform)}
            {row('legacyUrl', i.legacyUrl)}
            {row('targetService', i.targetService)}
            {row('wave', i.wave)}
            {row('plannedOn', i.plannedOn)}
            {row(
              'complexity',
              i.complexity ? t(`complexity_${i.complexity}` as MessageKey) : t('notAssessed'),
            )}
            {row('technology', i.technology)}
            {row('dataSize', i.dataSizeGb === null ? null : `${i.dataSizeGb} GB`)}
            {row('contacts', i.contacts.join('; '))}
            {row('dependsOn', i.dependsOn.map((x) => `${x.item} (${t(stateKey(x.state))})`).join(', '))}
          </dl>
          {canMove && i.nextStates.length > 0 && (
            <form className="card form inline" onSubmit={move} aria-labelledby="h-move">
              <h2 id="h-move">{t('moveItem')}</h2>
              <label>
                {t('nextState')}
                <select name="to" value={to || i.nextStates[0]} onChange={(e) => setTo(e.target.value)}>
                  {i.nextStates.map((n) => (
                    <option key={n} value={n}>
                      {t(stateKey(n))}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                {t('moveReason')}
                <input
                  name="reason"
                  maxLength={2000}
                  value={reason}
                  onChange={(e) => setReason(e.target.value)}
                />
              </label>
              <button type="submit" className="primary" disabled={s.busy}>
                {t('move')}
              </button>
            </form>
          )}
          <Message msg={s.msg} />
          <h2>{t('steps')}</h2>
          <Table caption={t('steps')}>
            <thead>
              <tr>
                <th scope="col">{t('created')}</th>
                <th scope="col">{t('step')}</th>
                <th scope="col">{t('createdBy')}</th>
                <th scope="col">{t('moveReason')}</th>
              </tr>
            </thead>
            <tbody>
              {(i.steps ?? []).map((st) => (
                <tr key={`${st.at}:${st.to}`}>
                  <td>{time(st.at)}</td>
                  <td>
                    {st.from ? `${t(stateKey(st.from))} → ` : ''}
                    {t(stateKey(st.to))}
                  </td>
                  <td>{st.by}</td>
                  <td>{st.reason ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        </>
      )}
    </>
  );
}
