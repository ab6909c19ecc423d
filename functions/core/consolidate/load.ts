/**
 * Reads what a consolidation needs through the SubmissionStore port only: `listPeriod` for every
 * county and month needed (a few at a time), `ledgerRows` for the current ledger versions shown.
 * Who owes what comes from the definitions in force for the period (its last month), never from what
 * was stored: a missing submission is missing.
 */
import type { County, TemplateDefinition } from '../../../schemas/model.ts';
import type { Definitions } from '../definitions/definitions.ts';
import type { LedgerRow } from '../normalize/submission.ts';
import type { PeriodEntry, SubmissionStore } from '../../ports/index.ts';
import { lastMonthOf, PeriodError, parsePeriod, periodsWithin, previousPeriod, shanghaiMonth, shiftMonths, yearOf, yearToDate, type PeriodKind, type PeriodSpec } from './period.ts';
import { shiftPeriod } from '../validate/history.ts';
import type { ConsolidationInput, CountyUnit } from './types.ts';
import { ValueTable } from './values.ts';
import { isApproved } from '../review.ts';

export interface LoadOptions {
  /** parallel listPeriod calls; default 4 */
  concurrency?: number;
  /** figures from approved returns only (审核); the city level always is */
  approvedOnly?: boolean;
}

/** County level: `county` is a county code (150525); `defs` are those in force for the period. */
export async function loadConsolidationInput(store: SubmissionStore, defs: Definitions, county: string, period: string, now: Date, options: LoadOptions = {}): Promise<ConsolidationInput> {
  const c = defs.county(county);
  if (!c) throw new PeriodError(`旗县代码 ${county} 不在机构名录中`);
  return load(store, defs, 'county', { code: c.code, name: c.name }, [c], period, now, options);
}

/** City level: every county of the city (1505), counties as the detail rows. */
export async function loadCityConsolidationInput(store: SubmissionStore, defs: Definitions, city: string, period: string, now: Date, options: LoadOptions = {}): Promise<ConsolidationInput> {
  const counties = defs.countiesOf(city);
  if (!counties.length) throw new PeriodError(`市级代码 ${city} 下没有旗县`);
  // a city reads its counties' approved data only
  return load(store, defs, 'city', { code: city, name: counties[0]!.city.name }, counties, period, now, { ...options, approvedOnly: true });
}

/**
 * The periods a consolidation of `covered` (months of `spec`) reads, for templates of the given 周期:
 * each window's months, whole quarters or whole years, and the period before it in the same year (a
 * ytd value's base). None for a 周期 with no whole period in `covered` (a month holds no quarter).
 */
export function periodsNeeded(spec: PeriodSpec, covered: readonly string[], kinds: readonly PeriodKind[] = ['month']): string[] {
  const last = covered[covered.length - 1]!;
  const windows = [covered, yearToDate(last), previousPeriod(spec).months, shiftMonths(covered, -12)];
  const out = new Set<string>();
  for (const kind of kinds) {
    // a template whose 周期 has no whole period in the covered months is not consolidated
    if (!periodsWithin(kind, covered).length) continue;
    for (const months of windows) {
      const w = periodsWithin(kind, months);
      if (!w.length) continue;
      w.forEach((p) => out.add(p));
      const before = shiftPeriod(w[0]!, -1);
      if (yearOf(before) === yearOf(w[w.length - 1]!)) out.add(before);
    }
  }
  return [...out].sort();
}

async function load(
  store: SubmissionStore,
  defs: Definitions,
  level: ConsolidationInput['level'],
  area: { code: string; name: string },
  counties: County[],
  period: string,
  now: Date,
  options: LoadOptions,
): Promise<ConsolidationInput> {
  const started = performance.now();
  const spec = parsePeriod(period);
  const nowMonth = shanghaiMonth(now);
  const begun = spec.months.filter((m) => m <= nowMonth);
  if (!begun.length) throw new PeriodError(`统计期 ${spec.label} 尚未开始`);

  const units: CountyUnit[] = counties.map((c) => countyUnitOf(defs, c));
  const owed = new Set(units.flatMap((c) => c.institutions.flatMap((i) => i.owes)));
  const templates: TemplateDefinition[] = defs.templates.filter((t) => owed.has(t.id));

  // read every (county, period) needed, a few at a time: months, and quarters or years of templates of that 周期
  const needed = periodsNeeded(spec, begun, [...new Set(templates.map((t) => t.periodType))]);
  const jobs = needed.flatMap((period) => counties.map((c) => ({ period, county: c.code })));
  const results = await pool(jobs, options.concurrency ?? 4, (j) => store.listPeriod(j.county, j.period));
  // the accepted indicator values go into columns, in read order (a later entry of a slot wins, as in consolidate)
  const values = new ValueTable(templates);
  const entries = new Map<string, PeriodEntry[]>(needed.map((p) => [p, []]));
  jobs.forEach((j, n) => entries.get(j.period)!.push(...results[n]!.map((e) => heldApart(e, j.period, values))));

  // a running quarter or year ends at the latest month anything was submitted for (a month's return, or
  // a quarter's or year's that ends with that month)
  let months = begun;
  if (spec.kind !== 'month') {
    const submitted = new Set([...entries].filter(([, list]) => list.length).map(([period]) => lastMonthOf(period)));
    while (months.length > 1 && !submitted.has(months[months.length - 1]!)) months = months.slice(0, -1);
  }

  // ledger rows of the ledger each institution shows: the latest month of the period with an accepted one
  const ledgerRows = new Map<string, LedgerRow[]>();
  let ledgerReads = 0;
  let rowCount = 0;
  const ledgerIds = new Set(templates.filter((d) => d.kind === 'ledger').map((d) => d.id));
  if (ledgerIds.size && store.ledgerRows) {
    const wanted = new Map<string, { institution: string; template: string; period: string; versionId: string }>();
    for (const m of months) {
      for (const e of entries.get(m)!) {
        if (!ledgerIds.has(e.template) || !e.current || (options.approvedOnly && !isApproved(e.current))) continue;
        wanted.set(`${e.institution}|${e.template}`, { institution: e.institution, template: e.template, period: m, versionId: e.current.versionId });
      }
    }
    const list = [...wanted.values()];
    const rows = await pool(list, options.concurrency ?? 4, (w) => store.ledgerRows!(w.institution, w.template, w.period, w.versionId));
    list.forEach((w, n) => {
      ledgerRows.set(w.versionId, rows[n]!);
      rowCount += rows[n]!.length;
    });
    ledgerReads = list.length;
  }

  return {
    level,
    area,
    period: spec.id,
    months,
    counties: units,
    templates,
    definitionsVersion: defs.version,
    targets: level === 'county' ? counties[0]!.targets : [],
    entries,
    values,
    ledgerRows,
    generatedAt: now,
    ...(options.approvedOnly ? { approvedOnly: true } : {}),
    stats: {
      periodReads: jobs.length,
      entries: [...entries.values()].reduce((n, l) => n + l.length, 0),
      ledgerReads,
      ledgerRows: rowCount,
      ms: Math.round(performance.now() - started),
    },
  };
}

/** The entry with its accepted indicator values moved into the table: a new entry, the store's objects unchanged. */
function heldApart(e: PeriodEntry, period: string, table: ValueTable): PeriodEntry {
  const current = e.current;
  const s = current?.submission;
  if (!current || s?.kind !== 'indicator' || current.period !== period || !table.hold(period, e.template, e.institution, s.values)) return e;
  return { ...e, current: { ...current, submission: { ...s, values: {} } } };
}

/** A county and its institutions as a consolidation sees them: who owes what, when, merged into whom. */
export function countyUnitOf(defs: Definitions, c: County): CountyUnit {
  return {
    code: c.code,
    name: c.name,
    deadlineDay: c.deadlineDay,
    institutions: c.institutions.map((i) => ({
      code: i.code,
      name: i.name,
      type: i.type,
      typeName: defs.typeName(i.type),
      owes: defs.templatesOf(i),
      ...(i.from ? { from: i.from } : {}),
      ...(i.until ? { until: i.until } : {}),
      ...(i.mergedInto ? { mergedInto: i.mergedInto } : {}),
    })),
  };
}

/** Runs `fn` over `items` with at most `limit` in flight; results in item order. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
