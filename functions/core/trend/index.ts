/**
 * Trends: the series of any data element or computed indicator, for a county or one institution, over
 * up to 36 months, and the ranking of the county's institutions in the last period.
 *
 * A series runs in its template's own 周期: a monthly return's element has a point per month, a
 * quarterly return's (T-QY) a point per quarter, an annual return's (T-ND) a point per year, over the
 * same span (24 months: 24 months, 8 quarters or 2 years). A month holds no quarterly value; the series
 * never mixes kinds, and the codes of one call must share a 周期.
 *
 * Every point is what the consolidation of that period computes (consolidate(), the same code the
 * workbook runs): the detail sheet's 合计 for the county (values as submitted: a period's flow, a
 * year-to-date value's cumulative figure, a stock's level; a rate Σ numerator / Σ denominator over the
 * institutions that have both), and the target as the period's consolidation judged it (with its 序时目标,
 * `paced`). Nothing is recomputed here: when the consolidation learns something, the trend shows it.
 *
 * Lifecycle follows the definitions in force at the series' last month: an institution merged into
 * another counts under it (its months before the merge are part of the successor's series), as in a
 * consolidation of that month. Each month is consolidated with the template version and the targets in
 * force for it.
 */
import type { IndicatorTemplate, Semantics } from '../../../schemas/model.ts';
import type { CurrentSubmission, PeriodEntry, SubmissionStore } from '../../ports/index.ts';
import { consolidate } from '../consolidate/compute.ts';
import { countyUnitOf, pool } from '../consolidate/load.ts';
import { dueWith, lastMonthOf, parsePeriod, PeriodError, shanghaiMonth, yearOf, type PeriodKind } from '../consolidate/period.ts';
import type { ConsolidationInput, ConsolidationResult, CountyUnit, MissingUnit, TargetResult } from '../consolidate/types.ts';
import type { ValueTable } from '../consolidate/values.ts';
import type { Definitions } from '../definitions/definitions.ts';
import type { DefinitionsPort } from '../definitions/source.ts';
import { shiftPeriod } from '../validate/history.ts';

/** The longest span asked for, in months. */
export const MAX_TREND_MONTHS = 36;

export interface TrendPoint {
  /** 2025-03, 2025-Q1 or 2025: a period of the series' 周期 */
  period: string;
  /** the period's 合计 (county) or the institution's value, as that period's detail sheet shows it; null: none */
  value: number | null;
  /** institutions the value covers, of those owing the return for the period */
  covered: number;
  owed: number;
  /** institutions without an accepted return for the period, and why */
  missing: MissingUnit[];
  /** the target of the period's year as its consolidation judged it (本年累计; `paced`: 序时目标), null: none */
  target: TargetResult | null;
}

export interface RankRow {
  code: string;
  name: string;
  /** institution type (Chinese) */
  type: string;
  value: number | null;
  /** 已通过 / 有警告 / 未上报 / 未通过 … as the month's detail sheet says */
  status: string;
}

export interface TrendSeries {
  code: string;
  name: string;
  unit: string;
  kind: 'element' | 'indicator';
  /** element semantics, or 'rate' */
  semantics: Semantics | 'rate';
  template: string;
  county: { code: string; name: string };
  /** null: the county's total */
  institution: { code: string; name: string } | null;
  /** the template's 周期: the kind of every period of the series */
  periodType: PeriodKind;
  periods: string[];
  points: TrendPoint[];
  /** the county's institutions in the last period, best first, those without a value last (county series only) */
  ranking: RankRow[] | null;
}

export interface TrendRequest {
  county: string;
  institution?: string;
  /** data element (JC28) or indicator (JC-I03) codes */
  codes: string[];
  /** the span in months, 1–36: that many months, or the quarters or years it covers (rounded up) */
  months: number;
  /**
   * the last month (or quarter, year): the series ends at the latest period of its 周期 ended by then;
   * default: the latest such period up to the reporting month (last month) with an accepted return
   */
  to?: string;
}

/** Where a code lives: its template and what it is. */
export function findCode(defs: Definitions, code: string): { template: IndicatorTemplate; kind: 'element' | 'indicator'; name: string; unit: string; semantics: Semantics | 'rate' } | null {
  for (const t of defs.templates) {
    if (t.kind !== 'indicator') continue;
    const el = t.elements.find((e) => e.code === code);
    if (el) return { template: t, kind: 'element', name: el.name, unit: el.unit, semantics: el.semantics };
    const x = t.indicators.find((i) => i.code === code);
    if (x) return { template: t, kind: 'indicator', name: x.name, unit: x.unit, semantics: 'rate' };
  }
  return null;
}

export interface TrendInput {
  /** definitions in force at the last period: who exists, merges, lifecycles */
  latest: Definitions;
  /** definitions in force for each period of the series: template versions and targets */
  at: (period: string) => Definitions;
  county: string;
  institution?: string;
  /** codes of templates of one 周期 */
  codes: string[];
  /** the series' periods, ascending, of the codes' 周期 */
  periods: string[];
  /** period → entries of the templates concerned (the series' periods and those before them in their years) */
  entries: Map<string, PeriodEntry[]>;
  /** the values of those entries that hold none themselves (a loaded consolidation's: ConsolidationInput.values) */
  values?: ValueTable;
  now: Date;
}

/** The 周期 the codes' templates share; a refusal in Chinese when they differ. */
export function periodTypeOf(found: ReadonlyArray<{ code: string; template: IndicatorTemplate }>): PeriodKind {
  const kinds = [...new Set(found.map((f) => f.template.periodType))];
  if (kinds.length > 1) throw new PeriodError(`${found.map((f) => f.code).join('、')} 分属月报、季报或年报，周期不同，不能画在同一趋势中`);
  return kinds[0] ?? 'month';
}

/** The series of every code, one consolidation per period (pure). */
export function computeTrends(input: TrendInput): TrendSeries[] {
  const { latest, county: countyCode, institution } = input;
  const county = latest.county(countyCode);
  if (!county) throw new PeriodError(`旗县代码 ${countyCode} 不在机构名录中`);
  const found = input.codes.map((code) => {
    const f = findCode(latest, code);
    if (!f) throw new PeriodError(`指标代码 ${code} 不是任何报表的数据项或计算指标`);
    return { code, ...f };
  });
  const unit = countyUnitOf(latest, county);
  const scoped: CountyUnit = institution ? { ...unit, institutions: unit.institutions.filter((i) => membersOf(latest, institution).has(i.code)) } : unit;
  const own = institution ? latest.institution(institution) : undefined;
  if (institution && (!own || own.county.code !== county.code)) throw new PeriodError(`机构代码 ${institution} 不在 ${county.name} 的机构名录中`);
  const templateIds = [...new Set(found.map((f) => f.template.id))];
  const periodType = periodTypeOf(found);

  const series: TrendSeries[] = found.map((f) => ({
    code: f.code,
    name: f.name,
    unit: f.unit,
    kind: f.kind,
    semantics: f.semantics,
    template: f.template.id,
    county: { code: county.code, name: county.name },
    institution: own ? { code: own.institution.code, name: own.institution.name } : null,
    periodType,
    periods: input.periods,
    points: [],
    ranking: null,
  }));
  const last = input.periods[input.periods.length - 1];
  const wanted = new Set(input.codes);
  for (const period of input.periods) {
    const defs = input.at(period);
    const templates = templateIds
      .map((id) => defs.template(id) ?? latest.template(id)!)
      .filter((t): t is IndicatorTemplate => t.kind === 'indicator')
      .map((t) => narrowed(t, wanted));
    const result = consolidate({
      level: 'county',
      area: { code: county.code, name: county.name },
      period,
      months: parsePeriod(period).months,
      counties: [scoped],
      templates,
      targets: defs.county(county.code)?.targets ?? county.targets,
      entries: input.entries,
      ...(input.values ? { values: input.values } : {}),
      ledgerRows: new Map(),
      generatedAt: input.now,
    });
    found.forEach((f, n) => {
      const s = series[n]!;
      const detail = result.details.find((d) => d.template.id === f.template.id);
      const j = detail ? detail.columns.findIndex((c) => c.code === f.code) : -1;
      const row = result.summary.find((x) => x.template.id === f.template.id)?.rows.find((r) => r.code === f.code);
      if (!detail || j < 0) {
        s.points.push({ period, value: null, covered: 0, owed: detail?.owed ?? 0, missing: detail?.missing ?? [], target: row?.target ?? null });
        return;
      }
      const total = detail.total[j]!;
      s.points.push({ period, value: Number.isNaN(total) ? null : total, covered: detail.covered[j]!, owed: detail.owed, missing: detail.missing, target: row?.target ?? null });
      if (period === last && !institution) {
        s.ranking = detail.rows
          .map((r) => ({ code: r.code, name: r.name, type: r.group, value: Number.isNaN(r.values[j]!) ? null : r.values[j]!, status: r.status }))
          .sort((a, b) => (a.value === null ? 1 : 0) - (b.value === null ? 1 : 0) || (b.value ?? 0) - (a.value ?? 0) || cmp(a.code, b.code));
      }
    });
  }
  return series;
}

/**
 * The template with only the codes asked for and the data elements their indicators are computed from:
 * every kept column is computed exactly as in the full template (an indicator reads its operands only),
 * and a month's consolidation does a fraction of the work.
 */
function narrowed(t: IndicatorTemplate, codes: ReadonlySet<string>): IndicatorTemplate {
  const indicators = t.indicators.filter((x) => codes.has(x.code));
  const needed = new Set([...codes, ...indicators.flatMap((x) => [...x.numerator, ...x.denominator])]);
  return { ...t, elements: t.elements.filter((e) => needed.has(e.code)), rules: [], indicators };
}

/** An institution and every institution merged into it, directly or through a chain of merges. */
export function membersOf(defs: Definitions, code: string): Set<string> {
  const out = new Set<string>([code]);
  const walk = (c: string, depth: number) => {
    if (depth > 16) return;
    for (const p of defs.predecessorsOf(c)) {
      if (out.has(p.code)) continue;
      out.add(p.code);
      walk(p.code, depth + 1);
    }
  };
  walk(code, 0);
  return out;
}

/** `count` periods (months, quarters or years) ending at `to`, ascending. */
export function periodsEnding(to: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => shiftPeriod(to, i - count + 1));
}

/** How many periods of a 周期 a span of months covers: 24 months are 8 quarters, 2 years (rounded up). */
export const periodsInSpan = (kind: PeriodKind, months: number): number => (kind === 'month' ? months : Math.ceil(months / (kind === 'quarter' ? 3 : 12)));

/** The latest period of a 周期 ended by the end of `period` (a month, quarter or year): 2025-03 → 2025-Q1 → 2024. */
export const periodEndingBy = (kind: PeriodKind, period: string): string => dueWith(lastMonthOf(period))[kind];

/** The first period the series needs read: the first of its first period's year (a year-to-date value's base). */
function firstNeeded(periods: readonly string[]): string {
  const first = periods[0]!;
  const year = yearOf(first);
  return /-Q/.test(first) ? `${year}-Q1` : first.length === 4 ? String(year) : `${year}-01`;
}

/**
 * Reads the accepted returns of the templates concerned for the institutions in scope, one GSI query
 * per institution and template (SubmissionStore.history, periods of one 周期 in [from, to]), as
 * PeriodEntry lists per period.
 */
export async function loadTrendEntries(store: SubmissionStore, institutions: readonly string[], templates: readonly string[], from: string, to: string): Promise<Map<string, PeriodEntry[]>> {
  const jobs = institutions.flatMap((institution) => templates.map((template) => ({ institution, template })));
  const results = await pool(jobs, 8, (j) => store.history(j.institution, j.template, from, to));
  const entries = new Map<string, PeriodEntry[]>();
  results.forEach((list, n) => {
    for (const current of list as CurrentSubmission[]) {
      const period = current.period;
      if (!entries.has(period)) entries.set(period, []);
      entries.get(period)!.push({ institution: jobs[n]!.institution, template: jobs[n]!.template, current, latest: null });
    }
  });
  return entries;
}

/**
 * Series from the store in one call: the definitions, the returns of the institutions in scope, one
 * consolidation per month. Without `to`, the series ends at the latest month with an accepted return
 * of the codes' templates, no later than the reporting month (the month before `now`, Beijing time).
 */
export async function trend(store: SubmissionStore, definitions: DefinitionsPort, request: TrendRequest, now: Date): Promise<TrendSeries[]> {
  const span = request.months;
  if (!Number.isInteger(span) || span < 1 || span > MAX_TREND_MONTHS) throw new PeriodError(`月数应为 1—${MAX_TREND_MONTHS}，收到 ${span}`);
  if (!request.codes.length) throw new PeriodError('请指定数据项或计算指标代码');
  const latest = await definitions.at(request.to ?? shiftPeriod(shanghaiMonth(now), -1));
  const county = latest.county(request.county);
  if (!county) throw new PeriodError(`旗县代码 ${request.county} 不在机构名录中`);
  const found = request.codes.map((code) => {
    const f = findCode(latest, code);
    if (!f) throw new PeriodError(`指标代码 ${code} 不是任何报表的数据项或计算指标`);
    return { code, template: f.template };
  });
  const kind = periodTypeOf(found);
  const count = periodsInSpan(kind, span);
  const templates = [...new Set(found.map((f) => f.template.id))];
  const scope = request.institution ? membersOf(latest, request.institution) : null;
  const institutions = county.institutions.filter((i) => (!scope || scope.has(i.code)) && latest.templatesOf(i).some((t) => templates.includes(t))).map((i) => i.code);

  let to = periodEndingBy(kind, request.to ?? shiftPeriod(shanghaiMonth(now), -1));
  // without `to`: two more years back, in case the latest period with data is well before the reporting month
  const first = firstNeeded(periodsEnding(to, count));
  const loadedFrom = request.to ? first : shiftPeriod(first, -periodsInSpan(kind, 24));
  let entries = await loadTrendEntries(store, institutions, templates, loadedFrom, to);
  if (!request.to) {
    const end = [...entries.keys()].sort().at(-1);
    if (end && end < to) {
      to = end;
      const needed = firstNeeded(periodsEnding(to, count));
      if (needed < loadedFrom) entries = await loadTrendEntries(store, institutions, templates, needed, to);
    }
  }
  const periods = periodsEnding(to, count);
  const defsAt = new Map<string, Definitions>();
  for (const p of periods) defsAt.set(p, await definitions.at(p));
  return computeTrends({ latest: await definitions.at(to), at: (p) => defsAt.get(p)!, county: request.county, ...(request.institution ? { institution: request.institution } : {}), codes: request.codes, periods, entries, now });
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** How many months the consolidated workbook's 趋势 sheet shows: the period's last month and the 12 before. */
export const WORKBOOK_TREND_MONTHS = 13;

/**
 * The key indicators' series for a county's consolidated workbook: every indicator of a monthly return
 * with a target in the period's year (the commission's own choice of what it steers by), else every
 * indicator of a monthly return; 13 months ending at the consolidation's last month. Quarterly and
 * annual returns have a handful of points in 13 months: their figures stay in 指标汇总 (and `hmis trend`
 * draws their quarters and years). Reads the months the consolidation did not (listPeriod, as the
 * consolidation does: latest attempts included, so a month's missing reasons are the workbook's).
 */
export async function consolidationTrends(store: SubmissionStore, definitions: DefinitionsPort, input: ConsolidationInput, result: ConsolidationResult): Promise<TrendSeries[]> {
  if (input.level !== 'county') return [];
  const indicators = result.summary.filter((s) => s.template.periodType === 'month').flatMap((s) => s.rows.filter((r) => r.kind === 'indicator'));
  const targeted = indicators.filter((r) => r.target);
  const codes = (targeted.length ? targeted : indicators).map((r) => r.code);
  if (!codes.length) return [];
  const months = periodsEnding(result.months[result.months.length - 1]!, WORKBOOK_TREND_MONTHS);
  const entries = new Map(input.entries);
  const missing: string[] = [];
  for (let m = firstNeeded(months); m <= months[months.length - 1]!; m = shiftPeriod(m, 1)) if (!entries.has(m)) missing.push(m);
  const read = await pool(missing, 4, (m) => store.listPeriod(input.area.code, m));
  missing.forEach((m, i) => entries.set(m, read[i]!));
  const defsAt = new Map<string, Definitions>();
  for (const m of months) defsAt.set(m, await definitions.at(m));
  return computeTrends({ latest: await definitions.at(input.period), at: (m) => defsAt.get(m)!, county: input.area.code, codes, periods: months, entries, ...(input.values ? { values: input.values } : {}), now: input.generatedAt });
}
