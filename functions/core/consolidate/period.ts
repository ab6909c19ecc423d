/**
 * Consolidation periods: a month `2025-03`, a quarter `2025-Q1`, a year `2025`; the windows a
 * consolidated workbook compares (本期, 本年累计, 上期, 去年同期), deadlines and Chinese labels.
 * Pure: no clock, no time-zone database (Asia/Shanghai is UTC+8 all year).
 */
import { shiftPeriod } from '../validate/history.ts';

export type PeriodKind = 'month' | 'quarter' | 'year';

export interface PeriodSpec {
  /** 2025-03 | 2025-Q1 | 2025 */
  id: string;
  kind: PeriodKind;
  year: number;
  /** every month of the period, ascending, YYYY-MM */
  months: string[];
  /** 2025年3月 | 2025年第1季度 | 2025年 */
  label: string;
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
const QUARTER = /^(\d{4})-Q([1-4])$/;
const YEAR = /^(\d{4})$/;

export class PeriodError extends Error {}

/** 2025-03, 2025-Q1 or 2025 */
export const isPeriodId = (id: string): boolean => MONTH.test(id) || QUARTER.test(id) || YEAR.test(id);

export function parsePeriod(id: string): PeriodSpec {
  let m = MONTH.exec(id);
  if (m) {
    const year = Number(m[1]);
    return { id, kind: 'month', year, months: [id], label: `${year}年${Number(m[2])}月` };
  }
  m = QUARTER.exec(id);
  if (m) {
    const year = Number(m[1]);
    const q = Number(m[2]);
    return { id, kind: 'quarter', year, months: [1, 2, 3].map((k) => monthId(year, (q - 1) * 3 + k)), label: `${year}年第${q}季度` };
  }
  m = YEAR.exec(id);
  if (m) {
    const year = Number(m[1]);
    return { id, kind: 'year', year, months: Array.from({ length: 12 }, (_, k) => monthId(year, k + 1)), label: `${year}年` };
  }
  throw new PeriodError(`统计期“${id}”无效：应为 2025-03（月）、2025-Q1（季度）或 2025（年）`);
}

/** 上月 / 上季 / 上年 */
export function previousPeriod(spec: PeriodSpec): PeriodSpec {
  if (spec.kind === 'month') return parsePeriod(shiftPeriod(spec.id, -1));
  if (spec.kind === 'year') return parsePeriod(String(spec.year - 1));
  const q = Number(spec.id.slice(-1));
  return parsePeriod(q === 1 ? `${spec.year - 1}-Q4` : `${spec.year}-Q${q - 1}`);
}

export const monthId = (year: number, month: number): string => `${year}-${String(month).padStart(2, '0')}`;
export const yearOf = (month: string): number => Number(month.slice(0, 4));
export const monthNumber = (month: string): number => Number(month.slice(5, 7));

/** Jan … month of month's year */
export function yearToDate(month: string): string[] {
  const y = yearOf(month);
  return Array.from({ length: monthNumber(month) }, (_, k) => monthId(y, k + 1));
}

export const shiftMonths = (months: readonly string[], by: number): string[] => months.map((m) => shiftPeriod(m, by));

/** The labels of the columns of a period kind. */
export function columnLabels(kind: PeriodKind): { current: string; previous: string; ytd: string; lastYear: string; mom: string; yoy: string } {
  const current = kind === 'month' ? '本月' : kind === 'quarter' ? '本季' : '本年';
  const previous = kind === 'month' ? '上月' : kind === 'quarter' ? '上季' : '上年';
  return { current, previous, ytd: '本年累计', lastYear: '去年同期', mom: '环比', yoy: '同比' };
}

/** 2025-03 → 2025年3月; 3月 when `year` is the month's own year */
export function monthLabel(month: string, year?: number): string {
  return yearOf(month) === year ? `${monthNumber(month)}月` : `${yearOf(month)}年${monthNumber(month)}月`;
}

/** 2025年1月—3月, or one month's label */
export function monthsLabel(months: readonly string[]): string {
  if (!months.length) return '';
  const first = months[0]!;
  const last = months[months.length - 1]!;
  if (first === last) return monthLabel(first);
  return yearOf(first) === yearOf(last) ? `${monthLabel(first)}—${monthNumber(last)}月` : `${monthLabel(first)}—${monthLabel(last)}`;
}

/** Asia/Shanghai is UTC+8 all year (no daylight saving). */
export const SHANGHAI_OFFSET_MS = 8 * 3600_000;

/**
 * A period's submission deadline, 23:59:59.999 Asia/Shanghai: day `deadlineDay` of the `monthsAfter`-th
 * month after the period ends (a month or a quarter: the next month, day 5 or 15; a year: e.g. 3-31 of
 * the next year). A day past the month's end is its last day.
 */
export function deadlineOf(period: string, deadlineDay: number, monthsAfter = 1): Date {
  const last = lastMonthOf(period);
  const y = yearOf(last);
  const m = monthNumber(last) - 1 + monthsAfter; // 0-based month index of the deadline's month
  const day = Math.min(deadlineDay, new Date(Date.UTC(y, m + 1, 0)).getUTCDate());
  return new Date(Date.UTC(y, m, day, 23, 59, 59, 999) - SHANGHAI_OFFSET_MS);
}

/** A template's deadline as a rule: 次月5日, 季度终了后次月15日, 次年3月31日 (24时前, Beijing time). */
export function deadlineRule(kind: PeriodKind, deadlineDay: number, monthsAfter = 1): string {
  if (kind === 'year') return `次年${monthsAfter}月${deadlineDay}日`;
  const after = monthsAfter === 1 ? '次月' : `第${monthsAfter}个月`;
  return kind === 'quarter' ? `季度终了后${after}${deadlineDay}日` : `${after}${deadlineDay}日`;
}

/** 2025年4月5日23:59, for messages */
export function deadlineLabel(deadline: Date): string {
  const t = new Date(deadline.getTime() + SHANGHAI_OFFSET_MS);
  return `${t.getUTCFullYear()}年${t.getUTCMonth() + 1}月${t.getUTCDate()}日23:59`;
}

/** The last month of a period: 2025-03 → 2025-03, 2025-Q1 → 2025-03, 2025 → 2025-12. */
export function lastMonthOf(period: string): string {
  const months = parsePeriod(period).months;
  return months[months.length - 1]!;
}

/** The periods of one kind that lie wholly within some months (a quarter needs all its three). */
export function periodsWithin(kind: PeriodKind, months: readonly string[]): string[] {
  if (kind === 'month') return [...months];
  const have = new Set(months);
  const out: string[] = [];
  for (const m of months) {
    const id = kind === 'quarter' ? `${m.slice(0, 4)}-Q${Math.ceil(monthNumber(m) / 3)}` : m.slice(0, 4);
    if (!out.includes(id) && parsePeriod(id).months.every((x) => have.has(x))) out.push(id);
  }
  return out;
}

/**
 * The period of each kind a return is due for in the reporting window that a month opens: the month
 * itself, the latest quarter ended by then, the latest year ended by then. In May the returns due are
 * April's, the first quarter's and last year's.
 */
export function dueWith(month: string): Record<PeriodKind, string> {
  const y = yearOf(month);
  const m = monthNumber(month);
  const q = Math.floor(m / 3);
  return { month, quarter: q ? `${y}-Q${q}` : `${y - 1}-Q4`, year: m === 12 ? String(y) : String(y - 1) };
}

/** The last day of a month, YYYY-MM-DD. */
export function monthEnd(month: string): string {
  const d = new Date(Date.UTC(yearOf(month), monthNumber(month), 0));
  return d.toISOString().slice(0, 10);
}

/** The month (YYYY-MM) a moment falls in, in Asia/Shanghai. */
export function shanghaiMonth(at: Date): string {
  return new Date(at.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 7);
}

/** 2025-04-02 10:05, Asia/Shanghai; null for an unparseable time. */
export function shanghaiTime(iso: string | Date): string | null {
  const t = typeof iso === 'string' ? Date.parse(iso) : iso.getTime();
  if (!Number.isFinite(t)) return null;
  return new Date(t + SHANGHAI_OFFSET_MS).toISOString().slice(0, 16).replace('T', ' ');
}
