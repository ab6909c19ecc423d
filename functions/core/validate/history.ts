/**
 * History stage (warnings): a submission against the same institution's own accepted months.
 * Runs only where cells and rules passed, and only where a store supplied the history.
 */
import type { DataElement } from '../../../schemas/model.ts';
import { periodKind } from '../layout.ts';
import { makeIssue, type Issue } from '../report.ts';

export interface HistoryPoint {
  /** a period of the same kind as the one checked: YYYY-MM, YYYY-Qn or YYYY */
  period: string;
  values: Record<string, number>;
}

/** Periods of the institution's own history needed before outliers are judged (a new institution is exempt). */
export const MIN_HISTORY_MONTHS = 3;
export const HISTORY_MONTHS = 6;
/** how far back a return is compared, by its kind: six months, four quarters, three years */
export const HISTORY_PERIODS = { month: HISTORY_MONTHS, quarter: 4, year: 3 } as const;
const MIN_HISTORY = { month: MIN_HISTORY_MONTHS, quarter: 3, year: 2 } as const;
/** 上月 / 上季 / 上年, 近6个月 / 近4个季度 / 近3年 */
const WORDS = {
  month: { previous: '上月', recent: (n: number) => `近${n}个月` },
  quarter: { previous: '上季', recent: (n: number) => `近${n}个季度` },
  year: { previous: '上年', recent: (n: number) => `近${n}年` },
} as const;
/** a value more than 3× or less than ⅓ of the median of the last six months */
const OUTLIER_FACTOR = 3;
/** a stock moving by more than half from last month */
const STOCK_JUMP = 0.5;
/** below this, counts are too small to judge (a month with 1 death against a median of 0) */
const MIN_MAGNITUDE = 20;

export interface Located {
  element: DataElement;
  ref: string;
  row: number;
  col: number;
  value: number;
}

export function checkHistory(period: string, cells: readonly Located[], history: readonly HistoryPoint[], sheet: string): Issue[] {
  const issues: Issue[] = [];
  const kind = periodKind(period);
  const words = WORDS[kind];
  const past = history.filter((h) => h.period < period && periodKind(h.period) === kind).sort((a, b) => (a.period < b.period ? 1 : -1));
  const previous = past.find((h) => h.period === previousPeriod(period));
  const recent = past.filter((h) => h.period >= shiftPeriod(period, -HISTORY_PERIODS[kind]));
  for (const c of cells) {
    const where = { sheet, row: c.row, col: c.col, element: c.element.code, value: c.value };
    const label = `${c.ref}「${c.element.name}」为 ${c.value}`;
    const prev = previous?.values[c.element.code];
    if (c.element.semantics === 'ytd') {
      if (prev !== undefined && samePeriodYear(period, previous!.period) && c.value < prev) {
        issues.push(makeIssue('history-ytd-decrease', `${label}，小于${words.previous}累计数 ${prev}。本年累计数不应减少，请核实`, where));
      }
      continue;
    }
    if (c.element.semantics === 'stock') {
      if (prev !== undefined && Math.max(prev, c.value) >= MIN_MAGNITUDE && Math.abs(c.value - prev) > STOCK_JUMP * Math.max(prev, 1)) {
        issues.push(makeIssue('history-stock-jump', `${label}，较${words.previous} ${prev} 变化超过 ${STOCK_JUMP * 100}%，请核实`, where));
      }
      continue;
    }
    const series = recent.map((h) => h.values[c.element.code]).filter((v): v is number => v !== undefined);
    if (series.length < MIN_HISTORY[kind]) continue;
    const m = median(series);
    // a zero median (mostly-empty months, e.g. 义诊 a few times a year) gives no ratio to judge by
    if (m === 0 || Math.max(m, c.value) < MIN_MAGNITUDE) continue;
    if (c.value > OUTLIER_FACTOR * m || c.value * OUTLIER_FACTOR < m) {
      issues.push(makeIssue('history-outlier', `${label}，与本机构${words.recent(series.length)}的中位数 ${m} 相差 ${OUTLIER_FACTOR} 倍以上，请核实`, where));
    }
  }
  return issues;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A period moved by `by` periods of its own kind: 2025-03, -1 → 2025-02; 2025-Q1, -1 → 2024-Q4; 2025, -1 → 2024. */
export function shiftPeriod(period: string, by: number): string {
  const q = /^(\d{4})-Q([1-4])$/.exec(period);
  if (q) {
    const t = Number(q[1]) * 4 + Number(q[2]) - 1 + by;
    return `${Math.floor(t / 4)}-Q${(t % 4) + 1}`;
  }
  if (/^\d{4}$/.test(period)) return String(Number(period) + by);
  const [y, m] = period.split('-').map(Number) as [number, number];
  const t = y * 12 + (m - 1) + by;
  return `${Math.floor(t / 12)}-${String((t % 12) + 1).padStart(2, '0')}`;
}

export const previousPeriod = (period: string): string => shiftPeriod(period, -1);
const samePeriodYear = (a: string, b: string): boolean => a.slice(0, 4) === b.slice(0, 4);
