import type { ScenarioProgress } from './scenario-types.ts';

/**
 * Renders scenario progress on a stream: one line rewritten in place on a terminal, a plain line
 * every few seconds otherwise (CI logs, pipes), so a redirected run stays readable.
 */
export function createProgressBar(stream: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean }, everyMsWhenPiped = 5_000): (p: ScenarioProgress) => void {
  const tty = Boolean(stream.isTTY);
  let lastPlain = 0;
  let lastPhase = '';
  return (p) => {
    const width = 30;
    const share = p.phase === 'load' ? Math.min(1, p.elapsedS / p.durationS) : p.phase === 'seeding' ? 0 : 1;
    const filled = Math.round(share * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const ms = (v: number | null): string => (v === null ? '—' : `${Math.round(v)} ms`);
    const text = `${p.phase.padEnd(8)} ${bar} ${p.elapsedS.toFixed(0).padStart(4)}s/${p.durationS}s  orders ${p.ordersPlaced} placed, ${p.ordersCommitted} committed  backlog ${p.backlog}  commit p99 ${ms(p.commitP99)}  lag p99 ${ms(p.lagP99)}`;
    if (tty) {
      stream.write(`\r\x1b[2K${text}${p.phase === 'done' ? '\n' : ''}`);
      return;
    }
    const now = Date.now();
    if (p.phase !== lastPhase || now - lastPlain >= everyMsWhenPiped) {
      stream.write(`${text}\n`);
      lastPlain = now;
      lastPhase = p.phase;
    }
  };
}
