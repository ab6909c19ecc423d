/**
 * The feedback workbook, read back with exceljs (values, fills, notes, protection) and as raw XML
 * (internal hyperlinks, which exceljs's loader drops): one fixture per kind of issue, the fallbacks,
 * notes from plain strings, determinism.
 */
import { readdir, readFile } from 'node:fs/promises';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { describe, expect, it } from 'vitest';
import { ACTIVE_BASE, ACTIVE_CELLS, ACTIVE_SHEET, activeContentUpload, EVIL } from '../../fixtures/workbooks/active-content.ts';
import { buildCase, CASES } from '../../fixtures/workbooks/cases.ts';
import { caseFile } from '../../fixtures/workbooks/make.ts';
import type { UploadKey } from '../../functions/core/ingest.ts';
import { META_SHEET } from '../../functions/core/layout.ts';
import { writeWorkbookBuffer } from '../../functions/core/render/deterministic.ts';
import { activeContentOf, isInertFormula } from '../../functions/core/render/inert.ts';
import { buildFeedback, expandedCells, FEEDBACK_SHEET, feedbackKeyOf, MARK_ARGB, MAX_EXPANDED_CELLS, MAX_LISTED, NOTE_PREFIX, renderFeedback, type FeedbackContext } from '../../functions/core/render/feedback.ts';
import type { Issue, Report } from '../../functions/core/report.ts';
import { validateUpload } from '../../functions/core/validate/index.ts';
import { bundledDefinitions, bundledSource } from '../../schemas/index.ts';

const NOW = new Date('2025-04-10T00:00:00+08:00');
// the fixtures are 八仙筒镇中心卫生院's (150525-101) returns
const CONTEXT: FeedbackContext = { uploadedAt: '2025-04-03T02:15:07.000Z', fileName: '八仙筒镇3月基层月报.xlsx', institutionName: '八仙筒镇中心卫生院', templates: bundledDefinitions().templates };

async function fixture(name: string): Promise<{ bytes: Buffer; report: Report }> {
  const c = CASES.find((x) => x.name === name)!;
  const bytes = await readFile(caseFile(c));
  const { report } = await validateUpload(bytes, { definitions: bundledSource(),  ...c.options, now: NOW });
  return { bytes, report };
}

async function hostile(name: string, template = 'T-JC'): Promise<{ bytes: Buffer; report: Report }> {
  const bytes = await readFile(new URL(`../../fixtures/hostile/${name}`, import.meta.url));
  const { report } = await validateUpload(bytes, { definitions: bundledSource(),  institution: '150525-101', period: '2025-03', template, now: NOW });
  return { bytes, report };
}

async function load(bytes: Uint8Array): Promise<ExcelJS.Workbook> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(Buffer.from(bytes) as unknown as ExcelJS.Buffer);
  return wb;
}

/** The 校验结果 table: its header row number and the rows under it, as text. */
function table(wb: ExcelJS.Workbook): { headerRow: number; rows: string[][]; info: Map<string, string> } {
  const ws = wb.worksheets[0]!;
  let headerRow = 0;
  const info = new Map<string, string>();
  ws.eachRow((row, r) => {
    const a = String(row.getCell(1).value ?? '');
    if (a === '序号') headerRow = r;
    else if (!headerRow && a) info.set(a, String(row.getCell(3).value ?? ''));
  });
  const rows: string[][] = [];
  for (let r = headerRow + 1; r <= ws.rowCount; r++) {
    const row = ws.getRow(r);
    if (typeof row.getCell(1).value !== 'number') continue;
    rows.push([1, 2, 3, 4, 5, 6, 7, 8].map((c) => cellText(row.getCell(c).value)));
  }
  return { headerRow, rows, info };
}

function cellText(v: ExcelJS.CellValue): string {
  if (v && typeof v === 'object' && 'text' in v) return String((v as { text: unknown }).text);
  return v === null || v === undefined ? '' : String(v);
}

/** The internal hyperlinks of a sheet (ref → location), read from the XML; and whether any is a relationship. */
async function links(bytes: Uint8Array, sheet: string): Promise<{ locations: Map<string, string>; external: number }> {
  const zip = await JSZip.loadAsync(bytes);
  const workbook = await zip.file('xl/workbook.xml')!.async('string');
  const rels = await zip.file('xl/_rels/workbook.xml.rels')!.async('string');
  const rid = new RegExp(`<sheet [^>]*name="${sheet}"[^>]*r:id="([^"]+)"`).exec(workbook)![1];
  const target = new RegExp(`Id="${rid}"[^>]*Target="([^"]+)"`).exec(rels)?.[1] ?? new RegExp(`Target="([^"]+)"[^>]*Id="${rid}"`).exec(rels)![1]!;
  const path = target.startsWith('/') ? target.slice(1) : `xl/${target}`;
  const xml = await zip.file(path)!.async('string');
  const locations = new Map<string, string>();
  for (const m of xml.matchAll(/<hyperlink ([^>]*)\/>/g)) {
    const attr = (n: string) => new RegExp(`${n}="([^"]*)"`).exec(m[1]!)?.[1];
    locations.set(attr('ref')!, attr('location')!.replace(/&apos;/g, "'"));
  }
  const sheetRels = zip.file(path.replace(/([^/]+)$/, '_rels/$1.rels'));
  const external = sheetRels ? ((await sheetRels.async('string')).match(/relationships\/hyperlink"/g) ?? []).length : 0;
  return { locations, external };
}

function values(wb: ExcelJS.Workbook, sheet: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // a merged cell's others read as its master: only the master holds the value
  wb.getWorksheet(sheet)!.eachRow((row) => row.eachCell((cell) => void (cell.isMerged && cell.master !== cell ? undefined : (out[cell.address] = cell.value))));
  return out;
}

/** What a reader finds in the bytes, read with JSZip (not our own zip reader): cell formulas, external targets, parts. */
async function scan(bytes: Uint8Array): Promise<{ formulas: string[]; external: string[]; parts: string[] }> {
  const zip = await JSZip.loadAsync(bytes);
  const out = { formulas: [] as string[], external: [] as string[], parts: [] as string[] };
  for (const [name, file] of Object.entries(zip.files)) {
    if (file.dir) continue;
    out.parts.push(name);
    const xml = await file.async('string');
    if (/<(?:\w+:)?f[\s>\/]/.test(xml)) out.formulas.push(name);
    if (/TargetMode\s*=\s*["']External["']/i.test(xml)) out.external.push(name);
  }
  return out;
}

/** What each cell shows: a formula's cached result, a hyperlink's text, else its value. */
function shown(wb: ExcelJS.Workbook, sheet: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  wb.getWorksheet(sheet)!.eachRow((row) =>
    row.eachCell((cell) => {
      if (cell.isMerged && cell.master !== cell) return;
      if (cell.type === ExcelJS.ValueType.Formula) out[cell.address] = cell.result ?? null;
      else if (cell.type === ExcelJS.ValueType.Hyperlink) out[cell.address] = (cell.value as ExcelJS.CellHyperlinkValue).text;
      else out[cell.address] = cell.value;
    }),
  );
  return out;
}

const noteOf = (cell: ExcelJS.Cell): string => {
  const n = cell.note as unknown;
  if (typeof n === 'string') return n;
  return ((n as { texts?: Array<{ text: string }> } | undefined)?.texts ?? []).map((t) => t.text).join('');
};
const argbOf = (cell: ExcelJS.Cell) => (cell.fill as ExcelJS.FillPattern | undefined)?.fgColor?.argb;

describe('feedback workbook, marked in place', () => {
  const cases = [
    { name: 'rule-JC-R03', sheet: '基层月报', cell: 'D14', severity: 'error', verdict: '未通过' },
    { name: 'value-negative', sheet: '基层月报', cell: 'D35', severity: 'error', verdict: '未通过' },
    { name: 'ledger-status-invalid', sheet: '任务台账', cell: 'E8', severity: 'error', verdict: '未通过' },
    { name: 'ledger-overdue', sheet: '任务台账', cell: 'E9', severity: 'warning', verdict: '通过（有警告）' },
  ] as const;

  it.each(cases)('$name: 校验结果 first, $cell filled and noted, every value as uploaded', async ({ name, sheet, cell, severity, verdict }) => {
    const { bytes, report } = await fixture(name);
    const result = await buildFeedback(bytes, report, CONTEXT);
    expect(result.mode).toBe('in-place');
    const wb = await load(result.bytes);
    const original = await load(bytes);

    expect(wb.worksheets.map((w) => w.name)).toEqual([FEEDBACK_SHEET, ...original.worksheets.map((w) => w.name)]);
    const { rows, info } = table(wb);
    expect(rows).toHaveLength(report.issues.length);
    const issue = report.issues[0]!;
    expect(rows[0]).toEqual(['1', severity === 'error' ? '错误' : '警告', sheet, cell, issue.element, String(issue.value), issue.code, issue.message]);
    expect(info.get('结论')).toBe(verdict);
    expect(info.get('机构')).toBe('八仙筒镇中心卫生院（150525-101）');
    expect(info.get('统计期')).toBe('2025年3月（2025-03）');
    expect(info.get('上传时间')).toBe('2025-04-03 10:15:07（北京时间）');
    expect(info.get('文件名')).toBe(CONTEXT.fileName);

    const marked = wb.getWorksheet(sheet)!.getCell(cell);
    expect(argbOf(marked)).toBe(MARK_ARGB[severity]);
    expect(noteOf(marked)).toContain(issue.message);
    expect(noteOf(marked).startsWith(NOTE_PREFIX)).toBe(true);

    for (const ws of original.worksheets) expect(values(wb, ws.name), ws.name).toEqual(values(original, ws.name));
    // neighbours keep the template's fill and have no note
    const neighbour = wb.getWorksheet(sheet)!.getCell(cell.replace(/\d+$/, (r) => String(Number(r) + 1)));
    expect(argbOf(neighbour)).not.toBe(MARK_ARGB[severity]);
    expect(neighbour.note).toBeUndefined();

    // the user fixes in place: the marked sheet is unprotected, the others are as they were, _hmis stays very hidden
    const protectedOf = (w: ExcelJS.Workbook, n: string) => Boolean((w.getWorksheet(n) as unknown as { sheetProtection?: { sheet?: boolean } }).sheetProtection?.sheet);
    expect(protectedOf(original, sheet)).toBe(true);
    expect(protectedOf(wb, sheet)).toBe(false);
    expect(protectedOf(wb, '填报说明')).toBe(true);
    expect(wb.getWorksheet(META_SHEET)!.state).toBe('veryHidden');

    const { locations, external } = await links(result.bytes, FEEDBACK_SHEET);
    expect([...locations.values()]).toEqual([`'${sheet}'!${cell}`]);
    expect(external).toBe(0);
  });

  it('an issue without a cell (a missing row) is listed, links to its sheet, and marks nothing', async () => {
    const { bytes, report } = await fixture('element-missing');
    expect(report.issues.map((i) => [i.sheet, i.cell, i.code])).toEqual([['基层月报', null, 'element-missing']]);
    const out = await renderFeedback(bytes, report, CONTEXT);
    const wb = await load(out);
    const { rows, headerRow } = table(wb);
    expect(rows).toEqual([['1', '错误', '基层月报', '—', 'JC05', '', 'element-missing', report.issues[0]!.message]]);
    expect((await links(out, FEEDBACK_SHEET)).locations).toEqual(new Map([[`C${headerRow + 1}`, "'基层月报'!A1"]]));
    let notes = 0;
    wb.getWorksheet('基层月报')!.eachRow((row) => row.eachCell((c) => void (c.note && notes++)));
    expect(notes).toBe(0);
  });

  it('infos are listed as 提示 and not marked', async () => {
    const { bytes, report } = await fixture('numbers-as-text');
    const wb = await load(await renderFeedback(bytes, report, CONTEXT));
    expect(table(wb).rows.map((r) => r[1])).toEqual(['提示']);
    expect(table(wb).info.get('结论')).toBe('通过');
    const cell = wb.getWorksheet('基层月报')!.getCell('D8');
    expect(argbOf(cell)).not.toBe(MARK_ARGB.error);
    expect(cell.note).toBeUndefined();
  });

  it('same input, same bytes', async () => {
    const { bytes, report } = await fixture('rule-JC-R03');
    const a = await renderFeedback(bytes, report, CONTEXT);
    const b = await renderFeedback(new Uint8Array(bytes), structuredClone(report), { ...CONTEXT });
    expect(a.equals(b)).toBe(true);
    const later = await renderFeedback(bytes, report, { ...CONTEXT, uploadedAt: '2025-04-04T02:15:07.000Z' });
    expect(later.equals(a)).toBe(false);
  });

  it('a feedback workbook fixed in place and uploaded again: last round’s marks are gone, new ones are there', async () => {
    const { bytes, report } = await fixture('rule-JC-R03');
    const first = await load(await renderFeedback(bytes, report, CONTEXT));
    const ws = first.getWorksheet('基层月报')!;
    ws.getCell('D14').value = 1400; // fixed
    ws.getCell('D35').value = -5; // a new mistake
    ws.getCell('E8').note = '我的备注说明';
    first.modified = new Date(CONTEXT.uploadedAt);
    const second = await writeWorkbookBuffer(first);
    const { report: again } = await validateUpload(second, { definitions: bundledSource(),  institution: '150525-101', period: '2025-03', template: 'T-JC', now: NOW });
    expect(again.issues.map((i) => i.cell)).toEqual(['D35']);

    const result = await buildFeedback(second, again, CONTEXT);
    expect(result.mode).toBe('in-place');
    const wb = await load(result.bytes);
    expect(wb.worksheets.filter((w) => w.name === FEEDBACK_SHEET)).toHaveLength(1);
    const s = wb.getWorksheet('基层月报')!;
    expect(s.getCell('D14').note).toBeUndefined();
    expect(argbOf(s.getCell('D14'))).toBe('FFFFF2CC'); // the template's input fill, back
    expect(argbOf(s.getCell('D35'))).toBe(MARK_ARGB.error);
    expect(noteOf(s.getCell('E8'))).toBe('我的备注说明');
    expect(table(wb).rows).toHaveLength(1);
  });

  it('a user’s own note on a problem cell is kept under ours', async () => {
    const c = CASES.find((x) => x.name === 'rule-JC-R03')!;
    const wb = buildCase(c);
    wb.getWorksheet('基层月报')!.getCell('D14').note = '含家庭医生签约的人数';
    const bytes = await writeWorkbookBuffer(wb);
    const { report } = await validateUpload(bytes, { definitions: bundledSource(),  ...c.options, now: NOW });
    const out = await load(await renderFeedback(bytes, report, CONTEXT));
    const note = noteOf(out.getWorksheet('基层月报')!.getCell('D14'));
    expect(note.startsWith(NOTE_PREFIX)).toBe(true);
    expect(note).toContain(report.issues[0]!.message);
    expect(note.endsWith('含家庭医生签约的人数')).toBe(true);
  });
});

describe('notes are plain strings', () => {
  it('a JSON-looking value stays text and pollutes nothing, also when the report went through JSON', async () => {
    const c = CASES.find((x) => x.name === 'valid-T-JC')!;
    const wb = buildCase(c);
    const payload = '{"__proto__":{"x":1}}';
    wb.getWorksheet('基层月报')!.getCell('D27').value = payload;
    const bytes = await writeWorkbookBuffer(wb);
    const { report } = await validateUpload(bytes, { definitions: bundledSource(),  ...c.options, now: NOW });
    expect(report.issues.map((i) => [i.cell, i.code])).toEqual([['D27', 'value-not-number']]);

    // as the handler would have it after storing and reading the JSON report, plus a hostile extra issue
    const parsed = JSON.parse(JSON.stringify(report)) as Report;
    const hostileIssue = JSON.parse(
      `{"__proto__":{"polluted":true},"severity":"error","code":"value-not-number","sheet":"基层月报","cell":"D28","row":28,"column":"D","element":"JC21","value":${JSON.stringify(payload)},"message":${JSON.stringify(payload)}}`,
    ) as Issue;
    parsed.issues.push(hostileIssue);

    const out = await load(await renderFeedback(bytes, parsed, CONTEXT));
    const s = out.getWorksheet('基层月报')!;
    expect(typeof s.getCell('D27').note).toBe('string');
    expect(noteOf(s.getCell('D27'))).toContain(payload);
    expect(noteOf(s.getCell('D28'))).toBe(`${NOTE_PREFIX}错误 · 不是数字（value-not-number）\n${payload}`);
    expect(s.getCell('D27').value).toBe(payload);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('x');
  });
});

describe('fallbacks', () => {
  it.each([
    ['random.xlsx', 'file-not-zip'],
    ['csv-renamed.xlsx', 'file-not-zip'],
    ['encrypted.xlsx', 'file-encrypted'],
    ['legacy.xls', 'file-legacy-xls'],
    ['bomb-ratio.xlsx', 'file-zip-bomb'],
  ])('%s: nothing to copy, 校验结果 only', async (name, code) => {
    const { bytes, report } = await hostile(name);
    expect(report.issues.map((i) => i.code)).toEqual([code]);
    const result = await buildFeedback(bytes, report, { ...CONTEXT, templateTitle: '基层医疗卫生机构月报' });
    expect(result.mode).toBe('summary');
    const wb = await load(result.bytes);
    expect(wb.worksheets.map((w) => w.name)).toEqual([FEEDBACK_SHEET]);
    const { rows, info } = table(wb);
    expect(rows).toEqual([['1', '错误', '—', '—', '—', String(report.issues[0]!.value ?? ''), code, report.issues[0]!.message]]);
    expect(info.get('模板')).toBe('基层医疗卫生机构月报');
    expect(info.get('结论')).toBe('未通过');
  });

  it('every hostile fixture gives a feedback workbook that opens, 校验结果 first, with nothing active in it', async () => {
    const dir = new URL('../../fixtures/hostile/', import.meta.url);
    const names = (await readdir(dir)).filter((n) => !n.endsWith('.ts'));
    expect(names.length).toBeGreaterThan(40);
    const modes = new Map<string, string>();
    for (const name of names) {
      const { bytes, report } = await hostile(name);
      const result = await buildFeedback(bytes, report, CONTEXT);
      modes.set(name, result.mode);
      const wb = await load(result.bytes);
      expect(wb.worksheets[0]!.name, name).toBe(FEEDBACK_SHEET);
      expect(table(wb).rows.length, name).toBe(Math.min(report.issues.length, MAX_LISTED));
      const after = await scan(result.bytes);
      expect([after.formulas, after.external, activeContentOf(result.bytes)], name).toEqual([[], [], []]);
    }
    expect(modes.get('encrypted.xlsx')).toBe('summary');
    expect(modes.get('baseline.xlsx')).toBe('in-place');
  });

  it('bytes that are no file at all', async () => {
    const bytes = Buffer.from('机构代码,本期数值\n150525-101,1501\n', 'utf8');
    const { report } = await validateUpload(bytes, { definitions: bundledSource(),  institution: '150525-101', period: '2025-03', template: 'T-JC', now: NOW });
    const result = await buildFeedback(bytes, report, CONTEXT);
    expect(result.mode).toBe('summary');
    expect(table(await load(result.bytes)).rows[0]![6]).toBe('file-not-zip');
  });

  it('beyond the in-place limits (300 merges): values re-created at their addresses and marked', async () => {
    const c = CASES.find((x) => x.name === 'rule-JC-R03')!;
    const wb = buildCase(c);
    const ws = wb.getWorksheet('基层月报')!;
    for (let r = 0; r < 300; r++) ws.mergeCells(100 + r, 7, 100 + r, 8);
    const bytes = await writeWorkbookBuffer(wb);
    const { report } = await validateUpload(bytes, { definitions: bundledSource(),  ...c.options, now: NOW });
    expect(report.issues.map((i) => i.cell)).toEqual(['D14']);

    const result = await buildFeedback(bytes, report, CONTEXT);
    expect(result.mode).toBe('values');
    expect(result.reason).toContain('file-too-complex');
    const out = await load(result.bytes);
    const original = await load(bytes);
    expect(out.worksheets.map((w) => w.name)).toEqual([FEEDBACK_SHEET, '填报说明', '基层月报', META_SHEET]);
    expect(out.getWorksheet(META_SHEET)!.state).toBe('veryHidden');
    const s = out.getWorksheet('基层月报')!;
    expect(s.getCell('D14').value).toBe(1501);
    expect(argbOf(s.getCell('D14'))).toBe(MARK_ARGB.error);
    expect(noteOf(s.getCell('D14'))).toContain(report.issues[0]!.message);
    // every value the original holds, at its address (merged titles keep their master's value)
    const before = values(original, '基层月报');
    const after = values(out, '基层月报');
    for (const [address, value] of Object.entries(before)) if (value !== null && value !== '') expect(after[address], address).toEqual(value);
    expect((await links(result.bytes, FEEDBACK_SHEET)).locations.get(`D${table(out).headerRow + 1}`)).toBe("'基层月报'!D14");

    // and a re-upload of this copy validates like the original (identity in _hmis, values in place)
    const { report: again } = await validateUpload(result.bytes, { definitions: bundledSource(),  ...c.options, now: NOW });
    expect(again.issues.map((i) => [i.cell, i.code])).toEqual([['D14', 'rule-violation']]);
  });

  it('many small validations that together cover too many cells: values, not in place', async () => {
    const c = CASES.find((x) => x.name === 'rule-JC-R03')!;
    const wb = buildCase(c);
    const ws = wb.getWorksheet('基层月报')! as unknown as { dataValidations: { add(ref: string, rule: ExcelJS.DataValidation): void } };
    // each 5,000 cells, well under any per-range limit; 30 of them are 150,000
    for (let i = 0; i < 30; i++) ws.dataValidations.add(`AA${1 + i * 500}:AJ${500 + i * 500}`, { type: 'whole', operator: 'greaterThan', formulae: [0], allowBlank: true });
    const bytes = await writeWorkbookBuffer(wb);
    expect(expandedCells(bytes)).toBeGreaterThan(MAX_EXPANDED_CELLS);
    const { report } = await validateUpload(bytes, { definitions: bundledSource(),  ...c.options, now: NOW });
    const result = await buildFeedback(bytes, report, CONTEXT);
    expect(result.mode).toBe('values');
    expect(result.reason).toMatch(/ranges cover \d+ cells/);
  });

  it('print titles are no range exceljs expands: still in place', async () => {
    const c = CASES.find((x) => x.name === 'rule-JC-R03')!;
    const wb = buildCase(c);
    wb.getWorksheet('基层月报')!.pageSetup.printTitlesRow = '1:7';
    const bytes = await writeWorkbookBuffer(wb);
    expect(expandedCells(bytes)).toBeLessThan(1_000);
    const { report } = await validateUpload(bytes, { definitions: bundledSource(),  ...c.options, now: NOW });
    expect((await buildFeedback(bytes, report, CONTEXT)).mode).toBe('in-place');
  });

  it('a report it cannot make sense of still gives a workbook', async () => {
    const weird = {
      status: 'rejected',
      template: { id: 'T-XX', version: 'one' },
      institution: 42,
      period: null,
      issues: [
        { severity: 'error', code: 'value-negative', sheet: { name: 'x' }, cell: 'ZZZZ99999999', message: 12, value: NaN },
        { severity: 'fatal', code: '__proto__', sheet: '基层月报', cell: 'd14', message: 'bad\u0000byte\uFFFE', value: Infinity },
        null,
      ],
    } as unknown as Report;
    const { bytes } = await fixture('rule-JC-R03');
    const out = await buildFeedback(bytes, weird, { uploadedAt: 'not a date', fileName: '' });
    expect(out.mode).toBe('in-place');
    const wb = await load(out.bytes);
    expect(wb.worksheets[0]!.name).toBe(FEEDBACK_SHEET);
    expect(table(wb).rows.map((r) => [r[1], r[2], r[3], r[7]])).toEqual([
      ['错误', '—', '—', '12'],
      ['提示', '基层月报', 'D14', 'badbyte'],
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('lists at most MAX_LISTED issues, errors first, and says so', async () => {
    const { bytes, report } = await fixture('ledger-overdue');
    const many: Report = {
      ...report,
      status: 'rejected',
      issues: [
        ...Array.from({ length: MAX_LISTED }, (_, n) => ({ ...report.issues[0]!, cell: `E${n + 8}`, row: n + 8 })),
        { ...report.issues[0]!, severity: 'error' as const, code: 'ledger-status-invalid' as const, message: '最后一项是错误' },
      ],
    };
    const wb = await load(await renderFeedback(bytes, many, CONTEXT));
    const { rows, info } = table(wb);
    expect(rows).toHaveLength(MAX_LISTED);
    expect(rows[0]![7]).toBe('最后一项是错误');
    expect(info.get('问题数')).toContain(`下表列出前 ${MAX_LISTED} 项`);
  });
});

describe('the marked-up workbook acts on nothing when opened', () => {
  it('an upload with formulas, DDE, hyperlinks, external links, names, rules and an OLE object: marked in place, all of it gone, every value as shown', async () => {
    const bytes = await activeContentUpload();
    // the upload really carries it all (the checks can fail)
    const before = await scan(bytes);
    expect(before.formulas).toContain('xl/worksheets/sheet2.xml');
    expect(before.external.sort()).toEqual(['xl/externalLinks/_rels/externalLink2.xml.rels', 'xl/worksheets/_rels/sheet2.xml.rels']);
    expect(before.parts).toEqual(expect.arrayContaining(['xl/externalLinks/externalLink1.xml', 'xl/embeddings/oleObject1.bin']));
    const found = activeContentOf(bytes).join('\n');
    for (const what of ['cell formula', 'part xl/externalLinks/externalLink1.xml', 'part xl/embeddings/oleObject1.bin', '<externalReference>', '<oleObject>', 'external relationship hyperlink', '<definedName>', '<formula>', '<formula1>']) {
      expect(found).toContain(what);
    }

    const { report } = await validateUpload(bytes, { definitions: bundledSource(), ...ACTIVE_BASE.options, now: NOW });
    expect(report.issues.filter((i) => i.severity === 'error').map((i) => [i.cell, i.code])).toEqual([['D14', 'rule-violation']]);
    const result = await buildFeedback(bytes, report, CONTEXT);
    expect(result.mode).toBe('in-place');

    const after = await scan(result.bytes);
    expect(after.formulas).toEqual([]);
    expect(after.external).toEqual([]);
    expect(after.parts.filter((p) => /externalLink|embeddings|vbaProject|activeX|connections/i.test(p))).toEqual([]);
    expect(activeContentOf(result.bytes)).toEqual([]);
    // the address is left only as text: the formula quoted in an issue's message and note
    const parts = Object.entries((await JSZip.loadAsync(result.bytes)).files);
    const mentions = [];
    for (const [name, file] of parts) if (!file.dir && (await file.async('string')).includes(EVIL)) mentions.push(name);
    expect(mentions.filter((name) => !/^xl\/(sharedStrings|comments\d+)\.xml$|vmlDrawing/.test(name))).toEqual([]);

    // values shown exactly as submitted, the problem cell marked
    const wb = await load(result.bytes);
    const original = await load(bytes);
    const ws = wb.getWorksheet(ACTIVE_SHEET)!;
    for (const [address, { shows }] of Object.entries(ACTIVE_CELLS)) expect(ws.getCell(address).value, address).toEqual(shows);
    for (const sheet of original.worksheets) expect(values(wb, sheet.name), sheet.name).toEqual(shown(original, sheet.name));
    expect(argbOf(ws.getCell('D14'))).toBe(MARK_ARGB.error);
    // the template's own validations stay: plain numbers and lists
    expect(ws.getCell('D12').dataValidation).toMatchObject({ type: 'whole', formulae: [0] });
    expect(ws.getCell('D13').dataValidation?.type).not.toBe('custom');
  });

  it('the same with a VBA project: refused as macro-enabled, and its feedback carries nothing of it', async () => {
    const bytes = await activeContentUpload({ macro: true });
    expect((await scan(bytes)).parts).toContain('xl/vbaProject.bin');
    const { report } = await validateUpload(bytes, { definitions: bundledSource(), ...ACTIVE_BASE.options, now: NOW });
    expect(report.issues.map((i) => i.code)).toEqual(['file-macro-enabled']);
    const result = await buildFeedback(bytes, report, CONTEXT);
    expect(result.mode).toBe('summary');
    const after = await scan(result.bytes);
    expect([after.formulas, after.external, after.parts.filter((p) => /vba|externalLink|embeddings/i.test(p))]).toEqual([[], [], []]);
  });

  it('every case fixture: no formula, no external target, nothing active in the feedback workbook; cached values shown (hostile fixtures: under fallbacks)', async () => {
    expect(CASES.length).toBeGreaterThan(50);
    for (const c of CASES) {
      const { bytes, report } = await fixture(c.name);
      const result = await buildFeedback(bytes, report, CONTEXT);
      const after = await scan(result.bytes);
      expect([after.formulas, after.external, activeContentOf(result.bytes)], c.name).toEqual([[], [], []]);
      // the formula cases are marked in place, showing their cached results
      const cached = ({ 'formula-cached': ['D8', 18000], 'formula-cached-zero': ['D32', 0] } as Record<string, [string, number]>)[c.name];
      if (cached) {
        expect((await scan(bytes)).formulas, c.name).toContain('xl/worksheets/sheet2.xml');
        expect(result.mode, c.name).toBe('in-place');
        expect((await load(result.bytes)).getWorksheet('基层月报')!.getCell(cached[0]).value, c.name).toBe(cached[1]);
      }
    }
  });
});

describe('isInertFormula', () => {
  it.each([
    ['0', true],
    ['36526', true],
    ['"未启动,推进中,已完成,已滞后"', true],
    ['"x(y)"', true],
    ["'基层月报(2)'!$D$8", true],
    ['$D$8:$D$36', true],
    ['D8>0', true],
    ['WEBSERVICE("http://evil.example")', false],
    ["cmd|' /C calc'!A0", false],
    ['[1]Sheet1!A1', false],
    ["'[1]Sheet1'!A1", false],
    ['SUM(D8:D9)', false],
  ])('%s → %s', (formula, inert) => expect(isInertFormula(formula)).toBe(inert));
});

describe('feedbackKeyOf', () => {
  it('is beside the JSON report in the reports bucket, never under uploads/', () => {
    const key: UploadKey = { county: '150525', institution: '150525-101', template: 'T-JC', period: '2025-03', fileName: '3月.xlsx' };
    expect(feedbackKeyOf(key, 'abc123')).toBe('feedback/150525/150525-101/T-JC/2025-03/abc123.xlsx');
  });
});
