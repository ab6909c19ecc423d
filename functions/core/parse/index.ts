/**
 * workbook bytes → sheets of cells with positions, through exceljs's streaming reader.
 * Runs only on bytes the gate has passed (bounded size, sane zip, known sheet parts), and still
 * under a deadline: anything exceljs chokes on becomes an issue, never a throw.
 */
import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { makeIssue, type Issue } from '../report.ts';

/** A cell value flattened from exceljs's shapes. */
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
  /** number format code, e.g. '0.00%', when the producer set one */
  numFmt: string | null;
}

export interface Sheet {
  name: string;
  state: 'visible' | 'hidden' | 'veryHidden';
  /** row number → column number → cell; only rows and cells that hold something */
  rows: Map<number, Map<number, Cell>>;
}

export interface SheetInfo {
  name: string;
  path: string;
  state: 'visible' | 'hidden' | 'veryHidden';
}

export type ParseResult = { ok: true; sheets: Sheet[] } | { ok: false; issues: Issue[] };

const SAVE_AS = '请在 Excel 或 WPS 中打开此文件，另存为“Excel 工作簿 (*.xlsx)”后重新上传。';

/**
 * Reads every worksheet the gate listed. `sheetInfo` (from the gate) names sheets by part path, because
 * exceljs only names a sheet whose relationship target is written exactly `worksheets/sheetN.xml`.
 */
export async function parseWorkbook(
  bytes: Uint8Array,
  sheetInfo: readonly SheetInfo[],
  options: { deadlineMs: number; maxCells: number },
): Promise<ParseResult> {
  const byNumber = new Map<string, SheetInfo>();
  for (const info of sheetInfo) {
    const m = /^xl\/worksheets\/sheet(\d+)\.xml$/.exec(info.path);
    if (!m) {
      return fail('file-unreadable', `工作表“${info.name}”的存储方式本系统无法读取。${SAVE_AS}`);
    }
    byNumber.set(m[1]!, info);
  }
  const deadline = Date.now() + options.deadlineMs;
  const sheets: Sheet[] = [];
  let cells = 0;
  try {
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from([Buffer.from(bytes)]), {
      worksheets: 'emit',
      sharedStrings: 'cache',
      styles: 'cache',
      hyperlinks: 'ignore',
      entries: 'ignore',
    });
    for await (const ws of reader) {
      const wsr = ws as unknown as { id: string | number; name?: string; state?: string } & AsyncIterable<ExcelJS.Row>;
      const info = findInfo(byNumber, wsr);
      const sheet: Sheet = { name: info?.name ?? String(wsr.name ?? ''), state: info?.state ?? 'visible', rows: new Map() };
      sheets.push(sheet);
      for await (const row of wsr) {
        if (Date.now() > deadline) return fail('file-timeout', `文件读取超过时限，可能含有大量无关内容。${SAVE_AS}`);
        const rowCells = new Map<number, Cell>();
        row.eachCell({ includeEmpty: false }, (cell, col) => {
          const value = flatten(cell.value);
          if (value.kind === 'empty') return;
          rowCells.set(col, { row: row.number, col, value, numFmt: cell.numFmt ?? null });
        });
        cells += rowCells.size;
        if (cells > options.maxCells) return fail('file-too-many-rows', `文件中的单元格数量超出模板范围。请只保留模板中的工作表和填报区域。`);
        if (rowCells.size > 0) sheet.rows.set(row.number, rowCells);
      }
    }
  } catch (err) {
    return fail('file-unreadable', `文件内容格式无法识别（${describe(err)}）。${SAVE_AS}`);
  }
  return { ok: true, sheets };
}

/** exceljs's WorksheetReader keeps the part number as `id` until it learns the sheet's real id. */
function findInfo(byNumber: Map<string, SheetInfo>, wsr: { id: string | number; name?: string }): SheetInfo | undefined {
  for (const info of byNumber.values()) if (info.name === wsr.name) return info;
  return byNumber.get(String(wsr.id));
}

function fail(code: 'file-unreadable' | 'file-timeout' | 'file-too-many-rows', message: string): ParseResult {
  return { ok: false, issues: [makeIssue(code, message)] };
}

function describe(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s+/g, ' ').slice(0, 80);
}

/** exceljs cell value → RawValue. Rich text, hyperlinks, shared formulas and errors all arrive as objects. */
export function flatten(v: unknown): RawValue {
  if (v === null || v === undefined) return { kind: 'empty' };
  if (typeof v === 'number') return Number.isNaN(v) ? { kind: 'error', value: '#NUM!' } : { kind: 'number', value: v };
  if (typeof v === 'string') return v === '' ? { kind: 'empty' } : { kind: 'text', value: v };
  if (typeof v === 'boolean') return { kind: 'boolean', value: v };
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? { kind: 'error', value: '#VALUE!' } : { kind: 'date', value: v };
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('error' in o) return { kind: 'error', value: String(o.error) };
    if ('formula' in o || 'sharedFormula' in o) {
      const result = 'result' in o && o.result !== undefined ? flatten(o.result) : null;
      return { kind: 'formula', formula: String(o.formula ?? o.sharedFormula ?? ''), result: result?.kind === 'empty' ? null : result };
    }
    if (Array.isArray(o.richText)) {
      const text = (o.richText as Array<{ text?: unknown }>).map((r) => String(r.text ?? '')).join('');
      return text === '' ? { kind: 'empty' } : { kind: 'text', value: text };
    }
    if ('text' in o) return flatten(o.text);
    if ('sharedString' in o) return { kind: 'error', value: '#REF!' };
  }
  return { kind: 'text', value: String(v) };
}
