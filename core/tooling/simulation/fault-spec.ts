import type { SimulatorFault } from '../../sdk.ts';
import { UsageError } from '../../internal.ts';

/** Every fault kind a simulator may implement, with the argument its text form takes. */
export const FAULT_SPECS: Readonly<Record<SimulatorFault['kind'], string>> = Object.freeze({
  down: 'down                       every request fails with 503 (or the channel\'s outage answer)',
  throttle: 'throttle[:<retry ms>]      every request is throttled, told to retry after <retry ms> (default 1000)',
  'server-error': 'server-error[:<status>]    every request fails with a 5xx (default 500)',
  hang: 'hang                       requests are never answered',
  'hold-writes': 'hold-writes[:<ms>]         writes land and answer <ms> late (default 5000)',
  'echo-errors': 'echo-errors                requests fail with an error that echoes the request, headers included',
  'drop-after-write': 'drop-after-write           writes land, then the connection drops before the answer',
  'item-locked': 'item-locked:<SKU>[,<SKU>]  writes of these SKUs are refused per item as locked/busy',
  'item-unknown': 'item-unknown:<SKU>[,<SKU>] writes of these SKUs are refused per item as unknown listings',
});

/** One line per fault kind, for `--help` and error messages. */
export function faultSpecHelp(indent = '  '): string {
  return Object.values(FAULT_SPECS)
    .map((line) => `${indent}${line}`)
    .join('\n');
}

/**
 * Reads a fault written as `kind[:argument]` (`server-error:503`, `item-locked:SKU-1,SKU-2`, `hang`).
 * Throws a {@link UsageError} naming `field` (the option or key it came from) for an unknown kind or a
 * bad argument, so a typo never silently runs a simulator without the fault.
 */
export function parseFaultSpec(text: string, field = '--fault'): SimulatorFault {
  const colon = text.indexOf(':');
  const kind = (colon === -1 ? text : text.slice(0, colon)).trim();
  const arg = colon === -1 ? undefined : text.slice(colon + 1).trim();
  const bad = (rule: string): never => {
    throw new UsageError(`${field} ${JSON.stringify(text)}: ${rule}`);
  };
  const number = (fallback: number, rule: string, ok: (n: number) => boolean): number => {
    if (arg === undefined || arg === '') return fallback;
    const n = Number(arg);
    if (!/^\d+$/.test(arg) || !ok(n)) bad(rule);
    return n;
  };
  const noArg = (): void => {
    if (arg !== undefined) bad(`"${kind}" takes no argument`);
  };
  const skus = (): string[] => {
    const list = (arg ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (list.length === 0) bad(`"${kind}" needs the SKUs it applies to: ${kind}:<SKU>[,<SKU>]`);
    return list;
  };
  switch (kind) {
    case 'down':
    case 'hang':
    case 'echo-errors':
    case 'drop-after-write':
      noArg();
      return { kind };
    case 'throttle':
      return { kind, retryAfterMs: number(1000, 'the retry delay must be a whole number of ms', () => true) };
    case 'server-error':
      return { kind, status: number(500, 'the status must be 500-599', (n) => n >= 500 && n <= 599) };
    case 'hold-writes':
      return { kind, ms: number(5000, 'the hold must be a whole number of ms', () => true) };
    case 'item-locked':
    case 'item-unknown':
      return { kind, skus: skus() };
    default:
      return bad(`unknown fault kind "${kind}"; one of:\n${faultSpecHelp()}`);
  }
}

/** The text form of `fault`, as {@link parseFaultSpec} reads it back. */
export function formatFaultSpec(fault: SimulatorFault): string {
  switch (fault.kind) {
    case 'throttle':
      return `throttle:${fault.retryAfterMs}`;
    case 'server-error':
      return `server-error:${fault.status ?? 500}`;
    case 'hold-writes':
      return `hold-writes:${fault.ms}`;
    case 'item-locked':
    case 'item-unknown':
      return `${fault.kind}:${fault.skus.join(',')}`;
    default:
      return fault.kind;
  }
}
