import type { Logger } from './sdk.ts';

type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * One JSON line per record on stderr, so stdout stays free for command output and the
 * demo's live table. `STOCKRELAY_LOG=debug|info|warn|error|silent` picks the floor.
 */
export function createLogger(bindings: Record<string, unknown> = {}, level = process.env.STOCKRELAY_LOG ?? 'info'): Logger & { child(extra: Record<string, unknown>): Logger } {
  const floor = level === 'silent' ? Infinity : (ORDER[level as Level] ?? ORDER.info);
  const write = (lvl: Level, msg: string, data?: Record<string, unknown>): void => {
    if (ORDER[lvl] < floor) return;
    process.stderr.write(`${JSON.stringify({ t: new Date().toISOString(), level: lvl, msg, ...bindings, ...data })}\n`);
  };
  return {
    debug: (msg, data) => write('debug', msg, data),
    info: (msg, data) => write('info', msg, data),
    warn: (msg, data) => write('warn', msg, data),
    error: (msg, data) => write('error', msg, data),
    child: (extra) => createLogger({ ...bindings, ...extra }, level),
  };
}

/** A logger that adds `extra` to every record of `logger`. */
export function withBindings(logger: Logger, extra: Record<string, unknown>): Logger {
  return {
    debug: (msg, data) => logger.debug(msg, { ...extra, ...data }),
    info: (msg, data) => logger.info(msg, { ...extra, ...data }),
    warn: (msg, data) => logger.warn(msg, { ...extra, ...data }),
    error: (msg, data) => logger.error(msg, { ...extra, ...data }),
  };
}

/**
 * A logger that masks every secret `redact` knows in each record (message and data), whatever logger it
 * writes to: the hub wraps its logger in this, so no log line carries a credential.
 */
export function redactingLogger(logger: Logger, redact: { redact(text: string): string; redactValue<T>(value: T): T }): Logger {
  const scrub = (data?: Record<string, unknown>): Record<string, unknown> | undefined => (data === undefined ? undefined : redact.redactValue(data));
  return {
    debug: (msg, data) => logger.debug(redact.redact(msg), scrub(data)),
    info: (msg, data) => logger.info(redact.redact(msg), scrub(data)),
    warn: (msg, data) => logger.warn(redact.redact(msg), scrub(data)),
    error: (msg, data) => logger.error(redact.redact(msg), scrub(data)),
  };
}
