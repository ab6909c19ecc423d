/**
 * The gate against one tiny fixture per hostile class (fixtures/hostile, written by make.ts),
 * expectations as tables.
 */
import { readFileSync } from 'node:fs';
import zlib from 'node:zlib';
import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, gateUpload, type GateLimits, type GateResult } from '../../functions/core/gate/index.ts';
import { rangeSize } from '../../functions/core/gate/refs.ts';
import { classifyCfb } from '../../functions/core/gate/sniff.ts';
import { parseWorkbook, resolveTarget } from '../../functions/core/gate/workbook.ts';
import { scanWorksheet } from '../../functions/core/gate/worksheet.ts';
import { hasDtd } from '../../functions/core/gate/xml.ts';
import { crc32, crc32Table } from '../../functions/core/gate/zip.ts';
import { ISSUE_CODES, type IssueCode } from '../../functions/core/validate/codes.ts';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../fixtures/hostile/${name}`, import.meta.url));

/** exceljs has worksheet.dataValidations at runtime but not in its types */
const withValidations = (ws: ExcelJS.Worksheet) =>
  (ws as unknown as { dataValidations: { add(ref: string, rule: ExcelJS.DataValidation): void } }).dataValidations;
const issuesOf = (r: GateResult) => (r.ok ? [] : r.issues);

// [fixture, expected code, limits]
const REFUSED: Array<[string, IssueCode, Partial<GateLimits>?]> = [
  ['empty.xlsx', 'file-empty'],
  ['baseline.xlsx', 'file-too-large', { maxBytes: 1000 }],
  ['csv-renamed.xlsx', 'file-not-zip'],
  ['html-export.xlsx', 'file-not-zip'],
  ['xml-spreadsheet-2003.xlsx', 'file-not-zip'],
  ['pdf-renamed.xlsx', 'file-not-zip'],
  ['random.xlsx', 'file-not-zip'],
  ['legacy.xls', 'file-legacy-xls'],
  ['encrypted.xlsx', 'file-encrypted'],
  ['legacy-word.doc', 'file-not-workbook'],
  ['truncated.xlsx', 'file-corrupt'],
  ['cd-out-of-bounds.xlsx', 'file-corrupt'],
  ['local-name-mismatch.xlsx', 'file-corrupt'],
  ['local-size-mismatch.xlsx', 'file-corrupt'],
  ['crc-mismatch.xlsx', 'file-corrupt'],
  ['unsupported-method.xlsx', 'file-corrupt'],
  ['zip64.xlsx', 'file-corrupt'],
  ['encrypted-entry.xlsx', 'file-corrupt'],
  ['overlapping-entries.xlsx', 'file-corrupt'],
  ['hidden-local-entry.xlsx', 'file-corrupt'],
  ['trailing-data-in-entry.xlsx', 'file-corrupt'],
  ['descriptor-unsigned.xlsx', 'file-unreadable'],
  ['plain.zip', 'file-not-workbook'],
  ['spreadsheet.ods', 'file-not-workbook'],
  ['binary.xlsb', 'file-not-workbook'],
  ['document.docx', 'file-not-workbook'],
  ['macro.xlsm', 'file-macro-enabled'],
  ['vba-in-xlsx.xlsx', 'file-macro-enabled'],
  ['xlm-macrosheet.xlsx', 'file-macro-enabled'],
  ['bomb-padding.xlsx', 'file-zip-bomb'],
  ['bomb-lying-size.xlsx', 'file-zip-bomb'],
  ['bomb-ratio.xlsx', 'file-zip-bomb'],
  ['baseline.xlsx', 'file-zip-bomb', { maxTotalUncompressed: 10_000 }],
  ['baseline.xlsx', 'file-zip-bomb', { maxPartUncompressed: 5_000 }],
  ['too-many-entries.xlsx', 'file-too-complex'],
  ['duplicate-names.xlsx', 'file-bad-part-name'],
  ['dotdot-name.xlsx', 'file-bad-part-name'],
  ['absolute-name.xlsx', 'file-bad-part-name'],
  ['backslash-name.xlsx', 'file-bad-part-name'],
  ['nul-name.xlsx', 'file-bad-part-name'],
  ['exceljs-lookalike-name.xlsx', 'file-bad-part-name'],
  ['doctype-workbook.xlsx', 'file-xml-dtd'],
  ['entity-worksheet.xlsx', 'file-xml-dtd'],
  ['doctype-rels.xlsx', 'file-xml-dtd'],
  ['doctype-utf16.xlsx', 'file-xml-dtd'],
  ['name-whole-column.xlsx', 'file-too-complex'],
  ['name-all-rows.xlsx', 'file-too-complex'],
  ['name-whole-sheet.xlsx', 'file-too-complex'],
  ['prefixed-name-whole-column.xlsx', 'file-too-complex'],
  ['validation-whole-column.xlsx', 'file-too-complex'],
  ['validation-x14-sqref.xlsx', 'file-too-complex'],
  ['cf-all-rows.xlsx', 'file-too-complex'],
  ['merge-huge.xlsx', 'file-too-complex'],
  ['merges-many.xlsx', 'file-too-complex'],
  ['autofilter-whole-sheet.xlsx', 'file-too-complex'],
  ['row-beyond-limit.xlsx', 'file-too-many-rows'],
  ['dimension-beyond-limit.xlsx', 'file-too-many-rows'],
  ['column-beyond-limit.xlsx', 'file-too-many-rows'],
  // the baseline's own ranges against tighter limits
  ['baseline.xlsx', 'file-too-complex', { maxRangeCells: 10 }],
  ['baseline.xlsx', 'file-too-complex', { maxMergedRanges: 0 }],
  ['baseline.xlsx', 'file-too-many-rows', { maxRows: 3 }],
  ['baseline.xlsx', 'file-too-many-rows', { maxColumns: 3 }],
  ['baseline.xlsx', 'file-too-complex', { maxEntries: 5 }],
  // prefixed elements are scanned too
  ['prefixed.xlsx', 'file-too-many-rows', { maxRows: 3 }],
  ['prefixed.xlsx', 'file-too-complex', { maxRangeCells: 10 }],
];

// [fixture, sheets, date1904]
const ACCEPTED: Array<[string, string[], boolean]> = [
  ['baseline.xlsx', ['月报', '说明'], false],
  ['rezipped.xlsx', ['月报', '说明'], false],
  ['data-descriptor.xlsx', ['月报', '说明'], false],
  ['date1904.xlsx', ['月报', '说明'], true],
  ['prefixed.xlsx', ['月报', '说明'], false],
  ['chartsheet.xlsx', ['月报', '说明'], false], // chartsheets hold no cells and are left out
];

const CJK = /[\u4e00-\u9fff]/;
// raised from the workbook or a worksheet part; these carry a sheet (and a cell) when known
const WORKBOOK_LEVEL = new Set<IssueCode>(['file-too-complex', 'file-too-many-rows']);

describe('gate: refused uploads', () => {
  it.each(REFUSED)('%s → %s %j', (name, code, limits) => {
    const result = gateUpload(fixture(name), limits);
    expect(result.ok).toBe(false);
    const issues = issuesOf(result);
    expect(issues[0]?.code).toBe(code);
    for (const issue of issues) {
      expect(ISSUE_CODES[issue.code].stage).toBe('file');
      expect(issue.severity).toBe('error');
      expect(issue.message).toMatch(CJK);
      if (!WORKBOOK_LEVEL.has(issue.code)) expect(issue).toMatchObject({ sheet: null, cell: null });
    }
  });

  it('names the sheet, the range and the fix for worksheet-level issues', () => {
    const [issue] = issuesOf(gateUpload(fixture('validation-whole-column.xlsx')));
    expect(issue).toMatchObject({ code: 'file-too-complex', sheet: '月报', value: 'B2 D:D' });
    expect(issue!.message).toContain('数据验证');
    const [row] = issuesOf(gateUpload(fixture('row-beyond-limit.xlsx')));
    expect(row).toMatchObject({ code: 'file-too-many-rows', sheet: '月报', row: 20001 });
    const [col] = issuesOf(gateUpload(fixture('column-beyond-limit.xlsx')));
    expect(col).toMatchObject({ code: 'file-too-many-rows', sheet: '月报', cell: 'BM5' });
  });

  it('collects every workbook and worksheet issue of one upload', () => {
    const issues = issuesOf(gateUpload(fixture('baseline.xlsx'), { maxRangeCells: 10, maxRows: 3 }));
    const codes = issues.map((i) => i.code);
    expect(codes).toContain('file-too-complex');
    expect(codes).toContain('file-too-many-rows');
  });
});

describe('gate: accepted uploads', () => {
  it.each(ACCEPTED)('%s → %j', (name, sheets, date1904) => {
    const result = gateUpload(fixture(name));
    expect(result).toMatchObject({ ok: true, date1904 });
    if (!result.ok) return;
    expect(result.sheets.map((s) => s.name)).toEqual(sheets);
  });

  it('returns paths and states of the baseline', () => {
    expect(gateUpload(fixture('baseline.xlsx'))).toEqual({
      ok: true,
      date1904: false,
      sheets: [
        { name: '月报', path: 'xl/worksheets/sheet1.xml', state: 'visible' },
        { name: '说明', path: 'xl/worksheets/sheet2.xml', state: 'hidden' },
      ],
    });
  });

  it('takes a Uint8Array view into a larger buffer', () => {
    const bytes = fixture('baseline.xlsx');
    const padded = new Uint8Array(bytes.length + 10);
    padded.set(bytes, 5);
    expect(gateUpload(padded.subarray(5, 5 + bytes.length)).ok).toBe(true);
  });

  it('ignores undefined and NaN limits', () => {
    expect(gateUpload(fixture('baseline.xlsx'), { maxRows: undefined, maxBytes: Number.NaN }).ok).toBe(true);
  });

  it('keeps the documented defaults', () => {
    expect(DEFAULT_LIMITS).toEqual({
      maxBytes: 10 * 1024 * 1024,
      maxEntries: 200,
      maxTotalUncompressed: 100 * 1024 * 1024,
      maxPartUncompressed: 50 * 1024 * 1024,
      maxRatio: 200,
      maxMergedRanges: 1000,
      maxRangeCells: 1_000_000,
      maxRows: 20_000,
      maxColumns: 64,
    });
  });
});

describe('gate: a 10,000-row ledger', () => {
  let ledger: Buffer;
  beforeAll(async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('台账');
    ws.addRow(['任务编号', '任务名称', '责任科室', '责任人', '完成时限', '进展状态', '完成进度', '备注']);
    for (let i = 1; i <= 10_000; i++) {
      ws.addRow([`T${String(i).padStart(5, '0')}`, `第 ${i} 项重点任务`, `科室${i % 17}`, `负责人${i % 89}`, new Date(Date.UTC(2026, i % 12, 1 + (i % 28))), ['未开始', '进行中', '已完成'][i % 3], (i % 101) / 100, i % 7 ? '' : '需协调']);
    }
    withValidations(ws).add('F2:F10001', { type: 'list', allowBlank: true, formulae: ['"未开始,进行中,已完成"'] });
    ledger = Buffer.from(await wb.xlsx.writeBuffer());
  }, 60_000);

  it('passes', () => {
    expect(ledger.length).toBeGreaterThan(300_000);
    expect(gateUpload(ledger)).toMatchObject({ ok: true, sheets: [{ name: '台账' }] });
  });

  it('is refused past a tighter row limit', () => {
    expect(issuesOf(gateUpload(ledger, { maxRows: 5_000 }))[0]?.code).toBe('file-too-many-rows');
  });
});

describe('gate internals', () => {
  // [ref, cells]
  const RANGES: Array<[string, number]> = [
    ['A1', 1],
    ['A1:D4', 16],
    ['$B$2:$C$3', 4],
    ['B2 D:D', 1 + 1_048_576],
    ['2:2', 16_384],
    ['$1:$1048576', 17_179_869_184],
    ['A1:XFD1048576', 17_179_869_184],
    ["'月报'!$A:$A", 1_048_576],
    ["'A1:Z9'!B2", 1], // quoted sheet names are not ranges
    ['SUM(月报!$A$1:$A$10)+LOG10(5)', 10],
    ['"A:A"', 0], // string literals neither
    ['#REF!', 0],
  ];
  it.each(RANGES)('rangeSize(%s) = %d', (ref, cells) => {
    expect(rangeSize(ref).cells).toBe(cells);
  });

  // [worksheet xml, codes] against small limits: 10 rows, 5 columns, 2 merges, 100 cells a range
  const SHEETS: Array<[string, IssueCode[]]> = [
    ['<sheetData><row r="10"><c r="E10"/></row></sheetData>', []],
    ['<sheetData><row r="11"/></sheetData>', ['file-too-many-rows']],
    ['<sheetData>' + '<row/>'.repeat(11) + '</sheetData>', ['file-too-many-rows']], // rows without r count on
    ['<sheetData><row r="1">' + '<c/>'.repeat(6) + '</row></sheetData>', ['file-too-many-rows']], // cells without r count on
    ['<sheetData><row r="1">' + '<c r="A1"/>'.repeat(6) + '</row></sheetData>', ['file-too-many-rows']], // repeated refs still count
    ['<sheetData><row r="1"><c r="F1"/></row></sheetData>', ['file-too-many-rows']],
    ['<dimension ref="A1:E11"/>', ['file-too-many-rows']],
    ['<!-- <row r="99"/> --><![CDATA[<c r="ZZ1"/>]]>', []],
    ['<mergeCells><mergeCell ref="A1:B1"/><mergeCell ref="A2:B2"/></mergeCells>', []],
    ['<mergeCells><mergeCell ref="A1:B1"/><mergeCell ref="A2:B2"/><mergeCell ref="A3:B3"/></mergeCells>', ['file-too-complex']],
    ['<mergeCells><mergeCell ref="A1:J11"/></mergeCells>', ['file-too-complex']],
    ['<conditionalFormatting sqref="A1:A50 B1:B50"/>', []],
    ['<conditionalFormatting sqref="A1:A50 B1:B51"/>', ['file-too-complex']],
    ['<x14:conditionalFormatting><xm:sqref>A:A</xm:sqref></x14:conditionalFormatting>', ['file-too-complex']],
    ['<x:dataValidations><x:dataValidation sqref="1:1"/></x:dataValidations>', ['file-too-complex']],
    ['<autoFilter ref="A1:J10"/>', []],
    ['<sheetData><row r="11"><c r="F11"/></row></sheetData><autoFilter ref="A1:J11"/>', ['file-too-many-rows', 'file-too-many-rows', 'file-too-complex']],
  ];
  it.each(SHEETS)('scanWorksheet(%s) → %j', (xml, codes) => {
    const limits = { maxRows: 10, maxColumns: 5, maxMergedRanges: 2, maxRangeCells: 100 };
    expect(scanWorksheet(`<worksheet>${xml}</worksheet>`, '月报', limits).map((i) => i.code)).toEqual(codes);
  });

  it('reads prefixed workbook elements and any relationship-id prefix', () => {
    const info = parseWorkbook(
      '<x:workbook xmlns:x="m" xmlns:ns1="r"><x:workbookPr date1904="true"/><x:sheets><x:sheet name="A&amp;B" sheetId="1" ns1:id="rId9" state="veryHidden"/></x:sheets><x:definedNames><x:definedName name="n" localSheetId="0">A!$A:$A</x:definedName></x:definedNames></x:workbook>',
    );
    expect(info).toEqual({
      date1904: true,
      sheets: [{ name: 'A&B', rid: 'rId9', state: 'veryHidden' }],
      definedNames: [{ name: 'n', localSheetId: 0, formula: 'A!$A:$A' }],
    });
  });

  it('ignores look-alike tags in comments and CDATA', () => {
    const info = parseWorkbook('<workbook><!-- <sheet name="x"/> --><![CDATA[<sheet name="y"/>]]><sheets><sheet name="z" r:id="rId1"/></sheets></workbook>');
    expect(info.sheets.map((s) => s.name)).toEqual(['z']);
  });

  it('resolves relationship targets', () => {
    expect(resolveTarget('xl/workbook.xml', 'worksheets/sheet1.xml')).toBe('xl/worksheets/sheet1.xml');
    expect(resolveTarget('xl/workbook.xml', '/xl/worksheets/sheet1.xml')).toBe('xl/worksheets/sheet1.xml');
    expect(resolveTarget('xl/workbook.xml', '../xl/worksheets/sheet%201.xml')).toBe('xl/worksheets/sheet 1.xml');
    expect(resolveTarget('xl/workbook.xml', '../../etc/passwd')).toBeNull();
  });

  it('finds DTDs in any case and in UTF-16', () => {
    expect(hasDtd(Buffer.from('<?xml?><!doctype x>'))).toBe(true);
    expect(hasDtd(Buffer.from('<?xml?><!-- x --><a/>'))).toBe(false);
    expect(hasDtd(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('<!ENTITY x "y">', 'utf16le').swap16()]))).toBe(true);
  });

  it('falls back to a byte search when a CFB directory is unreadable', () => {
    const header = Buffer.alloc(600);
    Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(header);
    expect(classifyCfb(header)).toBe('legacy');
    Buffer.from('EncryptedPackage', 'utf16le').copy(header, 520);
    expect(classifyCfb(header)).toBe('encrypted');
  });

  it('has a table CRC equal to zlib', () => {
    const data = zlib.deflateRawSync(Buffer.from('月报'.repeat(1000)));
    expect(crc32Table(data)).toBe(crc32(data));
    expect(crc32Table(Buffer.from('hello'))).toBe(907060870);
  });
});
