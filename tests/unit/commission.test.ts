/**
 * What the commission looks at, on hand-made data: trends (merged institutions follow the definitions),
 * the data draft's sentences (figures, changes, missing institutions, targets), the lake's rows.
 */
import { describe, expect, it } from 'vitest';
import type { DefinitionsContent, IndicatorTemplate, Institution, Target } from '../../schemas/model.ts';
import { Definitions } from '../../functions/core/definitions/definitions.ts';
import { byMonth, makeEntry, type EntrySpec } from '../../functions/core/consolidate/build.ts';
import { consolidate } from '../../functions/core/consolidate/compute.ts';
import type { ConsolidationInput } from '../../functions/core/consolidate/types.ts';
import { computeTrends, membersOf, periodEndingBy, periodsEnding, periodsInSpan, trend } from '../../functions/core/trend/index.ts';
import { buildDraft, type DraftRun } from '../../functions/core/draft/index.ts';
import { parsePattern, areaWord } from '../../functions/core/draft/patterns.ts';
import { fixed2, formatValue } from '../../functions/core/draft/format.ts';
import { lakeKeyOf, lakeRowsOf, lakeYears, writeLake } from '../../functions/core/lake/index.ts';
import { fixedDefinitions } from '../../functions/core/definitions/source.ts';
import { initialVersion } from '../../functions/core/definitions/log.ts';
import { periodsWithin } from '../../functions/cli/export.ts';
import { lakeConnection, plainRows } from '../../functions/cli/lake.ts';
import { MemoryObjects, MemoryStore } from '../fakes/memory.ts';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testElement, testTemplate } from '../fakes/template.ts';

const el = (code: string, semantics: 'flow' | 'ytd' | 'stock', extra: Record<string, string> = {}) => testElement(code, `项${code}`, semantics, extra);
const TT = testTemplate([el('TT01', 'flow', { section: '医疗服务', sentence: '{累计期间}，{地区}门诊{TT01.累计}人次，其中{本期}{TT01}人次，较上年同期{TT01.同比}。' }), el('TT02', 'stock'), el('TT03', 'stock')], [{ code: 'TT-I01', name: '规范管理率', numerator: ['TT02'], denominator: ['TT03'], factor: 100, unit: '%', source: '', section: '基本公共卫生', sentence: '截至{期末}，{地区}应管理{TT03}人，规范管理{TT02}人，规范管理率{TT-I01}，较上年同期{TT-I01.同比}，年度目标{TT-I01.目标}，{TT-I01.达标}。' }]);
const [A, B, C, D] = ['150525-101', '150525-102', '150525-103', '150525-104'];
const inst = (code: string, name: string, life: Partial<Institution> = {}): Institution => ({ code, name, type: 'township_hc', extraTemplates: [], source: '', ...life });
/** A merged into C from 2025-02; B and D as they are */
const CONTENT: DefinitionsContent = {
  institutionTypes: [{ code: 'township_hc', name: '苏木乡镇卫生院', templates: ['T-TT'] }],
  counties: [
    {
      code: '150525',
      name: '奈曼旗',
      city: { code: '1505', name: '通辽市' },
      deadlineDay: 5,
      institutions: [inst(A, '甲镇卫生院', { until: '2025-02', mergedInto: C }), inst(B, '乙镇卫生院'), inst(C, '丙镇中心卫生院'), inst(D, '丁镇卫生院')],
      targets: [{ indicator: 'TT-I01', direction: '>=', value: 80, year: 2025, document: '奈卫健字〔2025〕1号', quote: '' }],
    },
  ],
  templates: [TT],
};
const DEFS = new Definitions(CONTENT, { version: 1 });
const MONTHS = ['2024-02', '2024-03', '2025-01', '2025-02', '2025-03'];

/** every institution every month it owes: TT01 = 10 × n, TT02/TT03 a level; D misses 2025-03 */
function entries(): EntrySpec[] {
  const out: EntrySpec[] = [];
  [A, B, C, D].forEach((code, n) => {
    for (const period of MONTHS) {
      if (code === A && period >= '2025-02') continue;
      if (code === D && period === '2025-03') continue;
      const scale = period.startsWith('2025') ? 1.1 : 1;
      out.push({ institution: code, template: 'T-TT', period, values: { TT01: 10 * (n + 1), TT02: Math.round(80 * (n + 1) * scale), TT03: 100 * (n + 1) } });
    }
  });
  return out;
}
const ENTRIES = byMonth(entries().map(makeEntry));

describe('trends', () => {
  const trends = (institution?: string, codes = ['TT01', 'TT-I01']) =>
    computeTrends({ latest: DEFS, at: () => DEFS, county: '150525', ...(institution ? { institution } : {}), codes, periods: periodsEnding('2025-03', 3), entries: ENTRIES, now: new Date('2025-04-10T00:00:00Z') });

  it('the county’s series is each month’s detail 合计 as its own consolidation computes it, missing institutions named', () => {
    const [flow, rate] = trends();
    for (const month of ['2025-01', '2025-02', '2025-03']) {
      const full = consolidate({ level: 'county', area: { code: '150525', name: '奈曼旗' }, period: month, months: [month], counties: [{ code: '150525', name: '奈曼旗', deadlineDay: 5, institutions: DEFS.counties[0]!.institutions.map((i) => ({ code: i.code, name: i.name, type: i.type, typeName: '苏木乡镇卫生院', owes: ['T-TT'], ...(i.until ? { until: i.until } : {}), ...(i.mergedInto ? { mergedInto: i.mergedInto } : {}) })) }], templates: [TT], targets: DEFS.counties[0]!.targets, entries: ENTRIES, ledgerRows: new Map(), generatedAt: new Date() } satisfies ConsolidationInput);
      const d = full.details[0]!;
      const i = (code: string) => d.columns.findIndex((c) => c.code === code);
      expect(flow!.points.find((p) => p.period === month)!.value).toBe(d.total[i('TT01')]);
      expect(rate!.points.find((p) => p.period === month)!.value).toBe(d.total[i('TT-I01')]);
    }
    // A (10) + B (20) + C (30) + D (40) in January; A reports no more from the merge; D missing in March
    expect(flow!.points.map((p) => p.value)).toEqual([100, 90, 50]);
    expect(flow!.points.map((p) => [p.covered, p.owed])).toEqual([[3, 3], [3, 3], [2, 3]]);
    expect(flow!.points[2]!.missing.map((m) => `${m.name}${m.reason}`)).toEqual(['丁镇卫生院未上报']);
    expect(rate!.points[0]!.target).toMatchObject({ direction: '>=', value: 80, document: '奈卫健字〔2025〕1号' });
    expect(flow!.ranking!.map((r) => [r.code, r.value])).toEqual([[C, 30], [B, 20], [D, null]]);
  });

  it('a merged institution’s months count under its successor: C’s series holds A’s months before the merge', () => {
    expect([...membersOf(DEFS, C)].sort()).toEqual([A, C]);
    const [flow, rate] = trends(C);
    expect(flow!.institution).toEqual({ code: C, name: '丙镇中心卫生院' });
    expect(flow!.points.map((p) => p.value)).toEqual([10 + 30, 30, 30]);
    // the rate from the summed operands, never an average of rates
    expect(rate!.points[0]!.value).toBeCloseTo(((88 + 264) / (100 + 300)) * 100, 10);
    expect(flow!.ranking).toBeNull();
    const [b] = trends(B, ['TT01']);
    expect(b!.points.map((p) => p.value)).toEqual([20, 20, 20]);
  });

  it('a quarterly return’s element runs per quarter over the same span; the codes of one series share a 周期', async () => {
    expect([periodsInSpan('month', 13), periodsInSpan('quarter', 24), periodsInSpan('quarter', 13), periodsInSpan('year', 13), periodsInSpan('year', 12)]).toEqual([13, 8, 5, 2, 1]);
    expect([periodEndingBy('quarter', '2025-03'), periodEndingBy('quarter', '2025-02'), periodEndingBy('year', '2025-03'), periodEndingBy('year', '2025'), periodEndingBy('month', '2025-Q1')]).toEqual(['2025-Q1', '2024-Q4', '2024', '2025', '2025-03']);
    // B, C and D owe the quarterly T-TQ besides; D misses 2025-Q1
    const TQ: IndicatorTemplate = { ...TT, id: 'T-TQ', title: '测试季报', sheetName: '测试季报', periodType: 'quarter', elements: [el('TQ01', 'flow')], indicators: [] };
    const county = CONTENT.counties[0]!;
    const content: DefinitionsContent = { ...CONTENT, counties: [{ ...county, institutions: county.institutions.map((i) => (i.code === A ? i : { ...i, extraTemplates: ['T-TQ'] })) }], templates: [TT, TQ] };
    const store = new MemoryStore();
    for (const [n, code] of [B, C, D].entries()) {
      for (const period of ['2024-Q3', '2024-Q4', '2025-Q1']) if (!(code === D && period === '2025-Q1')) await store.makeCurrent(makeEntry({ institution: code, template: 'T-TQ', period, values: { TQ01: 20 + 10 * n } }).current!);
    }
    const definitions = fixedDefinitions({ versions: [initialVersion(content, '2024-01-01T00:00:00.000Z', 'test')] });
    const [q] = await trend(store, definitions, { county: '150525', codes: ['TQ01'], months: 9, to: '2025-03' }, new Date('2025-04-20T00:00:00Z'));
    expect([q!.periodType, q!.periods]).toEqual(['quarter', ['2024-Q3', '2024-Q4', '2025-Q1']]);
    expect(q!.points.map((p) => [p.period, p.value, p.covered, p.owed])).toEqual([['2024-Q3', 90, 3, 3], ['2024-Q4', 90, 3, 3], ['2025-Q1', 50, 2, 3]]);
    expect(q!.points[2]!.missing.map((m) => m.name)).toEqual(['丁镇卫生院']);
    // without `to`: the latest quarter with a return, however late the reporting month
    const [late] = await trend(store, definitions, { county: '150525', codes: ['TQ01'], months: 6 }, new Date('2025-09-10T00:00:00Z'));
    expect(late!.periods).toEqual(['2024-Q4', '2025-Q1']);
    await expect(trend(store, definitions, { county: '150525', codes: ['TT01', 'TQ01'], months: 12 }, new Date('2025-04-20T00:00:00Z'))).rejects.toThrow('TT01、TQ01 分属月报、季报或年报，周期不同，不能画在同一趋势中');
  });

  it('refuses what it cannot chart, in Chinese', () => {
    expect(() => trends(undefined, ['XX01'])).toThrow('指标代码 XX01 不是任何报表的数据项或计算指标');
    expect(() => trends('150425-101')).toThrow('不在 奈曼旗 的机构名录中');
  });
});

describe('the data draft', () => {
  const text = (runs: DraftRun[]) => runs.map((r) => r.text).join('');
  const draftOf = (period: string, targets: Target[] = DEFS.counties[0]!.targets, entries = ENTRIES) =>
    buildDraft(consolidate({ level: 'county', area: { code: '150525', name: '奈曼旗' }, period, months: [period], counties: [{ code: '150525', name: '奈曼旗', deadlineDay: 5, institutions: [B, C, D].map((code) => ({ code, name: DEFS.institution(code)!.institution.name, type: 'township_hc', typeName: '苏木乡镇卫生院', owes: ['T-TT'] })) }], templates: [TT], targets, entries, ledgerRows: new Map(), generatedAt: new Date('2025-04-10T02:00:00Z') }));
  const target = (value: number, pace: Target['pace']): Target => ({ indicator: 'TT-I01', direction: '>=', value, year: 2025, pace, document: '奈卫健字〔2025〕1号', quote: '' });

  it('fills the patterns from the consolidation: figures, the change against last year, the target, who is missing', () => {
    const d = draftOf('2025-03');
    expect(d.title).toBe('奈曼旗2025年3月卫生健康工作总结数据稿');
    expect(d.sections.map((s) => s.name)).toEqual(['基本公共卫生', '医疗服务']);
    const rate = text(d.sections[0]!.paragraphs[0]!);
    // B 176/200 and C 264/300 (D missing): 440/500 = 88.00 %; a year ago (B, C, D) 720/900 = 80 %
    expect(rate).toBe('截至2025年3月底，全旗应管理500人，规范管理440人，规范管理率88.00%，较上年同期提高8.00个百分点，年度目标≥80%，已达到目标（丁镇卫生院未上报，数据未计入）。');
    const figures = d.sections[0]!.paragraphs[0]!.filter((r) => r.figure).map((r) => [r.figure!.column, r.text]);
    expect(figures).toEqual([['本月', '500'], ['本月', '440'], ['本月', '88.00%'], ['同比', '8.00'], ['目标值', '≥80%']]);
    // B 20 × 3 + C 30 × 3 (D lacks March); 同比 over the comparable set: B and C, 50 against their 50 a year ago
    expect(text(d.sections[1]!.paragraphs[0]!)).toBe('2025年1—3月，全旗门诊150人次，其中2025年3月50人次，较上年同期持平（丁镇卫生院3月未上报，数据未计入）。');
    expect(text(d.overview[0]!)).toContain('应报报表3份，实报2份');
    expect(text(d.overview[1]!)).toContain('丁镇卫生院（测试月报，未上报）');
    expect(d.appendix.rows.map((r) => r.code)).toEqual(['TT01', 'TT02', 'TT03', 'TT-I01']);
  });

  it('{X.达标} says the 序时进度: the 序时目标 and the consolidation’s verdict, the gap as a figure', () => {
    // linear: by March a quarter of the year's value is due; 本年累计 88.00 % (B and C)
    const ahead = draftOf('2025-03', [target(200, 'linear')]).sections[0]!.paragraphs[0]!;
    expect(text(ahead)).toContain('年度目标≥200%，序时目标50.00%，达到序时进度（丁镇卫生院未上报');
    const behind = draftOf('2025-03', [target(400, 'linear')]).sections[0]!.paragraphs[0]!;
    expect(text(behind)).toContain('年度目标≥400%，序时目标100.00%，落后序时进度（12.00 个百分点）（丁镇卫生院未上报');
    expect(behind.filter((r) => r.figure).slice(-3).map((r) => [r.figure!.column, r.text])).toEqual([['目标值', '≥400%'], ['序时目标', '100.00%'], ['差距', '12.00']]);
    // no pace: judged on the value itself
    expect(text(draftOf('2025-03', [target(90, 'none')]).sections[0]!.paragraphs[0]!)).toContain('年度目标≥90%，未达到目标（');
  });

  it('without a target the clauses naming it are left out; 同比 says whom the comparable set leaves out', () => {
    expect(text(draftOf('2025-03', []).sections[0]!.paragraphs[0]!)).toBe('截至2025年3月底，全旗应管理500人，规范管理440人，规范管理率88.00%，较上年同期提高8.00个百分点（丁镇卫生院未上报，数据未计入）。');
    // D reports March 2025 but not March 2024: in the month's total, not in its 同比
    const dMarch = entries().find((e) => e.institution === D && e.period === '2025-02')!;
    const shifted = byMonth([...entries().filter((e) => !(e.institution === D && e.period === '2024-03')), { ...dMarch, period: '2025-03' }].map(makeEntry));
    // B 20 + C 30 + D 40 a month, three months: 270; 同比 B and C only, 50 against 50
    expect(text(draftOf('2025-03', [], shifted).sections[1]!.paragraphs[0]!)).toBe('2025年1—3月，全旗门诊270人次，其中2025年3月90人次，较上年同期持平（同比按可比口径计算，不含丁镇卫生院）。');
  });

  it('a sentence none of whose figures has a value is left out', () => {
    expect(draftOf('2024-12').sections).toEqual([]);
  });

  it('patterns: known placeholders only, each problem said', () => {
    const codes = new Set(['JC06', 'JC-I03']);
    expect(parsePattern('{地区}{JC06}人，{JC-I03.同比}', codes).problems).toEqual([]);
    expect(parsePattern('{JC07}，{JC06.均值}，{某处}，{JC06', codes).problems).toEqual([
      '「{JC07}」中的 JC07 不是本报表的数据项或计算指标',
      '「{JC06.均值}」中的 .均值 不可用，可用：.累计、.上期、.去年同期、.同比、.环比、.目标、.达标',
      '「{某处}」中的 某处 不是本报表的数据项或计算指标',
      '「，{JC06」中的花括号不成对',
    ]);
    expect(parsePattern('{任务数}项，{JC06}', codes, true).problems).toEqual(['「{JC06}」不是台账句式可用的占位（期末、本期、累计期间、年度、地区、机构数、任务数、已完成、推进中、未启动、已滞后、逾期）']);
    expect([areaWord('奈曼旗'), areaWord('磴口县'), areaWord('某地')]).toEqual(['全旗', '全县', '某地']);
    expect([formatValue(86.345, '%'), formatValue(27917, '人'), formatValue(1.5, '‰'), fixed2(-0.001), fixed2(2.675)]).toEqual(['86.35%', '27917', '1.50‰', '0.00', '2.68']);
  });
});

describe('the lake', () => {
  it('one tidy row per value of a current accepted return, the review state when known; DuckDB reads the files as the view values', async () => {
    const store = new MemoryStore();
    for (const spec of entries()) await store.makeCurrent(makeEntry(spec).current!);
    const reviewed = { ...makeEntry({ institution: B, template: 'T-TT', period: '2025-Q1', values: { TT01: 1 }, uploadedAt: '2025-04-02T02:00:00.000Z' }).current!, review: { state: 'approved' as const } };
    await store.makeCurrent(reviewed);
    const rows = lakeRowsOf(DEFS, { ...makeEntry({ institution: C, template: 'T-TT', period: '2025-03', values: { TT01: 30, TT02: 264 } }).current!, review: { state: 'pending' as const } });
    expect(rows.map((r) => [r.element, r.value, r.unit, r.period_type, r.city, r.institution_type, r.review_state])).toEqual([
      ['TT01', 30, '人', 'month', '1505', 'township_hc', 'pending'],
      ['TT02', 264, '人', 'month', '1505', 'township_hc', 'pending'],
    ]);

    const objects = new MemoryObjects();
    const definitions = fixedDefinitions({ versions: [initialVersion(CONTENT, '2024-01-01T00:00:00.000Z', 'test')] });
    const written = await writeLake({ definitions, objects, store, reportsBucket: 'r' }, '150525', 2025);
    expect(written).toMatchObject({ key: lakeKeyOf(2025, '150525'), returns: 10, rows: 28 }); // A Jan, B and C Jan–Mar, D Jan–Feb, B's Q1: 9 × 3 values + 1
    const root = await mkdtemp(join(tmpdir(), 'hmis-lake-'));
    try {
      const empty = await lakeConnection(root);
      expect(plainRows((await empty.connection.runAndReadAll('select count(*) as n from values')).getRowObjectsJS() as Record<string, unknown>[])).toEqual([{ n: 0 }]);
      empty.close();
      await mkdir(join(root, 'lake/year=2025/county=150525'), { recursive: true });
      await writeFile(join(root, written.key), (await objects.get('r', written.key, 1e9))!);
      const db = await lakeConnection(root);
      try {
        const q = async (sql: string) => plainRows((await db.connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[]);
        expect(await q("select period, sum(value) as total from values where element = 'TT01' group by period order by period")).toEqual([
          { period: '2025-01', total: 100 },
          { period: '2025-02', total: 90 },
          { period: '2025-03', total: 50 },
          { period: '2025-Q1', total: 1 },
        ]);
        expect(await q("select distinct review_state, period_type, typeof(county) as t, year from values where period = '2025-Q1'")).toEqual([{ review_state: 'approved', period_type: 'quarter', t: 'VARCHAR', year: 2025 }]);
      } finally {
        db.close();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('a scheduled run rewrites the years of the periods it consolidated, in January–March the year before too', () => {
    expect(lakeYears(['2025-03', '2025-Q1', '2024'])).toEqual([2024, 2025]);
    expect(lakeYears(['2025-06', '2025-Q2'])).toEqual([2025]);
    expect(lakeYears(['2025-02'])).toEqual([2024, 2025]);
    expect(lakeYears([])).toEqual([]);
  });

  it('exports the periods within a range: months, and quarters and years wholly inside it', () => {
    expect(periodsWithin('2025-01', '2025-03')).toEqual(['2025-01', '2025-02', '2025-03', '2025-Q1']);
    expect(periodsWithin('2024-12', '2025-02')).toEqual(['2024-12', '2025-01', '2025-02']);
    expect(periodsWithin('2024', '2024')).toHaveLength(12 + 4 + 1);
  });
});
