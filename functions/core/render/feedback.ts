/**
 * The feedback workbook: the institution's own upload handed back with every problem cell marked,
 * and a first sheet 校验结果 listing every issue with a link to its cell.
 *
 * Where it goes (reports bucket, never the uploads prefix, so writing it cannot trigger ingestion):
 *   feedback/<county>/<institution>/<template>/<period>/<versionId>.xlsx   the marked-up workbook
 *   reports/<county>/<institution>/<template>/<period>/<versionId>.json    the JSON report (ingest.ts reportKeyOf)
 * versionId is ingest's deterministic id of the upload, so a redelivered event overwrites the same
 * objects with the same bytes.
 *
 * Three ways to build it, the most faithful that is safe for this upload:
 *  1. in place: the upload passes the gate with stricter limits (small ranges, few merges, little XML:
 *     exceljs's full load() expands every cell a data validation covers and is quadratic in merges),
 *     exceljs loads it, its active content is neutralised (formulas → cached values, links to outside
 *     dropped: neutralize()), and the cells are marked in the copy (fill, note; protection removed
 *     from marked sheets so the user can fix there; _hmis stays very hidden);
 *  2. values: load() refused or threw (e.g. comments saved by openpyxl), but the upload passes the
 *     normal gate and our own parser reads it: each sheet's cell values are re-created at their
 *     addresses (no formats, formulas or validations) and marked;
 *  3. summary: nothing to copy (not a zip, encrypted, a bomb…) or anything above failed: 校验结果 only.
 * Whichever way, the bytes must pass activeContentOf() (render/inert.ts: no formula, no external
 * relationship, no part exceljs would not write) or the next way is taken.
 * Never throws. Same inputs, same bytes (zip and docProps dates are the upload time).
 *
 * Notes are built by concatenating plain strings read field by field from the issues, never by
 * handing exceljs an object that came from parsed JSON: its note model is deep-merged, and a
 * `__proto__` key would pollute Object.prototype.
 */
import type ExcelJS from 'exceljs';
import { Workbook, ValueType } from './workbook.ts';
// exceljs internals, patched below for internal hyperlinks (no type declarations ship for them)
// @ts-expect-error untyped CommonJS module
import HyperlinkXform from 'exceljs/lib/xlsx/xform/sheet/hyperlink-xform.js';
// @ts-expect-error untyped CommonJS module
import WorksheetXform from 'exceljs/lib/xlsx/xform/sheet/worksheet-xform.js';
import type { TemplateDefinition } from '../../../schemas/model.ts';
import { gateUpload, type GateLimits } from '../gate/index.ts';
import { rangeSize } from '../gate/refs.ts';
import { unescapeXml } from '../gate/xml.ts';
import { checkLocalHeaders, inflateEntry, readCentralDirectory } from '../gate/zip.ts';
import type { UploadKey } from '../ingest.ts';
import { INSTITUTION_ROW, META_SHEET, PERIOD_PATTERN, PERIOD_ROW, periodLabel } from '../layout.ts';
import { parseWorkbook, type RawValue, type Sheet } from '../parse/index.ts';
import type { Report, Severity } from '../report.ts';
import { ISSUE_CODES } from '../validate/codes.ts';
import { activeContentOf, isInertFormula } from './inert.ts';
import { writeWorkbookBuffer } from './deterministic.ts';
import { BORDER_THIN, FONT, FONT_BOLD, FONT_NOTE, FONT_TITLE, HEADER_FILL, INPUT_FILL, PREFILLED_FILL, displayWidth, printSetup, wrappedHeight } from './style.ts';
import { GENERATOR, inputCells } from './template.ts';
import { SHANGHAI_OFFSET_MS } from '../consolidate/period.ts';

export const FEEDBACK_SHEET = '校验结果';

/** Excel's own "Bad" and "Neutral" cell fills. */
export const MARK_ARGB = { error: 'FFFFC7CE', warning: 'FFFFEB9C' } as const;

/** Every note we write starts with this, so a re-uploaded feedback workbook's old marks can be told apart. */
export const NOTE_PREFIX = '【校验】';
const OWN_NOTE_SEPARATOR = '\n——原批注——\n';

/**
 * The gate's limits under which exceljs's full load() is cheap enough: it is quadratic in merges and
 * holds the whole workbook as objects. Measured: a 10,000-row ledger (3.4 MB of XML) is marked in
 * place in 2.4 s at 320 MB RSS. The cells ranges expand to are bounded in total by
 * MAX_EXPANDED_CELLS instead of the gate's per-range maxRangeCells, which counts print titles
 * (rows 1–7 of a sheet: 114,688 cells) that exceljs never expands.
 */
export const IN_PLACE_LIMITS: Partial<GateLimits> = Object.freeze({
  maxMergedRanges: 200,
  maxTotalUncompressed: 6 * 1024 * 1024,
  maxPartUncompressed: 5 * 1024 * 1024,
});

/**
 * Cells exceljs's load() creates for ranges, all ranges of the workbook together (the gate bounds
 * each range alone: 5,000 validations of 20,000 cells each would still be 100 million cells).
 * Our templates need under 1,000; a whole column is 1,048,576.
 */
export const MAX_EXPANDED_CELLS = 100_000;

/** Issues listed and marked at most; the JSON report has them all. */
export const MAX_LISTED = 2_000;

export type FeedbackMode = 'in-place' | 'values' | 'summary';

export interface FeedbackContext {
  /** the institution's name (else its code alone is shown) */
  institutionName?: string;
  /** the template definitions in force: the one the report names (id and version) tells which cells were input cells */
  templates?: readonly TemplateDefinition[];
  /** falls back to the template definition's title */
  templateTitle?: string;
  /** ISO time of the upload: shown, and the workbook's date (bytes depend on it) */
  uploadedAt: string;
  fileName: string;
}

export interface FeedbackResult {
  bytes: Buffer;
  mode: FeedbackMode;
  /** why a less faithful mode was used (for logs), absent for in-place */
  reason?: string;
}

/** feedback/<county>/<institution>/<template>/<period>/<versionId>.xlsx, in the reports bucket. */
export function feedbackKeyOf(key: UploadKey, versionId: string): string {
  return `feedback/${key.county}/${key.institution}/${key.template}/${key.period}/${versionId}.xlsx`;
}

/** The marked-up workbook as .xlsx bytes. Never throws. */
export async function renderFeedback(original: Uint8Array, report: Report, context: FeedbackContext): Promise<Buffer> {
  return (await buildFeedback(original, report, context)).bytes;
}

/** As renderFeedback, and says which of the three ways was taken and why. Never throws. */
export async function buildFeedback(original: Uint8Array, report: Report, context: FeedbackContext): Promise<FeedbackResult> {
  const reasons: string[] = [];
  let summary: Summary;
  try {
    summary = summarize(report, context);
  } catch (err) {
    return { bytes: await lastResort(), mode: 'summary', reason: `report unreadable: ${describe(err)}` };
  }
  try {
    const strict = gateUpload(original, IN_PLACE_LIMITS);
    const expanded = strict.ok ? expandedCells(original) : 0;
    if (strict.ok && expanded > MAX_EXPANDED_CELLS) {
      reasons.push(`in-place limits: ranges cover ${expanded} cells`);
    } else if (strict.ok) {
      try {
        return { bytes: await inPlace(original, summary), mode: 'in-place' };
      } catch (err) {
        reasons.push(`exceljs load/write: ${describe(err)}`);
      }
    } else {
      reasons.push(`in-place limits: ${strict.issues.map((i) => i.code).join(', ')}`);
    }
    const gate = strict.ok ? strict : gateUpload(original);
    if (gate.ok) {
      const parsed = await parseWorkbook(original, gate.sheets, { deadlineMs: 8_000, maxCells: 200_000, date1904: gate.date1904 });
      if (parsed.ok) return { bytes: await fromValues(parsed.sheets, summary), mode: 'values', reason: reasons.join('; ') };
      reasons.push(`parse: ${parsed.issues.map((i) => i.code).join(', ')}`);
    } else {
      reasons.push(`gate: ${gate.issues.map((i) => i.code).join(', ')}`);
    }
  } catch (err) {
    reasons.push(`values: ${describe(err)}`);
  }
  try {
    return { bytes: await summaryOnly(summary), mode: 'summary', reason: reasons.join('; ') };
  } catch (err) {
    reasons.push(`summary: ${describe(err)}`);
    return { bytes: await lastResort(), mode: 'summary', reason: reasons.join('; ') };
  }
}

// ---- the report, as plain strings ----

/** One issue, copied field by field into primitives. */
interface Line {
  severity: Severity;
  code: string;
  sheet: string;
  /** A1, upper case, or '' */
  cell: string;
  element: string;
  value: string | number | boolean | null;
  message: string;
}

interface Summary {
  lines: Line[];
  /** issues in the report, before the MAX_LISTED cut */
  total: number;
  counts: Record<Severity, number>;
  status: Report['status'];
  institution: string;
  template: string;
  period: string;
  uploadedAt: string;
  fileName: string;
  date: Date;
  def: TemplateDefinition | undefined;
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
const SEVERITY_LABEL: Record<Severity, string> = { error: '错误', warning: '警告', info: '提示' };
const STATUS_LABEL: Record<Report['status'], string> = { rejected: '未通过', accepted_with_warnings: '通过（有警告）', accepted: '通过' };

function summarize(report: Report, context: FeedbackContext): Summary {
  const raw = (Array.isArray(report.issues) ? report.issues : []).filter((i): i is Report['issues'][number] => typeof i === 'object' && i !== null);
  const all: Line[] = raw.map((i) => ({
    severity: i.severity === 'error' || i.severity === 'warning' ? i.severity : 'info',
    code: text(i.code, 60),
    sheet: text(i.sheet, 31),
    cell: a1(i.cell),
    element: text(i.element, 100),
    value: cellValue(i.value),
    message: text(i.message, 2_000),
  }));
  const order = all.map((line, n) => ({ line, n })).sort((a, b) => SEVERITY_ORDER[a.line.severity] - SEVERITY_ORDER[b.line.severity] || a.n - b.n);
  const counts = { error: 0, warning: 0, info: 0 };
  for (const l of all) counts[l.severity]++;
  const status: Report['status'] = counts.error ? 'rejected' : counts.warning ? 'accepted_with_warnings' : 'accepted';

  const templateId = text(report.template?.id, 20);
  const templateVersion = typeof report.template?.version === 'number' && Number.isInteger(report.template.version) ? report.template.version : undefined;
  const def = context.templates?.find((t) => t.id === templateId && t.version === templateVersion);
  const title = text(context.templateTitle, 100) || (def ? def.title : '');
  const templateLine = [title, templateId ? `（${templateId}${templateVersion !== undefined ? ` 第${templateVersion}版` : ''}）` : ''].join('') || '—';

  const code = text(report.institution, 20);
  const name = text(context.institutionName, 100);
  const institution = name && code ? `${name}（${code}）` : name || code || '—';

  const period = text(report.period, 7);
  return {
    lines: order.slice(0, MAX_LISTED).map((o) => o.line),
    total: all.length,
    counts,
    status,
    institution,
    template: templateLine,
    period: PERIOD_PATTERN.test(period) ? `${periodLabel(period)}（${period}）` : period || '—',
    uploadedAt: beijingTime(context.uploadedAt),
    fileName: text(context.fileName, 200) || '—',
    date: zipDate(context.uploadedAt),
    def,
  };
}

/** A primitive as safe cell text: no control characters, no noncharacters or lone surrogates, bounded. */
export function text(v: unknown, max = 32_000): string {
  let s: string;
  if (typeof v === 'string') s = v;
  else if (typeof v === 'number' && Number.isFinite(v)) s = String(v);
  else if (typeof v === 'boolean') s = v ? 'TRUE' : 'FALSE';
  else return '';
  s = s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffe\uffff]/g, '')
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '');
  if (s.length > max) s = s.slice(0, max - 1).replace(/[\ud800-\udbff]$/, '') + '…';
  return s;
}

function cellValue(v: unknown): Line['value'] {
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return text(v, 1_000);
  return null;
}

/** A1 reference within Excel's grid, upper case, or ''. */
function a1(v: unknown): string {
  if (typeof v !== 'string') return '';
  const m = /^([A-Za-z]{1,3})([1-9]\d{0,6})$/.exec(v.trim());
  if (!m) return '';
  const letters = m[1]!.toUpperCase();
  let col = 0;
  for (const ch of letters) col = col * 26 + ch.charCodeAt(0) - 64;
  const row = Number(m[2]);
  return col <= 16_384 && row <= 1_048_576 ? `${letters}${row}` : '';
}

/** ISO time → 2025-04-03 10:15:00（北京时间） */
function beijingTime(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return text(iso, 40) || '—';
  const d = new Date(t + SHANGHAI_OFFSET_MS);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}（北京时间）`;
}

/** The workbook's date: the upload time, within what a zip's DOS timestamps can hold. */
function zipDate(iso: string): Date {
  const t = Date.parse(iso);
  const min = Date.UTC(1980, 0, 1);
  const max = Date.UTC(2107, 11, 31);
  return new Date(Number.isNaN(t) ? min : Math.min(max, Math.max(min, t)));
}

const describe = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).replace(/\s+/g, ' ').slice(0, 200);

/**
 * Upper bound of the cells exceljs's load() creates for ranges: data validations (plain and x14),
 * merges, and defined names other than print areas and titles (exceljs keeps those as page setup),
 * summed over every XML part (the bytes passed the gate: sizes are bounded). Conditional formats in
 * x14 `<xm:sqref>` are counted too, an over-estimate. Infinity when the zip cannot be read again.
 */
export function expandedCells(bytes: Uint8Array): number {
  try {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const dir = readCentralDirectory(buf, 10_000);
    if (!dir.ok || checkLocalHeaders(buf, dir.value)) return Infinity;
    let total = 0;
    const count = (ref: string) => void (total += rangeSize(unescapeXml(ref)).cells);
    for (const entry of dir.value.entries) {
      if (entry.isDirectory || !/\.xml$/i.test(entry.name)) continue;
      const data = inflateEntry(buf, entry);
      if (!data.ok) return Infinity;
      const xml = data.value.toString('utf8');
      for (const m of xml.matchAll(/<(?:[\w.-]+:)?(?:dataValidation|mergeCell)\s[^>]*?\b(?:sqref|ref)=(["'])(.*?)\1/g)) count(m[2]!);
      for (const m of xml.matchAll(/<(?:[\w.-]+:)?sqref>([^<]*)</g)) count(m[1]!);
      for (const m of xml.matchAll(/<(?:[\w.-]+:)?definedName\b([^>]*)>([^<]*)</g)) {
        if (!/\bname=(["'])_xlnm\.(?:Print_Titles|Print_Area)\1/.test(m[1]!)) count(m[2]!);
      }
    }
    return total;
  } catch {
    return Infinity;
  }
}

// ---- the three ways ----

async function inPlace(original: Uint8Array, summary: Summary): Promise<Buffer> {
  patchInternalHyperlinks();
  const wb = new Workbook();
  await wb.xlsx.load(Buffer.from(original.buffer, original.byteOffset, original.byteLength) as unknown as ExcelJS.Buffer);
  const old = wb.getWorksheet(FEEDBACK_SHEET);
  if (old) wb.removeWorksheet(old.id);
  neutralize(wb);
  clearOldMarks(wb, summary.def);
  mark(wb, summary.lines);
  // the user fixes in this copy: unprotect every sheet an error or warning is on (a missing row needs inserting)
  for (const name of new Set(summary.lines.filter((l) => l.severity !== 'info' && l.sheet).map((l) => l.sheet))) sheetNamed(wb, name)?.unprotect();
  const meta = wb.getWorksheet(META_SHEET);
  if (meta) meta.state = 'veryHidden';
  addSummarySheet(wb, summary, 'in-place');
  return write(wb, summary.date);
}

async function fromValues(sheets: Sheet[], summary: Summary): Promise<Buffer> {
  patchInternalHyperlinks();
  const wb = newWorkbook(summary.date);
  for (const sheet of sheets) {
    if (sheet.name === FEEDBACK_SHEET) continue;
    let ws: ExcelJS.Worksheet;
    try {
      ws = wb.addWorksheet(sheet.name, { state: sheet.state });
    } catch {
      continue; // a name exceljs refuses: listed in 校验结果 without a link
    }
    const widths = new Map<number, number>();
    for (const [r, cells] of sheet.rows) {
      for (const [c, cell] of cells) {
        const value = plainCellValue(cell.value);
        if (value === null) continue;
        const target = ws.getCell(r, c);
        target.value = value;
        if (cell.numFmt && (value instanceof Date || typeof value === 'number')) target.numFmt = text(cell.numFmt, 200) || 'General';
        const shown = value instanceof Date ? 10 : displayWidth(String(value).slice(0, 60));
        widths.set(c, Math.max(widths.get(c) ?? 0, shown));
      }
    }
    for (const [c, w] of widths) ws.getColumn(c).width = Math.min(50, Math.max(8, w + 2));
  }
  mark(wb, summary.lines);
  addSummarySheet(wb, summary, 'values');
  return write(wb, summary.date);
}

async function summaryOnly(summary: Summary): Promise<Buffer> {
  patchInternalHyperlinks();
  const wb = newWorkbook(summary.date);
  addSummarySheet(wb, summary, 'summary');
  return write(wb, summary.date);
}

/** Constant content: what is left when even the report could not be read. */
async function lastResort(): Promise<Buffer> {
  const date = new Date(Date.UTC(1980, 0, 1));
  const wb = newWorkbook(date);
  const ws = wb.addWorksheet(FEEDBACK_SHEET);
  ws.getCell('A1').value = '校验结果无法生成，请联系统计管理员。';
  return write(wb, date);
}

function newWorkbook(date: Date): ExcelJS.Workbook {
  const wb = new Workbook();
  wb.creator = GENERATOR;
  wb.created = date;
  return wb;
}

/** The bytes, once they are known to carry nothing that acts when opened (else throws: the caller falls back). */
async function write(wb: ExcelJS.Workbook, date: Date): Promise<Buffer> {
  wb.lastModifiedBy = GENERATOR;
  wb.modified = date;
  const bytes = await writeWorkbookBuffer(wb);
  const active = activeContentOf(bytes);
  if (active.length) throw new Error(`active content left: ${active.slice(0, 5).join('; ')}`);
  return bytes;
}

/**
 * The upload, made inert before it is handed back (the institution fixes it, the commission opens it):
 * every formula becomes its cached value (none: the cell is left empty), a hyperlink to outside its
 * text, and names, validations and conditional formats that call a function or reach outside
 * (exceljs keeps a name '[2]Sheet1'!$A$1 as a range) are dropped. exceljs writes no part it does not
 * model (external links, OLE objects, macros, controls); write() checks the bytes in any case.
 */
function neutralize(wb: ExcelJS.Workbook): void {
  const names = wb.definedNames as unknown as { model: Array<{ ranges: string[] }> };
  names.model = names.model.filter((n) => n.ranges.every(isInertFormula));
  wb.eachSheet((ws) => {
    const cells: ExcelJS.Cell[] = [];
    ws.eachRow({ includeEmpty: false }, (row) => row.eachCell({ includeEmpty: false }, (cell) => void cells.push(cell)));
    for (const cell of cells) {
      if (cell.type === ValueType.Formula) cell.value = cachedValue(cell.result);
      else if (cell.type === ValueType.Hyperlink) {
        const link = cell.value as ExcelJS.CellHyperlinkValue;
        if (!String(link.hyperlink ?? '').startsWith('#')) cell.value = link.text ?? null;
      }
    }
    const inner = ws as unknown as {
      dataValidations: { model: Record<string, ExcelJS.DataValidation | undefined> };
      conditionalFormattings?: Array<{ rules: Array<{ formulae?: unknown[]; cfvo?: Array<{ value?: unknown }> }> }>;
    };
    const validations = inner.dataValidations.model;
    for (const [address, rule] of Object.entries(validations)) {
      if (rule && !(rule.formulae ?? []).every((f) => isInertFormula(String(f)))) delete validations[address];
    }
    if (Array.isArray(inner.conditionalFormattings)) {
      for (const cf of inner.conditionalFormattings) {
        cf.rules = cf.rules.filter((r) => [...(r.formulae ?? []), ...(r.cfvo ?? []).map((v) => v.value ?? '')].every((f) => isInertFormula(String(f))));
      }
      inner.conditionalFormattings = inner.conditionalFormattings.filter((cf) => cf.rules.length > 0);
    }
  });
}

/** A formula's cached result as a plain value. */
function cachedValue(result: unknown): ExcelJS.CellValue {
  if (result === undefined || result === null) return null;
  if (typeof result === 'number') return Number.isFinite(result) ? result : null;
  if (typeof result === 'string' || typeof result === 'boolean' || result instanceof Date) return result;
  const error = (result as { error?: unknown }).error;
  return typeof error === 'string' && ERROR_CODES.has(error) ? ({ error } as ExcelJS.CellErrorValue) : null;
}

const ERROR_CODES = new Set(['#NULL!', '#DIV/0!', '#VALUE!', '#REF!', '#NAME?', '#NUM!', '#N/A']);

/** A parsed cell as a value exceljs writes safely: cached results, never formulas (they may point anywhere). */
function plainCellValue(v: RawValue): ExcelJS.CellValue {
  switch (v.kind) {
    case 'empty':
      return null;
    case 'number':
      return Number.isFinite(v.value) ? v.value : null;
    case 'text':
      return text(v.value) || null;
    case 'boolean':
      return v.value;
    case 'date':
      return Number.isNaN(v.value.getTime()) ? null : v.value;
    case 'error':
      return ERROR_CODES.has(v.value) ? ({ error: v.value } as ExcelJS.CellErrorValue) : text(v.value) || null;
    case 'formula':
      return v.result ? plainCellValue(v.result) : null;
  }
}

// ---- marking ----

const markFill = (severity: 'error' | 'warning'): ExcelJS.Fill => ({ type: 'pattern', pattern: 'solid', fgColor: { argb: MARK_ARGB[severity] } });

/** Fills and notes on every problem cell. */
function mark(wb: ExcelJS.Workbook, lines: readonly Line[]): void {
  const byCell = new Map<string, Line[]>();
  for (const l of lines) {
    if (l.severity === 'info' || !l.sheet || !l.cell) continue;
    const key = `${l.sheet}\u0000${l.cell}`;
    const list = byCell.get(key);
    if (list) list.push(l);
    else byCell.set(key, [l]);
  }
  for (const list of byCell.values()) {
    const ws = sheetNamed(wb, list[0]!.sheet);
    if (!ws) continue;
    let cell = ws.getCell(list[0]!.cell);
    if (cell.isMerged && cell.master) cell = cell.master;
    const severity = list.some((l) => l.severity === 'error') ? 'error' : 'warning';
    cell.style = { ...cell.style, fill: markFill(severity) };
    const own = userNote(cell);
    cell.note = list.map(noteText).join('\n\n') + (own ? OWN_NOTE_SEPARATOR + own : '');
  }
}

/** 【校验】错误 · 不符合指标间关系（rule-violation）\n<message> */
function noteText(l: Line): string {
  const info = Object.prototype.hasOwnProperty.call(ISSUE_CODES, l.code) ? ISSUE_CODES[l.code as keyof typeof ISSUE_CODES] : undefined;
  const head = `${NOTE_PREFIX}${SEVERITY_LABEL[l.severity]} · ${info ? `${info.title}（${l.code}）` : l.code}`;
  return `${head}\n${l.message}`;
}

/** The plain text of a note a user wrote (ours, from an earlier round, excluded). */
function userNote(cell: ExcelJS.Cell): string {
  const t = noteString(cell.note);
  if (!t.startsWith(NOTE_PREFIX)) return t;
  const at = t.indexOf(OWN_NOTE_SEPARATOR);
  return at < 0 ? '' : t.slice(at + OWN_NOTE_SEPARATOR.length);
}

function noteString(note: unknown): string {
  if (typeof note === 'string') return note;
  const texts = (note as { texts?: unknown } | undefined)?.texts;
  if (!Array.isArray(texts)) return '';
  return texts.map((t) => (typeof (t as { text?: unknown })?.text === 'string' ? (t as { text: string }).text : '')).join('');
}

/**
 * A feedback workbook fixed in place and uploaded again still carries the last round's marks:
 * drop our notes (keeping the user's own part) and give marked cells back the template's fill.
 */
function clearOldMarks(wb: ExcelJS.Workbook, def: TemplateDefinition | undefined): void {
  const inputs = def ? new Set(inputCells(def)) : new Set<string>();
  const prefilled = new Set([`B${INSTITUTION_ROW}`, `D${INSTITUTION_ROW}`, `B${PERIOD_ROW}`, `D${PERIOD_ROW}`]);
  const ours = new Set<string>(Object.values(MARK_ARGB));
  wb.eachSheet((ws) => {
    ws.eachRow({ includeEmpty: false }, (row) => {
      row.eachCell({ includeEmpty: false }, (cell) => {
        if (!noteString(cell.note).startsWith(NOTE_PREFIX)) return;
        const own = userNote(cell);
        if (own) cell.note = own;
        else removeNote(cell);
        const fill = cell.fill as ExcelJS.FillPattern | undefined;
        if (fill?.type === 'pattern' && fill.fgColor?.argb && ours.has(fill.fgColor.argb)) {
          const style = { ...cell.style };
          const onTemplateSheet = def !== undefined && ws.name === def.sheetName;
          if (onTemplateSheet && inputs.has(cell.address)) style.fill = INPUT_FILL;
          else if (onTemplateSheet && prefilled.has(cell.address)) style.fill = PREFILLED_FILL;
          else delete style.fill;
          cell.style = style;
        }
      });
    });
  });
}

/** exceljs has no API for it: a loaded cell keeps its note both on itself and in its value's model. */
function removeNote(cell: ExcelJS.Cell): void {
  const inner = cell as unknown as { _comment?: unknown; _value?: { model?: { comment?: unknown } } };
  inner._comment = undefined;
  if (inner._value?.model && typeof inner._value.model === 'object') delete inner._value.model.comment;
}

function sheetNamed(wb: ExcelJS.Workbook, name: string): ExcelJS.Worksheet | undefined {
  return wb.worksheets.find((ws) => ws.name === name && ws.name !== FEEDBACK_SHEET);
}

const sheetRef = (name: string, cell: string) => `'${name.replace(/'/g, "''")}'!${cell}`;

// ---- 校验结果 ----

const COLUMNS = [
  { header: '序号', width: 6 },
  { header: '级别', width: 7 },
  { header: '工作表', width: 14 },
  { header: '单元格', width: 9 },
  { header: '指标', width: 12 },
  { header: '填报值', width: 18 },
  { header: '问题代码', width: 24 },
  { header: '说明', width: 72 },
] as const;
const LINK_FONT: Partial<ExcelJS.Font> = { ...FONT, color: { argb: 'FF0563C1' }, underline: true };

const HOW_TO: Record<FeedbackMode, string> = {
  'in-place': '本工作簿是您上传的文件的副本：有错误的单元格标为红色，有警告的标为黄色，鼠标移到单元格上可查看批注；点击下表「单元格」列可跳转到该单元格。为安全起见，副本中的公式已换成其计算结果，指向外部的链接已去除，显示的数值与上传时相同。请在本工作簿中修改后，另存为 .xlsx 文件重新上传（本页可保留，不影响校验）。',
  values:
    '您上传的文件无法按原样复制，以下工作表只还原了各单元格的值（格式、公式、下拉列表均未保留）：有错误的单元格标为红色，有警告的标为黄色，点击下表「单元格」列可跳转。请在您自己的原文件中修改对应单元格后重新上传。',
  summary: '您上传的文件无法读取，因此未附原工作表。请按下表说明处理后重新上传。',
};

function addSummarySheet(wb: ExcelJS.Workbook, s: Summary, mode: FeedbackMode): void {
  const widths = COLUMNS.map((c) => c.width);
  const total = widths.reduce((a, b) => a + b, 0);
  const info: Array<[string, string]> = [
    ['机构', s.institution],
    ['模板', s.template],
    ['统计期', s.period],
    ['上传时间', s.uploadedAt],
    ['文件名', s.fileName],
    ['结论', STATUS_LABEL[s.status]],
    ['问题数', `错误 ${s.counts.error} 项，警告 ${s.counts.warning} 项，提示 ${s.counts.info} 项${s.total > s.lines.length ? `（下表列出前 ${s.lines.length} 项，全部问题见 JSON 校验报告）` : ''}`],
    ['说明', HOW_TO[mode]],
  ];
  const headerRow = info.length + 3;
  const ws = wb.addWorksheet(FEEDBACK_SHEET, {
    views: [{ state: 'frozen', xSplit: 0, ySplit: headerRow, topLeftCell: `A${headerRow + 1}`, activeCell: `A${headerRow + 1}`, tabSelected: true } as Partial<ExcelJS.WorksheetView>],
    pageSetup: { ...printSetup('landscape'), printTitlesRow: `${headerRow}:${headerRow}` },
    headerFooter: { oddFooter: '&L校验结果&C第 &P 页，共 &N 页' },
  });
  widths.forEach((w, i) => (ws.getColumn(i + 1).width = w));

  const title = ws.getCell(1, 1);
  title.value = '数据校验结果';
  title.font = FONT_TITLE;
  title.alignment = { horizontal: 'center', vertical: 'middle' };
  ws.mergeCells(1, 1, 1, COLUMNS.length);
  ws.getRow(1).height = 32;

  info.forEach(([label, value], i) => {
    const r = i + 2;
    const l = ws.getCell(r, 1);
    l.value = label;
    l.font = FONT_BOLD;
    l.alignment = { horizontal: 'left', vertical: 'middle' };
    ws.mergeCells(r, 1, r, 2);
    const v = ws.getCell(r, 3);
    v.value = value;
    v.font = label === '结论' ? { ...FONT_BOLD, color: { argb: s.status === 'rejected' ? 'FF9C0006' : s.status === 'accepted_with_warnings' ? 'FF9C5700' : 'FF006100' } } : FONT;
    v.alignment = { horizontal: 'left', vertical: 'middle', wrapText: true };
    ws.mergeCells(r, 3, r, COLUMNS.length);
    ws.getRow(r).height = Math.max(18, wrappedHeight(value, total - widths[0]! - widths[1]!));
  });

  const head = ws.getRow(headerRow);
  head.height = 22;
  COLUMNS.forEach((c, i) => {
    const cell = head.getCell(i + 1);
    cell.value = c.header;
    cell.font = FONT_BOLD;
    cell.fill = HEADER_FILL;
    cell.border = BORDER_THIN;
    cell.alignment = { horizontal: 'center', vertical: 'middle' };
  });

  const sheetNames = new Set(wb.worksheets.filter((w) => w !== ws).map((w) => w.name));
  s.lines.forEach((l, n) => {
    const row = ws.getRow(headerRow + 1 + n);
    const values: ExcelJS.CellValue[] = [n + 1, SEVERITY_LABEL[l.severity], l.sheet || '—', l.cell || '—', l.element || '—', l.value ?? '', l.code, l.message];
    values.forEach((v, i) => {
      const cell = row.getCell(i + 1);
      cell.value = v;
      cell.font = FONT;
      cell.border = BORDER_THIN;
      cell.alignment = { horizontal: i === 7 || i === 5 ? 'left' : 'center', vertical: 'middle', wrapText: i === 7 };
    });
    if (l.severity !== 'info') row.getCell(2).fill = markFill(l.severity);
    row.getCell(6).numFmt = typeof l.value === 'string' ? '@' : 'General';
    if (l.sheet && sheetNames.has(l.sheet)) {
      // the cell itself, or the sheet's top when the issue has no cell (e.g. a missing row)
      const linkCell = row.getCell(l.cell ? 4 : 3);
      linkCell.value = { text: l.cell || l.sheet, hyperlink: `#${sheetRef(l.sheet, l.cell || 'A1')}`, tooltip: `转到 ${l.sheet}!${l.cell || 'A1'}` };
      linkCell.font = LINK_FONT;
    }
    row.height = Math.max(18, wrappedHeight(l.message, widths[7]!));
  });
  if (s.lines.length === 0) {
    const cell = ws.getCell(headerRow + 1, 1);
    cell.value = '没有发现问题。';
    cell.font = FONT_NOTE;
    ws.mergeCells(headerRow + 1, 1, headerRow + 1, COLUMNS.length);
  }

  // first tab, and the only selected one (two selected tabs put Excel in group-edit mode)
  for (const other of wb.worksheets) {
    if (other === ws) continue;
    for (const view of other.views ?? []) (view as { tabSelected?: boolean }).tabSelected = false;
  }
  // exceljs orders sheets by orderNo (not in its typings); loaded sheets start at 0
  const order = (w: ExcelJS.Worksheet) => w as unknown as { orderNo: number };
  order(ws).orderNo = Math.min(0, ...wb.worksheets.filter((w) => w !== ws).map((w) => order(w).orderNo)) - 1;
  wb.views = [{ x: 0, y: 0, width: 28_800, height: 17_600, firstSheet: 0, activeTab: 0, visibility: 'visible' }];
}

// ---- exceljs: internal hyperlinks ----

let patched = false;

/**
 * exceljs 4.4.0 writes every hyperlink as an external relationship and, for internal-looking ones,
 * also a `location`: Excel then opens `#'Sheet'!A1##'Sheet'!A1` (exceljs issue #3027). This makes a
 * link whose target starts with `#` a plain `location` (no relationship), as Excel writes it.
 * Only such links change; exceljs never produced a working one before.
 */
function patchInternalHyperlinks(): void {
  if (patched) return;
  patched = true;
  const hyperlink = HyperlinkXform.prototype as { render(xml: unknown, model: HyperlinkModel): void };
  const render = hyperlink.render;
  hyperlink.render = function (this: unknown, xmlStream: { leafNode(name: string, attrs: Record<string, unknown>): void }, model: HyperlinkModel) {
    if (typeof model.target === 'string' && model.target.startsWith('#')) {
      xmlStream.leafNode('hyperlink', { ref: model.address, location: model.target.slice(1), tooltip: model.tooltip, display: model.display });
      return;
    }
    render.call(this, xmlStream, model);
  } as typeof render;
  const worksheet = WorksheetXform.prototype as { prepare(model: WorksheetModel, options: unknown): void };
  const prepare = worksheet.prepare;
  worksheet.prepare = function (this: unknown, model: WorksheetModel, options: unknown) {
    prepare.call(this, model, options);
    const internal = new Set<string>();
    for (const h of model.hyperlinks ?? []) {
      if (typeof h.target === 'string' && h.target.startsWith('#') && h.rId) {
        internal.add(h.rId);
        delete h.rId;
      }
    }
    if (internal.size && Array.isArray(model.rels)) model.rels = model.rels.filter((r) => !internal.has(r.Id));
  };
}

interface HyperlinkModel {
  address: string;
  target?: string;
  tooltip?: string;
  display?: string;
  rId?: string;
}

interface WorksheetModel {
  hyperlinks?: HyperlinkModel[];
  rels?: Array<{ Id: string }>;
}
