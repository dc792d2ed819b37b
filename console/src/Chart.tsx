import { useI18n } from './i18n.tsx';

export interface Series {
  t: number;
  v: number | null;
}

/** One named line of a chart with several. */
export interface Line {
  label: string;
  data: Series[];
}

const W = 600;
const H = 160;
const PAD = { l: 48, r: 8, t: 8, b: 22 };

const fmt = (n: number) => (Math.abs(n) >= 100 ? Math.round(n).toString() : n.toFixed(n >= 10 ? 1 : 2));

/** SVG path segments of a series; gaps (no samples) break the line rather than drawn as zero. */
function pathsOf(data: Series[], x: (t: number) => number, y: (v: number) => number): string[] {
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
  return paths;
}

/**
 * A small line chart in SVG: no library, scales to its box, described in words for screen readers.
 * One series (`data`) or several (`lines`, told apart by colour and dash, with a legend), and an
 * optional horizontal reference line such as a target.
 */
export function LineChart({
  title,
  data = [],
  lines,
  reference,
  formatX,
  id,
  from,
  to,
}: {
  title: string;
  data?: Series[];
  lines?: Line[];
  reference?: { value: number; label: string };
  /** Labels of the x axis' ends (default: date and time). */
  formatX?: (t: number) => string;
  id: string;
  /** The chosen range in epoch ms: the x axis spans it even where there are no samples. */
  from: number;
  to: number;
}) {
  const { t, time } = useI18n();
  const all: Line[] = lines ?? [{ label: title, data }];
  const valuesOf = (l: Line) => l.data.map((d) => d.v).filter((v): v is number => v !== null);
  const values = all.flatMap(valuesOf);
  const hasData = values.length > 0;
  const max = hasData ? Math.max(...values, 0) : 0;
  const ceiling = Math.max(max, reference?.value ?? 0);
  const top = ceiling > 0 ? ceiling * 1.1 : 1;
  // Most series never go below zero; a running balance (cumulative net savings) does.
  const floor = hasData ? Math.min(...values, 0) : 0;
  const bottom = floor < 0 ? floor * 1.1 : 0;
  const t0 = from;
  const t1 = to;
  const x = (tt: number) => PAD.l + ((tt - t0) / Math.max(1, t1 - t0)) * (W - PAD.l - PAD.r);
  const y = (v: number) => PAD.t + (1 - (v - bottom) / (top - bottom)) * (H - PAD.t - PAD.b);
  const xLabel = formatX ?? ((tt: number) => time(new Date(tt).toISOString()));

  const describe = (l: Line) => {
    const v = valuesOf(l);
    return v.length > 0 ? t('latest', { value: fmt(v[v.length - 1] ?? 0), max: fmt(Math.max(...v)) }) : '';
  };
  const summary = !hasData
    ? t('noData')
    : lines
      ? [...all.map((l) => `${l.label}: ${describe(l)}`), ...(reference ? [reference.label] : [])].join('; ')
      : describe(all[0] as Line);

  return (
    <figure className="chart" data-chart={id}>
      <figcaption>
        <strong>{title}</strong> {!lines && <span className="muted">{summary}</span>}
      </figcaption>
      {(lines || reference) && (
        <ul className="legend">
          {all.map((l, i) => (
            <li key={l.label}>
              <svg viewBox="0 0 24 8" aria-hidden="true" focusable="false">
                <line x1="0" x2="24" y1="4" y2="4" className={`line line-${i}`} />
              </svg>
              {l.label} <span className="muted">{describe(l)}</span>
            </li>
          ))}
          {reference && (
            <li>
              <svg viewBox="0 0 24 8" aria-hidden="true" focusable="false">
                <line x1="0" x2="24" y1="4" y2="4" className="ref" />
              </svg>
              {reference.label}
            </li>
          )}
        </ul>
      )}
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
          {bottom < 0 ? fmt(bottom) : 0}
        </text>
        {bottom < 0 && (
          <>
            <line x1={PAD.l} x2={W - PAD.r} y1={y(0)} y2={y(0)} className="axis" data-zero />
            <text x={PAD.l - 4} y={y(0) + 4} textAnchor="end" className="tick">
              0
            </text>
          </>
        )}
        {t1 > t0 && (
          <>
            <text x={PAD.l} y={H - 6} className="tick">
              {xLabel(t0)}
            </text>
            <text x={W - PAD.r} y={H - 6} textAnchor="end" className="tick">
              {xLabel(t1)}
            </text>
          </>
        )}
        {reference && (
          <line
            x1={PAD.l}
            x2={W - PAD.r}
            y1={y(reference.value)}
            y2={y(reference.value)}
            className="ref"
            data-reference={reference.value}
          />
        )}
        {all.map((l, i) =>
          pathsOf(l.data, x, y).map((p) => (
            <path key={`${l.label}:${p}`} d={p} className={`line line-${i}`} />
          )),
        )}
        {all.map((l, i) => {
          const points = l.data.filter((d) => d.v !== null);
          return points.length === 1
            ? points.map((d) => (
                <circle
                  key={`${l.label}:${d.t}`}
                  cx={x(d.t)}
                  cy={y(d.v ?? 0)}
                  r={3}
                  className={`dot dot-${i}`}
                />
              ))
            : null;
        })}
      </svg>
    </figure>
  );
}
