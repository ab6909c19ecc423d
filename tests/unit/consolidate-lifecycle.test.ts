/**
 * Institutions that begin, end or merge during a year, as the consolidation counts them: a month an
 * institution does not owe is neither counted nor missing; A and B merged into C from April count
 * under C (their months before April summed with C's own), never twice, named in the notes.
 */
import { describe, expect, it } from 'vitest';
import { byMonth, makeEntry, type EntrySpec } from '../../functions/core/consolidate/build.ts';
import { consolidate } from '../../functions/core/consolidate/compute.ts';
import { parsePeriod } from '../../functions/core/consolidate/period.ts';
import type { ConsolidationInput, ConsolidationResult, InstitutionUnit } from '../../functions/core/consolidate/types.ts';
import { testElement, testTemplate } from '../fakes/template.ts';

const el = (code: string, semantics: 'flow' | 'ytd' | 'stock') => testElement(code, code, semantics);
const TT = testTemplate([el('TT01', 'flow'), el('TT02', 'ytd'), el('TT03', 'stock')], [{ code: 'TT-I01', name: '管理率', numerator: ['TT02'], denominator: ['TT03'], factor: 100, unit: '%', source: '' }]);

const A = '150525-101';
const B = '150525-102';
const C = '150525-103';
const D = '150525-104';
const unit = (code: string, name: string, life: Partial<InstitutionUnit> = {}): InstitutionUnit => ({ code, name, type: 'township_hc', typeName: '苏木乡镇卫生院', owes: ['T-TT'], ...life });

/** A and B merged into C from 2025-04; D closed from 2025-03 (no successor) */
const UNITS = [unit(A, '甲镇卫生院', { until: '2025-04', mergedInto: C }), unit(B, '乙镇卫生院', { until: '2025-04', mergedInto: C }), unit(C, '丙镇中心卫生院'), unit(D, '丁镇卫生院', { until: '2025-03' })];

/** flow 10 a month each; ytd the running sum of it; stock 100 */
function months(institution: string, list: string[], flow = 10): EntrySpec[] {
  return list.map((period) => ({ institution, template: 'T-TT', period, values: { TT01: flow, TT02: flow * Number(period.slice(5)), TT03: 100 } }));
}

function input(period: string, entries: EntrySpec[], months = parsePeriod(period).months): ConsolidationInput {
  return {
    level: 'county',
    area: { code: '150525', name: '奈曼旗' },
    period,
    months,
    counties: [{ code: '150525', name: '奈曼旗', deadlineDay: 5, institutions: UNITS }],
    templates: [TT],
    targets: [],
    entries: byMonth(entries.map(makeEntry)),
    ledgerRows: new Map(),
    generatedAt: new Date('2025-06-10T02:00:00Z'),
  };
}

const Q1 = ['2025-01', '2025-02', '2025-03'];
const before = ['2024-04', ...Q1];
// C reports its merged area's cumulative figures from April: its ytd includes A's and B's Jan–Mar
const cFromApril: EntrySpec[] = ['2025-04', '2025-05'].map((period) => ({ institution: C, template: 'T-TT', period, values: { TT01: 30, TT02: 30 * Number(period.slice(5)), TT03: 300 } }));
const ENTRIES = [...months(A, before), ...months(B, before), ...months(C, before), ...months(D, ['2024-04', '2025-01', '2025-02']), ...cFromApril];

const row = (r: ConsolidationResult, code: string) => r.summary[0]!.rows.find((x) => x.code === code)!;

describe('a merge of two township health centres into a third from April', () => {
  const april = consolidate(input('2025-04', ENTRIES));

  it('上报情况 of April: C owes, A, B (merged) and D (closed) owe nothing and are not missing', () => {
    expect(april.status.rows.map((r) => [r.institution, r.status])).toEqual([[C, '已通过']]);
    expect(april.status.overall).toMatchObject({ owed: 1, submitted: 1, missing: 0 });
  });

  it('the month and the year to date count every flow once: A, B, C and D in Jan–Mar, C alone from April', () => {
    const flow = row(april, 'TT01');
    expect(flow.current.value).toBe(30);
    expect(flow.ytd.value).toBe(10 * 3 * 3 + 10 * 2 + 30); // A, B, C Jan–Mar; D Jan–Feb; C April
    expect(flow.current.missing).toEqual([]);
    expect(flow.ytd.missing).toEqual([]);
    // 上月 (March) under April's definitions: A + B folded into C, D's closed month owed by nobody
    expect(flow.previous.value).toBe(30);
    // 去年同期: C's April 2024 is A + B + C of April 2024; D was open then
    expect(row(april, 'TT01').lastYear.value).toBe(40);
  });

  it('a ytd element takes the latest month; C’s base month (March) is A + B + C, so its own April part is 30', () => {
    const ytd = row(april, 'TT02');
    expect(ytd.ytd.value).toBe(120);
    expect(ytd.current.value).toBe(120 - 90);
  });

  it('the detail sheet shows C with the merged institutions named, and no row for A, B or D', () => {
    const detail = april.details[0]!;
    expect(detail.rows.map((r) => r.code)).toEqual([C]);
    expect(detail.owed).toBe(1);
    expect(detail.rows[0]!.note).toBe('');
    // the running year ends at May, the latest month anything was submitted for
    const year = consolidate(input('2025', ENTRIES, parsePeriod('2025').months.slice(0, 5)));
    const yearDetail = year.details[0]!;
    expect(yearDetail.rows.map((r) => r.code)).toEqual([C, D]);
    expect(yearDetail.rows[0]!.note).toContain('含并入机构 甲镇卫生院、乙镇卫生院 并入前的数据');
    expect(yearDetail.rows[0]!.values[0]).toBe(30 * 3 + 30 * 2); // Jan–Mar merged area, Apr–May C
    expect(yearDetail.rows[1]!.values[0]).toBe(20); // D: Jan–Feb
    expect(yearDetail.total[0]).toBe(150 + 20);
  });

  it('a missing month of a merged institution before the merge names it', () => {
    const r = consolidate(input('2025-04', ENTRIES.filter((e) => !(e.institution === B && e.period === '2025-03'))));
    const flow = row(r, 'TT01');
    expect(flow.ytd.missing).toEqual([{ code: C, name: '丙镇中心卫生院', reason: '3月未上报（并入前：乙镇卫生院）' }]);
    expect(flow.ytd.value).toBe(20); // C lacks March: only D's January and February are complete
  });

  it('March, before the merge (definitions of March: no merge yet), has A, B and C each on its own; D closed', () => {
    const march = consolidate({ ...input('2025-03', ENTRIES), counties: [{ code: '150525', name: '奈曼旗', deadlineDay: 5, institutions: UNITS.map((u) => ({ ...u, until: u.code === D ? u.until : undefined, mergedInto: undefined })) }] });
    expect(march.details[0]!.rows.map((r) => r.code)).toEqual([A, B, C]);
    expect(march.status.rows.map((r) => r.institution)).toEqual([A, B, C]);
  });
});
