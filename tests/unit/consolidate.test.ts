/**
 * Consolidation semantics, pinned on small hand-made inputs: flow / ytd / stock over a month, a
 * quarter and a year; missing is not zero; rates only from numerators and denominators; targets;
 * 环比/同比; the loader over the in-memory store. Workbook layout and text safety:
 * consolidate-render.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { IndicatorTemplate, LedgerTemplate, Target, TemplateDefinition } from '../../schemas/model.ts';
import { bundledDefinitions } from '../../schemas/index.ts';
import { byMonth, makeEntry, type EntrySpec } from '../../functions/core/consolidate/build.ts';
import { consolidate } from '../../functions/core/consolidate/compute.ts';
import { loadCityConsolidationInput, loadConsolidationInput, periodsNeeded } from '../../functions/core/consolidate/load.ts';
import { deadlineOf, parsePeriod, previousPeriod, PeriodError } from '../../functions/core/consolidate/period.ts';
import type { ConsolidationInput, ConsolidationResult, CountyUnit, SummaryRow } from '../../functions/core/consolidate/types.ts';
import { makeIssue } from '../../functions/core/report.ts';
import { MemoryStore } from '../fakes/memory.ts';
import { testElement, testTemplate } from '../fakes/template.ts';

// ---- a small template: one element of each semantics, two non-additive ones, three rates ----

const el = testElement;
const TT = testTemplate([
    el('TT01', '门急诊人次', 'flow', { unit: '人次' }),
    el('TT02', '健康管理人数', 'ytd'),
    el('TT03', '在册人数', 'stock'),
    el('TT04', '患者满意度', 'stock', { unit: '%', type: 'percent', additive: false }),
    el('TT05', '应管理人数', 'stock'),
    el('TT06', '检验结果平均出具时间', 'stock', { unit: '小时', type: 'decimal', additive: false }),
    el('TT07', '健康教育次数', 'flow', { unit: '次', required: false }),
  ], [
    { code: 'TT-I01', name: '健康管理率', numerator: ['TT02'], denominator: ['TT05'], factor: 100, unit: '%', source: 'test' },
    { code: 'TT-I02', name: '在册管理率', numerator: ['TT03'], denominator: ['TT05'], factor: 100, unit: '%', source: 'test' },
    { code: 'TT-I03', name: '千人门诊', numerator: ['TT01'], denominator: ['TT05'], factor: 1000, unit: '‰', source: 'test' },
  ]);

const TZ = bundledDefinitions().template('T-TZ')! as LedgerTemplate;

function countyOf(insts: Array<[string, string, string?]>, code = '150525', name = '奈曼旗'): CountyUnit {
  return {
    code,
    name,
    deadlineDay: 5,
    institutions: insts.map(([c, n, type]) => ({
      code: c,
      name: n,
      type: type ?? 'township_hc',
      typeName: type === 'community_hc' ? '社区卫生服务中心' : type === 'county_hospital' ? '旗（县）级综合医院' : '苏木乡镇卫生院',
      owes: ['T-TT', 'T-TZ'],
    })),
  };
}

const A = '150525-101';
const B = '150525-102';
const C = '150525-103';
const NAMES: Record<string, string> = { [A]: '甲镇卫生院', [B]: '乙镇卫生院', [C]: '丙社区卫生服务中心' };

function inputOf(opts: {
  period: string;
  entries: EntrySpec[];
  months?: string[];
  targets?: Target[];
  templates?: TemplateDefinition[];
  counties?: CountyUnit[];
  level?: 'county' | 'city';
  generatedAt?: Date;
}): ConsolidationInput {
  const spec = parsePeriod(opts.period);
  return {
    level: opts.level ?? 'county',
    area: { code: '150525', name: '奈曼旗' },
    period: opts.period,
    months: opts.months ?? spec.months,
    counties: opts.counties ?? [countyOf([[A, NAMES[A]!], [B, NAMES[B]!]])],
    templates: opts.templates ?? [TT, TZ],
    targets: opts.targets ?? [],
    entries: byMonth(opts.entries.map(makeEntry)),
    ledgerRows: new Map(),
    generatedAt: opts.generatedAt ?? new Date('2026-02-10T02:00:00Z'),
  };
}

/** every month of 2024 and 2025 */
const MONTHS = [...parsePeriod('2024').months, ...parsePeriod('2025').months];
/** per month: flow 100+t, ytd increments 10+t reset each January, stock 1000+5t */
function series(t: number) {
  const month = MONTHS[t]!;
  const jan = month.startsWith('2024') ? 0 : 12;
  let ytd = 0;
  for (let k = jan; k <= t; k++) ytd += 10 + k;
  return { TT01: 100 + t, TT02: ytd, TT03: 1000 + 5 * t, TT04: 90 + (t % 5), TT05: 2000, TT06: 1.5 + (t % 3) / 10 };
}
const at = (month: string) => MONTHS.indexOf(month);
const v = (month: string) => series(at(month));
const allMonths = (institution: string, values = v): EntrySpec[] => MONTHS.map((period) => ({ institution, template: 'T-TT', period, values: values(period) }));

const rowOf = (r: ConsolidationResult, code: string): SummaryRow => {
  for (const s of r.summary) for (const row of s.rows) if (row.code === code) return row;
  throw new Error(`no row ${code}`);
};
const sumOf = (months: string[], code: keyof ReturnType<typeof series>) => months.reduce((a, m) => a + v(m)[code], 0);

describe('periods', () => {
  it('parses months, quarters and years, and knows the previous one', () => {
    expect(parsePeriod('2025-03')).toMatchObject({ kind: 'month', months: ['2025-03'], label: '2025年3月' });
    expect(parsePeriod('2025-Q2')).toMatchObject({ kind: 'quarter', months: ['2025-04', '2025-05', '2025-06'], label: '2025年第2季度' });
    expect(parsePeriod('2025')).toMatchObject({ kind: 'year', label: '2025年' });
    expect(parsePeriod('2025').months).toHaveLength(12);
    expect(previousPeriod(parsePeriod('2025-01')).id).toBe('2024-12');
    expect(previousPeriod(parsePeriod('2025-Q1')).id).toBe('2024-Q4');
    expect(previousPeriod(parsePeriod('2025')).id).toBe('2024');
    for (const bad of ['2025-13', '2025-Q5', '25', '2025-3', '']) expect(() => parsePeriod(bad)).toThrow(PeriodError);
  });

  it('a month is due on the deadline day of the next month, 23:59 Asia/Shanghai', () => {
    expect(deadlineOf('2025-03', 5).toISOString()).toBe('2025-04-05T15:59:59.999Z');
    expect(deadlineOf('2025-12', 5).toISOString()).toBe('2026-01-05T15:59:59.999Z');
  });

  it('reads the windows and the months before them that a ytd difference needs', () => {
    expect(periodsNeeded(parsePeriod('2025-03'), ['2025-03'])).toEqual(['2024-02', '2024-03', '2025-01', '2025-02', '2025-03']);
    // January: 上月 is December (its own part needs November), 去年同期 January needs no base
    expect(periodsNeeded(parsePeriod('2025-01'), ['2025-01'])).toEqual(['2024-01', '2024-11', '2024-12', '2025-01']);
    // a month holds no quarter or year: a month's consolidation reads no quarterly or annual return
    expect(periodsNeeded(parsePeriod('2025-03'), ['2025-03'], ['quarter', 'year'])).toEqual([]);
  });

  it('reads whole quarters and years for templates of that 周期', () => {
    // 2025-Q2: 本季 Q2, 本年累计 Q1+Q2 (Q1 also 上季), 去年同期 2024-Q2 and its base 2024-Q1
    expect(periodsNeeded(parsePeriod('2025-Q2'), parsePeriod('2025-Q2').months, ['quarter'])).toEqual(['2024-Q1', '2024-Q2', '2025-Q1', '2025-Q2']);
    // a year: 本年 2025, 上年 and 去年同期 2024; its quarters, and the year's months for monthly templates
    const year = parsePeriod('2025');
    expect(periodsNeeded(year, year.months, ['year'])).toEqual(['2024', '2025']);
    expect(periodsNeeded(year, year.months, ['quarter'])).toEqual(['2024-Q1', '2024-Q2', '2024-Q3', '2024-Q4', '2025-Q1', '2025-Q2', '2025-Q3', '2025-Q4']);
    // a running year (January to May): whole quarters only, no year yet
    expect(periodsNeeded(year, year.months.slice(0, 5), ['quarter', 'year'])).toEqual(['2024-Q1', '2024-Q2', '2024-Q3', '2024-Q4', '2025-Q1']);
  });
});

describe('aggregation semantics', () => {
  const entries = allMonths(A);

  it('a month: flow is the month, ytd is the month’s own part (difference), stock is the month; 本年累计 per semantics', () => {
    const r = consolidate(inputOf({ period: '2025-03', entries, counties: [countyOf([[A, NAMES[A]!]])] }));
    const flow = rowOf(r, 'TT01');
    expect(flow.current.value).toBe(v('2025-03').TT01);
    expect(flow.ytd.value).toBe(sumOf(['2025-01', '2025-02', '2025-03'], 'TT01'));
    expect(flow.previous.value).toBe(v('2025-02').TT01);
    expect(flow.lastYear.value).toBe(v('2024-03').TT01);

    const ytd = rowOf(r, 'TT02');
    expect(ytd.current.value).toBe(v('2025-03').TT02 - v('2025-02').TT02);
    expect(ytd.current.value).toBe(10 + at('2025-03'));
    expect(ytd.ytd.value).toBe(v('2025-03').TT02);
    expect(ytd.previous.value).toBe(v('2025-02').TT02 - v('2025-01').TT02);
    expect(ytd.lastYear.value).toBe(v('2024-03').TT02 - v('2024-02').TT02);

    const stock = rowOf(r, 'TT03');
    expect(stock.current.value).toBe(v('2025-03').TT03);
    expect(stock.ytd.value).toBe(v('2025-03').TT03);
    expect(stock.previous.value).toBe(v('2025-02').TT03);

    // detail sheets show values as submitted: a ytd value is its cumulative figure
    const detail = r.details[0]!;
    const j = detail.columns.findIndex((c) => c.code === 'TT02');
    expect(detail.rows[0]!.values[j]).toBe(v('2025-03').TT02);
  });

  it('January: a ytd month’s own part is its value; 上月 (December) is December minus November', () => {
    const r = consolidate(inputOf({ period: '2025-01', entries, counties: [countyOf([[A, NAMES[A]!]])] }));
    const ytd = rowOf(r, 'TT02');
    expect(ytd.current.value).toBe(v('2025-01').TT02);
    expect(ytd.ytd.value).toBe(v('2025-01').TT02);
    expect(ytd.previous.value).toBe(v('2024-12').TT02 - v('2024-11').TT02);
    expect(ytd.lastYear.value).toBe(v('2024-01').TT02);
  });

  it('a quarter: flow sums its months, ytd is the quarter’s own part, stock its last month; 上季 is the previous quarter', () => {
    const r = consolidate(inputOf({ period: '2025-Q2', entries, counties: [countyOf([[A, NAMES[A]!]])] }));
    const q2 = ['2025-04', '2025-05', '2025-06'];
    expect(rowOf(r, 'TT01').current.value).toBe(sumOf(q2, 'TT01'));
    expect(rowOf(r, 'TT01').ytd.value).toBe(sumOf(['2025-01', '2025-02', '2025-03', ...q2], 'TT01'));
    expect(rowOf(r, 'TT01').previous.value).toBe(sumOf(['2025-01', '2025-02', '2025-03'], 'TT01'));
    expect(rowOf(r, 'TT01').lastYear.value).toBe(sumOf(['2024-04', '2024-05', '2024-06'], 'TT01'));
    expect(rowOf(r, 'TT02').current.value).toBe(v('2025-06').TT02 - v('2025-03').TT02);
    expect(rowOf(r, 'TT02').ytd.value).toBe(v('2025-06').TT02);
    expect(rowOf(r, 'TT02').previous.value).toBe(v('2025-03').TT02);
    expect(rowOf(r, 'TT03').current.value).toBe(v('2025-06').TT03);
    expect(rowOf(r, 'TT03').previous.value).toBe(v('2025-03').TT03);
    expect(r.labels).toMatchObject({ current: '本季', previous: '上季' });
    // detail: flow summed, ytd cumulative at the quarter's end, stock at its end
    const d = r.details[0]!;
    const col = (code: string) => d.columns.findIndex((c) => c.code === code);
    expect(d.rows[0]!.values[col('TT01')]).toBe(sumOf(q2, 'TT01'));
    expect(d.rows[0]!.values[col('TT02')]).toBe(v('2025-06').TT02);
    expect(d.rows[0]!.values[col('TT03')]).toBe(v('2025-06').TT03);
  });

  it('a year: flow sums twelve months, ytd and stock take December; 上年 and 去年同期 are 2024', () => {
    const r = consolidate(inputOf({ period: '2025', entries, counties: [countyOf([[A, NAMES[A]!]])] }));
    const y2025 = parsePeriod('2025').months;
    const y2024 = parsePeriod('2024').months;
    expect(rowOf(r, 'TT01').current.value).toBe(sumOf(y2025, 'TT01'));
    expect(rowOf(r, 'TT01').previous.value).toBe(sumOf(y2024, 'TT01'));
    expect(rowOf(r, 'TT01').lastYear.value).toBe(sumOf(y2024, 'TT01'));
    expect(rowOf(r, 'TT02').current.value).toBe(v('2025-12').TT02);
    expect(rowOf(r, 'TT02').previous.value).toBe(v('2024-12').TT02);
    expect(rowOf(r, 'TT03').current.value).toBe(v('2025-12').TT03);
    expect(r.labels).toMatchObject({ current: '本年', previous: '上年' });
  });

  it('a running year covers the months given; 去年同期 is the same months a year earlier', () => {
    const r = consolidate(inputOf({ period: '2025', months: ['2025-01', '2025-02', '2025-03'], entries, counties: [countyOf([[A, NAMES[A]!]])] }));
    expect(rowOf(r, 'TT01').current.value).toBe(sumOf(['2025-01', '2025-02', '2025-03'], 'TT01'));
    expect(rowOf(r, 'TT01').lastYear.value).toBe(sumOf(['2024-01', '2024-02', '2024-03'], 'TT01'));
    expect(rowOf(r, 'TT01').previous.value).toBe(sumOf(parsePeriod('2024').months, 'TT01'));
    expect(rowOf(r, 'TT03').current.value).toBe(v('2025-03').TT03);
  });

  it('sums across institutions; a non-additive element (satisfaction, hours) is never summed', () => {
    const r = consolidate(inputOf({ period: '2025-03', entries: [...allMonths(A), ...allMonths(B, (m) => ({ ...v(m), TT01: 7, TT04: 50 }))] }));
    expect(rowOf(r, 'TT01').current.value).toBe(v('2025-03').TT01 + 7);
    expect(rowOf(r, 'TT01').current).toMatchObject({ covered: 2, owed: 2, missing: [] });
    for (const code of ['TT04', 'TT06']) {
      const row = rowOf(r, code);
      expect(row.current.value).toBeNull();
      expect(row.current.covered).toBe(2);
      expect(row.mom).toBeNull();
    }
    const d = r.details[0]!;
    const j = d.columns.findIndex((c) => c.code === 'TT04');
    expect(Number.isNaN(d.total[j]!)).toBe(true);
    expect(d.rows.map((x) => x.values[j])).toEqual([v('2025-03').TT04, 50]);
  });
});

describe('missing is missing, not zero', () => {
  it('a missing institution is left out of the total, counted and named; a zero is a value', () => {
    const entries = [
      ...allMonths(A, (m) => ({ ...v(m), TT01: 0 })),
      ...allMonths(B).filter((e) => e.period !== '2025-03'),
    ];
    const r = consolidate(inputOf({ period: '2025-03', entries }));
    const flow = rowOf(r, 'TT01');
    expect(flow.current).toMatchObject({ value: 0, covered: 1, owed: 2 });
    expect(flow.current.missing).toEqual([{ code: B, name: NAMES[B], reason: '未上报' }]);
    // 上月 has both
    expect(flow.previous).toMatchObject({ covered: 2, value: v('2025-02').TT01 });
    // the ytd month's own part needs February too; B has it but lacks March
    expect(rowOf(r, 'TT02').current.missing[0]!.reason).toBe('未上报');
    // 本年累计 of a flow needs every month: B lacks March
    expect(rowOf(r, 'TT01').ytd).toMatchObject({ covered: 1, value: 0 });
    const d = r.details[0]!;
    expect(d.rows.find((x) => x.code === B)!.status).toBe('未上报');
    expect(d.missing).toEqual([{ code: B, name: NAMES[B], reason: '未上报' }]);
    expect(r.status.overall).toMatchObject({ owed: 4, submitted: 1 });
  });

  it('an upload that was rejected is 未通过; an accepted version with a newer rejected upload still counts', () => {
    const bad = [makeIssue('value-negative', 'D8「门急诊人次」为 -1，不能为负数', { sheet: '测试月报', row: 8, col: 4, element: 'TT01', value: -1 })];
    const entries: EntrySpec[] = [
      ...allMonths(A).map((e) => (e.period === '2025-03' ? { ...e, rejected: bad } : e)),
      ...allMonths(B).map((e) => (e.period === '2025-03' ? { institution: B, template: 'T-TT', period: '2025-03', rejected: bad } : e)),
    ];
    const r = consolidate(inputOf({ period: '2025-03', entries }));
    expect(rowOf(r, 'TT01').current.missing).toEqual([{ code: B, name: NAMES[B], reason: '未通过' }]);
    expect(rowOf(r, 'TT01').current.value).toBe(v('2025-03').TT01);
    const status = r.status.rows.filter((x) => x.template === 'T-TT');
    expect(status.map((x) => [x.institution, x.status, x.errors])).toEqual([
      [A, '已通过', 1],
      [B, '未通过', 1],
    ]);
    expect(status[0]!.note).toContain('仍以');
    const issues = r.issues.filter((i) => i.template === 'T-TT');
    expect(issues.map((i) => [i.institution, i.state, i.severity])).toEqual([
      [A, '未解决', 'error'],
      [B, '未解决', 'error'],
    ]);
  });

  it('a quarter with one month missing: flows and the quarter’s ytd part leave the institution out, stocks of the last month keep it', () => {
    const entries = [...allMonths(A), ...allMonths(B).filter((e) => e.period !== '2025-02')];
    const r = consolidate(inputOf({ period: '2025-Q1', entries }));
    expect(rowOf(r, 'TT01').current).toMatchObject({ covered: 1, value: sumOf(['2025-01', '2025-02', '2025-03'], 'TT01') });
    expect(rowOf(r, 'TT01').current.missing[0]!.reason).toBe('2月未上报');
    expect(rowOf(r, 'TT03').current).toMatchObject({ covered: 2, value: 2 * v('2025-03').TT03 });
    // Q1's ytd part is March's cumulative: no base month needed
    expect(rowOf(r, 'TT02').current).toMatchObject({ covered: 2, value: 2 * v('2025-03').TT02 });
    const d = r.details[0]!;
    const b = d.rows.find((x) => x.code === B)!;
    expect(b.status).toBe('已报 2/3 个月');
    expect(b.note).toContain('缺2月未上报');
    expect(Number.isNaN(b.values[0]!)).toBe(true); // TT01 flow incomplete: not shown
    expect(b.values[2]).toBe(v('2025-03').TT03);
  });

  it('an optional element left empty is 未填, not zero', () => {
    const entries = [...allMonths(A, (m) => ({ ...v(m), TT07: 3 })), ...allMonths(B)];
    const r = consolidate(inputOf({ period: '2025-03', entries }));
    expect(rowOf(r, 'TT07').current).toMatchObject({ value: 3, covered: 1, missing: [{ code: B, name: NAMES[B], reason: '未填' }] });
    expect(r.details[0]!.rows.find((x) => x.code === B)!.note).toContain('未填：TT07');
  });

  it('NaN and Infinity in stored values are absent, never summed', () => {
    const entries = [...allMonths(A, (m) => ({ ...v(m), TT01: Number.NaN, TT03: Number.POSITIVE_INFINITY })), ...allMonths(B)];
    const r = consolidate(inputOf({ period: '2025-03', entries }));
    expect(rowOf(r, 'TT01').current).toMatchObject({ covered: 1, value: v('2025-03').TT01 });
    expect(rowOf(r, 'TT03').current).toMatchObject({ covered: 1, value: v('2025-03').TT03 });
    expect(rowOf(r, 'TT-I02').current.covered).toBe(1);
  });
});

describe('rates are recomputed from numerators and denominators', () => {
  it('the seed’s 糖尿病规范管理率: 6697 / 9100 is 73.59%, whatever was typed (84.28%)', () => {
    const jc = bundledDefinitions().template('T-JC')! as IndicatorTemplate;
    const county = countyOf([[A, NAMES[A]!]]);
    county.institutions[0]!.owes = ['T-JC'];
    const r = consolidate(
      inputOf({
        period: '2025-03',
        templates: [jc],
        counties: [county],
        entries: [{ institution: A, template: 'T-JC', period: '2025-03', values: { JC08: 9100, JC09: 6697 }, remarks: { JC09: '规范管理率84.28%' } }],
      }),
    );
    const row = rowOf(r, 'JC-I04');
    expect(row.current.value).toBe((6697 / 9100) * 100);
    expect(row.current.value!.toFixed(2)).toBe('73.59');
    expect(row.current).toMatchObject({ numerator: 6697, denominator: 9100, covered: 1 });
  });

  it('two institutions: Σnum / Σden, not the average of their rates', () => {
    const entries: EntrySpec[] = [
      { institution: A, template: 'T-TT', period: '2025-03', values: { TT03: 90, TT05: 100 } },
      { institution: B, template: 'T-TT', period: '2025-03', values: { TT03: 10, TT05: 50 } },
    ];
    const r = consolidate(inputOf({ period: '2025-03', entries }));
    const row = rowOf(r, 'TT-I02');
    const average = (90 + 20) / 2;
    expect(row.current.value).toBe((100 / 150) * 100);
    expect(row.current.value).not.toBeCloseTo(average, 1);
    // per institution in the detail sheet, and the 合计 from the sums
    const d = r.details[0]!;
    const j = d.columns.findIndex((c) => c.code === 'TT-I02');
    expect(d.rows.map((x) => x.values[j])).toEqual([90, 20]);
    expect(d.total[j]).toBe((100 / 150) * 100);
  });

  it('only institutions that reported both numerator and denominator count; a zero denominator gives no rate', () => {
    const entries: EntrySpec[] = [
      { institution: A, template: 'T-TT', period: '2025-03', values: { TT03: 90, TT05: 100 } },
      { institution: B, template: 'T-TT', period: '2025-03', values: { TT03: 40 } },
    ];
    const r = consolidate(inputOf({ period: '2025-03', entries }));
    expect(rowOf(r, 'TT-I02').current).toMatchObject({ value: 90, covered: 1, numerator: 90, denominator: 100 });
    expect(rowOf(r, 'TT-I02').current.missing).toEqual([{ code: B, name: NAMES[B], reason: '未填' }]);
    const zero = consolidate(inputOf({ period: '2025-03', entries: [{ institution: A, template: 'T-TT', period: '2025-03', values: { TT03: 0, TT05: 0 } }] }));
    expect(rowOf(zero, 'TT-I02').current).toMatchObject({ value: null, covered: 1 });
  });

  it('a rate of a ytd numerator uses the window’s own part for 本月 and the cumulative figure for 本年累计', () => {
    const r = consolidate(inputOf({ period: '2025-03', entries: allMonths(A), counties: [countyOf([[A, NAMES[A]!]])] }));
    const row = rowOf(r, 'TT-I01');
    expect(row.current.value).toBe(((v('2025-03').TT02 - v('2025-02').TT02) / 2000) * 100);
    expect(row.ytd.value).toBe((v('2025-03').TT02 / 2000) * 100);
    // ‰: factor 1000
    expect(rowOf(r, 'TT-I03').current.value).toBe((v('2025-03').TT01 / 2000) * 1000);
  });
});

describe('comparisons', () => {
  const two = (cur: Record<string, number>, prev: Record<string, number>, lastYear?: Record<string, number>): ConsolidationResult =>
    consolidate(
      inputOf({
        period: '2025-03',
        counties: [countyOf([[A, NAMES[A]!]])],
        entries: [
          { institution: A, template: 'T-TT', period: '2025-03', values: cur },
          { institution: A, template: 'T-TT', period: '2025-02', values: prev },
          ...(lastYear ? [{ institution: A, template: 'T-TT', period: '2024-03', values: lastYear }] : []),
        ],
      }),
    );

  it('a count changes in percent, a rate in percentage points', () => {
    const r = two({ TT01: 110, TT03: 60, TT05: 100 }, { TT01: 100, TT03: 50, TT05: 100 }, { TT01: 88, TT03: 40, TT05: 80 });
    expect(rowOf(r, 'TT01').mom).toEqual({ value: ((110 - 100) / 100) * 100, kind: 'percent' });
    expect(rowOf(r, 'TT01').mom!.value).toBeCloseTo(10, 12);
    expect(rowOf(r, 'TT01').yoy!.value).toBeCloseTo(25, 12);
    expect(rowOf(r, 'TT-I02').mom).toEqual({ value: 60 - 50, kind: 'points' });
    expect(rowOf(r, 'TT-I02').yoy).toEqual({ value: 60 - 50, kind: 'points' });
  });

  it('empty when the base is missing or zero (a rate from 0 still has a change in points)', () => {
    const r = two({ TT01: 110, TT03: 10, TT05: 100 }, { TT01: 0, TT03: 0, TT05: 100 });
    expect(rowOf(r, 'TT01').mom).toBeNull();
    expect(rowOf(r, 'TT01').yoy).toBeNull(); // no 2024-03
    expect(rowOf(r, 'TT-I02').mom).toEqual({ value: 10, kind: 'points' });
    expect(rowOf(r, 'TT01').lastYear).toMatchObject({ value: null, covered: 0 });
  });
});

describe('targets', () => {
  const target = (t: Partial<Target>): Target => ({ indicator: 'TT-I02', direction: '>=', value: 60, year: 2025, document: '奈卫健字〔2025〕24号', quote: '不低于60%', ...t });
  const entries: EntrySpec[] = [
    { institution: A, template: 'T-TT', period: '2025-03', values: { TT03: 70, TT05: 100, TT06: 1.8 } },
    { institution: B, template: 'T-TT', period: '2025-03', values: { TT03: 30, TT05: 100, TT06: 2.4 } },
    { institution: C, template: 'T-TT', period: '2025-03', values: { TT03: 95, TT05: 100, TT06: 1.2 } },
  ];
  const counties = [countyOf([[A, NAMES[A]!], [B, NAMES[B]!], [C, NAMES[C]!, 'community_hc']])];
  const run = (targets: Target[]) => consolidate(inputOf({ period: '2025-03', entries, counties, targets }));

  it('≥ met and missed on 本年累计, with direction, value and source document', () => {
    const met = rowOf(run([target({ value: 60 })]), 'TT-I02').target!;
    expect(met).toMatchObject({ status: '达标', direction: '>=', value: 60, document: '奈卫健字〔2025〕24号', scope: null });
    expect(met.measured).toBe((195 / 300) * 100);
    expect(rowOf(run([target({ value: 66 })]), 'TT-I02').target!.status).toBe('未达标');
  });

  it('≤ targets: lower is better', () => {
    expect(rowOf(run([target({ direction: '<=', value: 70 })]), 'TT-I02').target!.status).toBe('达标');
    expect(rowOf(run([target({ direction: '<=', value: 60 })]), 'TT-I02').target!.status).toBe('未达标');
  });

  it('institutionTypes: measured over institutions of those types only', () => {
    const all = rowOf(run([target({ value: 66 })]), 'TT-I02');
    expect(all.target!.status).toBe('未达标');
    const township = rowOf(run([target({ value: 45, institutionTypes: ['township_hc'] })]), 'TT-I02').target!;
    expect(township).toMatchObject({ measured: (100 / 200) * 100, status: '达标', covered: 2, owed: 2, scope: ['苏木乡镇卫生院'] });
    const community = rowOf(run([target({ value: 90, institutionTypes: ['community_hc'] })]), 'TT-I02').target!;
    expect(community).toMatchObject({ measured: 95, status: '达标', covered: 1, owed: 1 });
    // the row's own value is still over every institution
    expect(all.ytd.value).toBe((195 / 300) * 100);
  });

  it('a non-additive element (≤ 2 小时) is judged per institution and names who misses it', () => {
    const t = rowOf(run([target({ indicator: 'TT06', direction: '<=', value: 2 })]), 'TT06').target!;
    expect(t).toMatchObject({ status: '未达标', failing: [NAMES[B]], measured: null });
    const ok = rowOf(run([target({ indicator: 'TT06', direction: '<=', value: 2, institutionTypes: ['community_hc'] })]), 'TT06').target!;
    expect(ok).toMatchObject({ status: '达标', failing: [] });
  });

  it('无数据 when nothing was reported; targets of another year are ignored', () => {
    const r = consolidate(inputOf({ period: '2025-03', entries: [], counties, targets: [target({}), target({ indicator: 'TT-I01', year: 2024 })] }));
    expect(rowOf(r, 'TT-I02').target!.status).toBe('无数据');
    expect(rowOf(r, 'TT-I01').target).toBeNull();
  });

  it('a measured value equal to the target within float noise meets it', () => {
    const r = consolidate(
      inputOf({ period: '2025-03', counties, targets: [target({ value: 62 })], entries: [{ institution: A, template: 'T-TT', period: '2025-03', values: { TT03: 31, TT05: 50 } }] }),
    );
    expect(rowOf(r, 'TT-I02').target!.status).toBe('达标');
  });
});

describe('序时进度: annual targets judged against the time elapsed', () => {
  // TT-I01 健康管理率 = TT02 (ytd) / TT05 (stock): accumulates through the year
  const target = (t: Partial<Target>): Target => ({ indicator: 'TT-I01', direction: '>=', value: 62, year: 2025, pace: 'linear', document: '考核文件', quote: '', ...t });
  const month = (period: string, ytd: number): EntrySpec => ({ institution: A, template: 'T-TT', period, values: { TT02: ytd, TT05: 1000 } });
  const run = (period: string, entries: EntrySpec[], t: Target) => rowOf(consolidate(inputOf({ period, entries, targets: [t], counties: [countyOf([[A, NAMES[A]!]])] })), 'TT-I01').target!;

  it('linear: in March the 62 % of the year is due as 15.5 %; 12.59 % is behind by 2.91 points, 16 % is on pace', () => {
    const behind = run('2025-03', [month('2025-03', 125.9)], target({}));
    expect(behind).toMatchObject({ pace: 'linear', elapsed: 3, paced: 15.5, status: '未达标', verdict: '落后序时进度（2.91 个百分点）' });
    expect(behind.gap).toBeCloseTo(12.59 - 15.5, 10);
    expect(run('2025-03', [month('2025-03', 160)], target({}))).toMatchObject({ paced: 15.5, status: '达标', verdict: '达到序时进度' });
  });

  it('at year end the annual target itself: 全年达标 or 全年未达标', () => {
    expect(run('2025-12', [month('2025-12', 666.6)], target({}))).toMatchObject({ paced: null, elapsed: 12, status: '达标', verdict: '全年达标' });
    expect(run('2025-12', [month('2025-12', 600)], target({}))).toMatchObject({ status: '未达标', verdict: '全年未达标' });
    // a year consolidation is judged at its end as well
    expect(run('2025', MONTHS.filter((m) => m.startsWith('2025')).map((m, i) => month(m, 60 * (i + 1))), target({}))).toMatchObject({ elapsed: 12, verdict: '全年达标' });
  });

  it('不适用: the target holds all year and is judged as it stands, as before', () => {
    expect(run('2025-03', [month('2025-03', 125.9)], target({ pace: 'none' }))).toMatchObject({ paced: null, status: '未达标', verdict: '未达标' });
    expect(run('2025-03', [month('2025-03', 125.9)], target({ pace: undefined }))).toMatchObject({ pace: 'none', verdict: '未达标' });
  });

  it('季度节点: the milestone of the latest quarter ended; before the first, not judged yet', () => {
    const t = target({ pace: 'quarterly', milestones: [10, 25, 45, 62] });
    expect(run('2025-02', [month('2025-02', 90)], t)).toMatchObject({ paced: null, status: '无数据', verdict: '未到考核节点' });
    expect(run('2025-03', [month('2025-03', 110)], t)).toMatchObject({ paced: 10, verdict: '达到序时进度' });
    expect(run('2025-07', [month('2025-07', 240)], t)).toMatchObject({ paced: 25, verdict: '落后序时进度（1.00 个百分点）' });
    expect(run('2025-Q2', [month('2025-04', 200), month('2025-05', 230), month('2025-06', 260)], t)).toMatchObject({ elapsed: 6, paced: 25, verdict: '达到序时进度' });
  });
});

describe('可比口径: 环比 and 同比 over the institutions present in both periods', () => {
  const entries: EntrySpec[] = [
    { institution: A, template: 'T-TT', period: '2025-02', values: { TT01: 100, TT03: 500, TT05: 1000 } },
    { institution: B, template: 'T-TT', period: '2025-02', values: { TT01: 40, TT03: 300, TT05: 400 } },
    { institution: A, template: 'T-TT', period: '2025-03', values: { TT01: 100, TT03: 500, TT05: 1000 } },
    { institution: A, template: 'T-TT', period: '2024-03', values: { TT01: 80, TT03: 450, TT05: 900 } },
    { institution: B, template: 'T-TT', period: '2024-03', values: { TT01: 50, TT03: 250, TT05: 400 } },
  ];
  const r = consolidate(inputOf({ period: '2025-03', entries }));

  it('a stock unchanged in the institutions present both months has 环比 0, whatever the one missing in March had', () => {
    const stock = rowOf(r, 'TT03');
    expect(stock.previous.value).toBe(800); // the 上月 column: every institution that reported February
    expect(stock.mom).toEqual({ value: 0, kind: 'percent' });
    expect(stock.comparable.mom).toEqual({ covered: 1, excluded: [{ code: B, name: NAMES[B], reason: '本月未上报' }] });
    expect(stock.yoy!.value).toBeCloseTo(((500 - 450) / 450) * 100, 10);
    expect(stock.comparable.yoy.covered).toBe(1);
  });

  it('a rate compares Σ numerator / Σ denominator over the comparable set, in points', () => {
    const rate = rowOf(r, 'TT-I02');
    expect(rate.previous.value).toBeCloseTo((800 / 1400) * 100, 10); // as reported
    expect(rate.mom).toEqual({ value: 0, kind: 'points' });
    expect(rate.yoy!.value).toBeCloseTo(50 - 50, 10);
  });

  it('everyone present both times: nothing left out', () => {
    const full = consolidate(inputOf({ period: '2025-03', entries: [...entries, { institution: B, template: 'T-TT', period: '2025-03', values: { TT01: 44, TT03: 300, TT05: 400 } }] }));
    expect(rowOf(full, 'TT01').comparable.mom).toEqual({ covered: 2, excluded: [] });
    expect(rowOf(full, 'TT01').mom!.value).toBeCloseTo((144 - 140) / 1.4, 10);
  });
});

describe('上报情况 and 任务台账', () => {
  it('timeliness against the deadline; 未上报 after the deadline is 逾期未报, before it 未到期', () => {
    const entries: EntrySpec[] = [
      { institution: A, template: 'T-TT', period: '2025-03', values: { TT01: 1 }, uploadedAt: '2025-04-05T15:00:00Z' },
      { institution: B, template: 'T-TT', period: '2025-03', values: { TT01: 1 }, uploadedAt: '2025-04-05T16:30:00Z' },
    ];
    const late = consolidate(inputOf({ period: '2025-03', entries, generatedAt: new Date('2025-04-10T00:00:00Z') }));
    const tt = late.status.rows.filter((x) => x.template === 'T-TT');
    expect(tt.map((x) => x.timeliness)).toEqual(['按时', '逾期']);
    expect(late.status.rows.filter((x) => x.template === 'T-TZ').map((x) => [x.status, x.timeliness])).toEqual([
      ['未上报', '逾期未报'],
      ['未上报', '逾期未报'],
    ]);
    const early = consolidate(inputOf({ period: '2025-03', entries, generatedAt: new Date('2025-04-03T00:00:00Z') }));
    expect(early.status.rows.find((x) => x.template === 'T-TZ')!.timeliness).toBe('未到期');
    const t = late.status.byTemplate.find((x) => x.key === 'T-TT')!;
    expect(t).toMatchObject({ owed: 2, submitted: 2, onTime: 1, rate: 100, timely: 50 });
    expect(late.status.overall).toMatchObject({ owed: 4, submitted: 2, rate: 50, timely: 25 });
  });

  it('the ledger of the latest month with an accepted one; overdue tasks are marked', () => {
    const row = (n: number, deadline: string, status: string, progress: number) => ({ row: n, taskNo: String(n), content: `任务${n}`, owner: '甲', deadline, status, progress, measures: null, remark: null });
    const entries: EntrySpec[] = [
      { institution: A, template: 'T-TZ', period: '2025-01', rows: [row(8, '2025-12-31', '未启动', 0)] },
      { institution: A, template: 'T-TZ', period: '2025-02', rows: [row(8, '2025-02-28', '推进中', 50), row(9, '2025-02-28', '已完成', 100), row(10, '2025-06-30', '推进中', 10), row(11, '2025-01-31', '已滞后', 20)] },
    ];
    const r = consolidate(inputOf({ period: '2025-Q1', entries }));
    expect(r.ledger.map((l) => [l.month, l.row.taskNo, l.overdue])).toEqual([
      ['2025-02', '8', true],
      ['2025-02', '9', false],
      ['2025-02', '10', false],
      ['2025-02', '11', true],
    ]);
  });
});

describe('quarterly and annual returns (周期)', () => {
  /** a quarterly return: a flow, a year-to-date count, a stock, a rate */
  const TQ: IndicatorTemplate = {
    ...TT,
    id: 'T-TQ',
    title: '测试季报',
    sheetName: '测试季报',
    periodType: 'quarter',
    deadlineDay: 15,
    elements: [el('TQ01', '上门服务人次', 'flow', { unit: '人次' }), el('TQ02', '累计签约人数', 'ytd'), el('TQ03', '团队数', 'stock', { unit: '个' })],
    indicators: [{ code: 'TQ-I01', name: '团队平均服务人次', numerator: ['TQ01'], denominator: ['TQ03'], factor: 1, unit: '比值', source: 'test' }],
  };
  /** an annual return, due March 31 of the next year */
  const TY: IndicatorTemplate = {
    ...TT,
    id: 'T-TY',
    title: '测试年报',
    sheetName: '测试年报',
    periodType: 'year',
    deadlineDay: 31,
    deadlineMonth: 3,
    elements: [el('TY01', '常住人口', 'stock'), el('TY02', '托位数', 'stock', { unit: '个' })],
    indicators: [{ code: 'TY-I01', name: '每千人口托位数', numerator: ['TY02'], denominator: ['TY01'], factor: 1000, unit: '‰', source: 'test' }],
  };
  const QUARTERS = ['2024-Q1', '2024-Q2', '2024-Q3', '2024-Q4', '2025-Q1', '2025-Q2', '2025-Q3', '2025-Q4'];
  /** quarter t: flow 100+t, ytd increments 10+t reset each first quarter, stock 5+t */
  const q = (t: number) => {
    let ytd = 0;
    for (let k = t < 4 ? 0 : 4; k <= t; k++) ytd += 10 + k;
    return { TQ01: 100 + t, TQ02: ytd, TQ03: 5 + t };
  };
  const counties = [{ ...countyOf([[A, NAMES[A]!], [B, NAMES[B]!]]), institutions: countyOf([[A, NAMES[A]!], [B, NAMES[B]!]]).institutions.map((i) => ({ ...i, owes: ['T-TT', 'T-TQ', 'T-TY'] })) }];
  const entries: EntrySpec[] = [
    ...allMonths(A),
    ...QUARTERS.map((period, t) => ({ institution: A, template: 'T-TQ', period, values: q(t) })),
    // B: only 2025-Q1 and 2025-Q2
    ...QUARTERS.slice(4, 6).map((period, t) => ({ institution: B, template: 'T-TQ', period, values: q(t + 4) })),
    { institution: A, template: 'T-TY', period: '2024', values: { TY01: 375_000, TY02: 1_740 } },
    { institution: A, template: 'T-TY', period: '2025', values: { TY01: 374_000, TY02: 1_880 } },
    { institution: B, template: 'T-TY', period: '2025', values: { TY01: 1_000, TY02: 20 } },
  ];
  const run = (period: string, generatedAt = new Date('2026-05-01T00:00:00Z')) => consolidate(inputOf({ period, entries, counties, templates: [TT, TQ, TY], generatedAt }));
  const templatesOf = (r: ConsolidationResult) => r.summary.map((x) => x.template.id);

  it('a month holds no quarter: neither a quarterly nor an annual return is owed, shown or counted', () => {
    const r = run('2025-03');
    expect(templatesOf(r)).toEqual(['T-TT']);
    expect(r.details.map((d) => d.template.id)).toEqual(['T-TT']);
    expect(new Set(r.status.rows.map((x) => x.template))).toEqual(new Set(['T-TT']));
  });

  it('a quarter: the quarterly return is the quarter’s own; 上季 and 去年同期 are quarters; status per quarter with its own deadline', () => {
    const r = run('2025-Q2');
    expect(templatesOf(r)).toEqual(['T-TT', 'T-TQ']);
    const flow = rowOf(r, 'TQ01');
    // both institutions: A 105 + B 105
    expect(flow.current).toMatchObject({ value: 210, covered: 2, owed: 2 });
    // 上季 2025-Q1: A 104 + B 104; 去年同期 2024-Q2: A 101 only, B missing
    expect(flow.previous).toMatchObject({ value: 208, covered: 2 });
    expect(flow.lastYear).toMatchObject({ value: 101, covered: 1, missing: [{ code: B, reason: '未上报' }] });
    // 本年累计: Q1 + Q2
    expect(flow.ytd.value).toBe(2 * (104 + 105));
    // ytd: the quarter's own part is the difference from the previous quarter of the same year
    expect(rowOf(r, 'TQ02').current.value).toBe(2 * (q(5).TQ02 - q(4).TQ02));
    expect(rowOf(r, 'TQ02').ytd.value).toBe(2 * q(5).TQ02);
    // stock: the quarter's value
    expect(rowOf(r, 'TQ03').current.value).toBe(2 * q(5).TQ03);
    expect(rowOf(r, 'TQ-I01').current.value).toBeCloseTo(210 / (2 * q(5).TQ03), 12);
    // 同比 on the comparable set: A only
    expect(flow.yoy).toMatchObject({ value: ((105 - 101) / 101) * 100, kind: 'percent' });
    expect(flow.comparable.yoy.excluded).toEqual([{ code: B, name: NAMES[B], reason: '去年同期未上报' }]);
    const status = r.status.rows.filter((x) => x.template === 'T-TQ');
    expect(status.map((x) => [x.institution, x.period, x.status, x.timeliness])).toEqual([
      [A, '2025-Q2', '已通过', '按时'],
      [B, '2025-Q2', '已通过', '按时'],
    ]);
    const detail = r.details.find((d) => d.template.id === 'T-TQ')!;
    expect(detail.rows.map((x) => [x.code, x.status])).toEqual([
      [A, '已通过'],
      [B, '已通过'],
    ]);
  });

  it('a quarterly return is late after day 15 of the month after the quarter; missing before then is 未到期', () => {
    const late = consolidate(inputOf({ period: '2025-Q1', entries: [{ institution: A, template: 'T-TQ', period: '2025-Q1', values: q(4), uploadedAt: '2025-04-15T16:30:00Z' }], counties, templates: [TQ], generatedAt: new Date('2025-04-14T00:00:00Z') }));
    expect(late.status.rows.map((x) => [x.institution, x.status, x.timeliness])).toEqual([
      [A, '已通过', '逾期'],
      [B, '未上报', '未到期'],
    ]);
  });

  it('a year: a quarterly flow sums its quarters, a stock its last; the annual return is the year’s; missing quarters are named', () => {
    const r = run('2025');
    expect(templatesOf(r)).toEqual(['T-TT', 'T-TQ', 'T-TY']);
    const flow = rowOf(r, 'TQ01');
    expect(flow.current).toMatchObject({ value: 104 + 105 + 106 + 107, covered: 1, owed: 2 });
    expect(flow.current.missing).toEqual([{ code: B, name: NAMES[B], reason: '第3季度未上报、第4季度未上报' }]);
    expect(rowOf(r, 'TQ03').current).toMatchObject({ value: q(7).TQ03, covered: 1 });
    const detail = r.details.find((d) => d.template.id === 'T-TQ')!;
    expect(detail.rows.find((x) => x.code === B)!.status).toBe('已报 2/4 个季度');
    // the annual return: 本年 2025, 上年 2024 (A only)
    const rate = rowOf(r, 'TY-I01');
    expect(rate.current.value).toBeCloseTo(((1_880 + 20) / (374_000 + 1_000)) * 1000, 12);
    expect(rate.previous).toMatchObject({ covered: 1, owed: 2 });
    expect(rate.previous.value).toBeCloseTo(4.64, 12);
    // 环比 over the comparable set (A): 1880/374000 vs 1740/375000, in points
    expect(rate.mom!.value).toBeCloseTo((1_880 / 374_000 - 1_740 / 375_000) * 1000, 12);
    const status = r.status.rows.filter((x) => x.template === 'T-TY');
    expect(status.map((x) => [x.institution, x.period])).toEqual([
      [A, '2025'],
      [B, '2025'],
    ]);
    expect(r.status.rows.filter((x) => x.template === 'T-TQ')).toHaveLength(8);
  });

  it('a running year holds whole quarters only: January to May shows the first quarter, no annual return', () => {
    const r = consolidate(inputOf({ period: '2025', months: parsePeriod('2025').months.slice(0, 5), entries, counties, templates: [TT, TQ, TY] }));
    expect(templatesOf(r)).toEqual(['T-TT', 'T-TQ']);
    expect(rowOf(r, 'TQ01').current.value).toBe(2 * 104);
  });
});

describe('city level', () => {
  it('counties are the detail rows; rates are recomputed over all institutions, never averaged across counties', () => {
    const X = '150425-101';
    const countyA = countyOf([[A, NAMES[A]!], [B, NAMES[B]!]]);
    const countyB = countyOf([[X, '丁镇卫生院']], '150425', '克什克腾旗');
    const entries: EntrySpec[] = [
      { institution: A, template: 'T-TT', period: '2025-03', values: { TT01: 10, TT03: 90, TT05: 100 } },
      { institution: B, template: 'T-TT', period: '2025-03', values: { TT01: 20, TT03: 10, TT05: 100 } },
      { institution: X, template: 'T-TT', period: '2025-03', values: { TT01: 5, TT03: 30, TT05: 300 } },
    ];
    const r = consolidate({ ...inputOf({ period: '2025-03', entries, counties: [countyA, countyB], level: 'city' }), area: { code: '1505', name: '通辽市' } });
    expect(r.title).toBe('通辽市卫生健康统计月报汇总（2025年3月）');
    expect(rowOf(r, 'TT01').current).toMatchObject({ value: 35, covered: 3, owed: 3 });
    const cityRate = rowOf(r, 'TT-I02').current.value!;
    expect(cityRate).toBe((130 / 500) * 100);
    const d = r.details[0]!;
    expect(d.rows.map((x) => [x.code, x.name])).toEqual([
      ['150425', '克什克腾旗'],
      ['150525', '奈曼旗'],
    ]);
    const j = d.columns.findIndex((c) => c.code === 'TT-I02');
    expect(d.rows.map((x) => x.values[j])).toEqual([10, 50]);
    expect(cityRate).not.toBeCloseTo((10 + 50) / 2, 1);
    expect(d.total[j]).toBe(cityRate);
    expect(d.rows[1]!.status).toBe('实报 2/2');
  });

  it('loads every county of the city from the store', async () => {
    const store = new MemoryStore();
    const input = await loadCityConsolidationInput(store, bundledDefinitions(), '1505', '2025-03', new Date('2025-04-10T00:00:00Z'));
    expect(input.counties.map((c) => c.code)).toEqual(['150525']);
    expect(input.area).toEqual({ code: '1505', name: '通辽市' });
    expect(input.level).toBe('city');
    expect(input.targets).toEqual([]);
  });
});

describe('loader', () => {
  const now = new Date('2025-04-10T02:00:00Z');

  async function storeWith(specs: EntrySpec[]): Promise<MemoryStore> {
    const store = new MemoryStore();
    for (const s of specs) {
      const e = makeEntry(s);
      if (e.current) {
        await store.putVersion(e.current, e.current.submission);
        await store.makeCurrent(e.current);
        await store.recordAttempt(e.current);
      }
      if (e.latest && e.latest.status === 'rejected') {
        await store.putVersion(e.latest, null);
        await store.recordAttempt(e.latest);
      }
    }
    return store;
  }

  it('owed submissions come from the registry: an institution that stored nothing is 未上报', async () => {
    const store = await storeWith([{ institution: '150525-101', template: 'T-JC', period: '2025-03', values: { JC01: 1000 } }]);
    const input = await loadConsolidationInput(store, bundledDefinitions(), '150525', '2025-03', now);
    expect(input.counties[0]!.institutions).toHaveLength(bundledDefinitions().county('150525')!.institutions.length);
    expect(input.templates.map((t) => t.id)).toEqual(['T-JC', 'T-YY', 'T-FY', 'T-JK', 'T-QY', 'T-ND', 'T-TZ']);
    // a month holds no quarter or year: only the months are read, no quarterly or annual return is owed
    expect([...input.entries.keys()].every((p) => /^\d{4}-\d{2}$/.test(p))).toBe(true);
    expect(input.stats).toMatchObject({ periodReads: 5, entries: 1 });
    const r = consolidate(input);
    const jc = r.status.rows.filter((x) => x.template === 'T-JC');
    expect(jc).toHaveLength(21);
    expect(jc.filter((x) => x.status === '未上报')).toHaveLength(20);
    expect(rowOf(r, 'JC01').current).toMatchObject({ value: 1000, covered: 1, owed: 21 });
  });

  it('a running quarter ends at the latest month anything was submitted for; a period not begun is refused', async () => {
    const store = await storeWith([
      { institution: '150525-101', template: 'T-JC', period: '2025-01', values: { JC01: 1 } },
      { institution: '150525-101', template: 'T-JC', period: '2025-02', values: { JC01: 1 } },
    ]);
    expect((await loadConsolidationInput(store, bundledDefinitions(), '150525', '2025-Q1', now)).months).toEqual(['2025-01', '2025-02']);
    expect((await loadConsolidationInput(store, bundledDefinitions(), '150525', '2025', now)).months).toEqual(['2025-01', '2025-02']);
    expect((await loadConsolidationInput(store, bundledDefinitions(), '150525', '2025-03', now)).months).toEqual(['2025-03']);
    await expect(loadConsolidationInput(store, bundledDefinitions(), '150525', '2025-05', now)).rejects.toThrow(PeriodError);
    await expect(loadConsolidationInput(store, bundledDefinitions(), '999999', '2025-03', now)).rejects.toThrow(PeriodError);
  });

  it('reads ledger rows of the current ledger version through the port', async () => {
    const rows = [{ row: 8, taskNo: '1', content: '任务', owner: '甲', deadline: '2025-12-31', status: '推进中', progress: 10, measures: null, remark: null }];
    const store = await storeWith([{ institution: '150525-101', template: 'T-TZ', period: '2025-03', rows }]);
    const calls: string[] = [];
    const original = store.ledgerRows.bind(store);
    store.ledgerRows = async (i, t, p, id) => {
      calls.push(`${i}|${t}|${p}`);
      return original(i, t, p, id);
    };
    const input = await loadConsolidationInput(store, bundledDefinitions(), '150525', '2025-03', now);
    expect(calls).toEqual(['150525-101|T-TZ|2025-03']);
    expect(consolidate(input).ledger.map((l) => l.row.content)).toEqual(['任务']);
  });
});
