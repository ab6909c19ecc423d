/**
 * The consolidated workbook against an independent oracle.
 *
 * The bundled sample submissions (fixtures/sample) are validated in upload order, with the history
 * check, and the accepted ones put into the in-memory store as ingestion would (the latest accepted
 * upload of a slot is current); the county
 * 150525 is consolidated for 2025-03, 2025-Q1, the running 2025 and the whole 2024 through the loader and
 * the renderer (the quarterly T-QY counts in the quarter and the years, the annual T-ND in 2024 only). Python's
 * openpyxl then reads the written workbook, and every total, rate and comparison it finds is compared
 * with what this file computes straight from the fixture workbooks' cells (read by openpyxl too, not
 * through our parser, store or consolidation code). Finally LibreOffice converts each workbook to PDF.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IndicatorTemplate, bundledDefinitions, bundledSource } from '../../schemas/index.ts';
import { writeFixtures, type Manifest, type ManifestEntry } from '../../fixtures/sample/write.ts';
import { validateUpload } from '../../functions/core/validate/index.ts';
import { HISTORY_MONTHS, shiftPeriod } from '../../functions/core/validate/history.ts';
import type { IndicatorSubmission } from '../../functions/core/normalize/submission.ts';
import { consolidate, loadCityConsolidationInput, loadConsolidationInput, renderConsolidated } from '../../functions/core/consolidate/index.ts';
import type { CurrentSubmission, SubmissionVersion } from '../../functions/ports/index.ts';
import { MemoryObjects, MemoryStore } from '../fakes/memory.ts';
import { consolidationTrends } from '../../functions/core/trend/index.ts';
import { buildDraft } from '../../functions/core/draft/index.ts';
import { renderDraftDocx } from '../../functions/core/draft/docx.ts';
import { writeLake } from '../../functions/core/lake/index.ts';
import { lakeConnection, plainRows } from '../../functions/cli/lake.ts';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const SOFFICE = ['/usr/bin/soffice', '/usr/local/bin/soffice', '/opt/libreoffice/program/soffice'].find((p) => existsSync(p));
const NOW = new Date('2025-04-10T02:00:00Z');
const COUNTY = '150525';

let dir: string;
let manifest: Manifest;
const store = new MemoryStore();
/** file → element code → value, read by openpyxl from the fixture workbooks */
let cells: Record<string, Record<string, [unknown, string]>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hmis-consolidate-oracle-'));
  ({ manifest } = await writeFixtures(join(dir, 'fx')));
  // ingestion's semantics: every upload, in order, is a version, checked against the institution's
  // accepted months before it; an accepted one becomes current unless a newer is
  for (const f of manifest.files) {
    const indicator = bundledDefinitions().template(f.template)?.kind === 'indicator';
    const past = indicator ? await store.history(f.institution, f.template, shiftPeriod(f.period, -HISTORY_MONTHS), shiftPeriod(f.period, -1)) : [];
    const history = past.map((c) => ({ period: c.period, values: (c.submission as IndicatorSubmission).values }));
    const { report, submission } = await validateUpload(await readFile(join(dir, 'fx', f.file)), { definitions: bundledSource(), institution: f.institution, template: f.template, period: f.period, now: NOW, ...(indicator ? { history } : {}) });
    expect(report.status, f.file).toBe(f.expect);
    const uploadedAt = f.uploadedAt;
    const version: SubmissionVersion = {
      versionId: `v${f.uploadOrder}`,
      order: `${uploadedAt}#${String(f.uploadOrder).padStart(8, '0')}`,
      uploadedAt,
      objectKey: `uploads/${f.file}`,
      county: f.county,
      institution: f.institution,
      template: f.template,
      period: f.period,
      templateVersion: report.template?.version ?? null,
      status: report.status,
      errors: report.stats.errors,
      warnings: report.stats.warnings,
      reportKey: `reports/${f.file}.json`,
      firstIssues: report.issues.filter((i) => i.severity !== 'info').slice(0, 20),
    };
    await store.putVersion(version, submission);
    if (submission && report.status !== 'rejected') await store.makeCurrent({ ...version, status: report.status, submission } as CurrentSubmission);
    await store.recordAttempt(version);
  }
  cells = JSON.parse((await run(PYTHON, ['-c', READ_FIXTURES, join(dir, 'fx')], { maxBuffer: 256 * 1024 * 1024 })).stdout);
}, 300_000);

afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

// ---------------------------------------------------------------------------------------------
// The oracle: straight from the fixture files' cells.

/** openpyxl: the value column of the return sheet (the sheet whose header row has 指标代码 and 本期数值) */
const READ_FIXTURES = String.raw`
import json, sys, re, openpyxl
root = sys.argv[1]
manifest = json.load(open(root + '/manifest.json'))
code_re = re.compile(r'^[A-Z]{2}\d{2}$')
out = {}
for f in manifest['files']:
    if f['expect'] == 'rejected' or f['template'] == 'T-TZ':
        continue
    wb = openpyxl.load_workbook(root + '/' + f['file'], data_only=True)
    values = {}
    for ws in wb.worksheets:
        code_col = value_col = None
        for row in ws.iter_rows():
            if code_col is None:
                heads = {c.value: c.column for c in row if isinstance(c.value, str)}
                if '指标代码' in heads and '本期数值' in heads:
                    code_col, value_col = heads['指标代码'], heads['本期数值']
                continue
            a = row[code_col - 1].value
            if isinstance(a, str) and code_re.match(a.strip()):
                d = row[value_col - 1]
                values[a.strip()] = [d.value, d.number_format]
    out[f['file']] = values
print(json.dumps(out, ensure_ascii=False))
`;

/** What people type, as the commission would read it: 13,236 → 13236; full-width digits; 95.26%. */
function readNumber(raw: unknown, numFmt: string): number | undefined {
  if (raw === null || raw === undefined || raw === '') return undefined;
  if (typeof raw === 'number') return numFmt.includes('%') ? raw * 100 : raw;
  const text = String(raw)
    .replace(/[\uFF10-\uFF19]/g, (d) => String(d.charCodeAt(0) - 0xff10))
    .replace(/[,\s\u00a0]/g, '');
  const n = Number(text.replace(/%$/, ''));
  if (!Number.isFinite(n)) throw new Error(`oracle cannot read ${JSON.stringify(raw)}`);
  return n;
}

type Record_ = Record<string, number>;

/** template → institution → period (month, quarter, year) → values of the accepted upload that counts (the latest accepted) */
function acceptedValues(): Map<string, Map<string, Map<string, Record_>>> {
  const winners = new Map<string, ManifestEntry>();
  for (const f of manifest.files) {
    if (f.expect === 'rejected' || f.template === 'T-TZ') continue;
    const key = `${f.template}|${f.institution}|${f.period}`;
    const w = winners.get(key);
    if (!w || w.uploadOrder < f.uploadOrder) winners.set(key, f);
  }
  const out = new Map<string, Map<string, Map<string, Record_>>>();
  for (const f of winners.values()) {
    const values: Record_ = {};
    for (const [code, [raw, fmt]] of Object.entries(cells[f.file] ?? {})) {
      const n = readNumber(raw, fmt);
      if (n !== undefined) values[code] = n;
    }
    if (!out.has(f.template)) out.set(f.template, new Map());
    const byInst = out.get(f.template)!;
    if (!byInst.has(f.institution)) byInst.set(f.institution, new Map());
    byInst.get(f.institution)!.set(f.period, values);
  }
  return out;
}

interface Windows {
  current: string[];
  ytd: string[];
  previous: string[];
  lastYear: string[];
}

const m = (y: number, ...months: number[]) => months.map((k) => `${y}-${String(k).padStart(2, '0')}`);
const CASES: Array<{ period: string; labels: [string, string]; windows: Windows }> = [
  { period: '2025-03', labels: ['本月', '上月'], windows: { current: m(2025, 3), ytd: m(2025, 1, 2, 3), previous: m(2025, 2), lastYear: m(2024, 3) } },
  { period: '2025-Q1', labels: ['本季', '上季'], windows: { current: m(2025, 1, 2, 3), ytd: m(2025, 1, 2, 3), previous: m(2024, 10, 11, 12), lastYear: m(2024, 1, 2, 3) } },
  // the running year: the sample data ends in March
  { period: '2025', labels: ['本年', '上年'], windows: { current: m(2025, 1, 2, 3), ytd: m(2025, 1, 2, 3), previous: m(2024, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), lastYear: m(2024, 1, 2, 3) } },
  // a whole year: the annual return too; nothing before it
  { period: '2024', labels: ['本年', '上年'], windows: { current: m(2024, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), ytd: m(2024, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), previous: m(2023, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), lastYear: m(2023, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12) } },
];

/**
 * A window of months in a template's own periods (written here, not taken from the code under test):
 * the months; the quarters all three of whose months are in it; the years all twelve.
 */
function unitsOf(kind: IndicatorTemplate['periodType'], months: readonly string[]): string[] {
  if (kind === 'month') return [...months];
  const groups = new Map<string, number>();
  for (const month of months) {
    const [y, mo] = month.split('-').map(Number) as [number, number];
    const id = kind === 'quarter' ? `${y}-Q${Math.ceil(mo / 3)}` : String(y);
    groups.set(id, (groups.get(id) ?? 0) + 1);
  }
  return [...groups].filter(([, n]) => n === (kind === 'quarter' ? 3 : 12)).map(([id]) => id);
}

/** the period before one of a template's own periods in the same year (a ytd value's base), or null */
function baseOf(period: string): string | null {
  const q = /^(\d{4})-Q([1-4])$/.exec(period);
  if (q) return q[2] === '1' ? null : `${q[1]}-Q${Number(q[2]) - 1}`;
  if (/^\d{4}$/.test(period)) return null;
  const [y, mo] = period.split('-').map(Number) as [number, number];
  return mo === 1 ? null : `${y}-${String(mo - 1).padStart(2, '0')}`;
}

class Oracle {
  readonly data = acceptedValues();
  readonly county = bundledDefinitions().county(COUNTY)!;

  owing(def: IndicatorTemplate) {
    return this.county.institutions.filter((i) => bundledDefinitions().templatesOf(i).includes(def.id));
  }

  /** one institution's value of an element over a window of months, taken in the template's own periods; own: a ytd value's part inside the window */
  value(def: IndicatorTemplate, inst: string, code: string, months: string[], own: boolean): number | undefined {
    const el = def.elements.find((e) => e.code === code)!;
    const window = unitsOf(def.periodType, months);
    if (!window.length) return undefined;
    const periods = this.data.get(def.id)?.get(inst);
    const at = (period: string) => periods?.get(period)?.[code];
    const last = window[window.length - 1]!;
    if (el.semantics === 'flow') {
      let s = 0;
      for (const period of window) {
        const x = at(period);
        if (x === undefined) return undefined;
        s += x;
      }
      return s;
    }
    if (el.semantics === 'stock' || !own) return at(last);
    // ytd: the cumulative at the end minus the cumulative of the period before the window, within the year
    const before = baseOf(window[0]!);
    if (!before) return at(last);
    const a = at(last);
    const b = at(before);
    return a === undefined || b === undefined ? undefined : a - b;
  }

  total(def: IndicatorTemplate, code: string, window: string[], own = true, only?: string[]) {
    let sum = 0;
    let covered = 0;
    for (const i of this.owing(def)) {
      if (only && !only.includes(i.code)) continue;
      const x = this.value(def, i.code, code, window, own);
      if (x === undefined) continue;
      sum += x;
      covered++;
    }
    return { value: covered ? sum : null, covered, owed: this.owing(def).length };
  }

  /** 环比/同比 on the comparable set: only the institutions that have every value needed in both windows */
  comparable(def: IndicatorTemplate, code: string, a: string[], b: string[]) {
    const x = def.indicators.find((i) => i.code === code);
    const needs = x ? [...x.numerator, ...x.denominator] : [code];
    const both = this.owing(def)
      .filter((i) => needs.every((c) => this.value(def, i.code, c, a, true) !== undefined && this.value(def, i.code, c, b, true) !== undefined))
      .map((i) => i.code);
    if (x) {
      const [ra, rb] = [a, b].map((w) => this.rate(def, code, w, true, undefined, both).value);
      return { change: pointChange(ra!, rb!), covered: both.length };
    }
    const [ta, tb] = [a, b].map((w) => this.total(def, code, w, true, both).value);
    return { change: pctChange(ta, tb), covered: both.length };
  }

  rate(def: IndicatorTemplate, code: string, window: string[], own = true, types?: string[], only?: string[]) {
    const x = def.indicators.find((i) => i.code === code)!;
    let n = 0;
    let d = 0;
    let covered = 0;
    for (const i of this.owing(def)) {
      if ((types && !types.includes(i.type)) || (only && !only.includes(i.code))) continue;
      const num = x.numerator.map((c) => this.value(def, i.code, c, window, own));
      const den = x.denominator.map((c) => this.value(def, i.code, c, window, own));
      if ([...num, ...den].some((v) => v === undefined)) continue;
      n += num.reduce((a, b) => a! + b!, 0)!;
      d += den.reduce((a, b) => a! + b!, 0)!;
      covered++;
    }
    return { value: covered && d > 0 ? (n / d) * x.factor : null, covered };
  }
}

const pctChange = (c: number | null, b: number | null) => (c === null || b === null || b === 0 ? null : ((c - b) / b) * 100);
const pointChange = (c: number | null, b: number | null) => (c === null || b === null ? null : c - b);

// ---------------------------------------------------------------------------------------------
// The independent reader of the consolidated workbook.

const READ_WORKBOOK = String.raw`
import json, sys, re, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
out = {'sheets': wb.sheetnames, 'formulas': 0, 'summary': {}, 'details': {}}
for ws in wb.worksheets:
    for row in ws.iter_rows():
        for c in row:
            if c.data_type == 'f':
                out['formulas'] += 1
ws = wb['指标汇总']
heads = {c.column: c.value for c in ws[3] if c.value is not None}
for row in ws.iter_rows(min_row=4):
    a = row[0].value
    if isinstance(a, str) and re.match(r'^[A-Z]{2}(\d{2}|-I\d{2})$', a):
        out['summary'][a] = {heads[c.column]: c.value for c in row if c.column in heads}
        out['summary'][a]['_formats'] = {heads[c.column]: c.number_format for c in row if c.column in heads}
ws = wb['上报情况']
for row in ws.iter_rows(min_row=4):
    if row[0].value == '合计':
        out['status_total'] = [c.value for c in row[:9]]
for ws in wb.worksheets:
    if not ws.title.endswith('明细'):
        continue
    codes = {c.column: c.value for c in ws[3] if isinstance(c.value, str) and re.match(r'^[A-Z]{2}(\d{2}|-I\d{2})$', c.value)}
    rows = {}
    for row in ws.iter_rows(min_row=6):
        a = row[0].value
        if isinstance(a, str) and (re.match(r'^\d{6}(-\d{3})?$', a) or a == '合计'):
            rows[a] = {codes[c.column]: c.value for c in row if c.column in codes}
            rows[a]['_status'] = row[3].value
    out['details'][ws.title] = rows
print(json.dumps(out, ensure_ascii=False))
`;

interface Read {
  status_total: unknown[];
  sheets: string[];
  formulas: number;
  summary: Record<string, Record<string, unknown> & { _formats: Record<string, string> }>;
  details: Record<string, Record<string, Record<string, unknown>>>;
}

async function readWorkbook(file: string): Promise<Read> {
  return JSON.parse((await run(PYTHON, ['-c', READ_WORKBOOK, file], { maxBuffer: 64 * 1024 * 1024 })).stdout);
}

/** every mismatch as a line, so one failing run shows them all */
function check(out: string[], where: string, seen: unknown, expected: number | string | null): void {
  const s = seen === undefined ? null : seen;
  if (s !== expected) out.push(`${where}: workbook ${JSON.stringify(s)} ≠ oracle ${JSON.stringify(expected)}`);
}

const allIndicatorDefs = bundledDefinitions().templates.filter((t): t is IndicatorTemplate => t.kind === 'indicator');
/** the indicator templates a consolidation of these months shows: those with a whole period of their 周期 in it */
const defsIn = (months: string[]) => allIndicatorDefs.filter((d) => unitsOf(d.periodType, months).length > 0);

describe.each(CASES)('consolidated workbook $period against the oracle', ({ period, labels, windows }) => {
  let file: string;
  let read: Read;
  let oracle: Oracle;
  const indicatorDefs = defsIn(windows.current);
  const year = Number(period.slice(0, 4));

  beforeAll(async () => {
    const input = await loadConsolidationInput(store, bundledDefinitions(), COUNTY, period, NOW);
    expect(input.months).toEqual(windows.current);
    const bytes = await renderConsolidated(consolidate(input));
    file = join(dir, `${period}.xlsx`);
    await writeFile(file, bytes);
    read = await readWorkbook(file);
    oracle = new Oracle();
  }, 120_000);

  it('has the sheets in order and no formulas', () => {
    const quarterly = windows.current.length >= 3 ? ['家庭医生季报明细'] : [];
    const annual = windows.current.length === 12 ? ['资源年报明细'] : [];
    expect(read.sheets).toEqual(['说明', '上报情况', '指标汇总', '基层月报明细', '医院月报明细', '妇幼月报明细', '疾控月报明细', ...quarterly, ...annual, '任务台账', '校验问题']);
    expect(read.formulas).toBe(0);
  });

  it('上报情况: 应报 from the registry, 实报 from the accepted files', () => {
    const county = bundledDefinitions().county(COUNTY)!;
    // every period of each 周期 wholly in the window: the months, the whole quarters, a whole year
    const periods = (['month', 'quarter', 'year'] as const).flatMap((kind) => unitsOf(kind, windows.current));
    const owed = periods.reduce((n, p) => n + county.institutions.reduce((k, i) => k + bundledDefinitions().owed(i, p).length, 0), 0);
    const accepted = new Set(manifest.files.filter((f) => f.expect !== 'rejected' && periods.includes(f.period)).map((f) => `${f.template}|${f.institution}|${f.period}`));
    // [合计, (merged), 应报, 实报, 未通过, 未上报, 上报率, 按时上报, 及时率]
    const [label, , o, sub, , , rate] = read.status_total;
    expect([label, o, sub, rate]).toEqual(['合计', owed, accepted.size, (accepted.size / owed) * 100]);
  });

  it('every total, rate and comparison in 指标汇总 equals the oracle’s, to the last digit', () => {
    const [cur, prev] = labels;
    const bad: string[] = [];
    let compared = 0;
    for (const def of indicatorDefs) {
      for (const el of def.elements) {
        const row = read.summary[el.code];
        if (!row) {
          bad.push(`${el.code}: no row`);
          continue;
        }
        const c = oracle.total(def, el.code, windows.current);
        const y = oracle.total(def, el.code, windows.ytd);
        const p = oracle.total(def, el.code, windows.previous);
        const l = oracle.total(def, el.code, windows.lastYear);
        const sums = el.additive ? [c.value, y.value, p.value, l.value] : [null, null, null, null];
        check(bad, `${el.code} ${cur}`, row[cur], sums[0]!);
        check(bad, `${el.code} 本年累计`, row['本年累计'], sums[1]!);
        check(bad, `${el.code} ${prev}`, row[prev], sums[2]!);
        check(bad, `${el.code} 去年同期`, row['去年同期'], sums[3]!);
        check(bad, `${el.code} 环比`, row['环比'], el.additive ? oracle.comparable(def, el.code, windows.current, windows.previous).change : null);
        check(bad, `${el.code} 同比`, row['同比'], el.additive ? oracle.comparable(def, el.code, windows.current, windows.lastYear).change : null);
        check(bad, `${el.code} 实报`, row['实报'], c.covered);
        check(bad, `${el.code} 应报`, row['应报'], c.owed);
        compared += 8;
      }
      for (const x of def.indicators) {
        const row = read.summary[x.code];
        if (!row) {
          bad.push(`${x.code}: no row`);
          continue;
        }
        const c = oracle.rate(def, x.code, windows.current).value;
        const y = oracle.rate(def, x.code, windows.ytd).value;
        const p = oracle.rate(def, x.code, windows.previous).value;
        const l = oracle.rate(def, x.code, windows.lastYear).value;
        check(bad, `${x.code} ${cur}`, row[cur], c);
        check(bad, `${x.code} 本年累计`, row['本年累计'], y);
        check(bad, `${x.code} ${prev}`, row[prev], p);
        check(bad, `${x.code} 去年同期`, row['去年同期'], l);
        check(bad, `${x.code} 环比`, row['环比'], oracle.comparable(def, x.code, windows.current, windows.previous).change);
        check(bad, `${x.code} 同比`, row['同比'], oracle.comparable(def, x.code, windows.current, windows.lastYear).change);
        const fmt = row._formats[cur]!;
        expect(fmt, x.code).toBe(x.unit === '%' ? '0.00"%"' : x.unit === '‰' ? '0.00"‰"' : x.unit === '1/10万' ? '0.00"/10万"' : '0.00');
        compared += 6;
      }
    }
    expect(bad).toEqual([]);
    expect(compared).toBeGreaterThan(600);
  });

  it('targets: the value judged (本年累计 over the target’s institution types) and met or missed', () => {
    const bad: string[] = [];
    const targets = bundledDefinitions().county(COUNTY)!.targets.filter((t) => t.year === year);
    // 奈曼旗's targets are for 2025; a 2024 workbook judges none
    if (year === 2024) expect(Object.values(read.summary).filter((row) => row['年度目标'] !== null && row['年度目标'] !== undefined)).toEqual([]);
    else expect(targets.length).toBeGreaterThan(5);
    for (const t of targets) {
      const def = indicatorDefs.find((d) => d.indicators.some((x) => x.code === t.indicator))!;
      const measured = oracle.rate(def, t.indicator, windows.ytd, true, t.institutionTypes).value;
      const row = read.summary[t.indicator]!;
      check(bad, `${t.indicator} 年度目标`, row['年度目标'], t.value);
      check(bad, `${t.indicator} 考核值`, row['考核值'], measured);
    }
    expect(bad).toEqual([]);
  });

  it('序时目标 and the verdicts, recomputed from the workbook’s own columns (年度目标, 序时方式, 考核值)', () => {
    const m = windows.ytd.length;
    const paced = `序时目标（${m}/12）`;
    const bad: string[] = [];
    let judged = 0;
    for (const [code, row] of Object.entries(read.summary)) {
      const target = row['年度目标'] as number | null;
      if (target === null || target === undefined) continue;
      const measured = row['考核值'] as number | null;
      const linear = row['序时方式'] === '线性' && m < 12;
      const due = linear ? (target * m) / 12 : target;
      if (linear) check(bad, `${code} 序时目标`, row[paced], due);
      else check(bad, `${code} 序时目标`, row[paced], null);
      const lower = /"≤"/.test(row._formats['年度目标']!);
      const ok = measured === null ? null : lower ? measured <= due + 1e-9 : measured >= due - 1e-9;
      const gap = measured === null ? '' : `${Math.abs(measured - due).toFixed(2)} 个百分点`;
      const verdict = ok === null ? '无数据' : linear ? (ok ? '达到序时进度' : `落后序时进度（${gap}）`) : ok ? '达标' : '未达标';
      check(bad, `${code} 达标情况`, row['达标情况'], verdict);
      judged++;
    }
    expect(bad).toEqual([]);
    if (year === 2024) expect(judged).toBe(0);
    else expect(judged).toBeGreaterThan(5);
  });

  it('every detail sheet: each institution’s values and rates, and the 合计 row', () => {
    const bad: string[] = [];
    for (const def of indicatorDefs) {
      const sheet = read.details[`${def.sheetName}明细`];
      if (!sheet) {
        bad.push(`${def.sheetName}明细: missing`);
        continue;
      }
      for (const inst of oracle.owing(def)) {
        const row = sheet[inst.code];
        if (!row) {
          bad.push(`${def.id} ${inst.code}: no row`);
          continue;
        }
        for (const el of def.elements) check(bad, `${def.id} ${inst.code} ${el.code}`, row[el.code], oracle.value(def, inst.code, el.code, windows.current, false) ?? null);
        for (const x of def.indicators) {
          const num = x.numerator.map((c) => oracle.value(def, inst.code, c, windows.current, false));
          const den = x.denominator.map((c) => oracle.value(def, inst.code, c, windows.current, false));
          const ok = [...num, ...den].every((v) => v !== undefined) && den.reduce((a, b) => a! + b!, 0)! > 0;
          check(bad, `${def.id} ${inst.code} ${x.code}`, row[x.code], ok ? (num.reduce((a, b) => a! + b!, 0)! / den.reduce((a, b) => a! + b!, 0)!) * x.factor : null);
        }
      }
      const total = sheet['合计']!;
      for (const el of def.elements) check(bad, `${def.id} 合计 ${el.code}`, total[el.code], el.additive ? oracle.total(def, el.code, windows.current, false).value : '不可加总');
      for (const x of def.indicators) check(bad, `${def.id} 合计 ${x.code}`, total[x.code], oracle.rate(def, x.code, windows.current, false).value);
    }
    expect(bad).toEqual([]);
  });

  it('LibreOffice converts it to PDF', async () => {
    if (!SOFFICE) throw new Error('LibreOffice (soffice) is required: apt-get install -y libreoffice-calc-nogui');
    const profile = join(tmpdir(), `lo-${randomUUID()}`);
    try {
      await run(SOFFICE, [`-env:UserInstallation=file://${profile}`, '--headless', '--convert-to', 'pdf', '--outdir', dir, file], { timeout: 120_000 });
      const pdf = file.replace(/\.xlsx$/, '.pdf');
      const head = (await readFile(pdf)).subarray(0, 5).toString('latin1');
      expect(head).toBe('%PDF-');
      expect((await stat(pdf)).size).toBeGreaterThan(20_000);
    } finally {
      await rm(profile, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('the sample data itself', () => {
  it('has the slot the oracle must treat as missing (治安镇中心卫生院 2025-03, rejected and never fixed)', async () => {
    const oracle = new Oracle();
    const jc = allIndicatorDefs.find((d) => d.id === 'T-JC')!;
    expect(oracle.data.get('T-JC')!.get('150525-105')!.has('2025-03')).toBe(false);
    expect(oracle.total(jc, 'JC01', m(2025, 3))).toMatchObject({ covered: 20, owed: 21 });
    const r = consolidate(await loadConsolidationInput(store, bundledDefinitions(), COUNTY, '2025-03', NOW));
    const row = r.summary.flatMap((s) => s.rows).find((x) => x.code === 'JC01')!;
    expect(row.current.missing).toEqual([{ code: '150525-105', name: '治安镇中心卫生院', reason: '未通过' }]);
  });

  it('辖区常住人口 (JC01) does not fall in March: 环比 0.00 % over the 20 institutions present both months, so noted', async () => {
    const r = consolidate(await loadConsolidationInput(store, bundledDefinitions(), COUNTY, '2025-03', NOW));
    const row = r.summary.flatMap((s) => s.rows).find((x) => x.code === 'JC01')!;
    // as reported, February has 治安镇中心卫生院's 25,818 and March does not
    expect(row.previous.value! - row.current.value!).toBe(25_818);
    expect(row.mom).toEqual({ value: 0, kind: 'percent' });
    expect(row.comparable.mom).toEqual({ covered: 20, excluded: [{ code: '150525-105', name: '治安镇中心卫生院', reason: '本月未通过' }] });
    const bytes = await renderConsolidated(r);
    const file = join(dir, 'jc01.xlsx');
    await writeFile(file, bytes);
    const read = await readWorkbook(file);
    expect(read.summary.JC01!['环比']).toBe(0);
    expect(String(read.summary.JC01!['备注'])).toContain('可比口径（20 家）：剔除本期或基期缺报的 1 家：治安镇中心卫生院（本月未通过）');
    // 65岁及以上老年人健康管理率 against its 序时目标 in March: 62 × 3/12, never against 62
    const elderly = read.summary['JC-I02']!;
    expect(elderly['序时方式']).toBe('线性');
    expect(elderly['序时目标（3/12）']).toBe(15.5);
    expect(String(elderly['达标情况'])).toMatch(/^(达到序时进度|落后序时进度（\d+\.\d\d 个百分点）)$/);
  });

  it('the city consolidation of 通辽市 (one county in the registry) has the county’s totals once the county approved its returns', async () => {
    const county = consolidate(await loadConsolidationInput(store, bundledDefinitions(), COUNTY, '2025-03', NOW));
    // the city reads approved returns only: before the county's review, nothing
    const before = consolidate(await loadCityConsolidationInput(store, bundledDefinitions(), '1505', '2025-03', NOW));
    expect(before.summary.flatMap((s) => s.rows).every((x) => x.current.covered === 0)).toBe(true);
    const reviews = [...store.currents.values()].map((c) => [c, c.review] as const);
    for (const [c] of reviews) c.review = { state: 'approved' };
    const city = consolidate(await loadCityConsolidationInput(store, bundledDefinitions(), '1505', '2025-03', NOW));
    for (const [c, review] of reviews) c.review = review;
    const pick = (r: typeof county) => r.summary.flatMap((s) => s.rows).map((x) => [x.code, x.current.value, x.ytd.value, x.previous.value, x.lastYear.value]);
    expect(pick(city)).toEqual(pick(county));
    expect(city.details[0]!.rows.map((x) => x.code)).toEqual([COUNTY]);
  });
});

// ---------------------------------------------------------------------------------------------
// What the commission looks at (issue 15): the 趋势 sheet and its charts, the data draft, the lake.

const READ_TREND = String.raw`
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb['趋势']
head = [c.value for c in ws[3]]
rows = {}
code = None
for row in ws.iter_rows(min_row=4, values_only=True):
    if row[3] not in ('合计', '年度目标'):
        continue
    code = row[0] or code
    rows.setdefault(code, {})[row[3]] = list(row[4:len(head) - 1])
led = wb['任务台账']
# 机构代码 … 进展状态 (8th) … 是否逾期 (12th)
lines = [r for r in led.iter_rows(min_row=4, values_only=True) if len(r) >= 12 and r[0] and r[7]]
statuses = [r[7] for r in lines]
overdue = [r for r in lines if r[11] == '逾期']
print(json.dumps({'sheets': wb.sheetnames, 'head': head, 'rows': rows, 'statuses': statuses, 'overdue': len(overdue)}, ensure_ascii=False))
`;

describe('what the commission looks at: the 趋势 sheet with native charts, the data draft, the lake', () => {
  const PERIOD = '2025-03';
  let file: string;
  let bytes: Buffer;
  let trend: { sheets: string[]; head: string[]; rows: Record<string, Record<string, Array<number | null>>>; statuses: string[]; overdue: number };
  let series: Awaited<ReturnType<typeof consolidationTrends>>;
  let oracle: Oracle;

  beforeAll(async () => {
    const input = await loadConsolidationInput(store, bundledDefinitions(), COUNTY, PERIOD, NOW);
    const result = consolidate(input);
    series = await consolidationTrends(store, bundledSource(), input, result);
    bytes = await renderConsolidated(result, series);
    file = join(dir, `trend-${PERIOD}.xlsx`);
    await writeFile(file, bytes);
    trend = JSON.parse((await run(PYTHON, ['-c', READ_TREND, file], { maxBuffer: 64 * 1024 * 1024 })).stdout);
    oracle = new Oracle();
  }, 120_000);

  it('趋势 follows 指标汇总: every indicator with a 2025 target, 13 months, each month the 合计 of that month’s detail sheet (oracle), and the year’s target', () => {
    expect(trend.sheets.slice(0, 4)).toEqual(['说明', '上报情况', '指标汇总', '趋势']);
    const months = Array.from({ length: 13 }, (_, i) => shiftPeriod(PERIOD, i - 12));
    expect(trend.head.slice(4, 17)).toEqual(months.map((m) => `${m.slice(0, 4)}年${Number(m.slice(5))}月`));
    const targets = bundledDefinitions().county(COUNTY)!.targets.filter((t) => t.year === 2025);
    expect(Object.keys(trend.rows).sort()).toEqual(targets.map((t) => t.indicator).sort());
    const bad: string[] = [];
    for (const t of targets) {
      const def = allIndicatorDefs.find((d) => d.indicators.some((x) => x.code === t.indicator))!;
      months.forEach((m, i) => {
        check(bad, `${t.indicator} ${m}`, trend.rows[t.indicator]!['合计']![i], oracle.rate(def, t.indicator, [m], false).value);
        check(bad, `${t.indicator} ${m} 目标`, trend.rows[t.indicator]!['年度目标']![i], m.startsWith('2025') ? t.value : null);
      });
    }
    expect(bad).toEqual([]);
  });

  it('one native line chart per indicator: its series reference the sheet’s cells and cache their values; the same data gives the same bytes', async () => {
    const JSZip = (await import('jszip')).default;
    const zip = await JSZip.loadAsync(bytes);
    const charts = Object.keys(zip.files).filter((n) => /^xl\/charts\/chart\d+\.xml$/.test(n)).sort();
    expect(charts).toHaveLength(Object.keys(trend.rows).length);
    const types = await zip.file('[Content_Types].xml')!.async('string');
    for (const c of charts) expect(types).toContain(`<Override PartName="/${c}" ContentType="application/vnd.openxmlformats-officedocument.drawingml.chart+xml"/>`);
    const workbook = await zip.file('xl/workbook.xml')!.async('string');
    const rels = await zip.file('xl/_rels/workbook.xml.rels')!.async('string');
    const rId = /<sheet [^>]*name="趋势"[^>]*r:id="(rId\d+)"/.exec(workbook)![1]!;
    const sheetPath = new RegExp(`Id="${rId}"[^>]*Target="/?(?:xl/)?([^"]+)"`).exec(rels)![1]!;
    const sheetXml = await zip.file(`xl/${sheetPath}`)!.async('string');
    expect(sheetXml).toMatch(/<drawing r:id="rId\d+"\/><\/worksheet>$/);
    const sheetRels = await zip.file(`xl/worksheets/_rels/${sheetPath.split('/').pop()}.rels`)!.async('string');
    expect(sheetRels).toContain('Target="../drawings/drawing1.xml"');
    const drawing = await zip.file('xl/drawings/drawing1.xml')!.async('string');
    expect(drawing.match(/<xdr:twoCellAnchor/g)).toHaveLength(charts.length);
    for (const c of charts) {
      const xml = await zip.file(c)!.async('string');
      const [name] = /<a:t>([^<]+)<\/a:t>/.exec(xml)!.slice(1);
      const code = series.find((s) => `${s.code} ${s.name}（${s.unit}）` === name)!.code;
      // the value series: its cells are the 合计 row of its indicator, and its cache holds their values
      const refs = [...xml.matchAll(/<c:f>([^<]+)<\/c:f>/g)].map((m) => m[1]);
      expect(refs[0]).toMatch(/^'趋势'!\$D\$\d+$/);
      expect(refs[1]).toBe(`'趋势'!$E$3:$Q$3`);
      expect(refs[2]).toMatch(/^'趋势'!\$E\$(\d+):\$Q\$\1$/);
      const cache = /<c:val><c:numRef>.*?<c:numCache>(.*?)<\/c:numCache>/.exec(xml)![1]!;
      const cached = Array.from({ length: 13 }, (_, i) => new RegExp(`<c:pt idx="${i}"><c:v>([^<]+)</c:v>`).exec(cache)?.[1]);
      expect(cached.map((v) => (v === undefined ? null : Number(v)))).toEqual(trend.rows[code]!['合计']);
    }
    const again = await renderConsolidated(consolidate(await loadConsolidationInput(store, bundledDefinitions(), COUNTY, PERIOD, NOW)), series);
    expect(again.equals(bytes)).toBe(true);
  });

  it('LibreOffice draws the charts: the PDF page of 趋势 has the lines (dark blue), the targets (red) and the 序时目标 (orange)', async () => {
    if (!SOFFICE) throw new Error('LibreOffice (soffice) is required: apt-get install -y libreoffice-calc-nogui');
    const profile = join(tmpdir(), `lo-${randomUUID()}`);
    try {
      await run(SOFFICE, [`-env:UserInstallation=file://${profile}`, '--headless', '--convert-to', 'pdf', '--outdir', dir, file], { timeout: 120_000 });
      const pdf = file.replace(/\.xlsx$/, '.pdf');
      let page = 0;
      for (let p = 1; p < 60 && !page; p++) {
        const { stdout } = await run('pdftotext', ['-f', String(p), '-l', String(p), pdf, '-']);
        if (stdout.includes('重点指标趋势')) page = p;
      }
      expect(page).toBeGreaterThan(0);
      const { stdout } = await run('pdftoppm', ['-f', String(page), '-l', String(page), '-r', '60', pdf], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
      const [blue, red, orange] = countColours(stdout as unknown as Buffer, [
        [0x1f, 0x4e, 0x79],
        [0xc0, 0x00, 0x00],
        [0xed, 0x7d, 0x31],
      ]);
      // at 60 dpi a dashed line is a few dozen pixels (measured: 481 blue, 45 red, 27 orange); none without the charts
      expect(blue).toBeGreaterThan(200);
      expect(red).toBeGreaterThan(20);
      expect(orange).toBeGreaterThan(10);
    } finally {
      await rm(profile, { recursive: true, force: true });
    }
  }, 180_000);

  it.each(['2025-03', '2025-Q1', '2025'])('the data draft of %s: every figure of the Word document is the workbook’s; the appendix is 指标汇总', async (period) => {
    const result = consolidate(await loadConsolidationInput(store, bundledDefinitions(), COUNTY, period, NOW));
    const wbFile = join(dir, `draft-${period}.xlsx`);
    await writeFile(wbFile, await renderConsolidated(result));
    const read = await readWorkbook(wbFile);
    const ledger = JSON.parse((await run(PYTHON, ['-c', READ_TREND.replace("wb['趋势']", "wb['指标汇总']"), wbFile], { maxBuffer: 64 * 1024 * 1024 })).stdout) as typeof trend;
    const docx = await renderDraftDocx(buildDraft(result));
    const JSZip = (await import('jszip')).default;
    const xml = await (await JSZip.loadAsync(docx)).file('word/document.xml')!.async('string');
    const text = [...xml.matchAll(/<w:t(?: [^>]*)?>([^<]*)<\/w:t>/g)].map((m) => m[1]).join('');
    expect(text).toContain(period === '2025-03' ? '截至2025年3月底，全旗应管理高血压患者' : '全旗');

    // the workbook's numbers, as shown (two decimals), from 指标汇总 and the 上报情况 totals
    const shown = new Set<string>();
    const add = (v: unknown) => typeof v === 'number' && shown.add(Math.abs(v).toFixed(2));
    for (const row of Object.values(read.summary)) for (const [k, v] of Object.entries(row)) if (k !== '_formats') add(v);
    read.status_total.forEach(add);
    // the ledger's figures: rows by status and overdue rows of 任务台账
    const count = (s: string) => ledger.statuses.filter((x) => x === s).length;
    [ledger.statuses.length, count('已完成'), count('推进中'), count('未启动'), count('已滞后'), ledger.overdue].forEach(add);
    add(new Set(result.ledger.map((l) => l.institution)).size);

    const figures = [...xml.matchAll(/<w:r><w:rPr><w:rStyle w:val="DraftFigure"\/>.*?<w:t(?: [^>]*)?>([^<]*)<\/w:t><\/w:r>/g)].map((m) => m[1]!);
    expect(figures.length).toBeGreaterThan(period === '2025-03' ? 150 : 100);
    const strange = figures.filter((f) => !shown.has(Math.abs(Number(f.replace(/[≥≤%‰]|\/10万/g, ''))).toFixed(2)));
    expect(strange).toEqual([]);

    // the appendix, cell by cell: 代码 | 指标名称 | 单位 | 本期 | 本年累计 | 去年同期 | 同比 | 目标值 | 达标情况
    const table = xml.slice(xml.lastIndexOf('<w:tbl>'));
    const rows = [...table.matchAll(/<w:tr>(.*?)<\/w:tr>/g)].map((r) => [...r[1]!.matchAll(/<w:tc>(.*?)<\/w:tc>/g)].map((c) => [...c[1]!.matchAll(/<w:t(?: [^>]*)?>([^<]*)<\/w:t>/g)].map((t) => t[1]).join('')));
    const [header, ...body] = rows;
    expect(header!.slice(3, 7)).toEqual([result.labels.current, '本年累计', '去年同期', '同比']);
    const bad: string[] = [];
    for (const r of body) {
      const row = read.summary[r[0]!]!;
      header!.slice(3, 7).forEach((h, i) => {
        const v = row[h];
        const cell = r[3 + i]!;
        if ((typeof v === 'number' ? fixed(v) : '') !== (cell === '' ? '' : fixed(Number(cell.replace(/[%‰]|\/10万/g, ''))))) bad.push(`${r[0]} ${h}: docx ${cell} ≠ workbook ${String(v)}`);
      });
      if ((row['达标情况'] ?? '') !== r[8]) bad.push(`${r[0]} 达标情况: docx ${r[8]} ≠ workbook ${String(row['达标情况'])}`);
    }
    expect(body.length).toBeGreaterThan(40);
    expect(bad).toEqual([]);
  }, 120_000);

  it('the lake: the 2025-03 JC28 total from SQL over the Parquet files equals the workbook’s; rows come back as objects', async () => {
    const objects = new MemoryObjects();
    for (const year of [2024, 2025]) await writeLake({ definitions: bundledSource(), objects, store, reportsBucket: 'reports' }, COUNTY, year);
    const root = join(dir, 'lake-root');
    for (const o of await objects.list('reports', 'lake/')) {
      await mkdir(join(root, o.key, '..'), { recursive: true });
      await writeFile(join(root, o.key), (await objects.get('reports', o.key, 1e9))!);
    }
    const db = await lakeConnection(root);
    try {
      const reader = await db.connection.runAndReadAll(`select sum(value) as total, count(distinct institution) as institutions from values where element = 'JC28' and period = '2025-03'`);
      const rows = plainRows(reader.getRowObjectsJS() as Record<string, unknown>[]);
      const read = await readWorkbook(file);
      expect(rows).toEqual([{ total: read.details['基层月报明细']!['合计']!['JC28'], institutions: 20 }]);
      const all = plainRows((await db.connection.runAndReadAll(`select * from values where institution = '150525-101' and period = '2025-03' and element = 'JC28'`)).getRowObjectsJS() as Record<string, unknown>[]);
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({ county: '150525', city: '1505', year: 2025, institution: '150525-101', institution_type: 'township_hc', template: 'T-JC', template_version: 1, period: '2025-03', period_type: 'month', element: 'JC28', unit: '人次', review_state: 'pending' }); // uploaded, not yet reviewed (审核)
    } finally {
      db.close();
    }
  });
});

/** Pixels of a PPM image (pdftoppm's default output) close to each colour. */
/** two decimals, as shown: -0.0018 shows 0.00, not -0.00 */
const fixed = (v: number): string => (Number(v.toFixed(2)) || 0).toFixed(2);

function countColours(ppm: Buffer, colours: Array<[number, number, number]>): number[] {
  const header = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(ppm.subarray(0, 64).toString('latin1'))!;
  const [width, height] = [Number(header[1]), Number(header[2])];
  const data = ppm.subarray(header[0].length);
  const counts = colours.map(() => 0);
  for (let i = 0; i < width * height * 3; i += 3) {
    colours.forEach(([r, g, b], k) => {
      if (Math.abs(data[i]! - r) < 40 && Math.abs(data[i + 1]! - g) < 40 && Math.abs(data[i + 2]! - b) < 40) counts[k]!++;
    });
  }
  return counts;
}
