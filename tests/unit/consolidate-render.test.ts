/**
 * The consolidated workbook: sheet order and names, header rows, numeric cells and formats, notes
 * beside incomplete totals, hostile text never written raw, byte-identical output.
 */
import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { describe, expect, it } from 'vitest';
import type { LedgerTemplate, Target } from '../../schemas/model.ts';
import { bundledDefinitions } from '../../schemas/index.ts';
import { byMonth, makeEntry, type EntrySpec } from '../../functions/core/consolidate/build.ts';
import { consolidate } from '../../functions/core/consolidate/compute.ts';
import type { ConsolidationInput, CountyUnit } from '../../functions/core/consolidate/types.ts';
import { renderConsolidated, writeConsolidated } from '../../functions/core/render/consolidated.ts';
import { safeText } from '../../functions/core/render/consolidated-format.ts';
import { makeIssue } from '../../functions/core/report.ts';
import { testElement, testTemplate } from '../fakes/template.ts';

const el = testElement;
const TT = testTemplate([el('TT01', '门急诊人次', 'flow', { unit: '人次' }), el('TT03', '规范管理人数', 'stock'), el('TT04', '患者满意度', 'stock', { unit: '%', type: 'percent', additive: false }), el('TT05', '应管理人数', 'stock')], [
    { code: 'TT-I02', name: '规范管理率', numerator: ['TT03'], denominator: ['TT05'], factor: 100, unit: '%', source: 'test' },
    { code: 'TT-I03', name: '千人门诊', numerator: ['TT01'], denominator: ['TT05'], factor: 1000, unit: '‰', source: 'test' },
  ]);
const TZ = bundledDefinitions().template('T-TZ')! as LedgerTemplate;

const A = '150525-101';
const B = '150525-102';

const HOSTILE = [`=cmd|' /C calc'!A0`, '+1', '-1', '@SUM(1)', '＝1+1', ' =HYPERLINK("http://x")'];

function county(names: [string, string] = ['甲镇卫生院', '乙镇卫生院']): CountyUnit {
  return {
    code: '150525',
    name: '奈曼旗',
    deadlineDay: 5,
    institutions: [
      { code: A, name: names[0], type: 'township_hc', typeName: '苏木乡镇卫生院', owes: ['T-TT', 'T-TZ'] },
      { code: B, name: names[1], type: 'township_hc', typeName: '苏木乡镇卫生院', owes: ['T-TT', 'T-TZ'] },
    ],
  };
}

const target: Target = { indicator: 'TT-I02', direction: '>=', value: 60, year: 2025, document: '奈卫健字〔2025〕24号', quote: '不低于60%' };

function input(entries: EntrySpec[], extra: Partial<ConsolidationInput> = {}): ConsolidationInput {
  return {
    level: 'county',
    area: { code: '150525', name: '奈曼旗' },
    period: '2025-03',
    months: ['2025-03'],
    counties: [county()],
    templates: [TT, TZ],
    targets: [target, { ...target, indicator: 'TT-I03', direction: '<=', value: 1 }],
    entries: byMonth(entries.map(makeEntry)),
    ledgerRows: new Map(),
    generatedAt: new Date('2025-04-10T02:00:00Z'),
    ...extra,
  };
}

const BASIC: EntrySpec[] = [
  { institution: A, template: 'T-TT', period: '2025-01', values: { TT01: 80, TT03: 55, TT04: 93, TT05: 100 } },
  { institution: A, template: 'T-TT', period: '2025-03', values: { TT01: 120, TT03: 70, TT04: 95.5, TT05: 100 } },
  { institution: A, template: 'T-TT', period: '2025-02', values: { TT01: 100, TT03: 60, TT04: 94, TT05: 100 } },
  { institution: B, template: 'T-TT', period: '2025-02', values: { TT01: 50, TT03: 20, TT04: 90, TT05: 50 } },
];

async function load(buf: Buffer): Promise<ExcelJS.Workbook> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buf as unknown as ArrayBuffer);
  return wb;
}

const rowValues = (ws: ExcelJS.Worksheet, n: number): unknown[] => (ws.getRow(n).values as unknown[]).slice(1);

function findRow(ws: ExcelJS.Worksheet, firstCell: string): ExcelJS.Row {
  let found: ExcelJS.Row | undefined;
  ws.eachRow((row) => {
    if (!found && row.getCell(1).value === firstCell) found = row;
  });
  if (!found) throw new Error(`no row starting with ${firstCell} in ${ws.name}`);
  return found;
}

function header(ws: ExcelJS.Worksheet, n: number): Map<string, number> {
  const out = new Map<string, number>();
  ws.getRow(n).eachCell((cell, col) => {
    if (typeof cell.value === 'string') out.set(cell.value, col);
  });
  return out;
}

describe('the consolidated workbook', () => {
  it('has its sheets in order, with these names', async () => {
    const wb = await load(await renderConsolidated(consolidate(input(BASIC))));
    expect(wb.worksheets.map((w) => w.name)).toEqual(['说明', '上报情况', '指标汇总', '测试月报明细', '任务台账', '校验问题']);
    expect(wb.getWorksheet('说明')!.getCell('A1').value).toBe('奈曼旗卫生健康统计月报汇总（2025年3月）');
  });

  it('titles a quarter and a year', () => {
    expect(consolidate(input(BASIC, { period: '2025-Q1', months: ['2025-01', '2025-02', '2025-03'] })).title).toBe('奈曼旗卫生健康统计月报汇总（2025年第1季度）');
    expect(consolidate(input(BASIC, { period: '2025', months: ['2025-01', '2025-02', '2025-03'] })).title).toBe('奈曼旗卫生健康统计月报汇总（2025年）');
  });

  it('指标汇总: a header row with the comparison columns; one row per element and indicator, code first; numbers with formats', async () => {
    const wb = await load(await renderConsolidated(consolidate(input(BASIC))));
    const ws = wb.getWorksheet('指标汇总')!;
    const h = header(ws, 3);
    for (const name of ['代码', '本月', '本年累计', '上月', '环比', '去年同期', '同比', '年度目标', '序时方式', '序时目标（3/12）', '考核值', '差距', '达标情况', '目标来源', '实报', '应报', '备注']) expect(h.has(name), name).toBe(true);
    expect(ws.getCell(3, 1).value).toBe('代码');
    expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 3 });

    const flow = findRow(ws, 'TT01');
    expect(flow.getCell(h.get('本月')!).value).toBe(120);
    expect(flow.getCell(h.get('本月')!).numFmt).toBe('#,##0');
    expect(flow.getCell(h.get('上月')!).value).toBe(150);
    // 环比 over the comparable set: 乙 is missing in March, so March's 120 is compared with 甲's 100 of February
    const mom = flow.getCell(h.get('环比')!);
    expect(mom.value).toBeCloseTo(20, 10);
    expect(mom.numFmt).toContain('"%"');
    expect(flow.getCell(h.get('实报')!).value).toBe(1);
    expect(flow.getCell(h.get('应报')!).value).toBe(2);
    expect(String(flow.getCell(h.get('备注')!).value)).toContain('本月缺报 1 家：乙镇卫生院（未上报）');
    expect(String(flow.getCell(h.get('备注')!).value)).toContain('环比可比口径（1 家）：剔除本期或基期缺报的 1 家：乙镇卫生院（本月未上报）');

    const rate = findRow(ws, 'TT-I02');
    expect(rate.getCell(h.get('本月')!).value).toBe(70);
    expect(rate.getCell(h.get('本月')!).numFmt).toBe('0.00"%"');
    expect(rate.getCell(h.get('上月')!).value).toBe((80 / 150) * 100);
    // the rate over the comparable set too: 甲's 70/100 against its 60/100; the 上月 column stays as reported
    expect(rate.getCell(h.get('环比')!).value).toBeCloseTo(10, 10);
    expect(rate.getCell(h.get('环比')!).numFmt).toContain('个百分点');
    expect(rate.getCell(h.get('年度目标')!).value).toBe(60);
    expect(rate.getCell(h.get('年度目标')!).numFmt).toBe('"≥"0"%"');
    expect(rate.getCell(h.get('达标情况')!).value).toBe('达标');
    expect((rate.getCell(h.get('达标情况')!).fill as ExcelJS.FillPattern).fgColor!.argb).toBe('FFC6EFCE');
    expect(rate.getCell(h.get('目标来源')!).value).toBe('奈卫健字〔2025〕24号');

    const permille = findRow(ws, 'TT-I03');
    expect(permille.getCell(h.get('本月')!).value).toBe((120 / 100) * 1000);
    expect(permille.getCell(h.get('本月')!).numFmt).toBe('0.00"‰"');
    expect(permille.getCell(h.get('环比')!).numFmt).toContain('个千分点');
    expect(permille.getCell(h.get('达标情况')!).value).toBe('未达标');
    expect((permille.getCell(h.get('达标情况')!).fill as ExcelJS.FillPattern).fgColor!.argb).toBe('FFFFC7CE');

    // a non-additive element: no total, and the note says so
    const sat = findRow(ws, 'TT04');
    expect(sat.getCell(h.get('本月')!).value).toBeNull();
    expect(String(sat.getCell(h.get('备注')!).value)).toContain('不可加总');
  });

  it('detail sheet: institutions as rows (code, name first), code / name / unit header rows, a 合计 row and who it covers', async () => {
    const wb = await load(await renderConsolidated(consolidate(input(BASIC))));
    const ws = wb.getWorksheet('测试月报明细')!;
    expect(rowValues(ws, 3).slice(0, 2)).toEqual(['机构代码', '机构名称']);
    expect(rowValues(ws, 3).slice(4, 10)).toEqual(['TT01', 'TT03', 'TT04', 'TT05', 'TT-I02', 'TT-I03']);
    expect(rowValues(ws, 4).slice(4, 8)).toEqual(['门急诊人次', '规范管理人数', '患者满意度', '应管理人数']);
    expect(rowValues(ws, 5).slice(4, 10)).toEqual(['人次', '人（期末）', '%（不可加总）', '人（期末）', '%', '‰']);
    expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 5, xSplit: 2 });
    expect(rowValues(ws, 6).slice(0, 10)).toEqual([A, '甲镇卫生院', '苏木乡镇卫生院', '已通过', 120, 70, 95.5, 100, 70, 1200]);
    expect(rowValues(ws, 7).slice(0, 4)).toEqual([B, '乙镇卫生院', '苏木乡镇卫生院', '未上报']);
    expect(ws.getCell(7, 5).value).toBeNull();
    const total = findRow(ws, '合计');
    expect(total.getCell(5).value).toBe(120);
    expect(total.getCell(7).value).toBe('不可加总');
    expect(String(total.getCell(11).value)).toContain('缺报 1 家：乙镇卫生院（未上报）');
    const covered = findRow(ws, '实报机构数');
    expect(covered.getCell(5).value).toBe(1);
  });

  it('上报情况, 任务台账 and 校验问题 list what they should, with numbers as numbers', async () => {
    const ledger = [{ row: 8, taskNo: '23', content: '中医类别医师占比不低于25%', owner: '院长', deadline: '2025-02-28', status: '推进中', progress: 40, measures: null, remark: null }];
    const warn = makeIssue('rule-violation', 'D28「免疫规划疫苗实种剂次」为 310，大于 D27「免疫规划疫苗应种剂次」300', { sheet: '测试月报', row: 28, col: 4, element: 'TT01', severity: 'warning' });
    const entries: EntrySpec[] = [
      { ...BASIC.find((e) => e.period === '2025-03')!, warnings: [warn] },
      { institution: A, template: 'T-TZ', period: '2025-03', rows: ledger },
    ];
    const wb = await load(await renderConsolidated(consolidate(input(entries))));
    const st = wb.getWorksheet('上报情况')!;
    const h = header(st, 3);
    for (const name of ['状态', '上报时间', '是否逾期', '上传次数', '错误数', '警告数']) expect(h.has(name), name).toBe(true);
    const r4 = st.getRow(4);
    expect([r4.getCell(h.get('机构代码')!).value, r4.getCell(h.get('状态')!).value, r4.getCell(h.get('是否逾期')!).value, r4.getCell(h.get('警告数')!).value]).toEqual([A, '有警告', '按时', 1]);
    const total = findRow(st, '合计');
    expect(total.getCell(1).value).toBe('合计');
    expect(rowValues(st, total.number).slice(2, 9)).toEqual([4, 2, 0, 2, 50, 2, 50]);

    const tz = wb.getWorksheet('任务台账')!;
    const th = header(tz, 3);
    expect(tz.getRow(4).getCell(th.get('任务内容')!).value).toBe('中医类别医师占比不低于25%');
    expect(tz.getRow(4).getCell(th.get('是否逾期')!).value).toBe('逾期');
    expect(tz.getRow(4).getCell(th.get('完成进度')!).value).toBe(40);

    const is = wb.getWorksheet('校验问题')!;
    const ih = header(is, 3);
    expect(is.getRow(4).getCell(ih.get('单元格')!).value).toBe('D28');
    expect(is.getRow(4).getCell(ih.get('问题说明')!).value).toBe(warn.message);
  });

  it('prints landscape, fit to width, with repeated header rows', async () => {
    const buf = await renderConsolidated(consolidate(input(BASIC)));
    const wb = await load(buf);
    const ws = wb.getWorksheet('指标汇总')!;
    expect(ws.pageSetup).toMatchObject({ orientation: 'landscape', fitToPage: true, fitToWidth: 1, fitToHeight: 0 });
    const zip = await JSZip.loadAsync(buf);
    const workbookXml = await zip.file('xl/workbook.xml')!.async('string');
    expect(workbookXml).toContain('_xlnm.Print_Titles');
    expect(workbookXml.replace(/&apos;/g, "'")).toContain("'指标汇总'!$3:$3");
    expect(workbookXml.replace(/&apos;/g, "'")).toContain("'测试月报明细'!$3:$5");
  });
});

describe('hostile text and numbers', () => {
  it('safeText escapes formula starts and strips control characters and U+FFFE', () => {
    for (const s of HOSTILE) expect(safeText(s).startsWith("'")).toBe(true);
    expect(safeText('正常文本')).toBe('正常文本');
    expect(safeText('a\u0000b\u0007c\u001fd\u007f\u0085e\uFFFEf\uFFFF')).toBe('abcdef');
    expect(safeText('x\r\ny')).toBe('x\ny');
    expect(safeText('\uD800lone')).toBe('lone');
    expect(safeText('😀')).toBe('😀');
    expect(safeText('x'.repeat(40000))).toHaveLength(32767);
  });

  it('nothing user-typed reaches the workbook raw: names, ledger text, remarks, issue messages; no NaN or Infinity', async () => {
    const evil = (i: number) => `${HOSTILE[i % HOSTILE.length]}\u0001\uFFFE`;
    const ledger = HOSTILE.map((h, i) => ({ row: 8 + i, taskNo: h, content: evil(i), owner: evil(i + 1), deadline: '2025-12-31', status: '推进中', progress: Number.NaN, measures: evil(i + 2), remark: evil(i + 3) }));
    const issue = makeIssue('value-not-number', '=1+1\u0002', { sheet: '@sheet', row: 9, col: 4, element: 'TT01', severity: 'error' });
    const entries: EntrySpec[] = [
      { institution: A, template: 'T-TT', period: '2025-03', values: { TT01: Number.NaN, TT03: Number.POSITIVE_INFINITY, TT04: Number.NEGATIVE_INFINITY, TT05: 0 }, remarks: { TT01: '-5 减少', TT03: '@x' } },
      { institution: B, template: 'T-TT', period: '2025-03', rejected: [issue] },
      { institution: A, template: 'T-TZ', period: '2025-03', rows: ledger },
    ];
    const result = consolidate(input(entries, { counties: [county([`=cmd|' /C calc'!A0`, '@SUM(1)\u0003'])], area: { code: '150525', name: '+奈曼旗' } }));
    const buf = await renderConsolidated(result);

    // the raw parts: no formulas, no NaN/Infinity, no control characters, no U+FFFE
    const zip = await JSZip.loadAsync(buf);
    for (const name of Object.keys(zip.files).filter((n) => n.endsWith('.xml'))) {
      const xml = await zip.file(name)!.async('string');
      expect(xml, name).not.toMatch(/<f[ >]/);
      expect(xml, name).not.toMatch(/>(-?Infinity|NaN)</);
      expect(xml, name).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/);
    }

    // read back: every string cell that started hostile now starts with an apostrophe
    const wb = await load(buf);
    let strings = 0;
    for (const ws of wb.worksheets) {
      ws.eachRow((row) =>
        row.eachCell((cell) => {
          const v = cell.value;
          if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
          if (typeof v !== 'string') return;
          strings++;
          expect(v, `${ws.name}!${cell.address}`).not.toMatch(/^\s*[=+\-@＝＋－＠]/);
        }),
      );
    }
    expect(strings).toBeGreaterThan(50);
    const tz = wb.getWorksheet('任务台账')!;
    expect(tz.getRow(4).getCell(4).value).toBe(`'=cmd|' /C calc'!A0`); // 任务编号
    expect(tz.getRow(4).getCell(5).value).toBe(`'=cmd|' /C calc'!A0`); // 任务内容, control characters gone
    expect(tz.getRow(4).getCell(6).value).toBe(`'+1`); // 责任人
    expect(wb.getWorksheet('测试月报明细')!.getCell('B6').value).toBe(`'=cmd|' /C calc'!A0`);
    expect(wb.getWorksheet('测试月报明细')!.getCell('B7').value).toBe(`'@SUM(1)`);
    // the NaN/Infinity values were absent, not written
    const detail = wb.getWorksheet('测试月报明细')!;
    expect([detail.getCell('E6').value, detail.getCell('F6').value, detail.getCell('G6').value]).toEqual([null, null, null]);
  });
});

describe('determinism', () => {
  it('the same input gives byte-identical workbooks, streamed or buffered', async () => {
    const entries: EntrySpec[] = [...BASIC, { institution: A, template: 'T-TZ', period: '2025-03', rows: [{ row: 8, taskNo: '1', content: '任务', owner: '甲', deadline: '2025-01-31', status: '推进中', progress: 5, measures: null, remark: null }] }];
    const a = await renderConsolidated(consolidate(input(entries)));
    await new Promise((r) => setTimeout(r, 1100));
    const b = await renderConsolidated(consolidate(input(entries)));
    expect(a.equals(b)).toBe(true);

    const chunks: Buffer[] = [];
    const stream = new PassThrough();
    stream.on('data', (c: Buffer) => chunks.push(c));
    await writeConsolidated(consolidate(input(entries)), stream);
    expect(Buffer.concat(chunks).equals(a)).toBe(true);

    // the zip entries and document properties carry generatedAt, not the clock
    const zip = await JSZip.loadAsync(a);
    for (const f of Object.values(zip.files)) expect(f.date.toISOString()).toBe('2025-04-10T02:00:00.000Z');
    expect(await zip.file('docProps/core.xml')!.async('string')).toContain('2025-04-10T02:00:00Z');

    const later = await renderConsolidated(consolidate(input(entries, { generatedAt: new Date('2025-04-11T02:00:00Z') })));
    expect(later.equals(a)).toBe(false);
  });
});
