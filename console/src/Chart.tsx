import { useI18n } from './i18n.tsx';

export interface Series {
  t: number;
  v: number | null;
}

const W = 600;
const H = 160;
const PAD = { l: 48, r: 8, t: 8, b: 22 };

const fmt = (n: number) => (Math.abs(n) >= 100 ? Math.round(n).toString() : n.toFixed(n >= 10 ? 1 : 2));

/** A small line chart in SVG: no library, scales to its box, described in words for screen readers. */
export function LineChart({
  title,
  data,
  id,
  from,
  to,
}: {
  title: string;
  data: Series[];
  id: string;
  /** The chosen range in epoch ms: the x axis spans it even where there are no samples. */
  from: number;
  to: number;
}) {
  const { t, time } = useI18n();
  const values = data.map((d) => d.v).filter((v): v is number => v !== null);
  const hasData = values.length > 0;
  const max = hasData ? Math.max(...values, 0) : 0;
  const top = max > 0 ? max * 1.1 : 1;
  const t0 = from;
  const t1 = to;
  const x = (tt: number) => PAD.l + ((tt - t0) / Math.max(1, t1 - t0)) * (W - PAD.l - PAD.r);
  const y = (v: number) => PAD.t + (1 - v / top) * (H - PAD.t - PAD.b);

  // Gaps (no samples) break the line rather than being drawn as zero.
  const paths: string[] = [];
  let current = '';
  for (const d of data) {
    if (d.v === null) {
      if (current) paths.push(current);
      current = '';
      continue;
    }
    current += `${current ? 'L' : 'M'}${x(d.t).toFixed(1)},${y(d.v).toFixed(1)}`;
  }
  if (current) paths.push(current);
  const latest = [...values].pop();
  const summary = hasData ? t('latest', { value: fmt(latest ?? 0), max: fmt(max) }) : t('noData');

  return (
    <figure className="chart" data-chart={id}>
      <figcaption>
        <strong>{title}</strong> <span className="muted">{summary}</span>
      </figcaption>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${title}: ${summary}`}
        preserveAspectRatio="none"
      >
        <line x1={PAD.l} x2={W - PAD.r} y1={H - PAD.b} y2={H - PAD.b} className="axis" />
        <line x1={PAD.l} x2={PAD.l} y1={PAD.t} y2={H - PAD.b} className="axis" />
        <text x={PAD.l - 4} y={PAD.t + 10} textAnchor="end" className="tick">
          {fmt(top)}
        </text>
        <text x={PAD.l - 4} y={H - PAD.b} textAnchor="end" className="tick">
          0
        </text>
        {t1 > t0 && (
          <>
            <text x={PAD.l} y={H - 6} className="tick">
              {time(new Date(t0).toISOString())}
            </text>
            <text x={W - PAD.r} y={H - 6} textAnchor="end" className="tick">
              {time(new Date(t1).toISOString())}
            </text>
          </>
        )}
        {paths.map((p) => (
          <path key={p} d={p} className="line" />
        ))}
        {values.length === 1 &&
          data
            .filter((d) => d.v !== null)
            .map((d) => <circle key={d.t} cx={x(d.t)} cy={y(d.v ?? 0)} r={3} className="dot" />)}
      </svg>
    </figure>
  );
}
