/**
 * Property: what people do to a correct return never turns it into a refusal and never changes a
 * stored number. Each run takes an accepted case workbook, applies a random list of harmless edits
 * (numbers typed as text in the common spellings, remarks, number formats, blank rows, hidden rows,
 * reordered rows, scratch sheets), writes the .xlsx with exceljs and validates the bytes.
 */
import ExcelJS from 'exceljs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DataElement } from '../../schemas/model.ts';
import { COL, FIRST_DATA_ROW, HEADER_ROW } from '../../functions/core/layout.ts';
import type { IndicatorSubmission, LedgerSubmission } from '../../functions/core/normalize/submission.ts';
import { writeWorkbookBuffer } from '../../functions/core/render/deterministic.ts';
import { validateUpload } from '../../functions/core/validate/index.ts';
import { BASE_LEDGER, BASE_VALUES, buildCase, CASES } from '../../fixtures/workbooks/cases.ts';
import { bundledDefinitions, bundledSource } from '../../schemas/index.ts';

const NOW = new Date('2025-04-10T00:00:00+08:00');
/** runs per template; PROP_RUNS=300 for a longer search */
const RUNS = Number(process.env.PROP_RUNS ?? 30);

const FULL_WIDTH: Record<string, string> = { '.': '．', ',': '，', ' ': '　' };
const fullWidth = (s: string) => s.replace(/[0-9.,]/g, (c) => FULL_WIDTH[c] ?? String.fromCharCode(c.charCodeAt(0) + 0xfee0));
const grouped = (v: number, sep: string) => {
  const [int, frac] = String(v).split('.');
  return int!.replace(/\B(?=(\d{3})+(?!\d))/g, sep) + (frac ? `.${frac}` : '');
};

/** the ways people type a number into a cell as text */
const SPELLINGS = ['plain', 'comma', 'space', 'nbsp', 'ideographic', 'fullwidth', 'padded', 'unit', 'unit-spaced', 'comma-unit', 'fullwidth-unit', 'point-zero'] as const;
type Spelling = (typeof SPELLINGS)[number];

function spell(v: number, el: DataElement, how: Spelling): string {
  const unit = el.unit === '%' ? '%' : el.unit;
  switch (how) {
    case 'plain':
      return String(v);
    case 'comma':
      return grouped(v, ',');
    case 'space':
      return grouped(v, ' ');
    case 'nbsp':
      return grouped(v, '\u00A0');
    case 'ideographic':
      return grouped(v, '\u3000');
    case 'fullwidth':
      return fullWidth(String(v));
    case 'padded':
      return `\u00A0 ${v}\t`;
    case 'unit':
      return `${v}${unit}`;
    case 'unit-spaced':
      return `${v} ${unit}`;
    case 'comma-unit':
      return `${grouped(v, ',')}${unit}`;
    case 'fullwidth-unit':
      return `${fullWidth(String(v))}${unit}`;
    case 'point-zero':
      return Number.isInteger(v) ? `${v}.0` : `${v}0`;
  }
}

/** number formats that do not change what a count means (a % format does: that is refused on purpose) */
const COUNT_FORMATS = ['General', '0', '#,##0', '0.00', '#,##0.00', '@', '0"人"', '[$-804]General', '0_ '];

const REMARK_CHARS = [...'数据来源为公共卫生系统导出本月含外出务工人员已核实ABCxyz0123456789（）、，。'];
const remark = fc.array(fc.constantFrom(...REMARK_CHARS), { minLength: 1, maxLength: 400 }).map((cs) => cs.join('').trim()).filter((s) => s.length > 0);
const SCRATCH_CHARS = [...'草稿计算用合计备查123abc'];

type Edit =
  | { kind: 'text'; at: number; how: Spelling }
  | { kind: 'format'; at: number; fmt: number }
  | { kind: 'remark'; at: number; text: string }
  | { kind: 'blank'; at: number }
  | { kind: 'hide'; at: number }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'scratch'; name: string; cells: Array<[number, number, string | number]> };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('text' as const), at: fc.nat(), how: fc.constantFrom(...SPELLINGS) }),
  fc.record({ kind: fc.constant('format' as const), at: fc.nat(), fmt: fc.nat() }),
  fc.record({ kind: fc.constant('remark' as const), at: fc.nat(), text: remark }),
  fc.record({ kind: fc.constant('blank' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('hide' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({
    kind: fc.constant('scratch' as const),
    name: fc.constantFrom('Sheet1', '草稿', '计算', 'Sheet2'),
    cells: fc.array(fc.tuple(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 8 }), fc.oneof(fc.integer({ min: 0, max: 99999 }), fc.array(fc.constantFrom(...SCRATCH_CHARS), { minLength: 1, maxLength: 8 }).map((c) => c.join('')))), { maxLength: 12 }),
  }),
);

/** data rows of the return sheet, top to bottom, by what is in column A */
function dataRows(ws: ExcelJS.Worksheet): number[] {
  const rows: number[] = [];
  ws.eachRow((row, r) => {
    if (r > HEADER_ROW && row.getCell(1).value !== null) rows.push(r);
  });
  return rows;
}

function swapRows(ws: ExcelJS.Worksheet, a: number, b: number, width: number): void {
  for (let c = 1; c <= width; c++) {
    const [x, y] = [ws.getCell(a, c), ws.getCell(b, c)];
    const [vx, fx] = [x.value, x.numFmt];
    x.value = y.value;
    x.numFmt = y.numFmt;
    y.value = vx;
    y.numFmt = fx;
  }
}

/** Applies the edits; returns the remarks written, by element code or ledger task number. */
function apply(wb: ExcelJS.Workbook, templateId: string, edits: readonly Edit[]): Map<string, string> {
  const def = bundledDefinitions().templates.find((t) => t.id === templateId)!;
  const ws = wb.getWorksheet(def.sheetName)!;
  const width = def.kind === 'indicator' ? 5 : def.columns.length;
  const remarkCol = def.kind === 'indicator' ? COL.remark : def.columns.findIndex((c) => c.key === 'remark') + 1;
  const remarks = new Map<string, string>();
  const pick = <T,>(xs: readonly T[], n: number): T => xs[n % xs.length]!;
  const keyOf = (r: number) => String(ws.getCell(r, 1).value);
  for (const e of edits) {
    const rows = dataRows(ws);
    switch (e.kind) {
      case 'swap':
        swapRows(ws, pick(rows, e.a), pick(rows, e.b), width);
        break;
      case 'blank':
        ws.spliceRows(pick(rows, e.at), 0, []);
        break;
      case 'hide':
        ws.getRow(pick(rows, e.at)).hidden = true;
        break;
      case 'remark': {
        const r = pick(rows, e.at);
        ws.getCell(r, remarkCol).value = e.text;
        remarks.set(keyOf(r), e.text);
        break;
      }
      case 'scratch': {
        const sheet = wb.getWorksheet(e.name) ?? wb.addWorksheet(e.name);
        for (const [r, c, v] of e.cells) sheet.getCell(r, c).value = v;
        break;
      }
      case 'text':
      case 'format': {
        const r = pick(rows, e.at);
        if (def.kind === 'indicator') {
          const el = def.elements.find((x) => x.code === keyOf(r))!;
          const cell = ws.getCell(r, COL.value);
          const v = BASE_VALUES[def.id]![el.code]!;
          if (e.kind === 'text') {
            cell.value = spell(v, el, e.how);
          } else if (el.type === 'percent') {
            cell.value = v / 100;
            cell.numFmt = pick(['0.00%', '0%', '0.0%'], e.fmt);
          } else {
            cell.value = v;
            cell.numFmt = pick(COUNT_FORMATS, e.fmt);
          }
        } else {
          // the ledger's 完成进度(%)
          const cell = ws.getCell(r, def.columns.findIndex((c) => c.key === 'progress') + 1);
          const v = Number(BASE_LEDGER.find((t) => t[0] === keyOf(r))![5]);
          if (e.kind === 'text') cell.value = pick([String(v), `${v}%`, ` ${v} `, fullWidth(String(v)), `${v}.0`], SPELLINGS.indexOf(e.how));
          else {
            cell.value = v;
            cell.numFmt = pick(['General', '0', '0.0', '@'], e.fmt);
          }
        }
        break;
      }
    }
  }
  return remarks;
}

const accepted = CASES.filter((c) => c.name.startsWith('valid-'));

describe('a correct return, edited the way people edit it, stays accepted with the same numbers', () => {
  it.each(accepted.map((c) => [c.template, c] as const))('%s', async (_t, c) => {
    const base = await validateUpload(await writeWorkbookBuffer(buildCase(c)), { ...c.options, now: NOW, definitions: bundledSource() });
    expect(base.report.status).toBe('accepted');
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 8 }), async (edits) => {
        const wb = buildCase(c);
        const remarks = apply(wb, c.template, edits);
        const { report, submission } = await validateUpload(await writeWorkbookBuffer(wb), { ...c.options, now: NOW, definitions: bundledSource() });
        const errors = report.issues.filter((i) => i.severity === 'error').map((i) => `${i.cell} ${i.code}: ${i.message}`);
        expect(errors).toEqual([]);
        expect(report.issues.filter((i) => i.severity === 'warning').map((i) => i.code).every((code) => code === 'remark-long')).toBe(true);
        if (submission!.kind === 'indicator') {
          const before = base.submission as IndicatorSubmission;
          expect(submission!.values).toEqual(before.values);
          for (const [code, text] of remarks) expect(submission!.remarks[code]).toBe(text);
        } else {
          const strip = (rows: LedgerSubmission['rows']) => rows.map(({ row: _row, remark: _remark, ...rest }) => rest).sort((a, b) => a.taskNo.localeCompare(b.taskNo));
          expect(strip(submission!.rows)).toEqual(strip((base.submission as LedgerSubmission).rows));
          for (const [task, text] of remarks) expect(submission!.rows.find((r) => r.taskNo === task)!.remark).toBe(text);
        }
      }),
      { numRuns: RUNS },
    );
  }, 120_000);
});
