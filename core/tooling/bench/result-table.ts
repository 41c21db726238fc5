import type { LagSummary } from './lag-histogram.ts';
import { formatCount, formatMs, formatNumber, formatPercent } from '../../human-format.ts';
import type { ScenarioResult } from './scenario-types.ts';

const ms = formatMs;
const pct = formatPercent;

/** The per-channel table and the overall lines printed at the end of a bench run. */
export function formatResultTable(result: ScenarioResult): string[] {
  const out: string[] = [];
  const head = ['channel', 'cap/s', 'lag p50', 'p95', 'p99', 'max', 'ttz p50', 'ttz p99', 'ovh p99', 'in p99', 'calls', '429', 'retry', 'dead', 'oversold', 'conv'];
  const rows = result.channels.map((c) => [
    c.channelId,
    `${fmtNum(c.perSecond)}×${c.maxBatchSize}${c.capacitySuffices ? '' : '!'}`,
    ms(c.lag.p50),
    ms(c.lag.p95),
    ms(c.lag.p99),
    ms(c.lag.max),
    ms(c.timeToZero.p50),
    ms(c.timeToZero.p99),
    ms(c.overhead.p99),
    ms(c.eventToCommit.p99),
    String(c.requests),
    String(c.throttled),
    String(c.retries),
    String(c.deadLetters),
    `${c.oversoldUnits}/${c.unitsSold}`,
    c.pairs === 0 ? '—' : `${c.converged}/${c.pairs}`,
  ]);
  if (rows.length > 0) {
    out.push(...alignedTable(head, rows));
    out.push(`(cap/s: requests/s × items per request; "!" = less than the ${result.skusChangedPerSecond} SKUs changing per second; lag, ttz = time to zero, ovh = hub overhead, in = event → commit of the channel's own orders, in ms)`);
    out.push('');
  }
  if (result.classes.length > 0) {
    out.push(...formatClassTable(result));
    out.push('');
  }
  const o = result.options;
  out.push(`scenario ${result.name}: ${o.mode} loop, orders via ${o.path === 'webhook' ? 'channel webhooks (signed HTTP into the ingress)' : 'direct JetStream publish'}, ${o.durationS} s, ${o.skus} SKUs × ${o.stock} units, channel latency p50 ${o.latency.p50} / p99 ${o.latency.p99} ms${o.reserve !== null ? `, reserve ${o.reserve} units per channel` : ''}`);
  out.push(`orders/s: offered ${result.offeredRate}, placed ${result.placedRate}, committed ${result.committedRate}  (refused ${result.ordersRefused}, dropped ${result.ordersDropped}, failed ${result.ordersFailed}); order lines committed/s ${result.lineRate}`);
  out.push(`event → commit ${summary(result.eventToCommit)}`);
  if (result.channels.length > 0) {
    out.push(`sync lag       ${summary(result.lag)}`);
    out.push(`hub overhead   ${summary(result.overhead)}`);
    out.push(`time to zero   ${summary(result.timeToZero)}`);
    out.push(`phantom stock: ${formatCount(result.phantomEpisodes.count)} episodes, p50 ${ms(result.phantomEpisodes.p50)}, p99 ${ms(result.phantomEpisodes.p99)}, ${formatNumber(result.phantomUnitSeconds)} unit-s; hidden ${formatNumber(result.hiddenUnitSeconds)} unit-s, of which held back ${formatNumber(result.heldBackUnitSeconds)}`);
    out.push(`oversold ${result.oversoldUnits} of ${result.unitsSold} units sold (${pct(result.oversoldRatio)}); API calls per order ${result.apiCallsPerOrder}; 429s ${result.throttled}; retries ${result.retries}; dead letters ${result.deadLetters}`);
    const heldBack = result.heldBackAtEnd && result.heldBackAtEnd.pairs > 0 ? `; still held back by forecasts: ${formatCount(result.heldBackAtEnd.pairs)} pair(s), ${formatCount(result.heldBackAtEnd.units)} units` : '';
    out.push(`convergence ${result.converged}/${result.pairs} (${pct(result.convergence)}) after ${formatMs(result.settleMs)} of settling${heldBack}`);
  }
  const servers = result.serverCpuCores ? Object.entries(result.serverCpuCores).map(([name, cores]) => `${name} ${cores}`).join(', ') : '—';
  const threads = `shoppers: ${result.shoppers}; hub thread busy ${result.mainThreadBusy === undefined ? '—' : pct(result.mainThreadBusy)}${result.channelThreadBusy == null ? '' : `, channels' thread busy ${pct(result.channelThreadBusy)}`}`;
  out.push(`CPU: this process ${result.processCpuCores} cores (hub + simulators + shoppers; ${threads}), ${servers} cores, machine ${result.machineCpuBusy === null ? '—' : pct(result.machineCpuBusy)} busy of ${result.machine.cpus} cores (${result.backgroundCpuBusy === null ? '—' : pct(result.backgroundCpuBusy)} before the run); peak RSS ${result.peakRssMb} MB; event-loop delay p99 ${formatMs(result.eventLoopDelay.p99)}, max ${formatMs(result.eventLoopDelay.max)}`);
  if (result.goals.length > 0) {
    out.push('goals:');
    for (const goal of result.goals) out.push(`  ${goalMark(goal.met)} ${goal.goal}: ${goal.measured}`);
  }
  out.push(result.verdict);
  return out;
}

/** ✅ met, ❌ missed, — not measured. */
export function goalMark(met: boolean | null): string {
  return met === null ? '—' : met ? '✅' : '❌';
}

/** Sync lag, phantom and hidden stock per channel class. */
export function formatClassTable(result: ScenarioResult): string[] {
  const head = ['class', 'channels', 'lag p50', 'lag p99', 'floor p99', 'ttz p99', 'phantom episodes', 'p50', 'p99', 'phantom unit-s', 'hidden unit-s', 'held back', 'worst held-back share', 'held back / bound'];
  const rows = result.classes.map((c) => [
    c.class,
    String(c.channels.length),
    ms(c.lag.p50),
    ms(c.lag.p99),
    ms(c.lagFloor.p99),
    ms(c.timeToZero.p99),
    formatCount(c.phantomEpisodes.count),
    ms(c.phantomEpisodes.p50),
    ms(c.phantomEpisodes.p99),
    formatNumber(c.phantomUnitSeconds),
    formatNumber(c.hiddenUnitSeconds),
    formatNumber(c.heldBackUnitSeconds),
    pct(c.worstHeldBackShare),
    c.worstBoundRatio === null ? '—' : `${formatNumber(c.medianBoundRatio)}× (worst ${formatNumber(c.worstBoundRatio)}×)`,
  ]);
  return [
    ...alignedTable(head, rows),
    '(per class, over every channel of it: floor = a floor under lag p99 at the class\'s pace on these changes: each SKU waits for its first push, busiest first, then a perfect forecast; phantom = a SKU shown above what the rules give for the ledger, episode durations; hidden = shown below it, unit-seconds; held back = the part the last write left out on purpose (forecast, reserve); bound = (Σ√vᵢ)²/(2C), median channel)',
  ];
}

/** `head` and `rows` as lines of columns as wide as their widest cell: the first left-aligned, numbers right-aligned. */
function alignedTable(head: readonly string[], rows: readonly string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(head), ...rows.map(line)];
}

function summary(s: LagSummary): string {
  return `p50 ${ms(s.p50)}  p95 ${ms(s.p95)}  p99 ${ms(s.p99)}  max ${ms(s.max)}  (${formatCount(s.count)} samples)`;
}

function fmtNum(v: number): string {
  return formatNumber(v);
}
