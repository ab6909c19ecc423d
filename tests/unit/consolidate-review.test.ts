/**
 * 审核 in the consolidation (the one hook in compute.ts: which accepted return counts): a county's
 * figures count every accepted return and say how many are not approved; on request, and always at
 * city level, only approved returns count, and a return left out says 未审核. 上报情况 has the 审核
 * column; a return from before review existed counts as approved.
 */
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { byMonth, makeEntry, type EntrySpec } from '../../functions/core/consolidate/build.ts';
import { consolidate } from '../../functions/core/consolidate/compute.ts';
import { loadCityConsolidationInput, loadConsolidationInput } from '../../functions/core/consolidate/load.ts';
import { renderConsolidated, SHEET } from '../../functions/core/consolidate/index.ts';
import type { ConsolidationResult } from '../../functions/core/consolidate/types.ts';
import { bundledDefinitions } from '../../schemas/index.ts';
import { MemoryStore } from '../fakes/memory.ts';

const NOW = new Date('2025-04-10T02:00:00Z');
const A = '150525-101';
const B = '150525-102';
const C = '150525-103';

/** 建档 and 规范建档 of three institutions: A approved, B pending, C from before review existed */
const SPECS: EntrySpec[] = [
  { institution: A, template: 'T-JC', period: '2025-03', values: { JC02: 1000, JC03: 900 }, review: 'approved' },
  { institution: B, template: 'T-JC', period: '2025-03', values: { JC02: 2000, JC03: 1000 }, review: 'pending' },
  { institution: C, template: 'T-JC', period: '2025-03', values: { JC02: 4000, JC03: 3000 } },
];

async function storeWith(specs: EntrySpec[]): Promise<MemoryStore> {
  const store = new MemoryStore();
  for (const e of specs.map(makeEntry)) {
    await store.putVersion(e.current!, e.current!.submission);
    await store.makeCurrent(e.current!);
    store.currents.get(`150525|2025-03|T-JC|${e.institution}`)!.review = e.current!.review as never;
    await store.recordAttempt(e.current!);
  }
  return store;
}

const row = (r: ConsolidationResult, code: string) => r.summary.flatMap((s) => s.rows).find((x) => x.code === code)!;

describe('审核 in the consolidation', () => {
  it('a county counts every accepted return and says how many are not approved', async () => {
    const r = consolidate(await loadConsolidationInput(await storeWith(SPECS), bundledDefinitions(), '150525', '2025-03', NOW));
    expect(r.approvedOnly).toBe(false);
    expect(row(r, 'JC02').current).toMatchObject({ value: 7000, covered: 3 });
    const jc = r.status.byTemplate.find((t) => t.key === 'T-JC')!;
    expect(jc).toMatchObject({ submitted: 3, approved: 2, unreviewed: 1 });
    expect(r.status.rows.filter((x) => x.template === 'T-JC' && x.status !== '未上报').map((x) => [x.institution, x.review])).toEqual([
      [A, '已审核'],
      [B, '待审核'],
      [C, '已审核'],
    ]);
    expect(r.status.rows.find((x) => x.template === 'T-JC' && x.status === '未上报')!.review).toBe('');
  });

  it('restricted to approved returns: the pending one is left out of the figures, named 未审核; 上报情况 still lists it', async () => {
    const r = consolidate(await loadConsolidationInput(await storeWith(SPECS), bundledDefinitions(), '150525', '2025-03', NOW, { approvedOnly: true }));
    expect(r.approvedOnly).toBe(true);
    expect(row(r, 'JC02').current).toMatchObject({ value: 5000, covered: 2 });
    expect(row(r, 'JC02').current.missing).toContainEqual({ code: B, name: '青龙山镇中心卫生院', reason: '未审核' });
    // a rate from the approved ones' numerators and denominators: (900 + 3000) / (1000 + 4000)
    const rate = r.summary.flatMap((s) => s.rows).find((x) => x.kind === 'indicator' && x.current.numerator === 3900)!;
    expect(rate.current.value).toBeCloseTo(78, 10);
    expect(r.status.rows.find((x) => x.institution === B && x.template === 'T-JC')).toMatchObject({ status: '已通过', review: '待审核' });
  });

  it('the city counts approved returns only', async () => {
    const r = consolidate(await loadCityConsolidationInput(await storeWith(SPECS), bundledDefinitions(), '1505', '2025-03', NOW));
    expect(r.approvedOnly).toBe(true);
    expect(row(r, 'JC02').current.value).toBe(5000);
  });

  it('the workbook: 上报情况 has the 审核 column, its subtitle and 说明 say how many are unreviewed', async () => {
    const r = consolidate(await loadConsolidationInput(await storeWith(SPECS), bundledDefinitions(), '150525', '2025-03', NOW));
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await renderConsolidated(r)) as unknown as ExcelJS.Buffer);
    const sheet = wb.getWorksheet(SHEET.status)!;
    const header = (sheet.getRow(3).values as unknown[]).map(String);
    const col = header.indexOf('审核');
    expect(col).toBe(header.indexOf('状态') + 1);
    const reviews = new Map<string, string>();
    sheet.eachRow((rw, n) => {
      if (n > 3 && rw.getCell(3).value === '基层医疗卫生机构月报') reviews.set(String(rw.getCell(1).value), String(rw.getCell(col).value ?? ''));
    });
    expect([reviews.get(A), reviews.get(B), reviews.get(C)]).toEqual(['已审核', '待审核', '已审核']);
    expect(String(sheet.getCell('A2').value)).toContain('未审核 1 份');
    const readme: string[] = [];
    wb.getWorksheet(SHEET.readme)!.eachRow((rw) => rw.eachCell((c) => readme.push(String(c.value))));
    expect(readme.some((t) => t.startsWith('审核：本表合计含已通过校验的全部报表，其中已审核 2 份、未审核（待审核或退回）1 份'))).toBe(true);
  });
});
