/**
 * Where things are in a return workbook. The blank template is written from this, the parser reads
 * by it (finding the header row and element codes rather than trusting fixed positions), and
 * feedback workbooks mark cells by it.
 */
export const INSTRUCTIONS_SHEET = '填报说明';
/** very hidden sheet carrying the template identity, out of a user's way */
export const META_SHEET = '_hmis';

export const TITLE_ROW = 1;
export const NOTE_ROW = 2;
/** 机构代码 B3, 机构名称 D3 */
export const INSTITUTION_ROW = 3;
/** 统计期 B4, 报表模板 D4 */
export const PERIOD_ROW = 4;
/** 填报人 B5, 联系电话 D5 */
export const REPORTER_ROW = 5;
/** 填报日期 B6 */
export const DATE_ROW = 6;
export const HEADER_ROW = 7;
export const FIRST_DATA_ROW = 8;

export const LABEL = {
  institutionCode: '机构代码',
  institutionName: '机构名称',
  period: '统计期',
  template: '报表模板',
  reporter: '填报人',
  phone: '联系电话',
  date: '填报日期',
} as const;

/** Indicator return columns (1-based). */
export const COL = { code: 1, name: 2, unit: 3, value: 4, remark: 5 } as const;
export const INDICATOR_HEADERS = ['指标代码', '指标名称', '单位', '本期数值', '备注'] as const;

/** rows the parser scans for the header row, in case a producer shifted it */
export const HEADER_SCAN_ROWS = 20;

/** Meta sheet cells: A column keys, B column values. */
export const META_KEYS = ['template', 'version', 'institution', 'period', 'generator'] as const;

/** 2025-03 → 2025年3月; 2025-Q1 → 2025年第1季度; 2025 → 2025年 */
export function periodLabel(period: string): string {
  const q = /^(\d{4})-Q([1-4])$/.exec(period);
  if (q) return `${q[1]}年第${q[2]}季度`;
  if (/^\d{4}$/.test(period)) return `${period}年`;
  const [y, m] = period.split('-');
  return `${y}年${Number(m)}月`;
}

/** a month, YYYY-MM */
export const PERIOD_PATTERN = /^(\d{4})-(0[1-9]|1[0-2])$/;
/** a month (2025-03), a quarter (2025-Q1) or a year (2025): the period of a return */
export const ANY_PERIOD_PATTERN = /^\d{4}(?:-(?:0[1-9]|1[0-2])|-Q[1-4])?$/;

/** The kind of a period id. */
export function periodKind(period: string): 'month' | 'quarter' | 'year' {
  return /-Q[1-4]$/.test(period) ? 'quarter' : /^\d{4}$/.test(period) ? 'year' : 'month';
}

/** How a period id of each kind is written, for messages. */
export const PERIOD_FORMAT = { month: '“年-月”，如 2025-03', quarter: '“年-季度”，如 2025-Q1', year: '“年”，如 2025' } as const;
