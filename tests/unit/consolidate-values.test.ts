/**
 * Indicator values held in columns (functions/core/consolidate/values.ts): what the table keeps, and
 * a consolidation over the loader's table equal to one over the same entries holding their values.
 */
import { describe, expect, it } from 'vitest';
import type { IndicatorTemplate } from '../../schemas/model.ts';
import { bundledDefinitions } from '../../schemas/index.ts';
import { makeEntry } from '../../functions/core/consolidate/build.ts';
import { consolidate } from '../../functions/core/consolidate/compute.ts';
import { loadConsolidationInput } from '../../functions/core/consolidate/load.ts';
import { readValues, ValueTable } from '../../functions/core/consolidate/values.ts';
import { generateSamples } from '../../fixtures/sample/values.ts';
import { MemoryStore } from '../fakes/memory.ts';

const JC = bundledDefinitions().template('T-JC') as IndicatorTemplate;
const codes = JC.elements.map((e) => e.code);

describe('value table', () => {
  it('keeps a return’s own finite numbers in element order, NaN for anything else', () => {
    const values = Object.assign(Object.create({ JC02: 7 }) as Record<string, unknown>, { JC01: 12, JC03: Number.NaN, JC04: '5', JC05: Infinity, JC06: 0 });
    const row = readValues(values, codes);
    expect(row[0]).toBe(12);
    expect(row.slice(1, 5).every(Number.isNaN)).toBe(true); // inherited, NaN, text, Infinity
    expect(row[5]).toBe(0);
  });

  it('holds rows per period and institution, beyond its first allocation; a template it does not hold stays out', () => {
    const table = new ValueTable(bundledDefinitions().templates);
    const all = table.columns('T-JC', codes)!;
    for (let i = 0; i < 300; i++) expect(table.hold('2025-03', 'T-JC', `inst-${i}`, { JC01: i })).toBe(true);
    table.hold('2025-03', 'T-JC', 'inst-7', { JC01: 700, JC02: 1 });
    expect(table.row('2025-03', 'inst-299', all)![0]).toBe(299);
    expect([...table.row('2025-03', 'inst-7', all)!.slice(0, 2)]).toEqual([700, 1]);
    expect(table.row('2025-03', 'inst-300', all)).toBeNull();
    expect(table.row('2025-02', 'inst-1', all)).toBeNull();
    expect(table.hold('2025-03', 'T-TZ', 'inst-1', { x: 1 })).toBe(false);
    expect(table.columns('T-TZ', ['x'])).toBeNull();
  });

  it('read by any codes, a row is what the return’s own values give: numbers under codes of another version kept', () => {
    const table = new ValueTable([JC]);
    const values = { JC01: 5, JC02: Number.NaN, XX99: 42, XX98: 'text', JC03: 7 };
    table.hold('2025-03', 'T-JC', 'a', values);
    const asked = ['JC03', 'XX99', 'JC02', 'XX98', 'XX97', 'JC01'];
    expect([...table.row('2025-03', 'a', table.columns('T-JC', asked)!)!]).toEqual([...readValues(values, asked)]);
    // held again: what it held under other codes goes with the old values
    table.hold('2025-03', 'T-JC', 'a', { JC01: 6 });
    expect([...table.row('2025-03', 'a', table.columns('T-JC', ['XX99', 'JC01'])!)!]).toEqual([Number.NaN, 6]);
  });
});

describe('consolidation over the value table', () => {
  it('the loader moves indicator values into columns; the result equals that of entries holding them', async () => {
    const store = new MemoryStore();
    for (const r of generateSamples().records) {
      const e = makeEntry(
        r.kind === 'indicator'
          ? { institution: r.institution, template: r.template, period: r.period, values: Object.fromEntries(Object.entries(r.values).filter((x): x is [string, number] => x[1] !== null)), remarks: r.remarks }
          : { institution: r.institution, template: r.template, period: r.period, rows: r.rows.map((x, i) => ({ ...x, row: 8 + i })) },
      );
      await store.putVersion(e.current!, e.current!.submission);
      await store.makeCurrent(e.current!);
      await store.recordAttempt(e.current!);
    }
    for (const period of ['2025-03', '2025-Q1', '2025']) {
      const loaded = await loadConsolidationInput(store, bundledDefinitions(), '150525', period, new Date('2025-04-10T02:00:00Z'));
      const held = [...loaded.entries.values()].flat().filter((e) => e.current?.submission.kind === 'indicator');
      expect(held.length).toBeGreaterThan(100);
      expect(held.every((e) => e.current!.submission.kind === 'indicator' && Object.keys(e.current!.submission.values).length === 0)).toBe(true);
      const asStored = new Map(await Promise.all([...loaded.entries.keys()].map(async (p) => [p, await store.listPeriod('150525', p)] as const)));
      const { values, ...withoutTable } = loaded;
      expect(values).toBeInstanceOf(ValueTable);
      expect(consolidate(loaded)).toEqual(consolidate({ ...withoutTable, entries: asStored }));
    }
  });

  it('the same table read with fewer elements (a trend’s narrowed template) gives what the entries give', async () => {
    const store = new MemoryStore();
    const values = (n: number) => Object.fromEntries(codes.map((c, j) => [c, n * 100 + j]));
    for (const [i, inst] of ['150525-101', '150525-102', '150525-103'].entries()) {
      for (const period of ['2025-01', '2025-02', '2025-03']) {
        const e = makeEntry({ institution: inst, template: 'T-JC', period, values: { ...values(i), XX99: 1 } });
        await store.putVersion(e.current!, e.current!.submission);
        await store.makeCurrent(e.current!);
      }
    }
    const loaded = await loadConsolidationInput(store, bundledDefinitions(), '150525', '2025-03', new Date('2025-04-10T02:00:00Z'));
    const narrow: IndicatorTemplate = { ...JC, elements: JC.elements.filter((e) => ['JC01', 'JC02', 'JC03'].includes(e.code)), rules: [], indicators: [] };
    const asStored = new Map(await Promise.all([...loaded.entries.keys()].map(async (p) => [p, await store.listPeriod('150525', p)] as const)));
    const { values: table, ...withoutTable } = loaded;
    const fromTable = consolidate({ ...loaded, templates: [narrow] });
    expect(fromTable.details[0]!.total[0]).toBe(0 + 100 + 200);
    expect(fromTable).toEqual(consolidate({ ...withoutTable, templates: [narrow], entries: asStored }));
    expect(table).toBeInstanceOf(ValueTable);
  });
});
