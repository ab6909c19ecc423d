/**
 * Trends: the monthly series of any data element or computed indicator, for a county or one
 * institution, up to 36 months, and the ranking of the county's institutions in the last month.
 *
 * Every point is what the consolidation of that month computes (consolidate(), the same code the
 * monthly workbook runs): the detail sheet's 合计 for the county (values as submitted: a month's flow,
 * a year-to-date value's cumulative figure, a stock's level; a rate Σ numerator / Σ denominator over the
 * institutions that have both), and the target as the month's consolidation judged it. Nothing is
 * recomputed here: when the consolidation learns something (序时进度, comparable sets), the trend shows it.
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
import { monthId, PeriodError, shanghaiMonth, yearOf } from '../consolidate/period.ts';
import type { ConsolidationInput, ConsolidationResult, CountyUnit, MissingUnit, TargetResult } from '../consolidate/types.ts';
import type { Definitions } from '../definitions/definitions.ts';
import type { DefinitionsPort } from '../definitions/source.ts';
import { shiftPeriod } from '../validate/history.ts';

/** The longest series asked for. */
export const MAX_TREND_MONTHS = 36;

export interface TrendPoint {
  month: string;
  /** the month's 合计 (county) or the institution's value, as that month's detail sheet shows it; null: none */
  value: number | null;
  /** institutions the value covers, of those owing the return that month */
  covered: number;
  owed: number;
  /** institutions without an accepted return that month, and why */
  missing: MissingUnit[];
  /** the target of the month's year as the month's consolidation judged it (本年累计), null: none */
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
  months: string[];
  points: TrendPoint[];
  /** the county's institutions in the last month, best first, those without a value last (county series only) */
  ranking: RankRow[] | null;
}

export interface TrendRequest {
  county: string;
  institution?: string;
  /** data element (JC28) or indicator (JC-I03) codes */
  codes: string[];
  /** how many months, 1–36 */
  months: number;
  /** the last month; default: the latest month up to the reporting month (last month) with an accepted return */
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
  /** definitions in force at the last month: who exists, merges, lifecycles */
  latest: Definitions;
  /** definitions in force for each month of the series: template versions and targets */
  at: (month: string) => Definitions;
  county: string;
  institution?: string;
  codes: string[];
  /** the series' months, ascending */
  months: string[];
  /** month → entries of the templates concerned (the months of the series and those before them in their years) */
  entries: Map<string, PeriodEntry[]>;
  now: Date;
}

/** The series of every code, one consolidation per month (pure). */
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

  const series: TrendSeries[] = found.map((f) => ({
    code: f.code,
    name: f.name,
    unit: f.unit,
    kind: f.kind,
    semantics: f.semantics,
    template: f.template.id,
    county: { code: county.code, name: county.name },
    institution: own ? { code: own.institution.code, name: own.institution.name } : null,
    months: input.months,
    points: [],
    ranking: null,
  }));
  const last = input.months[input.months.length - 1];
  const wanted = new Set(input.codes);
  for (const month of input.months) {
    const defs = input.at(month);
    const templates = templateIds
      .map((id) => defs.template(id) ?? latest.template(id)!)
      .filter((t): t is IndicatorTemplate => t.kind === 'indicator')
      .map((t) => narrowed(t, wanted));
    const result = consolidate({
      level: 'county',
      area: { code: county.code, name: county.name },
      period: month,
      months: [month],
      counties: [scoped],
      templates,
      targets: defs.county(county.code)?.targets ?? county.targets,
      entries: input.entries,
      ledgerRows: new Map(),
      generatedAt: input.now,
    });
    found.forEach((f, n) => {
      const s = series[n]!;
      const detail = result.details.find((d) => d.template.id === f.template.id);
      const j = detail ? detail.columns.findIndex((c) => c.code === f.code) : -1;
      const row = result.summary.find((x) => x.template.id === f.template.id)?.rows.find((r) => r.code === f.code);
      if (!detail || j < 0) {
        s.points.push({ month, value: null, covered: 0, owed: detail?.owed ?? 0, missing: detail?.missing ?? [], target: row?.target ?? null });
        return;
      }
      const total = detail.total[j]!;
      s.points.push({ month, value: Number.isNaN(total) ? null : total, covered: detail.covered[j]!, owed: detail.owed, missing: detail.missing, target: row?.target ?? null });
      if (month === last && !institution) {
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

/** `count` months ending at `to`, ascending. */
export function monthsEnding(to: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => shiftPeriod(to, i - count + 1));
}

/** The first month the series needs read: January of its first month's year (a year-to-date value's base). */
const firstNeeded = (months: readonly string[]): string => monthId(yearOf(months[0]!), 1);

/**
 * Reads the accepted returns of the templates concerned for the institutions in scope, one GSI query
 * per institution and template (SubmissionStore.history), as PeriodEntry lists per month.
 */
export async function loadTrendEntries(store: SubmissionStore, institutions: readonly string[], templates: readonly string[], from: string, to: string): Promise<Map<string, PeriodEntry[]>> {
  const jobs = institutions.flatMap((institution) => templates.map((template) => ({ institution, template })));
  const results = await pool(jobs, 8, (j) => store.history(j.institution, j.template, from, to));
  const entries = new Map<string, PeriodEntry[]>();
  results.forEach((list, n) => {
    for (const current of list as CurrentSubmission[]) {
      const month = current.period;
      if (!entries.has(month)) entries.set(month, []);
      entries.get(month)!.push({ institution: jobs[n]!.institution, template: jobs[n]!.template, current, latest: null });
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
  const count = request.months;
  if (!Number.isInteger(count) || count < 1 || count > MAX_TREND_MONTHS) throw new PeriodError(`月数应为 1—${MAX_TREND_MONTHS}，收到 ${count}`);
  if (!request.codes.length) throw new PeriodError('请指定数据项或计算指标代码');
  const reporting = shiftPeriod(shanghaiMonth(now), -1);
  let to = request.to ?? reporting;
  const latest = await definitions.at(to);
  const county = latest.county(request.county);
  if (!county) throw new PeriodError(`旗县代码 ${request.county} 不在机构名录中`);
  const templates = [...new Set(request.codes.map((c) => findCode(latest, c)?.template.id ?? c))];
  const scope = request.institution ? membersOf(latest, request.institution) : null;
  const institutions = county.institutions.filter((i) => (!scope || scope.has(i.code)) && latest.templatesOf(i).some((t) => templates.includes(t))).map((i) => i.code);

  // without `to`: two more years back, in case the latest month with data is well before the reporting month
  const first = firstNeeded(monthsEnding(to, count));
  const loadedFrom = request.to ? first : shiftPeriod(first, -24);
  let entries = await loadTrendEntries(store, institutions, templates, loadedFrom, to);
  if (!request.to) {
    const end = [...entries.keys()].sort().at(-1);
    if (end && end < to) {
      to = end;
      const needed = firstNeeded(monthsEnding(to, count));
      if (needed < loadedFrom) entries = await loadTrendEntries(store, institutions, templates, needed, to);
    }
  }
  const months = monthsEnding(to, count);
  const defsAt = new Map<string, Definitions>();
  for (const m of months) defsAt.set(m, await definitions.at(m));
  const latestAtEnd = await definitions.at(to);
  return computeTrends({ latest: latestAtEnd, at: (m) => defsAt.get(m)!, county: request.county, ...(request.institution ? { institution: request.institution } : {}), codes: request.codes, months, entries, now });
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** How many months the consolidated workbook's 趋势 sheet shows: the period's last month and the 12 before. */
export const WORKBOOK_TREND_MONTHS = 13;

/**
 * The key indicators' series for a county's consolidated workbook: every indicator with a target in
 * the period's year (the commission's own choice of what it steers by), else every indicator; 13 months
 * ending at the consolidation's last month. Reads the months the consolidation did not (listPeriod, as
 * the consolidation does: latest attempts included, so a month's missing reasons are the workbook's).
 */
export async function consolidationTrends(store: SubmissionStore, definitions: DefinitionsPort, input: ConsolidationInput, result: ConsolidationResult): Promise<TrendSeries[]> {
  if (input.level !== 'county') return [];
  const indicators = result.summary.flatMap((s) => s.rows.filter((r) => r.kind === 'indicator'));
  const targeted = indicators.filter((r) => r.target);
  const codes = (targeted.length ? targeted : indicators).map((r) => r.code);
  if (!codes.length) return [];
  const months = monthsEnding(result.months[result.months.length - 1]!, WORKBOOK_TREND_MONTHS);
  const entries = new Map(input.entries);
  const missing: string[] = [];
  for (let m = firstNeeded(months); m <= months[months.length - 1]!; m = shiftPeriod(m, 1)) if (!entries.has(m)) missing.push(m);
  const read = await pool(missing, 4, (m) => store.listPeriod(input.area.code, m));
  missing.forEach((m, i) => entries.set(m, read[i]!));
  const defsAt = new Map<string, Definitions>();
  for (const m of months) defsAt.set(m, await definitions.at(m));
  return computeTrends({ latest: await definitions.at(input.period), at: (m) => defsAt.get(m)!, county: input.area.code, codes, months, entries, now: input.generatedAt });
}
