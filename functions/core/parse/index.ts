/**
 * workbook bytes → sheets of cells with positions. Runs only on bytes the gate has passed (a sane zip,
 * bounded sizes, no DTD, known sheet parts), re-reading the parts through the gate's own bounded
 * inflate and walking the SpreadsheetML with a SAX parser (saxes, exceljs's own).
 *
 * Why not exceljs's streaming WorkbookReader: it names a sheet only when its relationship target is
 * written exactly `worksheets/sheetN.xml`, crashes on cells without `r` and on prefixed XML, and its
 * unzip stream sometimes ends before the last zip entry (measured here: ~1 in 300 reads of the same
 * exceljs-written file failed with "Cannot read properties of undefined (reading 'sheets')").
 * Owning this small parser makes every read deterministic.
 */
import { SaxesParser } from 'saxes';
import { noParts, type GateParts } from '../gate/index.ts';
import { checkLocalHeaders, inflateEntry, readCentralDirectory, type ZipEntry } from '../gate/zip.ts';
import { makeIssue, type Issue } from '../report.ts';

/** A cell value as the file holds it. */
export type RawValue =
  | { kind: 'empty' }
  | { kind: 'number'; value: number }
  | { kind: 'text'; value: string }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'date'; value: Date }
  | { kind: 'error'; value: string }
  /** a formula: its cached result (absent when the producer never calculated it) */
  | { kind: 'formula'; formula: string; result: RawValue | null };

export interface Cell {
  row: number;
  col: number;
  value: RawValue;
  /** number format code, e.g. '0.00%', when the cell has one */
  numFmt: string | null;
}

/** A merged range, 1-based and inclusive; its value is in the top-left cell. */
export interface Merge {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

export interface Sheet {
  name: string;
  state: 'visible' | 'hidden' | 'veryHidden';
  /** row number → column number → cell; only rows and cells that hold something */
  rows: Map<number, Map<number, Cell>>;
  /** merged ranges (the gate bounds their number and size) */
  merges: Merge[];
}

export interface SheetInfo {
  name: string;
  path: string;
  state: 'visible' | 'hidden' | 'veryHidden';
}

export type ParseResult = { ok: true; sheets: Sheet[] } | { ok: false; issues: Issue[] };

const SAVE_AS = '请在 Excel 或 WPS 中打开此文件，另存为“Excel 工作簿 (*.xlsx)”后重新上传。';

class ParseStop extends Error {
  constructor(readonly issue: Issue) {
    super(issue.message);
  }
}

export async function parseWorkbook(
  bytes: Uint8Array,
  sheetInfo: readonly SheetInfo[],
  options: { deadlineMs: number; maxCells: number; date1904?: boolean; parts?: GateParts },
): Promise<ParseResult> {
  const deadline = Date.now() + options.deadlineMs;
  try {
    const parts = openParts(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), options.parts ?? noParts());
    const rels = parseRels(parts.text('xl/_rels/workbook.xml.rels') ?? '');
    const sharedStrings = parseSharedStrings(parts.text(rels.sharedStrings ?? 'xl/sharedStrings.xml'));
    const numFmts = parseStyles(parts.text(rels.styles ?? 'xl/styles.xml'));
    const budget = { cells: options.maxCells, deadline };
    const sheets = sheetInfo.map((info) => {
      const xml = parts.text(info.path);
      if (xml === null) throw new ParseStop(makeIssue('file-corrupt', `找不到工作表“${info.name}”的内容，文件不完整。${SAVE_AS}`));
      return parseSheet(info, xml, { sharedStrings, numFmts, dateStyles: numFmts.map(isDateFormat), date1904: options.date1904 ?? false }, budget);
    });
    return { ok: true, sheets };
  } catch (err) {
    if (err instanceof ParseStop) return { ok: false, issues: [err.issue] };
    const detail = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').slice(0, 80);
    return { ok: false, issues: [makeIssue('file-unreadable', `文件内容格式无法识别（${detail}）。${SAVE_AS}`)] };
  }
}

/** Zip parts by name, inflated on demand with the gate's bounds, or as the gate inflated and decoded them. */
function openParts(buf: Buffer, gated: GateParts) {
  const dir = readCentralDirectory(buf, Number.MAX_SAFE_INTEGER);
  if (!dir.ok) throw new Error('zip');
  if (checkLocalHeaders(buf, dir.value)) throw new Error('zip');
  const byName = new Map<string, ZipEntry>(dir.value.entries.map((e) => [e.name.replace(/^\//, ''), e]));
  return {
    text(name: string): string | null {
      const entry = byName.get(name.replace(/^\//, ''));
      if (!entry) return null;
      const key = entry.name.toLowerCase();
      const text = gated.text.get(key);
      if (text !== undefined) return text.replace(/^\uFEFF/, '');
      const out = gated.xml.has(key) ? { ok: true as const, value: gated.xml.get(key)! } : inflateEntry(buf, entry);
      if (!out.ok) throw new Error(out.fault.kind);
      return out.value.toString('utf8').replace(/^\uFEFF/, '');
    },
  };
}

const local = (name: string): string => name.slice(name.indexOf(':') + 1);

function sax(xml: string, handlers: { open?: (name: string, attrs: Record<string, string>) => void; close?: (name: string) => void; text?: (t: string) => void }): void {
  const parser = new SaxesParser({ xmlns: false });
  parser.on('error', (e) => {
    throw e;
  });
  if (handlers.open) parser.on('opentag', (tag) => handlers.open!(local(tag.name), tag.attributes as Record<string, string>));
  if (handlers.close) parser.on('closetag', (tag) => handlers.close!(local(tag.name)));
  if (handlers.text) parser.on('text', handlers.text);
  parser.write(xml).close();
}

/** Targets of the workbook's shared strings and styles parts (absolute or relative to xl/). */
function parseRels(xml: string): { sharedStrings?: string; styles?: string } {
  const out: { sharedStrings?: string; styles?: string } = {};
  sax(xml, {
    open(name, a) {
      if (name !== 'Relationship' || !a.Target || !a.Type) return;
      const target = a.Target.startsWith('/') ? a.Target.slice(1) : `xl/${a.Target}`;
      if (a.Type.endsWith('/sharedStrings')) out.sharedStrings = target;
      if (a.Type.endsWith('/styles')) out.styles = target;
    },
  });
  return out;
}

/** `<si>` → its text: plain `<t>` or the runs' `<t>`, leaving out phonetic `<rPh>`. */
function parseSharedStrings(xml: string | null): string[] {
  const strings: string[] = [];
  if (!xml) return strings;
  let current: string | null = null;
  let inT = false;
  let inPhonetic = false;
  sax(xml, {
    open(name) {
      if (name === 'si') current = '';
      else if (name === 'rPh') inPhonetic = true;
      else if (name === 't' && !inPhonetic) inT = true;
    },
    close(name) {
      if (name === 'si') {
        strings.push(current ?? '');
        current = null;
      } else if (name === 'rPh') inPhonetic = false;
      else if (name === 't') inT = false;
    },
    text(t) {
      if (inT && current !== null) current += t;
    },
  });
  return strings;
}

/** Built-in number formats that matter here: percents and dates (ECMA-376 18.8.30; 27–36, 50–58 are CJK dates). */
const BUILTIN_FORMATS: Record<number, string> = { 9: '0%', 10: '0.00%', 14: 'yyyy-mm-dd', 15: 'd-mmm-yy', 16: 'd-mmm', 17: 'mmm-yy', 22: 'm/d/yy h:mm' };
for (const id of [27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 50, 51, 52, 53, 54, 55, 56, 57, 58]) BUILTIN_FORMATS[id] = 'yyyy"年"m"月"d"日"';

/** cellXfs index → number format code */
function parseStyles(xml: string | null): (string | null)[] {
  if (!xml) return [];
  const custom = new Map<number, string>();
  const xfs: (string | null)[] = [];
  let inCellXfs = false;
  const pending: number[] = [];
  sax(xml, {
    open(name, a) {
      if (name === 'numFmt' && a.numFmtId && a.formatCode !== undefined) custom.set(Number(a.numFmtId), a.formatCode);
      else if (name === 'cellXfs') inCellXfs = true;
      else if (name === 'xf' && inCellXfs) pending.push(Number(a.numFmtId ?? 0));
    },
    close(name) {
      if (name === 'cellXfs') inCellXfs = false;
    },
  });
  for (const id of pending) xfs.push(custom.get(id) ?? BUILTIN_FORMATS[id] ?? null);
  return xfs;
}

export function isDateFormat(fmt: string | null): boolean {
  if (!fmt) return false;
  const bare = fmt.replace(/\[[^\]]*]/g, '').replace(/"[^"]*"/g, '').replace(/\\./g, '').replace(/general|standard/gi, '');
  return /[ymdhs]/i.test(bare) && !/^[#0.,%\s]*$/.test(bare);
}

function serialToDate(serial: number, date1904: boolean): Date {
  const epoch = date1904 ? Date.UTC(1904, 0, 1) : Date.UTC(1899, 11, 30);
  return new Date(epoch + Math.round(serial * 86_400_000));
}

interface Context {
  sharedStrings: string[];
  numFmts: (string | null)[];
  /** by style index: whether its number format shows a date (isDateFormat of numFmts[i], once per style) */
  dateStyles: boolean[];
  date1904: boolean;
}

function parseSheet(info: SheetInfo, xml: string, ctx: Context, budget: { cells: number; deadline: number }): Sheet {
  const sheet: Sheet = { name: info.name, state: info.state, rows: new Map(), merges: [] };
  let rowNo = 0;
  let col = 0;
  let c: { ref?: string; s: number; t: string; v: string | null; f: string | null; is: string } | null = null;
  let into: 'v' | 'f' | 'is' | null = null;
  let inSheetData = false;
  sax(xml, {
    open(name, a) {
      if (name === 'sheetData') inSheetData = true;
      if (name === 'mergeCell' && a.ref) {
        const [from, to] = a.ref.split(':').map(decodeRef);
        if (from && to) sheet.merges.push({ top: Math.min(from.row, to.row), left: Math.min(from.col, to.col), bottom: Math.max(from.row, to.row), right: Math.max(from.col, to.col) });
      }
      if (!inSheetData) return;
      if (name === 'row') {
        rowNo = a.r ? Number(a.r) : rowNo + 1;
        col = 0;
      } else if (name === 'c') {
        c = { ref: a.r, s: Number(a.s ?? 0), t: a.t ?? 'n', v: null, f: null, is: '' };
      } else if (c && name === 'v') {
        into = 'v';
        c.v = '';
      } else if (c && name === 'f') {
        into = 'f';
        c.f = '';
      } else if (c && name === 't' && c.t === 'inlineStr') {
        into = 'is';
      }
    },
    text(t) {
      if (!c || !into) return;
      if (into === 'v') c.v += t;
      else if (into === 'f') c.f += t;
      else c.is += t;
    },
    close(name) {
      if (name === 'sheetData') inSheetData = false;
      if (name === 'v' || name === 'f' || name === 't') into = null;
      if (name !== 'c' || !c) return;
      const at = c.ref ? decodeRef(c.ref) : null;
      col = at ? at.col : col + 1;
      const row = at ? at.row : rowNo;
      const numFmt = ctx.numFmts[c.s] ?? null;
      const value = cellValue(c, ctx.dateStyles[c.s] ?? false, ctx);
      c = null;
      if (value.kind === 'empty') return;
      if (--budget.cells < 0) throw new ParseStop(makeIssue('file-too-many-rows', '文件中的单元格数量超出模板范围。请只保留模板中的工作表和填报区域。'));
      if ((budget.cells & 1023) === 0 && Date.now() > budget.deadline) throw new ParseStop(makeIssue('file-timeout', `文件读取超过时限，可能含有大量无关内容。${SAVE_AS}`));
      let cells = sheet.rows.get(row);
      if (!cells) sheet.rows.set(row, (cells = new Map()));
      cells.set(col, { row, col, value, numFmt });
    },
  });
  return sheet;
}

function cellValue(c: { t: string; v: string | null; f: string | null; is: string }, isDate: boolean, ctx: Context): RawValue {
  const value = plainValue(c, isDate, ctx);
  if (c.f === null) return value;
  return { kind: 'formula', formula: c.f, result: value.kind === 'empty' ? null : value };
}

/** The cell's value as stored, or for a formula its cached result. */
function plainValue(c: { t: string; v: string | null; is: string }, isDate: boolean, ctx: Context): RawValue {
  switch (c.t) {
    case 'inlineStr':
      return c.is === '' ? { kind: 'empty' } : { kind: 'text', value: c.is };
    case 's': {
      const s = c.v === null ? undefined : ctx.sharedStrings[Number(c.v)];
      if (s === undefined) return c.v === null ? { kind: 'empty' } : { kind: 'error', value: '#REF!' };
      return s === '' ? { kind: 'empty' } : { kind: 'text', value: s };
    }
    case 'str':
      return c.v === null || c.v === '' ? { kind: 'empty' } : { kind: 'text', value: c.v };
    case 'b':
      return c.v === null ? { kind: 'empty' } : { kind: 'boolean', value: c.v.trim() === '1' || c.v.trim() === 'true' };
    case 'e':
      return { kind: 'error', value: c.v ?? '#N/A' };
    case 'd': {
      const d = c.v ? new Date(c.v) : null;
      return d && !Number.isNaN(d.getTime()) ? { kind: 'date', value: d } : { kind: 'empty' };
    }
    default: {
      if (c.v === null || c.v.trim() === '') return { kind: 'empty' };
      const n = Number(c.v);
      if (!Number.isFinite(n)) return { kind: 'error', value: '#NUM!' };
      return isDate ? { kind: 'date', value: serialToDate(n, ctx.date1904) } : { kind: 'number', value: n };
    }
  }
}

/** "D14" → { row: 14, col: 4 }; also $D$14 and lower case. Once per cell: ASCII is read without a regex. */
function decodeRef(ref: string): { row: number; col: number } | null {
  let i = ref.charCodeAt(0) === 36 ? 1 : 0; // $
  const lettersFrom = i;
  let col = 0;
  for (; i < ref.length; i++) {
    const ch = ref.charCodeAt(i);
    if (ch > 127) return decodeRefSlowly(ref); // toUpperCase may make letters of it (ß → SS)
    const upper = ch & ~32;
    if (upper < 65 || upper > 90) break;
    col = col * 26 + (upper - 64);
  }
  if (i === lettersFrom || i - lettersFrom > 3) return decodeRefSlowly(ref);
  if (ref.charCodeAt(i) === 36) i++;
  const digitsFrom = i;
  for (; i < ref.length; i++) {
    const d = ref.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return decodeRefSlowly(ref);
  }
  return i === digitsFrom ? null : { row: Number(ref.slice(digitsFrom)), col };
}

function decodeRefSlowly(ref: string): { row: number; col: number } | null {
  const m = /^\$?([A-Z]{1,3})\$?(\d+)$/.exec(ref.toUpperCase());
  if (!m) return null;
  let col = 0;
  for (const ch of m[1]!) col = col * 26 + (ch.charCodeAt(0) - 64);
  return { row: Number(m[2]), col };
}
