/**
 * Cell values, number formats, styles and the deterministic streaming writer of the consolidated
 * workbook (render/consolidated.ts).
 *
 * Number-format choice: a percentage is stored as the number people read (98.25 for 98.25%) with the
 * format 0.00"%" — the same convention as the percent data elements institutions type (95.26), so a
 * satisfaction of 94.36 and a rate of 98.25 are stored alike; ‰ and 1/10万 rates likewise (1.52 with
 * 0.00"‰", 50.66 with 0.00"/10万"); plain ratios (医护比) as 1.30 with 0.00. Full precision is stored,
 * the format only rounds what is shown.
 *
 * Text safety: every string goes through `safeText`: control characters (C0 except tab and newline,
 * DEL, C1), U+FFFE/U+FFFF and lone surrogates are removed (an .xlsx holding them cannot be read back),
 * and text whose first non-blank character is =, +, -, @ (or their full-width forms) gets a leading
 * apostrophe ' so no spreadsheet or CSV export ever evaluates it. The apostrophe is visible: it shows
 * the reader the text was escaped and survives CSV export, where invisible marks would not.
 */
import ExcelJS from 'exceljs';
import { FONT_NAME } from './style.ts';

// ---- values ----

const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const FORMULA_START = /^\s*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]/;
/** Excel's limit of characters in a cell */
const MAX_TEXT = 32_767;

export function safeText(text: string): string {
  let t = String(text).replace(/\r\n?/g, '\n').replace(CONTROL, '').replace(LONE_SURROGATE, '');
  if (FORMULA_START.test(t)) t = `'${t}`;
  if (t.length > MAX_TEXT) t = `${t.slice(0, MAX_TEXT - 1)}…`;
  return t;
}

/** A finite number, or null: NaN and ±Infinity are never written. -0 becomes 0. */
export function safeNumber(x: number | null | undefined): number | null {
  if (typeof x !== 'number' || !Number.isFinite(x)) return null;
  return x === 0 ? 0 : x;
}

export type Value = string | number | Date | null;

export function safeValue(v: Value | undefined): Value {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return safeNumber(v);
  if (v instanceof Date) return Number.isFinite(v.getTime()) ? v : null;
  const t = safeText(v);
  return t === '' ? null : t;
}

// ---- number formats ----

export const FMT = {
  integer: '#,##0',
  decimal: '#,##0.00',
  percent: '0.00"%"',
  permille: '0.00"‰"',
  per100k: '0.00"/10万"',
  ratio: '0.00',
  date: 'yyyy-mm-dd',
  count: '0',
  changePercent: '"+"0.00"%";"-"0.00"%";0.00"%"',
  changePoints: '"+"0.00"个百分点";"-"0.00"个百分点";0.00"个百分点"',
  changePermille: '"+"0.00"个千分点";"-"0.00"个千分点";0.00"个千分点"',
  change100k: '"+"0.00"/10万";"-"0.00"/10万";0.00"/10万"',
  changeRatio: '"+"0.00;"-"0.00;0.00',
} as const;

/** The format of a value of a given kind and unit. */
export function valueFormat(valueType: 'integer' | 'decimal' | 'percent' | 'rate', unit: string): string {
  if (valueType === 'integer') return FMT.integer;
  if (valueType === 'decimal') return FMT.decimal;
  if (valueType === 'percent') return FMT.percent;
  return rateFormat(unit);
}

export function rateFormat(unit: string): string {
  return unit === '%' ? FMT.percent : unit === '‰' ? FMT.permille : unit === '1/10万' ? FMT.per100k : FMT.ratio;
}

export function changeFormat(kind: 'percent' | 'points', unit: string): string {
  if (kind === 'percent') return FMT.changePercent;
  return unit === '%' ? FMT.changePoints : unit === '‰' ? FMT.changePermille : unit === '1/10万' ? FMT.change100k : FMT.changeRatio;
}

/** ≥62% as a number format around the value 62 */
export function targetFormat(direction: '>=' | '<=', value: number, unit: string): string {
  const sign = direction === '>=' ? '≥' : '≤';
  const digits = Number.isInteger(value) ? '0' : '0.00';
  const suffix = unit === '%' ? '%' : unit === '‰' ? '‰' : unit === '1/10万' ? '/10万' : unit === '比值' ? '' : unit;
  return `"${sign}"${digits}${suffix ? `"${suffix}"` : ''}`;
}

// ---- styles ----

export const COLOR = {
  headerFill: 'FFD9E1F2',
  sectionFill: 'FFEDEDED',
  totalFill: 'FFF2F2F2',
  metFill: 'FFC6EFCE',
  metFont: 'FF006100',
  missedFill: 'FFFFC7CE',
  missedFont: 'FF9C0006',
  noDataFill: 'FFE7E6E6',
  warnFill: 'FFFFEB9C',
  warnFont: 'FF9C5700',
  incompleteFill: 'FFFFF2CC',
  noteFont: 'FF595959',
  border: 'FFA6A6A6',
} as const;

export interface StyleSpec {
  bold?: boolean;
  size?: number;
  italic?: boolean;
  color?: string;
  fill?: string;
  numFmt?: string;
  h?: 'left' | 'center' | 'right';
  wrap?: boolean;
  border?: boolean;
}

const THIN = { style: 'thin' as const, color: { argb: COLOR.border } };

/** One style object per distinct spec: exceljs caches style ids by object identity. */
export class Styles {
  private readonly cache = new Map<string, Partial<ExcelJS.Style>>();
  /** the same spec object again (hoisted out of a loop) skips building the key */
  private readonly seen = new WeakMap<StyleSpec, Partial<ExcelJS.Style>>();

  get(spec: StyleSpec): Partial<ExcelJS.Style> {
    const known = this.seen.get(spec);
    if (known) return known;
    const key = `${spec.bold}|${spec.size}|${spec.italic}|${spec.color}|${spec.fill}|${spec.numFmt}|${spec.h}|${spec.wrap}|${spec.border}`;
    let s = this.cache.get(key);
    if (s) {
      this.seen.set(spec, s);
      return s;
    }
    s = {
      font: { name: FONT_NAME, size: spec.size ?? 10.5, bold: spec.bold ?? false, italic: spec.italic ?? false, ...(spec.color ? { color: { argb: spec.color } } : {}) },
      alignment: { vertical: 'middle', horizontal: spec.h ?? 'left', wrapText: spec.wrap ?? false },
      ...(spec.fill ? { fill: { type: 'pattern', pattern: 'solid', fgColor: { argb: spec.fill } } as ExcelJS.Fill } : {}),
      ...(spec.numFmt ? { numFmt: spec.numFmt } : {}),
      ...(spec.border === false ? {} : { border: { top: THIN, left: THIN, bottom: THIN, right: THIN } }),
    };
    this.cache.set(key, s);
    this.seen.set(spec, s);
    return s;
  }
}

// ---- deterministic streaming writer ----

const entryDates = new WeakMap<object, Date>();
let pendingDate: Date | null = null;

interface ArchiverLike {
  append(source: unknown, data: Record<string, unknown>): unknown;
}

/**
 * exceljs's streaming WorkbookWriter, with every zip entry dated `date` instead of "now", so the
 * same workbook gives the same bytes even when streamed straight to S3 or a file. The constructor
 * appends its first entries itself (theme, rels), hence the hook in those two methods, which the
 * base constructor calls synchronously.
 */
export class DeterministicWorkbookWriter extends ExcelJS.stream.xlsx.WorkbookWriter {
  constructor(options: { stream: NodeJS.WritableStream; date: Date; useSharedStrings?: boolean; useStyles?: boolean }) {
    pendingDate = options.date;
    try {
      super({
        stream: options.stream as unknown as import('node:stream').Stream,
        useStyles: options.useStyles ?? true,
        useSharedStrings: options.useSharedStrings ?? true,
        created: options.date,
        modified: options.date,
        creator: 'hmis-sheets',
        lastModifiedBy: 'hmis-sheets',
      } as unknown as Partial<ExcelJS.stream.xlsx.WorkbookStreamWriterOptions>);
      fixEntryDates(this);
    } finally {
      pendingDate = null;
    }
  }

  /** content-type overrides of the parts added with addPart, written into [Content_Types].xml */
  private readonly overrides: Array<{ name: string; contentType: string }> = [];

  /** Adds a part exceljs does not write (a chart, a drawing), dated like every other entry. */
  addPart(name: string, xml: string, contentType: string): void {
    if (contentType) this.overrides.push({ name, contentType });
    (this as unknown as { zip: ArchiverLike }).zip.append(xml, { name });
  }

  override addContentTypes(): Promise<void> {
    if (!this.overrides.length) return super.addContentTypes();
    const zip = (this as unknown as { zip: ArchiverLike }).zip;
    const append = zip.append;
    const extra = this.overrides.map((o) => `<Override PartName="/${o.name}" ContentType="${o.contentType}"/>`).join('');
    zip.append = (source, data) => {
      if (data.name === '[Content_Types].xml' && typeof source === 'string') source = source.replace('</Types>', `${extra}</Types>`);
      return append.call(zip, source, data);
    };
    try {
      return super.addContentTypes();
    } finally {
      zip.append = append;
    }
  }

  override addThemes(): Promise<void> {
    fixEntryDates(this);
    return super.addThemes();
  }

  override addOfficeRels(): Promise<void> {
    fixEntryDates(this);
    return super.addOfficeRels();
  }
}

function fixEntryDates(writer: object): void {
  if (entryDates.has(writer)) return;
  const date = pendingDate;
  const zip = (writer as { zip?: ArchiverLike }).zip;
  if (!date || !zip || typeof zip.append !== 'function') throw new Error('DeterministicWorkbookWriter: exceljs internals changed (no zip to date)');
  const append = zip.append.bind(zip);
  zip.append = (source, data) => append(source, { ...data, date });
  entryDates.set(writer, date);
}
