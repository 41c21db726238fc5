import type { WhyReport, WhyStep } from './why.ts';

const STATE_TEXT: Record<WhyReport['state'], string> = {
  'in-sync': 'in sync: the channel shows the ledger\'s current version',
  pending: 'pending: newer changes are waiting for a push',
  'dead-lettered': 'dead-lettered: newer changes ran out of attempts (a newer change, a replay or the reconcile pass retries them)',
  'never-pushed': 'never pushed: the channel has confirmed nothing for this SKU',
  'not-listed': 'not listed: the channel has no listing for this SKU, so it is not pushed there (until the channel\'s config changes, an operator retries it, or an hour has passed)',
  unverified: 'unverified: a write sent earlier may still land on the channel; its quantity is read back or pushed again once it no longer can',
};

/** `stockrelay why` as plain text for a terminal: the answer first, then the chain that led to it. */
export function formatWhy(report: WhyReport): string {
  const lines: string[] = [];
  const { confirmed, derivation, rules } = report;
  lines.push(`channel ${report.channelId} (${report.connector}), SKU ${report.sku}`);
  lines.push('');
  if (confirmed.version > 0 || confirmed.quantity !== null) {
    const when = confirmed.at ? `confirmed ${confirmed.at}` : 'reported by the channel';
    lines.push(`shows ${confirmed.quantity ?? '?'}, ${when}, reflecting ledger version ${confirmed.version}`);
  } else {
    lines.push('shows nothing the hub confirmed yet');
  }
  const cap = rules.max === undefined ? 'no max' : `max ${rules.max}`;
  lines.push(`rules: share ${rules.share}, reserve ${rules.reserve}, ${cap}  →  ${derivation.formula}`);
  if (derivation.forecast) lines.push(`forecast: ${derivation.forecast.formula}`);
  if (derivation.matches === false) {
    lines.push(`note: the rules give ${derivation.expected}, but the channel reported ${confirmed.quantity} (it refused a compare-and-set or was edited by hand); the next push corrects it`);
  }
  if (report.ledger) lines.push(`ledger now: ${report.ledger.available} available at version ${report.ledger.version} (updated ${report.ledger.updatedAt})`);
  else lines.push('ledger now: the ledger does not know this SKU');
  lines.push(`state: ${STATE_TEXT[report.state]}`);
  if (report.deadLettered) lines.push(`dead-lettered ${report.deadLettered.at}: ${report.deadLettered.lastError ?? 'no error recorded'}`);
  if (report.notListed) lines.push(`not listed since ${report.notListed.at}: ${report.notListed.reason || 'no reason given'}`);
  if (report.unverifiedUntil) lines.push(`unverified until ${report.unverifiedUntil}: an earlier write may land until then`);
  if (report.readBack) {
    const { shown, at, matchesConfirmed } = report.readBack;
    const against = matchesConfirmed === false ? `, not the ${confirmed.quantity} it confirmed (edited on the channel, or a push not applied yet then)` : matchesConfirmed ? ', as confirmed' : '';
    lines.push(`read back: the channel showed ${shown} at ${at}${against}`);
  } else {
    lines.push('read back: never (the channel has not been read back for this SKU)');
  }
  lines.push('');

  if (report.chain.length === 0) {
    lines.push(confirmed.version > 0 ? `events up to version ${confirmed.version}: none left in the audit trail` : 'events up to the confirmed version: none');
  } else {
    lines.push(`events up to version ${confirmed.version}, oldest first${report.chainTruncated ? ` (the last ${report.chain.length}; earlier ones omitted)` : ''}:`);
    lines.push(...table(report.chain));
  }
  lines.push('');
  if (report.pending.length === 0) {
    lines.push('pending for this channel: nothing');
  } else {
    lines.push(`pending for this channel (ledger at version ${report.ledger?.version ?? '?'}, channel at ${confirmed.version})${report.pendingTruncated ? `, first ${report.pending.length}` : ''}:`);
    lines.push(...table(report.pending));
  }
  return lines.join('\n');
}

function table(steps: readonly WhyStep[]): string[] {
  const rows = steps.map((s) => [
    `v${s.version}`,
    s.occurredAt,
    s.eventType,
    s.sourceChannel,
    `${s.before} → ${s.after}`,
    `shown ${s.shownAfter}`,
    s.eventId + (s.oversold > 0 ? `  OVERSOLD by ${s.oversold}` : '') + (s.clamped > 0 ? `  (${s.clamped} not removed: stock cannot go below 0)` : ''),
  ]);
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return rows.map((r) => `  ${r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  ')}`);
}
