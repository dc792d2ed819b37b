import type { PublicNotice, PublicService, PublicState, StatusFeed } from './status.logic.ts';

/**
 * The public status page as one small HTML document: server-rendered, no script, no external
 * assets (the CSS is inline), readable at phone width, every state said in words and not by colour
 * alone. Every text from the database goes through `escapeHtml`.
 */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/** `<meta http-equiv>` is not needed: the route sends this as a header. */
export const STATUS_PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

const STATE_TEXT: Record<PublicState, string> = {
  operational: 'Operational',
  degraded: 'Degraded',
  down: 'Down',
  maintenance: 'Under maintenance',
  'no-data': 'No data',
};

// A symbol beside the word, so the state reads without colour and at a glance.
const STATE_MARK: Record<PublicState, string> = {
  operational: '✓',
  degraded: '!',
  down: '✕',
  maintenance: '⚒',
  'no-data': '?',
};

const CSS = `
:root{color-scheme:light dark;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--none:#8c959f;--maint:#0969da}
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;margin:1.6rem 0 .4rem}
.summary{font-weight:600}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.45rem .4rem;border-bottom:1px solid #8c959f55;vertical-align:top}
th[scope=row]{font-weight:600}
.zh{display:block;font-weight:400;font-size:.9em}
.state{white-space:nowrap;font-weight:600}
.s-operational{color:var(--ok)}.s-degraded{color:var(--warn)}.s-down{color:var(--bad)}.s-maintenance{color:var(--maint)}.s-no-data{color:var(--none)}
.bars{display:grid;grid-template-columns:repeat(90,minmax(1px,1fr));gap:1px;min-width:9rem;height:1.6rem}
.bars span{display:block;background:var(--none)}
.bars .full{background:var(--ok)}.bars .part{background:var(--warn)}.bars .low{background:var(--bad)}
.legend{font-size:.85rem}
.notice{border-left:4px solid var(--maint);padding:.3rem .7rem;margin:.5rem 0}
.notice p{margin:.2rem 0}
@media (max-width:36rem){.col-bars{display:none}}
`;

const when = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
const time = (iso: string) => `<time datetime="${escapeHtml(iso)}">${escapeHtml(when(iso))}</time>`;
const percent = (v: number | null) => (v === null ? 'no data' : `${v.toFixed(3).replace(/\.?0+$/, '')} %`);

function dayClass(v: number | null): string {
  if (v === null) return 'none';
  if (v >= 100) return 'full';
  return v >= 99 ? 'part' : 'low';
}

function bars(s: PublicService, days: string[]): string {
  const below = s.daily.filter((v) => v !== null && v < 100).length;
  const none = s.daily.filter((v) => v === null).length;
  const full = s.daily.length - below - none;
  const label = `Daily availability over ${days.length} days: ${full} days at 100 %, ${below} days below 100 %, ${none} days without data`;
  // Runs of full days and of days without data are one cell each: a typical row is a few cells,
  // not 90, which keeps the page small with hundreds of services.
  const cells: string[] = [];
  for (let i = 0; i < s.daily.length; ) {
    const v = s.daily[i] ?? null;
    const cls = dayClass(v);
    let j = i + 1;
    if (cls === 'full' || cls === 'none')
      while (j < s.daily.length && dayClass(s.daily[j] ?? null) === cls) j++;
    const span = j - i > 1 ? ` style="grid-column:span ${j - i}"` : '';
    const title = j - i > 1 ? `${days[i]} to ${days[j - 1]}: ${percent(v)}` : `${days[i]}: ${percent(v)}`;
    cells.push(`<span class="${cls}"${span} title="${escapeHtml(title)}"></span>`);
    i = j;
  }
  return `<div class="bars" role="img" aria-label="${escapeHtml(label)}">${cells.join('')}</div>`;
}

function notice(n: PublicNotice): string {
  const scope = n.service
    ? `${escapeHtml(n.service.nameEn)} (${escapeHtml(n.department ?? '')})`
    : 'All services';
  const status = n.state === 'active' ? 'Under way' : 'Planned';
  return `<li class="notice"><p><strong>${status}:</strong> ${escapeHtml(n.title)}</p>
<p>${scope}, from ${time(n.startsAt)} to ${time(n.endsAt)}</p>${n.message ? `<p>${escapeHtml(n.message)}</p>` : ''}</li>`;
}

function summaryLine(feed: StatusFeed): string {
  const { operational, degraded, down, maintenance, 'no-data': noData } = feed.summary;
  const total = operational + degraded + down + maintenance + noData;
  if (total === 0) return 'No services are listed yet.';
  if (operational === total) return 'All services are operational.';
  const parts = [
    down ? `${down} down` : '',
    degraded ? `${degraded} degraded` : '',
    maintenance ? `${maintenance} under maintenance` : '',
    noData ? `${noData} without data` : '',
  ].filter(Boolean);
  return `${operational} of ${total} services operational; ${parts.join(', ')}.`;
}

export function renderStatusPage(feed: StatusFeed): string {
  const notices = feed.maintenance.length
    ? `<ul style="list-style:none;padding:0">${feed.maintenance.map(notice).join('\n')}</ul>`
    : '<p>No maintenance is under way or planned.</p>';
  const departments = feed.departments
    .map((d) => {
      const rows = d.services
        .map(
          (
            s,
          ) => `<tr><th scope="row">${escapeHtml(s.nameEn)}<span class="zh" lang="zh-Hant">${escapeHtml(s.nameZh)}</span></th>
<td><span class="state s-${s.state}">${STATE_MARK[s.state]} ${STATE_TEXT[s.state]}</span></td>
<td>${percent(s.availability)}</td>
<td class="col-bars">${bars(s, feed.days)}</td></tr>`,
        )
        .join('\n');
      return `<section aria-labelledby="d-${escapeHtml(d.code)}">
<h2 id="d-${escapeHtml(d.code)}">${escapeHtml(d.nameEn)} <span lang="zh-Hant">${escapeHtml(d.nameZh)}</span></h2>
<div class="scroll"><table>
<thead><tr><th scope="col">Service</th><th scope="col">Now</th><th scope="col">${feed.days.length} days</th><th scope="col" class="col-bars">Each day</th></tr></thead>
<tbody>
${rows}
</tbody></table></div></section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Service status</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>Service status</h1>
<p>Updated ${time(feed.generatedAt)}. Availability is measured per UTC day over the last ${feed.days.length} days; announced maintenance is not counted as downtime. Also as <a href="/status.json">JSON</a>.</p>
<p class="summary" role="status">${escapeHtml(summaryLine(feed))}</p>
</header>
<main>
<section aria-labelledby="maintenance">
<h2 id="maintenance">Maintenance</h2>
${notices}
</section>
${departments}
<p class="legend">Each day: green 100 %, amber 99 % to 100 %, red below 99 %, grey no data. Hover over a day for its figure.</p>
</main>
</body>
</html>
`;
}
