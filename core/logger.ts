import { pino, type Logger as PinoLogger } from 'pino';
import type { Logger } from './sdk.ts';

/** The hub's logger: the SDK's four methods, and `child` to bind fields (a channel, a component) once. */
export interface HubLogger extends Logger {
  child(bindings: Record<string, unknown>): HubLogger;
}

const LEVELS = new Set(['debug', 'info', 'warn', 'error', 'silent']);

/**
 * One JSON line per record on stderr (pino), so stdout stays free for command output and the demo's live
 * table: `{ "level": "warn", "t": <ISO time>, ...bindings, ...data, "msg": … }`. `STOCKRELAY_LOG=
 * debug|info|warn|error|silent` picks the floor. Lines are written synchronously: a process that exits
 * right after logging (a refused start, a CLI error) still leaves its last line.
 */
export function createLogger(bindings: Record<string, unknown> = {}, level = process.env.STOCKRELAY_LOG ?? 'info'): HubLogger {
  const root = pino(
    {
      level: LEVELS.has(level) ? level : 'info',
      base: null,
      messageKey: 'msg',
      timestamp: () => `,"t":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: 2, sync: true }),
  );
  return fromPino(Object.keys(bindings).length > 0 ? root.child(bindings) : root);
}

function fromPino(log: PinoLogger): HubLogger {
  return {
    debug: (msg, data) => (data === undefined ? log.debug(msg) : log.debug(data, msg)),
    info: (msg, data) => (data === undefined ? log.info(msg) : log.info(data, msg)),
    warn: (msg, data) => (data === undefined ? log.warn(msg) : log.warn(data, msg)),
    error: (msg, data) => (data === undefined ? log.error(msg) : log.error(data, msg)),
    child: (bindings) => fromPino(log.child(bindings)),
  };
}

/**
 * `logger` with `bindings` on every record: its own `child` when it has one (the hub's loggers), else
 * the fields merged into each record's data (a plain logger an embedder or a test hands in).
 */
export function bindLogger(logger: Logger, bindings: Record<string, unknown>): HubLogger {
  if (isHubLogger(logger)) return logger.child(bindings);
  const merged = (data?: Record<string, unknown>): Record<string, unknown> => ({ ...bindings, ...data });
  return {
    debug: (msg, data) => logger.debug(msg, merged(data)),
    info: (msg, data) => logger.info(msg, merged(data)),
    warn: (msg, data) => logger.warn(msg, merged(data)),
    error: (msg, data) => logger.error(msg, merged(data)),
    child: (more) => bindLogger(logger, { ...bindings, ...more }),
  };
}

function isHubLogger(logger: Logger): logger is HubLogger {
  return typeof (logger as Partial<HubLogger>).child === 'function';
}

/**
 * A logger that masks every secret `redact` knows in each record (message and data), whatever logger it
 * writes to: the hub wraps its logger in this, so no log line carries a credential. Its children mask too.
 */
export function redactingLogger(logger: Logger, redact: { redact(text: string): string; redactValue<T>(value: T): T }): HubLogger {
  const scrub = (data?: Record<string, unknown>): Record<string, unknown> | undefined => (data === undefined ? undefined : redact.redactValue(data));
  return {
    debug: (msg, data) => logger.debug(redact.redact(msg), scrub(data)),
    info: (msg, data) => logger.info(redact.redact(msg), scrub(data)),
    warn: (msg, data) => logger.warn(redact.redact(msg), scrub(data)),
    error: (msg, data) => logger.error(redact.redact(msg), scrub(data)),
    child: (bindings) => redactingLogger(bindLogger(logger, redact.redactValue(bindings)), redact),
  };
}
