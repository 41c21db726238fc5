// Generated from core/human-format.ts (test/alerts/human-format.test.ts keeps the two in step): the page
// formats numbers by the same rules as the alerts and the CLI.
/**
 * Numbers in text a person reads (alerts, CLI output, check details): rounded to the digits that carry
 * meaning, always with their unit. Machine output (JSON, metrics, reports) keeps full precision; only
 * what is written for people goes through here.
 */
/** Shown for a figure that does not exist (no samples yet), rather than `null` or `NaN`. */
export const NO_VALUE = '—';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
function absent(value) {
    return value === null || value === undefined || !Number.isFinite(value);
}
/** `value` with at most `decimals` decimals, trailing zeros dropped (7.20 → "7.2", 5.00 → "5"). */
function fixed(value, decimals) {
    return String(Number(value.toFixed(decimals)));
}
/**
 * A plain number: separators above a thousand, then fewer decimals the larger it is (3 significant
 * digits below 1). 7211.927 → "7,212", 42.46 → "42.5", 3.14159 → "3.14", 0.012345 → "0.0123".
 */
export function formatNumber(value) {
    if (absent(value))
        return NO_VALUE;
    const abs = Math.abs(value);
    if (abs >= 100)
        return Math.round(value).toLocaleString('en-US');
    if (abs >= 10)
        return fixed(value, 1);
    if (abs >= 1)
        return fixed(value, 2);
    if (abs === 0)
        return '0';
    return String(Number(value.toPrecision(3)));
}
/** A whole count with separators: 1234567 → "1,234,567". Fractions are rounded. */
export function formatCount(value) {
    if (absent(value))
        return NO_VALUE;
    return Math.round(value).toLocaleString('en-US');
}
/**
 * A duration in milliseconds, in the unit a person would say: "0.012 ms", "7.3 ms", "731 ms", "7.21 s",
 * "42.5 s", "5 min", "12 min 5 s", "2 h 5 min", "3 d 4 h".
 */
export function formatMs(ms) {
    if (absent(ms))
        return NO_VALUE;
    if (ms < 0)
        return `-${formatMs(-ms)}`;
    if (ms < 1)
        return `${formatNumber(ms)} ms`;
    if (ms < 10)
        return `${fixed(ms, 1)} ms`;
    if (ms < 1000)
        return `${Math.round(ms)} ms`;
    if (ms < 10_000)
        return `${fixed(ms / 1000, 2)} s`;
    if (ms < MINUTE)
        return `${fixed(ms / 1000, 1)} s`;
    const whole = Math.round(ms / 1000) * 1000;
    if (whole < HOUR)
        return pair(Math.floor(whole / MINUTE), 'min', Math.round((whole % MINUTE) / 1000), 's');
    if (whole < DAY)
        return pair(Math.floor(whole / HOUR), 'h', Math.round((whole % HOUR) / MINUTE), 'min');
    return pair(Math.floor(whole / DAY), 'd', Math.round((whole % DAY) / HOUR), 'h');
}
function pair(major, majorUnit, minor, minorUnit) {
    return minor === 0 ? `${major} ${majorUnit}` : `${major} ${majorUnit} ${minor} ${minorUnit}`;
}
/**
 * A ratio (0..1) as a percentage with one decimal, rounded toward the truth a reader acts on: never shown
 * as 100 % unless it is 1, never as 0 % unless it is 0. 0.95652 → "95.6 %", 0.99999 → "99.9 %",
 * 0.00002 → "< 0.1 %".
 */
export function formatPercent(ratio) {
    if (absent(ratio))
        return NO_VALUE;
    if (ratio < 0)
        return `-${formatPercent(-ratio)}`;
    const floored = Math.floor(ratio * 1000 + 1e-9) / 10;
    if (floored === 0 && ratio > 0)
        return '< 0.1 %';
    return `${fixed(floored, 1)} %`;
}
/** A rate per second: 12.345 → "12.3/s"; with a unit, "12.3 orders/s". */
export function formatRate(perSecond, unit = '') {
    if (absent(perSecond))
        return NO_VALUE;
    return unit === '' ? `${formatNumber(perSecond)}/s` : `${formatNumber(perSecond)} ${unit}/s`;
}
