/**
 * Tolerant reading of what people really type, never silent guessing: every normalisation is
 * reported (as info) and an ambiguous value is an error. Pure functions over one cell.
 */
import type { ValueType } from '../../../schemas/model.ts';
import type { IssueCode } from '../validate/codes.ts';
import type { RawValue } from '../parse/index.ts';

export interface Note {
  code: IssueCode;
  /** the reason, in Chinese, without the cell prefix */
  reason: string;
}

export type Outcome<T> =
  | { ok: true; value: T | null; notes: Note[] }
  | { ok: false; code: IssueCode; reason: string; notes: Note[] };

/** full-width ASCII: digits, letters, punctuation (１２３，－％) */
const HAS_FULL_WIDTH = /[\uFF01-\uFF5E]/;
const SPACES = /^[\s\u00A0\u3000\u200B\uFEFF]+|[\s\u00A0\u3000\u200B\uFEFF]+$/g;
/** a space as thousands separator: "25 454", also NBSP, ideographic and thin spaces */
const SPACE_THOUSANDS = /^\d{1,3}([ \u00A0\u3000\u2009\u202F]\d{3})+(\.\d+)?$/;
const INNER_SPACE = /\d[ \u00A0\u3000\u2009\u202F]+\d/;
/** What people type for "nothing": empty in an optional cell, never a number. */
export const PLACEHOLDERS: ReadonlySet<string> = new Set(['无', '没有', '/', '／', '-', '－', '—', '——', '--', '–', '−']);
/** Excel's error values, and what each means to someone who did not write the formula. */
const ERROR_MEANING: Record<string, string> = {
  '#DIV/0!': '除数为 0',
  '#N/A': '查找不到要引用的值',
  '#REF!': '引用的单元格已被删除',
  '#VALUE!': '参与计算的单元格不是数字',
  '#NAME?': '公式中的函数名或名称有误',
  '#NUM!': '数值无效或超出范围',
  '#NULL!': '引用的区域没有交集',
};
const DATE_HINT = '不是有效日期，请填写日期，如 2025-12-31';
/** the largest count we believe a county-level return can hold */
export const MAX_NUMBER = 1e9;

/** How a cell value is shown in messages: the text the user sees, not a JSON shape. */
export function display(raw: RawValue): string | number | boolean | null {
  switch (raw.kind) {
    case 'empty':
      return null;
    case 'number':
    case 'text':
    case 'boolean':
      return raw.value;
    case 'date':
      return raw.value.toISOString().slice(0, 10);
    case 'error':
      return raw.value;
    case 'formula':
      return `=${raw.formula}`;
  }
}

/** Resolves a formula to its cached result, noting it; errors for formulas nobody calculated. */
export function unwrapFormula(raw: RawValue, notes: Note[]): Outcome<RawValue> & { value?: RawValue } {
  if (raw.kind !== 'formula') return { ok: true, value: raw, notes };
  if (!raw.result) {
    return { ok: false, code: 'formula-no-result', reason: `是公式“=${raw.formula}”但没有计算结果，请在 Excel/WPS 中重新计算并保存，或直接填写数值`, notes };
  }
  if (raw.result.kind === 'error') return { ok: false, code: 'cell-error-value', reason: errorReason(raw.result.value, true), notes };
  notes.push({ code: 'normalized-formula', reason: `是公式“=${raw.formula}”，已取其计算结果 ${String(display(raw.result))}` });
  return { ok: true, value: raw.result, notes };
}

/** "显示的是错误值 #DIV/0!（除数为 0）…": the formula failed (the message shows the formula), and what to do. */
export function errorReason(value: string, formula?: boolean): string {
  const meaning = ERROR_MEANING[value.toUpperCase()];
  const shown = `显示的是错误值 ${value}${meaning ? `（${meaning}）` : ''}，不是数字`;
  return formula
    ? `公式计算失败，${shown}。请改正公式引用的单元格，或直接填写数值`
    : `${shown}，通常是复制时粘贴了公式算错的结果。请改正原来的公式后重新粘贴，或直接填写数值`;
}

/**
 * A number cell for a data element. Percent elements are entered as 95.26; under a percent
 * number format a stored 0.9526 is read as 95.26. `unit` (the element's) may follow a typed number.
 */
export function readNumber(input: RawValue, numFmt: string | null, type: ValueType, unit?: string): Outcome<number> {
  const notes: Note[] = [];
  const unwrapped = unwrapFormula(input, notes);
  if (!unwrapped.ok) return unwrapped;
  const raw = unwrapped.value as RawValue;
  let n: number;
  let fromText = false;
  switch (raw.kind) {
    case 'empty':
      return { ok: true, value: null, notes };
    case 'error':
      return { ok: false, code: 'cell-error-value', reason: errorReason(raw.value), notes };
    case 'boolean':
      return { ok: false, code: 'value-not-number', reason: `是逻辑值 ${raw.value ? 'TRUE' : 'FALSE'}，请填写数字`, notes };
    case 'date':
      return { ok: false, code: 'value-ambiguous', reason: `显示为日期 ${raw.value.toISOString().slice(0, 10)}，无法确定数值，请把单元格格式改为“常规”或“数值”后重新填写`, notes };
    case 'formula':
      return { ok: false, code: 'value-not-number', reason: '是嵌套公式，无法读取，请直接填写数值', notes };
    case 'number':
      n = raw.value;
      break;
    case 'text': {
      const parsed = parseNumberText(raw.value, type, notes, unit);
      if (!parsed.ok) return parsed;
      if (parsed.value === null) return { ok: true, value: null, notes };
      n = parsed.value;
      fromText = true;
      break;
    }
  }
  if (!Number.isFinite(n)) return { ok: false, code: 'value-not-number', reason: '不是有效数字，请填写数字', notes };
  if (type !== 'percent' && !fromText && n !== 0 && numFmt && isPercentFormat(numFmt)) {
    const shown = roundTo(n * 100, 10);
    return {
      ok: false,
      code: 'value-percent-format',
      reason: `单元格设置成了百分比格式：显示为 ${shown}%，实际存的数是 ${n}。该指标不是百分数，请把单元格格式改为“常规”或“数值”，再重新填写数值（例如应为 ${shown} 就填 ${shown}）`,
      notes,
    };
  }
  if (type === 'percent' && !fromText && numFmt && isPercentFormat(numFmt)) {
    const scaled = roundTo(n * 100, 10);
    notes.push({ code: 'normalized-percent', reason: `单元格为百分比格式，存储值 ${n} 按 ${scaled} 读取` });
    n = scaled;
  } else if (type === 'percent' && n > 0 && n < 1 && !fromText) {
    return ambiguousPercent(n, notes);
  }
  return checkRange(n, type, notes);
}

function checkRange(n: number, type: ValueType, notes: Note[]): Outcome<number> {
  if (n < 0) return { ok: false, code: 'value-negative', reason: NEGATIVE, notes };
  if (type === 'integer') {
    const rounded = Math.round(n);
    if (Math.abs(n - rounded) > 1e-9 * Math.max(1, Math.abs(n))) return { ok: false, code: 'value-not-integer', reason: '应为整数，请填写整数（人数、次数不能有小数）', notes };
    n = rounded;
  }
  if (type === 'percent' && n > 100) return { ok: false, code: 'value-out-of-range', reason: '超出 0–100 的范围（百分数请填写如 95.26）', notes };
  if (n > MAX_NUMBER) return { ok: false, code: 'value-out-of-range', reason: `超过 ${MAX_NUMBER} 的上限，请核实`, notes };
  return { ok: true, value: n, notes };
}

const NEGATIVE = '不能为负数，请填写 0 或正数';

/**
 * Numbers typed as text: full-width digits, spaces and NBSP, thousands separators (comma or space),
 * the element's own unit after the number ("25人"), a trailing % for percent elements, and the
 * placeholders for "nothing" (无, /, -), read as empty.
 */
export function parseNumberText(text: string, type: ValueType, notes: Note[], unit?: string): Outcome<number> {
  let s = text;
  const trimmed = s.replace(SPACES, '');
  if (trimmed !== s) {
    notes.push({ code: 'normalized-whitespace', reason: '首尾的空格已去除' });
    s = trimmed;
  }
  if (s === '') return { ok: true, value: null, notes };
  if (PLACEHOLDERS.has(s)) {
    notes.push({ code: 'normalized-placeholder', reason: '按未填写处理（选填项没有数据时请留空）' });
    return { ok: true, value: null, notes };
  }
  if (HAS_FULL_WIDTH.test(s)) {
    s = toHalfWidth(s);
    notes.push({ code: 'normalized-full-width', reason: `全角字符已转换为“${s}”` });
  }
  const suffix = /^([\d.,\s\u00A0\u3000\u2009\u202F]*\d)[\s\u00A0\u3000]*([^\d\s.,%]+)$/.exec(s);
  if (suffix && unit && unit !== '%' && suffix[2] === unit) {
    s = suffix[1]!;
    notes.push({ code: 'normalized-unit', reason: `数字后的单位“${unit}”已去除` });
  } else if (suffix) {
    const which = unit ? `与该指标的单位“${unit}”不一致` : '不是数字';
    return { ok: false, code: 'value-not-number', reason: `数字后面的“${suffix[2]}”${which}，请只填写阿拉伯数字`, notes };
  }
  let percent = false;
  if (s.endsWith('%')) {
    if (type !== 'percent') return { ok: false, code: 'value-ambiguous', reason: '带有百分号，但该指标不是百分数，请填写数量', notes };
    percent = true;
    s = s.slice(0, -1).trim();
  }
  if (/^\d{1,3}(,\d{3})+(\.\d+)?$/.test(s)) {
    s = s.replace(/,/g, '');
    notes.push({ code: 'normalized-thousands', reason: `千位分隔符已去除，按 ${s} 读取` });
  } else if (s.includes(',')) {
    return { ok: false, code: 'value-ambiguous', reason: '中的逗号位置不符合千位分隔，无法确定数值，请只填写数字（如 12345）', notes };
  } else if (SPACE_THOUSANDS.test(s)) {
    s = s.replace(/[ \u00A0\u3000\u2009\u202F]/g, '');
    notes.push({ code: 'normalized-thousands', reason: `空格分隔的千位已去除，按 ${s} 读取` });
  } else if (INNER_SPACE.test(s)) {
    return { ok: false, code: 'value-ambiguous', reason: '中间有空格，但不是每三位一组的千位分隔，无法确定数值，请只填写数字（如 12345）', notes };
  }
  if (/^-\d+(\.\d+)?$/.test(s)) return { ok: false, code: 'value-negative', reason: NEGATIVE, notes };
  if (!/^\d+(\.\d+)?$/.test(s)) return { ok: false, code: 'value-not-number', reason: '不是数字，请只填写阿拉伯数字', notes };
  const n = Number(s);
  if (type === 'percent' && !percent && n > 0 && n < 1) return ambiguousPercent(n, notes);
  notes.push({ code: 'normalized-text-number', reason: `是文本格式的数字，已按数字 ${n} 读取` });
  if (percent) notes.push({ code: 'normalized-percent', reason: `带百分号，按 ${n} 读取` });
  return checkRange(n, type, notes);
}

/** Full-width ASCII (digits, letters, punctuation) and the ideographic space → half-width. */
export function toHalfWidth(s: string): string {
  return s.replace(/[\uFF01-\uFF5E]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0)).replace(/\u3000/g, ' ');
}

export function isPercentFormat(numFmt: string): boolean {
  return numFmt.replace(/"[^"]*"|\\./g, '').includes('%');
}

function ambiguousPercent(n: number, notes: Note[]): Outcome<number> {
  return { ok: false, code: 'value-ambiguous', reason: `无法确定是 ${roundTo(n * 100, 10)}% 还是 ${n}%，请按百分数填写（如 95.26）`, notes };
}

function roundTo(n: number, digits: number): number {
  return Number(n.toFixed(digits));
}

/** A text cell (ledger): trimmed, numbers shown as typed. */
export function readText(input: RawValue, maxLength: number): Outcome<string> {
  const notes: Note[] = [];
  const unwrapped = unwrapFormula(input, notes);
  if (!unwrapped.ok) return unwrapped;
  const raw = unwrapped.value as RawValue;
  let s: string;
  switch (raw.kind) {
    case 'empty':
      return { ok: true, value: null, notes };
    case 'error':
      return { ok: false, code: 'cell-error-value', reason: errorReason(raw.value), notes };
    case 'number':
      s = String(raw.value);
      break;
    case 'date':
      s = raw.value.toISOString().slice(0, 10);
      break;
    default:
      s = String(display(raw));
  }
  s = s.replace(SPACES, '');
  if (s === '') return { ok: true, value: null, notes };
  if (s.length > maxLength) return { ok: false, code: 'value-too-long', reason: `超过 ${maxLength} 个字，请精简`, notes };
  return { ok: true, value: s, notes };
}

/** A 备注 should say its point in this many characters; longer is a warning, never a refusal. */
export const REMARK_ADVISED = 200;
/**
 * The most of a 备注 stored (characters). Each return keeps its remarks with its values in one
 * DynamoDB item (400 KB at most; a T-JC has 29 rows, 3 bytes per Chinese character) and the
 * consolidated workbook lists them; beyond this the rest is cut off and said so.
 */
export const REMARK_MAX = 1000;

/** A 备注: kept whole up to REMARK_MAX characters, with a warning past REMARK_ADVISED. */
export function readRemark(input: RawValue): Outcome<string> {
  const out = readText(input, Number.MAX_SAFE_INTEGER);
  if (!out.ok || out.value === null) return out;
  const chars = [...out.value];
  if (chars.length > REMARK_MAX) {
    out.notes.push({
      code: 'remark-long',
      reason: `有 ${chars.length} 字，超过 ${REMARK_MAX} 字的存储上限，只保存了前 ${REMARK_MAX} 字（每份报表的备注与数值存在同一条记录中并列入汇总表，所以设了上限）。请把备注精简到 ${REMARK_ADVISED} 字以内，详细情况另行书面报告`,
    });
    return { ok: true, value: chars.slice(0, REMARK_MAX).join(''), notes: out.notes };
  }
  if (chars.length > REMARK_ADVISED) {
    out.notes.push({ code: 'remark-long', reason: `有 ${chars.length} 字，超过建议的 ${REMARK_ADVISED} 字，已完整保存（存储上限 ${REMARK_MAX} 字）。请尽量把要点写在前 ${REMARK_ADVISED} 字内` });
  }
  return out;
}

/** A date cell (ledger 完成时限): a real date, an Excel serial, or text such as 2025-12-31, 2025/12/31, 2025年12月31日. */
export function readDate(input: RawValue, date1904: boolean): Outcome<string> {
  const notes: Note[] = [];
  const unwrapped = unwrapFormula(input, notes);
  if (!unwrapped.ok) return unwrapped;
  const raw = unwrapped.value as RawValue;
  switch (raw.kind) {
    case 'empty':
      return { ok: true, value: null, notes };
    case 'date':
      return { ok: true, value: isoDate(raw.value), notes };
    case 'number': {
      if (!Number.isInteger(raw.value) || raw.value < 36526 || raw.value > 73051) {
        return { ok: false, code: 'ledger-date-invalid', reason: DATE_HINT, notes };
      }
      const epoch = date1904 ? Date.UTC(1904, 0, 1) : Date.UTC(1899, 11, 30);
      const iso = isoDate(new Date(epoch + raw.value * 86_400_000));
      notes.push({ code: 'normalized-date', reason: `日期序号 ${raw.value} 按 ${iso} 读取` });
      return { ok: true, value: iso, notes };
    }
    case 'text': {
      const s = toHalfWidth(raw.value.replace(SPACES, ''));
      const m = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/.exec(s);
      if (m) {
        const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
        const dt = new Date(Date.UTC(y, mo - 1, d));
        if (dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d && y >= 2000 && y <= 2099) {
          const iso = isoDate(dt);
          if (iso !== raw.value) notes.push({ code: 'normalized-date', reason: `文本“${raw.value}”按日期 ${iso} 读取` });
          return { ok: true, value: iso, notes };
        }
      }
      return { ok: false, code: 'ledger-date-invalid', reason: DATE_HINT, notes };
    }
    default:
      return { ok: false, code: 'ledger-date-invalid', reason: DATE_HINT, notes };
  }
}

/** exceljs reads a date as UTC midnight of the serial's day; keep the calendar day. */
function isoDate(d: Date): string {
  return new Date(d.getTime() + 1000).toISOString().slice(0, 10);
}
