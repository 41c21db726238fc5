import { LAG_EDGES_MS, type ChannelResult, type ScenarioResult } from './scenario-types.ts';
import { formatClassTable, formatResultTable, goalMark } from './result-table.ts';
import { formatNumber } from '../../human-format.ts';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const n = (v: number | null): string => (v === null ? '—' : String(Math.round(v)));
const num = (v: number | null): string => (v === null ? '—' : formatNumber(v));
const share = (v: number): string => `${(v * 100).toFixed(v < 0.01 ? 3 : 2)} %`;

/** Each goal of the run with what was measured, met or missed. */
function goalsTable(result: ScenarioResult): string {
  if (result.goals.length === 0) return '';
  const rows = result.goals.map((g) => `<tr class="${g.met === false ? 'miss' : ''}"><td>${esc(g.goal)}</td><td>${esc(g.measured)}</td><td>${goalMark(g.met)} ${g.met === null ? 'not measured' : g.met ? 'met' : 'missed'}</td></tr>`).join('\n');
  return `<h2>Goals</h2>
<table><thead><tr><th>goal</th><th>measured</th><th></th></tr></thead><tbody>
${rows}
</tbody></table>`;
}

/** Sync lag, phantom and hidden stock per channel class. */
function classTable(result: ScenarioResult): string {
  if (result.classes.length === 0) return '';
  const rows = result.classes
    .map(
      (c) =>
        `<tr><td>${esc(c.class)}</td><td>${c.channels.length}</td><td>${n(c.lag.p50)}</td><td>${n(c.lag.p99)}</td><td>${n(c.lagFloor.p99)}</td><td>${n(c.timeToZero.p99)}</td><td>${c.phantomEpisodes.count}</td><td>${n(c.phantomEpisodes.p50)}</td><td>${n(c.phantomEpisodes.p99)}</td><td>${num(c.phantomUnitSeconds)}</td><td>${num(c.hiddenUnitSeconds)}</td><td>${num(c.heldBackUnitSeconds)}</td><td>${share(c.worstHeldBackShare)}</td><td>${c.worstBoundRatio === null ? '—' : `${num(c.medianBoundRatio)}× (worst ${num(c.worstBoundRatio)}×)`}</td></tr>`,
    )
    .join('\n');
  return `<h2>Per channel class</h2>
<p><b>Lag p99 floor</b>: a floor under the sync lag p99 a channel of the class&#39;s pace could have had on this run&#39;s ledger changes. It starts showing the stock before the sale, so each change of a SKU waits for that SKU's first push; the floor pushes at full pace from the start, the busiest SKUs first (known in hindsight), each call landing at once, and counts every later change as covered the moment it commits. A class whose floor is above the target cannot meet it on this run, whatever the hub does. <b>Phantom stock</b>: a channel showing a SKU above what its rules give for the ledger's available stock (units a shopper can buy that are gone), measured on the simulated channel over time; an episode lasts until the channel shows no more than the rules give. <b>Hidden units</b>: shown below what the rules give (without forecast), integrated over the load; <b>held back</b> is the part the last write left out on purpose (a forecast or a reserve: how far below the rules for the ledger of that moment it was); the rest waits for a refresh after a restock, or for the ledger to record a sale the channel already counted. <b>Bound</b>: the least a channel refreshing C SKUs/s must hold back to never show what will be gone by its next refresh, (Σᵢ √vᵢ)² / (2C), vᵢ each SKU's sales rate on this run.</p>
<table><thead><tr><th>class (requests/s × SKUs per request)</th><th>channels</th><th>lag p50 ms</th><th>lag p99 ms</th><th>lag p99 floor ms</th><th>time to zero p99 ms</th><th>phantom episodes</th><th>episode p50 ms</th><th>episode p99 ms</th><th>phantom unit-s</th><th>hidden unit-s</th><th>held back unit-s</th><th>worst held-back share of stock</th><th>held back / bound, median</th></tr></thead>
<tbody>
${rows}
</tbody></table>`;
}

/** Log scale from 10 ms (below that nothing a seller sees differs) to `maxMs` onto [x0, x1]. */
function logScale(maxMs: number, x0: number, x1: number): (ms: number) => number {
  const top = Math.log10(Math.max(100, maxMs));
  return (ms) => x0 + ((Math.log10(Math.max(10, ms)) - 1) / (top - 1)) * (x1 - x0);
}

/** One row per channel: p50–p95 box, p99 tick, max dot, on a log axis, with the target as a line. */
function percentileChart(result: ScenarioResult): string {
  const channels = result.channels;
  const rowH = 16;
  const left = 150;
  const width = 900;
  const height = 40 + channels.length * rowH;
  const maxMs = Math.max(result.options.targetP99Ms * 2, ...channels.map((c) => c.lag.max ?? 0));
  const x = logScale(maxMs, left, width - 20);
  const parts: string[] = [];
  for (const tick of [10, 100, 1000, 10000, 100000].filter((t) => t <= maxMs * 1.01)) {
    parts.push(`<line x1="${x(tick)}" x2="${x(tick)}" y1="20" y2="${height - 14}" stroke="#ddd"/><text x="${x(tick)}" y="${height - 2}" font-size="10" text-anchor="middle">${tick >= 1000 ? `${tick / 1000} s` : `${tick} ms`}</text>`);
  }
  const tx = x(result.options.targetP99Ms);
  parts.push(`<line x1="${tx}" x2="${tx}" y1="14" y2="${height - 14}" stroke="#c00" stroke-dasharray="4 3"/><text x="${tx + 3}" y="12" font-size="10" fill="#c00">target p99 ${result.options.targetP99Ms} ms</text>`);
  channels.forEach((c, i) => {
    const y = 22 + i * rowH;
    const miss = c.lag.p99 !== null && c.lag.p99 > result.options.targetP99Ms;
    parts.push(`<text x="${left - 6}" y="${y + 10}" font-size="11" text-anchor="end"${c.capacitySuffices ? '' : ' fill="#a60"'}>${esc(c.channelId)}</text>`);
    if (c.lag.p50 === null) return;
    const p50 = x(c.lag.p50);
    const p95 = x(c.lag.p95 ?? c.lag.p50);
    parts.push(`<rect x="${p50}" y="${y + 2}" width="${Math.max(1, p95 - p50)}" height="${rowH - 6}" fill="${miss ? '#e99' : '#8ac'}"><title>${esc(c.channelId)}: p50 ${n(c.lag.p50)} ms, p95 ${n(c.lag.p95)} ms, p99 ${n(c.lag.p99)} ms, max ${n(c.lag.max)} ms</title></rect>`);
    parts.push(`<line x1="${x(c.lag.p99 ?? 0)}" x2="${x(c.lag.p99 ?? 0)}" y1="${y}" y2="${y + rowH - 2}" stroke="#222" stroke-width="2"/>`);
    parts.push(`<circle cx="${x(c.lag.max ?? 0)}" cy="${y + rowH / 2 - 1}" r="2.5" fill="#555"/>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="sync lag per channel">${parts.join('')}</svg>`;
}

/** A small histogram of one channel's lag over the report's bucket edges. */
function histogram(c: ChannelResult, targetMs: number): string {
  const w = 260;
  const h = 90;
  const total = c.lagBuckets.reduce((a, b) => a + b, 0) || 1;
  const peak = Math.max(...c.lagBuckets, 1);
  const barW = (w - 10) / LAG_EDGES_MS.length;
  const bars = c.lagBuckets
    .map((count, i) => {
      const bh = (count / peak) * (h - 30);
      const from = LAG_EDGES_MS[i]!;
      const to = LAG_EDGES_MS[i + 1];
      const over = from >= targetMs;
      return `<rect x="${5 + i * barW}" y="${h - 18 - bh}" width="${barW - 1}" height="${bh}" fill="${over ? '#d66' : '#6a9'}"><title>${from}${to === undefined ? '+' : `–${to}`} ms: ${count} (${((count / total) * 100).toFixed(1)}%)</title></rect>`;
    })
    .join('');
  const labels = [0, 4, 8, 10, 12, 14, 16]
    .filter((i) => i < LAG_EDGES_MS.length)
    .map((i) => `<text x="${5 + i * barW}" y="${h - 6}" font-size="8">${LAG_EDGES_MS[i]! >= 1000 ? `${LAG_EDGES_MS[i]! / 1000}s` : LAG_EDGES_MS[i]}</text>`)
    .join('');
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" role="img" aria-label="lag distribution ${esc(c.channelId)}">${bars}${labels}</svg><figcaption>${esc(c.channelId)} · p99 ${n(c.lag.p99)} ms · cap ${c.capacity}/s</figcaption></figure>`;
}

/** A self-contained HTML page (inline CSS and SVG, no external assets) describing one bench run. */
export function renderHtmlReport(result: ScenarioResult): string {
  const rows = result.channels
    .map(
      (c) =>
        `<tr class="${c.lag.p99 !== null && c.lag.p99 > result.options.targetP99Ms ? 'miss' : ''}"><td>${esc(c.channelId)}</td><td>${esc(c.connector)}</td><td>${esc(c.class)}</td><td>${c.capacity}${c.capacitySuffices ? '' : ' ⚠'}</td><td>${n(c.lag.p50)}</td><td>${n(c.lag.p95)}</td><td>${n(c.lag.p99)}</td><td>${n(c.lag.max)}</td><td>${n(c.timeToZero.p50)}</td><td>${n(c.timeToZero.p99)}</td><td>${n(c.overhead.p99)}</td><td>${n(c.eventToCommit.p99)}</td><td>${c.requests}</td><td>${c.throttled}</td><td>${c.retries}</td><td>${c.deadLetters}</td><td>${c.oversoldUnits}/${c.unitsSold}</td><td>${c.shelf.phantomEpisodes.count}</td><td>${n(c.shelf.phantomEpisodes.p99)}</td><td>${num(c.shelf.phantomUnitSeconds)}</td><td>${num(c.shelf.hiddenUnitSeconds)}</td><td>${num(c.shelf.heldBackUnitSeconds)}</td><td>${num(c.shelf.meanHeldBackUnits)}</td><td>${num(c.shelf.hiddenBoundUnits)}</td><td>${num(c.shelf.boundRatio)}</td><td>${c.converged}/${c.pairs}</td></tr>`,
    )
    .join('\n');
  // The tables and goals have their own HTML below; the summary keeps the overall lines.
  const tabled = new Set(result.classes.length > 0 ? formatClassTable(result) : []);
  const goalLines = new Set(['goals:', ...result.goals.map((g) => `  ${goalMark(g.met)} ${g.goal}: ${g.measured}`)]);
  const summary = formatResultTable(result).filter((l) => !l.startsWith('channel') && !l.startsWith('(cap/s') && l !== '' && !tabled.has(l) && !goalLines.has(l) && result.channels.every((c) => !l.startsWith(c.channelId)));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>stockrelay bench — ${esc(result.name)} — ${result.pass ? 'PASS' : 'FAIL'}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1 .pass{color:#080}h1 .fail{color:#c00}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td:first-child,th:first-child{text-align:left}
tr.miss td{background:#fee}
pre{background:#f6f6f6;padding:8px;overflow:auto;white-space:pre-wrap}
.grid{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0;border:1px solid #eee;padding:4px}figcaption{font-size:11px}
</style></head><body>
<h1>stockrelay bench: ${esc(result.name)} <span class="${result.pass ? 'pass' : 'fail'}">${result.pass ? 'PASS' : 'FAIL'}</span></h1>
<p>${esc(result.verdict)}</p>
<p>Started ${esc(result.startedAt)} on ${result.machine.cpus} × ${esc(result.machine.cpuModel)}, ${result.machine.memoryMb} MB, Node ${esc(result.machine.node)}. Config ${esc(result.configPath)}; every channel was a local simulator.</p>
<pre>${esc(summary.join('\n'))}</pre>
${goalsTable(result)}
${classTable(result)}
<h2>Sync lag per channel</h2>
<p>Box: p50–p95; bar: p99; dot: max; log scale. Channel names in orange have less capacity (requests/s × batch) than the ${result.skusChangedPerSecond} SKUs that changed per second.</p>
${percentileChart(result)}
<h2>Per channel</h2>
<table><thead><tr><th>channel</th><th>connector</th><th>class</th><th>capacity (SKU updates/s)</th><th>lag p50</th><th>p95</th><th>p99</th><th>max</th><th>time to zero p50</th><th>p99</th><th>hub overhead p99</th><th>its orders: event → commit p99</th><th>API calls</th><th>429s</th><th>retries</th><th>dead letters</th><th>oversold / sold units</th><th>phantom episodes</th><th>episode p99</th><th>phantom unit-s</th><th>hidden unit-s</th><th>held back unit-s</th><th>mean held back units</th><th>bound units</th><th>held back / bound</th><th>converged</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<h2>Lag distributions</h2>
<div class="grid">${result.channels.map((c) => histogram(c, result.options.targetP99Ms)).join('\n')}</div>
<h2>Raw result</h2>
<details><summary>JSON</summary><pre>${esc(JSON.stringify(result, null, 2))}</pre></details>
</body></html>
`;
}
