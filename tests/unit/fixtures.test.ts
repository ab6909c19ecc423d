/**
 * The sample data generator: the pure value model against seed 000's figures and every template
 * rule, the task ledgers, the deliberate errors and upload plan, and the writer's files and manifest.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COL, DATE_ROW, FIRST_DATA_ROW, INSTITUTION_ROW, PERIOD_ROW, REPORTER_ROW } from '../../functions/core/layout.ts';
import { ISSUE_CODES } from '../../functions/core/validate/codes.ts';
import { apportion, mulberry32, scatter } from '../../fixtures/sample/alloc.ts';
import { periodEnd } from '../../fixtures/sample/ledger.ts';
import {
  SAMPLE_ALL_PERIODS,
  SAMPLE_PERIODS,
  SAMPLE_QUARTERS,
  SAMPLE_SEED,
  findRecord,
  generateSamples,
  type IndicatorRecord,
  type LedgerRecord,
  type SampleSet,
} from '../../fixtures/sample/values.ts';
import { WRONG_CASES, draftOf, ledgerCell, valueCell } from '../../fixtures/sample/wrong.ts';
import { HISTORY_WARNINGS } from '../../fixtures/sample/history.ts';
import { checkHistory, shiftPeriod, type HistoryPoint } from '../../functions/core/validate/history.ts';
import { manifestOf, planFixtures, writeFixtures, type Manifest } from '../../fixtures/sample/write.ts';
import { LEDGER_STATUSES, type IndicatorTemplate, type Rule, bundledDefinitions } from '../../schemas/index.ts';

let set: SampleSet;
beforeAll(() => {
  set = generateSamples();
});

const county = bundledDefinitions().county('150525')!;
const PRIMARY = county.institutions.filter((i) => i.type === 'township_hc' || i.type === 'community_hc').map((i) => i.code);

function indicators(template: string, period?: string): IndicatorRecord[] {
  return set.records.filter((r): r is IndicatorRecord => r.kind === 'indicator' && r.template === template && (!period || r.period === period));
}
function ledgers(): LedgerRecord[] {
  return set.records.filter((r): r is LedgerRecord => r.kind === 'ledger');
}
/** Σ over institutions of an element in one month */
function total(template: string, period: string, code: string): number {
  return indicators(template, period).reduce((a, r) => a + (r.values[code] ?? 0), 0);
}
/** Σ over 2024's twelve months */
function year2024(template: string, code: string): number {
  return SAMPLE_PERIODS.filter((p) => p.startsWith('2024')).reduce((a, p) => a + total(template, p, code), 0);
}
const near = (actual: number, aim: number, tolerance = 0.02) => expect(Math.abs(actual - aim) / aim).toBeLessThanOrEqual(tolerance);

describe('alloc', () => {
  it('apportions exactly, proportionally and under caps', () => {
    expect(apportion(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(apportion(100, [3, 1]).reduce((a, b) => a + b)).toBe(100);
    const capped = apportion(10, [10, 1, 1], [4, 10, 10]);
    expect(capped.reduce((a, b) => a + b)).toBe(10);
    expect(capped[0]).toBe(4);
    expect(() => apportion(10, [1, 1], [3, 3])).toThrow();
    const s = scatter(mulberry32(1), 9, [1, 2, 3], [9, 9, 2]);
    expect(s.reduce((a, b) => a + b)).toBe(9);
    expect(s[2]).toBeLessThanOrEqual(2);
  });
});

describe('value model', () => {
  it('covers every template every institution owes, every sample period, once', () => {
    expect(SAMPLE_PERIODS).toHaveLength(15);
    expect(SAMPLE_PERIODS[0]).toBe('2024-01');
    expect(SAMPLE_PERIODS[14]).toBe('2025-03');
    const keys = set.records.map((r) => `${r.institution}|${r.template}|${r.period}`);
    expect(new Set(keys).size).toBe(keys.length);
    // each return of its own 周期: monthly ones every month, T-QY every quarter, T-ND for 2024
    const expected = county.institutions.flatMap((i) => SAMPLE_ALL_PERIODS.flatMap((p) => bundledDefinitions().owed(i, p).map((t) => `${i.code}|${t}|${p}`)));
    expect(keys.sort()).toEqual(expected.sort());
    expect(PRIMARY).toHaveLength(21);
    expect(set.records.filter((r) => r.template === 'T-QY').map((r) => r.period)).toHaveLength(21 * 5);
    expect(set.records.filter((r) => r.template === 'T-ND').map((r) => `${r.institution} ${r.period}`)).toEqual(['150525-000 2024']);
    expect(set.records.filter((r) => r.template === 'T-JC' && r.period.includes('Q'))).toEqual([]);
  });

  it('gives 奈曼旗 seed 000’s 4.64 托位 per thousand, and family doctor teams shaped like seed 001’s', () => {
    const nd = indicators('T-ND', '2024')[0]!.values;
    // seed 000 “全旗托位总数达到1740个，每千人口拥有3岁以下婴幼儿托位数达到4.64个”
    expect(nd.ND04).toBe(1_740);
    expect(Number((((nd.ND04 as number) / (nd.ND01 as number)) * 1000).toFixed(2))).toBe(4.64);
    const q4 = (code: string) => total('T-QY', '2024-Q4', code);
    near(q4('QY01'), 126, 0.03);
    // seed 001: 476 members in 115 primary teams, ≈ 4.1 a team
    expect(q4('QY02') / q4('QY01')).toBeGreaterThan(3.7);
    expect(q4('QY02') / q4('QY01')).toBeLessThan(4.5);
    // flows: each quarter its own, growing through the year
    const visits = SAMPLE_QUARTERS.slice(0, 4).map((q) => total('T-QY', q, 'QY04'));
    near(visits.reduce((a, b) => a + b), 7_200);
    expect(visits[3]).toBeGreaterThan(visits[0]!);
  });

  it('sums the 21 primary institutions to seed 000’s figures in 2024-12', () => {
    const dec = (code: string) => total('T-JC', '2024-12', code);
    near(dec('JC02'), 375_542);
    near(dec('JC03'), 368_977);
    expect(dec('JC03') / dec('JC02')).toBeCloseTo(0.9825, 3);
    near(dec('JC04'), 49_484);
    near(dec('JC05'), 32_986);
    expect(dec('JC05') / dec('JC04')).toBeCloseTo(0.6666, 3);
    near(dec('JC06'), 30_000);
    near(dec('JC07'), 25_788);
    near(dec('JC08'), 9_100);
    near(dec('JC09'), 6_697);
    near(dec('JC10'), 1_990);
    near(dec('JC11'), 1_863);
    expect(dec('JC16') / dec('JC04')).toBeCloseTo(0.9072, 3);
    expect(dec('JC17') / dec('JC15')).toBeCloseTo(0.9175, 3);
    expect(dec('JC01')).toBeGreaterThanOrEqual(375_000);
    expect(dec('JC01')).toBeLessThanOrEqual(380_000);
    // and the year's flows
    expect(year2024('T-JC', 'JC21') / year2024('T-JC', 'JC20')).toBeCloseTo(0.9526, 3);
    near(year2024('T-JC', 'JC22'), 1_943);
    near(year2024('T-JC', 'JC24'), 1_974);
    expect([year2024('T-JC', 'JC25'), year2024('T-JC', 'JC26'), year2024('T-JC', 'JC27')]).toEqual([3, 5, 9]);
  });

  it('matches seed 000 for the hospitals, the CDC and MCH in 2024', () => {
    const people = (code: string) => SAMPLE_PERIODS.filter((p) => p.startsWith('2024')).reduce((a, p) => a + (findRecord(set, '150525-001', 'T-YY', p) as IndicatorRecord).values[code]!, 0);
    expect([people('YY05'), people('YY06'), people('YY07'), people('YY08')]).toEqual([127, 44, 171, 311]);
    expect([year2024('T-YY', 'YY20'), year2024('T-YY', 'YY21'), year2024('T-YY', 'YY25'), year2024('T-YY', 'YY26')]).toEqual([8, 1_215, 212, 200]);
    for (const r of indicators('T-YY')) {
      const v = r.values;
      expect(v.YY17! / v.YY15!).toBeGreaterThanOrEqual(1.2);
      expect(v.YY17! / v.YY15!).toBeLessThanOrEqual(1.4);
      expect(v.YY17! / v.YY18!).toBeGreaterThanOrEqual(0.6);
      expect(v.YY17! / v.YY18!).toBeLessThanOrEqual(0.7);
      expect(v.YY14).toBeGreaterThanOrEqual(1.5);
      expect(v.YY14).toBeLessThanOrEqual(2.5);
      expect(Math.abs(v.YY12! - 94.36)).toBeLessThan(1);
      expect(Math.abs(v.YY13! - 97.56)).toBeLessThan(1);
    }
    const people2024Dec = findRecord(set, '150525-001', 'T-YY', '2024-12') as IndicatorRecord;
    expect([people2024Dec.values.YY12, people2024Dec.values.YY13]).toEqual([94.36, 97.56]);
    const mongolian = findRecord(set, '150525-002', 'T-YY', '2025-03') as IndicatorRecord;
    expect(['YY05', 'YY06', 'YY07', 'YY08'].map((c) => mongolian.values[c])).toEqual([null, null, null, null]);

    const fy = (code: string) => year2024('T-FY', code);
    expect([fy('FY01'), fy('FY02'), fy('FY03'), fy('FY04')]).toEqual([1_943, 1_912, 1_974, 0]);
    expect([fy('FY05'), fy('FY06'), fy('FY07')]).toEqual([3, 5, 9]);
    expect([fy('FY16'), fy('FY17'), fy('FY14'), fy('FY13'), fy('FY19'), fy('FY21')]).toEqual([2_456, 2_000, 1_969, 1_942, 17_471, 17_506]);
    expect(total('T-FY', '2024-07', 'FY18')).toBe(17_215);
    expect((fy('FY19') / 17_215) * 100).toBeCloseTo(101.49, 2);
    expect((fy('FY21') / 17_215) * 100).toBeCloseTo(101.69, 2);
    expect((fy('FY12') / fy('FY11')) * 100).toBeCloseTo(96.77, 2);
    expect((fy('FY02') / fy('FY01')) * 100).toBeCloseTo(98.38, 1);

    const jk = (code: string) => year2024('T-JK', code);
    expect(jk('JK01') + jk('JK02')).toBe(1_718);
    expect([jk('JK03'), jk('JK09'), jk('JK10'), jk('JK11'), jk('JK12')]).toEqual([440, 51, 0, 4_250, 14_021]);
    expect([jk('JK13'), jk('JK14'), jk('JK15'), jk('JK16'), jk('JK17'), jk('JK18'), jk('JK19')]).toEqual([615, 42, 87, 15, 4, 1, 3]);
    expect(jk('JK05') / jk('JK04')).toBe(1);
    expect(jk('JK06') / jk('JK05')).toBeCloseTo(0.929, 3);
    expect(jk('JK08') / jk('JK07')).toBeGreaterThanOrEqual(0.95);
  });

  it('gives every element a value of its type: integers, 0–100 percentages, nothing negative, required present', () => {
    for (const r of set.records) {
      if (r.kind !== 'indicator') continue;
      const def = bundledDefinitions().template(r.template)! as IndicatorTemplate;
      expect(Object.keys(r.values).sort()).toEqual(def.elements.map((e) => e.code).sort());
      for (const el of def.elements) {
        const v = r.values[el.code];
        if (v === null || v === undefined) {
          expect(el.required, `${r.institution} ${r.period} ${el.code} required`).toBe(false);
          continue;
        }
        expect(v).toBeGreaterThanOrEqual(0);
        if (el.type === 'integer') expect(Number.isInteger(v), `${el.code} ${v}`).toBe(true);
        if (el.type === 'percent') expect(v).toBeLessThanOrEqual(100);
        if (el.type !== 'integer') expect(Math.round(v * 100) / 100).toBe(v);
      }
    }
  });

  it('keeps year-to-date values non-decreasing within a year, restarting in January, and stocks slow', () => {
    for (const template of ['T-JC', 'T-YY', 'T-FY', 'T-JK']) {
      const def = bundledDefinitions().template(template)! as IndicatorTemplate;
      const institutions = [...new Set(indicators(template).map((r) => r.institution))];
      for (const inst of institutions) {
        const series = SAMPLE_PERIODS.map((p) => (findRecord(set, inst, template, p) as IndicatorRecord).values);
        for (const el of def.elements) {
          for (let t = 1; t < series.length; t++) {
            const [prev, cur] = [series[t - 1]![el.code], series[t]![el.code]];
            if (prev === null || cur === null || prev === undefined || cur === undefined) continue;
            const january = SAMPLE_PERIODS[t]!.endsWith('-01');
            if (el.semantics === 'ytd' && !january) expect(cur, `${inst} ${el.code} ${SAMPLE_PERIODS[t]}`).toBeGreaterThanOrEqual(prev);
            if (el.semantics === 'ytd' && january) expect(cur, `${inst} ${el.code} resets`).toBeLessThan(prev);
            if (el.semantics === 'stock') expect(Math.abs(cur - prev), `${inst} ${el.code} ${SAMPLE_PERIODS[t]}`).toBeLessThanOrEqual(Math.max(3, prev * 0.1));
          }
        }
      }
    }
  });

  it('satisfies every consistency rule (errors and warnings) of every template in every correct record', () => {
    const holds = (rule: Rule, values: Record<string, number | null>) => {
      const operands = [...rule.left, ...rule.right].map((c) => values[c]);
      if (operands.every((v) => v === null || v === undefined)) return true; // optional elements left empty
      const side = (codes: string[]) => codes.reduce((a, c) => a + (values[c] ?? 0), 0);
      const [l, r] = [side(rule.left), side(rule.right)];
      return rule.op === '<=' ? l <= r : rule.op === '>=' ? l >= r : l === r;
    };
    let checked = 0;
    for (const r of set.records) {
      if (r.kind !== 'indicator') continue;
      for (const rule of (bundledDefinitions().template(r.template)! as IndicatorTemplate).rules) {
        expect(holds(rule, r.values), `${r.institution} ${r.period} ${rule.id}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(5_000);
  });

  it('keeps task ledgers consistent: statuses, progress, deadlines, numbering', () => {
    for (const r of ledgers()) {
      const [y, m] = r.period.split('-').map(Number) as [number, number];
      const end = periodEnd(y, m);
      expect(new Set(r.rows.map((row) => row.taskNo)).size).toBe(r.rows.length);
      const group = county.institutions.find((i) => i.code === r.institution)!.type;
      if (group === 'commission' || group === 'county_mongolian_hospital') {
        expect(r.rows.length).toBeGreaterThanOrEqual(8);
        expect(r.rows.length).toBeLessThanOrEqual(15);
      }
      if (PRIMARY.includes(r.institution)) {
        expect(r.rows.length).toBeGreaterThanOrEqual(3);
        expect(r.rows.length).toBeLessThanOrEqual(6);
      }
      for (const row of r.rows) {
        expect(LEDGER_STATUSES).toContain(row.status);
        expect(row.deadline).toMatch(/^20\d\d-\d\d-\d\d$/);
        expect(Number.isNaN(Date.parse(row.deadline))).toBe(false);
        expect(row.owner).toMatch(/^\S+ \S某$/);
        expect(Number.isInteger(row.progress)).toBe(true);
        if (row.status === '已完成') expect(row.progress).toBe(100);
        else if (row.status === '未启动') expect(row.progress).toBe(0);
        else {
          expect(row.progress).toBeGreaterThan(0);
          expect(row.progress).toBeLessThan(100);
        }
        // overdue means 已滞后, and 已滞后 only when overdue
        const overdue = row.deadline <= end && row.status !== '已完成';
        expect(row.status === '已滞后', `${r.institution} ${r.period} task ${row.taskNo}`).toBe(overdue);
        if (y === 2025) expect(Number(row.taskNo)).toBeGreaterThanOrEqual(1);
        if (y === 2025) expect(Number(row.taskNo)).toBeLessThanOrEqual(35);
      }
    }
    // progress never goes back within a year
    for (const inst of county.institutions) {
      for (const year of ['2024', '2025']) {
        const months = ledgers().filter((r) => r.institution === inst.code && r.period.startsWith(year));
        for (let i = 1; i < months.length; i++) {
          for (const row of months[i]!.rows) {
            const before = months[i - 1]!.rows.find((x) => x.taskNo === row.taskNo)!;
            expect(row.progress).toBeGreaterThanOrEqual(before.progress);
          }
        }
      }
    }
    const statuses = new Set(ledgers().flatMap((r) => r.rows.map((row) => row.status)));
    expect([...statuses].sort()).toEqual([...LEDGER_STATUSES].sort());
  });

  it('is deterministic: the same seed gives the same records, another seed other values', () => {
    expect(generateSamples(SAMPLE_SEED)).toEqual(set);
    const other = generateSamples(7);
    expect(other.records).not.toEqual(set.records);
    const dec = (s: SampleSet) => s.records.filter((r): r is IndicatorRecord => r.kind === 'indicator' && r.template === 'T-JC' && r.period === '2024-12').reduce((a, r) => a + r.values.JC02!, 0);
    expect(dec(other)).toBe(dec(set));
  });
});

describe('deliberate errors and the upload plan', () => {
  it('computes cells from the layout', () => {
    expect(valueCell('T-JC', 'JC06')).toBe('D13');
    expect(valueCell('T-JC', 'JC07')).toBe('D14');
    expect(valueCell('T-JC', 'JC21')).toBe('D28');
    expect(valueCell('T-YY', 'YY07')).toBe('D14');
    expect(valueCell('T-JC', 'JC01')).toBe(`${String.fromCharCode(64 + COL.value)}${FIRST_DATA_ROW}`);
    expect(ledgerCell('T-TZ', 'progress', 0)).toBe(`F${FIRST_DATA_ROW}`);
  });

  it('spoils each case’s record and names known issue codes', () => {
    expect(WRONG_CASES.length).toBeGreaterThanOrEqual(8);
    for (const c of WRONG_CASES) {
      const record = findRecord(set, c.institution, c.template, c.period)!;
      const draft = draftOf(record);
      c.spoil(draft, record);
      expect(draft, c.id).not.toEqual(draftOf(record));
      const issues = c.issues(record);
      expect(issues.length, c.id).toBeGreaterThan(0);
      for (const issue of issues) {
        expect(ISSUE_CODES[issue.code], issue.code).toBeDefined();
        expect(issue.cell).toMatch(/^[A-Z]+\d+$/);
      }
      // a rule violation is as severe as its rule, found by the rule's left-hand cell
      const severityOf = (i: (typeof issues)[number]) => {
        if (i.code !== 'rule-violation') return ISSUE_CODES[i.code].severity;
        const rule = (bundledDefinitions().template(c.template)! as IndicatorTemplate).rules.find((r) => valueCell(c.template, r.left[0]!) === i.cell);
        expect(rule, `${c.id}: a rule whose left side is at ${i.cell}`).toBeDefined();
        return rule!.severity;
      };
      const severities = issues.map(severityOf);
      const status = severities.includes('error') ? 'rejected' : severities.includes('warning') ? 'accepted_with_warnings' : 'accepted';
      expect(c.expect, c.id).toBe(status);
    }
  });

  it('leaves every slot with an accepted version except one, and fixes one rejected upload later', () => {
    const planned = planFixtures(set);
    const manifest = manifestOf(set, planned);
    const files = manifest.files;
    expect(files.map((f) => f.uploadOrder)).toEqual(files.map((_, i) => i + 1));
    expect(new Set(files.map((f) => f.file)).size).toBe(files.length);
    expect(files.length).toBe(set.records.length + WRONG_CASES.filter((c) => c.mode !== 'replaces').length);
    for (const f of files) expect(f.file).toBe(`${f.county}/${f.institution}/${f.template}/${f.period}/${f.file.split('/').pop()}`);
    expect(files.some((f) => /[^\x00-\x7f]/.test(f.file))).toBe(true);

    const bySlot = new Map<string, typeof files>();
    for (const f of files) {
      const key = `${f.institution}|${f.template}|${f.period}`;
      bySlot.set(key, [...(bySlot.get(key) ?? []), f]);
    }
    expect(bySlot.size).toBe(set.records.length);
    const unaccepted = [...bySlot].filter(([, fs]) => fs.every((f) => f.expect === 'rejected'));
    expect(unaccepted.map(([k]) => k)).toEqual(['150525-105|T-JC|2025-03']);
    const fixedLater = [...bySlot].filter(([, fs]) => fs[0]!.expect === 'rejected' && fs.length > 1 && fs[fs.length - 1]!.expect !== 'rejected');
    expect(fixedLater.map(([k]) => k)).toEqual(['150525-107|T-JC|2025-03']);
    const rejected = files.filter((f) => f.expect === 'rejected');
    expect(rejected.length).toBeGreaterThanOrEqual(7);
    for (const f of rejected) expect(f.issues?.length).toBeGreaterThan(0);
    // the one deliberate warning, and the history check's four (fixtures/sample/history.ts)
    expect(files.filter((f) => f.expect === 'accepted_with_warnings').map((f) => `${f.institution} ${f.template} ${f.period}`)).toEqual([
      '150525-001 T-YY 2024-09',
      '150525-001 T-YY 2024-11',
      '150525-001 T-YY 2024-12',
      '150525-001 T-YY 2025-01',
      '150525-110 T-JC 2025-03',
    ]);
  });

  it('uploads in time order: office hours, most before the deadline, a few after it, re-uploads after the first', () => {
    const files = manifestOf(set, planFixtures(set)).files;
    const times = files.map((f) => Date.parse(f.uploadedAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const beijing = (f: (typeof files)[number]) => new Date(Date.parse(f.uploadedAt) + 8 * 3_600_000);
    for (const f of files) {
      const t = beijing(f);
      // in the month the return is due in (a month's or quarter's: the next; a year's: March), 08:30–17:30 Beijing time (a re-upload up to a day later)
      const due = new Date(bundledDefinitions().deadlineOf(county, f.template, f.period).getTime() + 8 * 3_600_000);
      const dueMonth = due.toISOString().slice(0, 7);
      expect([dueMonth, shiftPeriod(dueMonth, 1)], f.file).toContain(t.toISOString().slice(0, 7));
      expect(t.getUTCHours() * 60 + t.getUTCMinutes(), f.file).toBeGreaterThanOrEqual(8 * 60 + 30);
      expect(t.getUTCHours() * 60 + t.getUTCMinutes(), f.file).toBeLessThan(19 * 60 + 30);
    }
    const late = (f: (typeof files)[number]) => Date.parse(f.uploadedAt) > bundledDefinitions().deadlineOf(county, f.template, f.period).getTime();
    for (const period of SAMPLE_PERIODS) {
      const firsts = files.filter((f) => f.period === period && !f.note);
      expect(firsts.filter(late).length, period).toBeLessThanOrEqual(Math.ceil(firsts.length * 0.15));
    }
    const lateShare = files.filter(late).length / files.length;
    expect(lateShare).toBeGreaterThan(0.02);
    expect(lateShare).toBeLessThan(0.12);
    // every re-upload of a slot comes after its first upload
    for (const c of WRONG_CASES.filter((x) => x.mode !== 'replaces')) {
      const slot = files.filter((f) => f.institution === c.institution && f.template === c.template && f.period === c.period);
      expect(slot, c.id).toHaveLength(2);
      expect(Date.parse(slot[1]!.uploadedAt)).toBeGreaterThan(Date.parse(slot[0]!.uploadedAt));
    }
  });

  it('the manifest’s warnings are what the history check says, with the set uploaded in order', () => {
    // the history stage as ingest runs it: each correct indicator return against the institution's
    // accepted months before it, in upload order (rejected files never enter the history)
    const files = manifestOf(set, planFixtures(set)).files;
    const accepted = new Map<string, HistoryPoint[]>();
    const mismatches: string[] = [];
    for (const f of files) {
      const def = bundledDefinitions().template(f.template)!;
      if (def.kind !== 'indicator' || f.expect === 'rejected') continue;
      const record = findRecord(set, f.institution, f.template, f.period) as IndicatorRecord;
      const values = Object.fromEntries(Object.entries(record.values).filter((e): e is [string, number] => typeof e[1] === 'number'));
      const slot = `${f.institution}|${f.template}`;
      const cells = def.elements.flatMap((element, i) =>
        values[element.code] === undefined ? [] : [{ element, ref: valueCell(def, element.code), row: FIRST_DATA_ROW + i, col: COL.value, value: values[element.code]! }],
      );
      const seen = checkHistory(f.period, cells, accepted.get(slot) ?? [], def.sheetName).map((i) => `${i.code} @ ${i.cell}`);
      const expected = (f.issues ?? []).filter((i) => i.code.startsWith('history-')).map((i) => `${i.code} @ ${i.cell}`);
      if (seen.join() !== expected.join()) mismatches.push(`${f.file}: history check [${seen}] ≠ manifest [${expected}]`);
      accepted.set(slot, [...(accepted.get(slot) ?? []).filter((h) => h.period !== f.period), { period: f.period, values }]);
    }
    expect(mismatches).toEqual([]);
    expect(HISTORY_WARNINGS.flatMap((w) => w.periods)).toHaveLength(4);
  });

  it('expects a history warning only when the months it looks back on are in the set', () => {
    const entry = (periods: string[]) => manifestOf(set, planFixtures(set, { periods, institutions: ['150525-001'] })).files.find((f) => f.template === 'T-YY' && f.period === '2025-01')!;
    expect(entry(['2024-07', '2024-08', '2024-09', '2024-10', '2024-11', '2024-12', '2025-01'])).toMatchObject({ expect: 'accepted_with_warnings', issues: [{ code: 'history-outlier', cell: 'D28' }] });
    expect(entry(['2025-01'])).toMatchObject({ expect: 'accepted' });
    expect(entry(['2025-01']).issues).toBeUndefined();
  });

  it('plans a subset by period and institution', () => {
    const planned = planFixtures(set, { periods: ['2025-03'], institutions: ['150525-107'] });
    const files = planned.map((p) => p.entry.file);
    expect([...files].sort()).toEqual([
      '150525/150525-107/T-JC/2025-03/三月报表.xlsx',
      '150525/150525-107/T-JC/2025-03/三月报表（更正）.xlsx',
      '150525/150525-107/T-TZ/2025-03/T-TZ_150525-107_2025-03.xlsx',
    ]);
    expect(files.indexOf('150525/150525-107/T-JC/2025-03/三月报表（更正）.xlsx')).toBeGreaterThan(files.indexOf('150525/150525-107/T-JC/2025-03/三月报表.xlsx'));
    expect(Object.fromEntries(planned.map((p) => [p.entry.file.split('/').pop(), p.entry.expect]))).toEqual({ '三月报表.xlsx': 'rejected', '三月报表（更正）.xlsx': 'accepted', 'T-TZ_150525-107_2025-03.xlsx': 'accepted' });
  });
});

describe('writer', () => {
  const dirs: string[] = [];
  let manifest: Manifest;
  let out: string;
  const SUBSET = { institutions: ['150525-107', '150525-001'], periods: ['2025-02', '2025-03'] };

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'hmis-fixtures-'));
    dirs.push(out);
    manifest = (await writeFixtures(out, SUBSET)).manifest;
  });
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('writes the files the manifest lists, and the manifest', async () => {
    // 2 institutions × 2 templates × 2 periods, + the corrected re-upload of 107 and the bad re-upload of 001
    expect(manifest.files).toHaveLength(10);
    expect(manifest.seed).toBe(SAMPLE_SEED);
    expect(manifest.periods).toEqual(SUBSET.periods);
    const onDisk = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(onDisk).toEqual(manifest);
    for (const f of manifest.files) {
      const bytes = await readFile(join(out, ...f.file.split('/')));
      expect(bytes.subarray(0, 2).toString()).toBe('PK');
    }
    const yy = manifest.files.find((f) => f.file.endsWith('T-YY_150525-001_2025-02（重报）.xlsx'))!;
    expect(yy).toMatchObject({ expect: 'rejected', issues: [{ code: 'rule-violation', cell: 'D14' }] });
    expect(yy.uploadOrder).toBeGreaterThan(manifest.files.find((f) => f.file.endsWith('T-YY_150525-001_2025-02.xlsx'))!.uploadOrder);
  });

  it('puts the values into the input cells, numbers as numbers', async () => {
    const f = manifest.files.find((x) => x.file.endsWith('T-YY_150525-001_2025-03.xlsx'))!;
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await readFile(join(out, ...f.file.split('/')))) as unknown as ExcelJS.Buffer);
    const ws = wb.getWorksheet(bundledDefinitions().template('T-YY')!.sheetName)!;
    expect(ws.getCell(INSTITUTION_ROW, 2).value).toBe('150525-001');
    expect(ws.getCell(PERIOD_ROW, 2).value).toBe('2025-03');
    expect(ws.getCell(REPORTER_ROW, 2).value).toMatch(/某$/);
    expect(ws.getCell(REPORTER_ROW, 4).value).toBe('0475-4200002');
    // 填报日期 is the Beijing date of the upload
    expect((ws.getCell(DATE_ROW, 2).value as Date).toISOString().slice(0, 10)).toBe(new Date(Date.parse(f.uploadedAt) + 8 * 3_600_000).toISOString().slice(0, 10));
    const record = findRecord(set, '150525-001', 'T-YY', '2025-03') as IndicatorRecord;
    for (const code of ['YY01', 'YY05', 'YY07', 'YY12', 'YY14', 'YY26']) {
      const cell = ws.getCell(valueCell('T-YY', code));
      expect(typeof cell.value, code).toBe('number');
      expect(cell.value, code).toBe(record.values[code]);
    }

    const spoiled = manifest.files.find((x) => x.file.endsWith('三月报表.xlsx'))!;
    const wb2 = new ExcelJS.Workbook();
    await wb2.xlsx.load((await readFile(join(out, ...spoiled.file.split('/')))) as unknown as ExcelJS.Buffer);
    const ws2 = wb2.getWorksheet(bundledDefinitions().template('T-JC')!.sheetName)!;
    expect(ws2.getCell('D14').value as number).toBeGreaterThan(ws2.getCell('D13').value as number);
  });

  it('writes ledger rows from row 8: text, dates, statuses, progress', async () => {
    const f = manifest.files.find((x) => x.template === 'T-TZ' && x.institution === '150525-107' && x.period === '2025-03')!;
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await readFile(join(out, ...f.file.split('/')))) as unknown as ExcelJS.Buffer);
    const ws = wb.getWorksheet(bundledDefinitions().template('T-TZ')!.sheetName)!;
    const record = findRecord(set, '150525-107', 'T-TZ', '2025-03') as LedgerRecord;
    record.rows.forEach((row, k) => {
      const r = FIRST_DATA_ROW + k;
      expect(ws.getCell(r, 1).value).toBe(row.taskNo);
      expect(ws.getCell(r, 2).value).toBe(row.content);
      expect((ws.getCell(r, 4).value as Date).toISOString().slice(0, 10)).toBe(row.deadline);
      expect(ws.getCell(r, 5).value).toBe(row.status);
      expect(ws.getCell(r, 6).value).toBe(row.progress);
    });
    expect(ws.getCell(FIRST_DATA_ROW + record.rows.length, 1).value).toBeNull();
  });

  it('writes byte-identical files and manifest on a second run', async () => {
    const again = await mkdtemp(join(tmpdir(), 'hmis-fixtures-'));
    dirs.push(again);
    await writeFixtures(again, SUBSET);
    const list = async (d: string): Promise<string[]> =>
      (await readdir(d, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name).slice(d.length)).sort();
    const [a, b] = [await list(out), await list(again)];
    expect(b).toEqual(a);
    for (const rel of a) expect(Buffer.compare(await readFile(join(out, rel)), await readFile(join(again, rel))), rel).toBe(0);
  });
});
