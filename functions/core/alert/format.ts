/**
 * Text helpers shared by the alert messages: SNS's limits, Beijing time, one-line cleaning.
 */
import { SHANGHAI_OFFSET_MS } from '../consolidate/period.ts';
import { ANY_PERIOD_PATTERN, periodLabel } from '../layout.ts';

/** SNS: "Subjects must be UTF-8 text with no line breaks or control characters, and less than 100 characters long." */
export const SUBJECT_MAX_CHARS = 99;
/**
 * The full text's bound. SNS takes at most 256 KiB per Publish, and the per-protocol JSON carries the
 * text twice (email, default), JSON-escaped (a line break or quote takes 2 bytes): 4 × 60,000 < 262,144.
 */
export const MESSAGE_MAX_BYTES = 60_000;
/** One SMS segment of UCS-2 text (any Chinese character makes a message UCS-2): 70 UTF-16 units. */
export const SMS_MAX_UNITS = 70;
export const SMS_PREFIX = '【卫健统计】';

/**
 * An SMS of one segment: SMS_PREFIX + name + rest, the name (institution or county) shortened with …
 * when the whole would pass SMS_MAX_UNITS; the facts in `rest` are kept.
 */
export function smsOf(name: string, rest: string): string {
  const full = oneLine(name, SMS_MAX_UNITS);
  let shown = full;
  for (let keep = [...full].length - 1; SMS_PREFIX.length + shown.length + rest.length > SMS_MAX_UNITS && keep > 0; keep--) shown = truncateChars(full, keep);
  return truncateUnits(`${SMS_PREFIX}${shown}${rest}`, SMS_MAX_UNITS);
}

/** At most `max` UTF-16 units, never splitting a surrogate pair. */
function truncateUnits(s: string, max: number): string {
  if (s.length <= max) return s;
  let out = '';
  for (const ch of s) {
    if (out.length + ch.length > max) break;
    out += ch;
  }
  return out;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** One line of text: control characters and line breaks become spaces, runs of spaces one. */
export function oneLine(v: unknown, maxChars = 500): string {
  const s = (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '').replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
  return truncateChars(s, maxChars);
}

/** At most `max` characters (code points, not UTF-16 units), ending in … when cut. */
export function truncateChars(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, Math.max(0, max - 1)).join('') + '…';
}

/** A subject SNS accepts: one line, < 100 characters. */
export function subjectOf(s: string): string {
  return truncateChars(oneLine(s, 1_000), SUBJECT_MAX_CHARS) || '卫生健康统计报送提醒';
}

/** Joins lines, leaving out whole lines from the end (with a closing remark) to stay under SNS's limit. */
export function capMessage(lines: readonly string[], cutRemark: string, maxBytes = MESSAGE_MAX_BYTES): string {
  const full = lines.join('\n');
  if (Buffer.byteLength(full, 'utf8') <= maxBytes) return full;
  const budget = maxBytes - Buffer.byteLength(`\n${cutRemark}`, 'utf8');
  let used = 0;
  const kept: string[] = [];
  for (const line of lines) {
    const size = Buffer.byteLength(line, 'utf8') + 1;
    if (used + size > budget) break;
    kept.push(line);
    used += size;
  }
  return [...kept, cutRemark].join('\n');
}

const pad = (n: number) => String(n).padStart(2, '0');

/** An instant as Beijing wall-clock time (UTC+8, no daylight saving): 2025-04-03 10:15 */
export function beijingTime(at: string | Date): string {
  const t = typeof at === 'string' ? Date.parse(at) : at.getTime();
  if (Number.isNaN(t)) return oneLine(typeof at === 'string' ? at : '', 40) || '—';
  const d = new Date(t + BEIJING_OFFSET_MS);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

export const BEIJING_OFFSET_MS = SHANGHAI_OFFSET_MS;

/** 2025-03 → 2025年3月, 2025-Q1 → 2025年第1季度, 2025 → 2025年 (anything else as it is) */
export function periodText(period: string): string {
  return ANY_PERIOD_PATTERN.test(period) ? periodLabel(period) : oneLine(period, 20);
}
