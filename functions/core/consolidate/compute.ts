/**
 * The consolidation itself: pure, synchronous, no I/O. Input: the months' entries as the store
 * returned them and the registry's units; output: every number, note and row the workbook shows.
 *
 * Semantics (domain.md "Templates", "Computed indicators and targets"):
 * - flow: a window's value is the sum of its months; ytd: the latest month's value is the year to
 *   date, a window's own part is the difference from the month before the window (none before
 *   January); stock: the window's last month.
 * - 本期 (本月/本季/本年) is the window's own part; 本年累计 is January … the period's last month
 *   (flow: sum, ytd and stock: the latest month). Detail sheets show values as submitted (a ytd value
 *   is its cumulative figure), aggregated per semantics for a quarter or a year.
 * - An institution contributes to a total only when it has every month the value needs: missing is
 *   missing, never zero, and every total names who is missing.
 * - Rates are Σ numerator / Σ denominator × factor over the institutions that have both, at every
 *   level; never an average of rates, never a typed-in rate.
 * - Non-additive elements (satisfaction %, average hours) are never summed: per institution only.
 * - Targets are judged on 本年累计, over the institution types the target names.
 * - Quarterly and annual returns (a template's 周期) count in the windows that hold whole quarters or
 *   years: a quarter's in a quarter's and a year's consolidation, never in a month's; flow, ytd and
 *   stock apply across quarters as across months.
 * - Lifecycle (definitions): an institution owes a template in a month when it is active then (启用期 ≤
 *   month < 停用期) and the template is in force; months it does not owe are neither counted nor missing.
 *   An institution merged into another one that is active at the period's end counts under it: the
 *   successor's value for an earlier month is the sum of its own and its predecessors' (missing when
 *   any of them owing that month is missing), so nothing is counted twice and no history is lost.
 */
import type { IndicatorTemplate, LedgerTemplate, Target } from '../../../schemas/model.ts';
import type { CurrentSubmission, PeriodEntry } from '../../ports/index.ts';
import {
  columnLabels,
  deadlineOf,
  deadlineRule,
  dueWith,
  lastMonthOf,
  monthEnd,
  monthLabel,
  parsePeriod,
  periodsWithin,
  previousPeriod,
  SHANGHAI_OFFSET_MS,
  shanghaiMonth,
  shiftMonths,
  yearOf,
  yearToDate,
  type PeriodKind,
  type PeriodSpec,
} from './period.ts';
import { shiftPeriod } from '../validate/history.ts';
import { periodKind, periodLabel } from '../layout.ts';
import { openRejectionOf, timelinessOf } from './slot.ts';
import { readValues, type ValueColumns } from './values.ts';
import { isApproved, reviewOf, REVIEW_LABELS } from '../review.ts';
import type {
  Change,
  ConsolidationInput,
  ConsolidationResult,
  CountyUnit,
  DetailColumn,
  DetailRow,
  DetailSheet,
  InstitutionUnit,
  IssueLine,
  LedgerLine,
  Measure,
  MissingUnit,
  SlotStatus,
  ReviewWord,
  StatusRow,
  StatusTotal,
  SummaryRow,
  SummarySection,
  TargetResult,
} from './types.ts';

/** comparisons of a measured value with a target tolerate float noise (31/50×100 vs 62) */
const TARGET_EPSILON = 1e-9;

interface Unit extends InstitutionUnit {
  county: CountyUnit;
}

type Mode = 'own' | 'asSubmitted';

export function consolidate(input: ConsolidationInput): ConsolidationResult {
  const spec = parsePeriod(input.period);
  const months = [...input.months].sort();
  if (!months.length) throw new Error('consolidate: no months to consolidate');
  for (const m of months) if (!spec.months.includes(m)) throw new Error(`consolidate: ${m} is not a month of ${spec.id}`);
  const lastMonth = months[months.length - 1]!;
  const windows = {
    current: months,
    ytd: yearToDate(lastMonth),
    previous: previousPeriod(spec).months,
    lastYear: shiftMonths(months, -12),
  };
  const ctx = new Context(input, spec, months);
  const labels = columnLabels(spec.kind);
  const indicatorTemplates = input.templates.filter((t): t is IndicatorTemplate => t.kind === 'indicator');
  const ledgerTemplate = (input.templates.find((t) => t.kind === 'ledger') as LedgerTemplate | undefined) ?? null;

  const summary: SummarySection[] = [];
  const details: DetailSheet[] = [];
  for (const def of indicatorTemplates) {
    // a quarterly or annual return counts only where the period holds its quarter or year
    if (!ctx.periodsOf(def.id).length) continue;
    const t = new TemplateData(ctx, def);
    summary.push(t.summary(windows, input.level === 'county' ? input.targets.filter((x) => x.year === spec.year) : []));
    details.push(t.detail(months, input.level));
  }

  const title = `${input.area.name}卫生健康统计月报汇总（${spec.label}）`;
  return {
    level: input.level,
    area: { ...input.area },
    spec,
    months,
    title,
    generatedAt: input.generatedAt,
    dataAsOf: ctx.dataAsOf(),
    labels,
    windows,
    definitionsVersion: input.definitionsVersion ?? null,
    approvedOnly: input.approvedOnly ?? false,
    counties: [...input.counties]
      .sort((a, b) => cmp(a.code, b.code))
      .map((c) => ({ code: c.code, name: c.name, institutions: c.institutions.filter((i) => i.owes.some((t) => ctx.periodsOf(t).some((p) => ctx.owedAt(i, t, p)))).length, deadlineDay: c.deadlineDay })),
    dueNext: dueNextOf(input),
    status: statusOf(ctx),
    summary,
    details,
    ledgerTemplate,
    ledger: ledgerTemplate ? ledgerOf(ctx, ledgerTemplate) : [],
    issues: issuesOf(ctx),
  };
}

/** Indexes the entries and the units; answers "what is in this slot". */
class Context {
  readonly units: Unit[];
  /** template → institution → period → entry (no key string built per lookup: a province makes millions) */
  private readonly slots = new Map<string, Map<string, Map<string, PeriodEntry>>>();
  private readonly lastMonths = new Map<string, string>();
  private readonly templateFrom: Map<string, string>;
  private readonly kinds: Map<string, PeriodKind>;
  readonly labels: ReturnType<typeof columnLabels>;

  constructor(
    readonly input: ConsolidationInput,
    readonly spec: PeriodSpec,
    readonly months: string[],
  ) {
    this.templateFrom = new Map(input.templates.map((t) => [t.id, t.from]));
    this.kinds = new Map(input.templates.map((t) => [t.id, t.periodType]));
    this.labels = columnLabels(spec.kind);
    this.units = [...input.counties]
      .sort((a, b) => cmp(a.code, b.code))
      .flatMap((county) => [...county.institutions].sort((a, b) => cmp(a.code, b.code)).map((i) => ({ ...i, county })));
    for (const [month, list] of input.entries) {
      for (const e of list) {
        // a stored entry of another month (a broken adapter) must not land in this one
        const period = e.current?.period ?? e.latest?.period ?? month;
        if (period !== month) continue;
        let byInstitution = this.slots.get(e.template);
        if (!byInstitution) this.slots.set(e.template, (byInstitution = new Map()));
        let byPeriod = byInstitution.get(e.institution);
        if (!byPeriod) byInstitution.set(e.institution, (byPeriod = new Map()));
        byPeriod.set(month, e);
      }
    }
  }

  slot(month: string, template: string, institution: string): PeriodEntry | undefined {
    return this.slots.get(template)?.get(institution)?.get(month);
  }

  /** The return that counts: the accepted one, when figures count approved returns only an approved one. */
  current(month: string, template: string, institution: string): CurrentSubmission | null {
    const c = this.slot(month, template, institution)?.current ?? null;
    return c && this.input.approvedOnly && !isApproved(c) ? null : c;
  }

  /** 未通过 when an upload was made and none was accepted, 未审核 when one was but is not approved (approved-only figures), else 未上报 */
  absentWord(month: string, template: string, institution: string): '未通过' | '未上报' | '未审核' {
    const e = this.slot(month, template, institution);
    if (e?.current) return '未审核';
    return e?.latest ? '未通过' : '未上报';
  }

  owing(template: string): Unit[] {
    return this.units.filter((u) => u.owes.includes(template));
  }

  /** Whether a unit owes a template for a period (its own kind): active in its last month, the template in force. */
  owedAt(u: InstitutionUnit, template: string, period: string): boolean {
    let month = this.lastMonths.get(period);
    if (month === undefined) this.lastMonths.set(period, (month = lastMonthOf(period)));
    if (!u.owes.includes(template) || (u.from && month < u.from) || (u.until && month >= u.until)) return false;
    const from = this.templateFrom.get(template);
    return !from || from <= month;
  }

  /** The periods of a template's own kind the consolidation covers: months, whole quarters, whole years. */
  periodsOf(template: string): string[] {
    return periodsWithin(this.kinds.get(template) ?? 'month', this.months);
  }

  dataAsOf(): string | null {
    let latest: string | null = null;
    for (const u of this.units) {
      for (const t of u.owes) {
        for (const m of this.periodsOf(t)) {
          if (!this.owedAt(u, t, m)) continue;
          const c = this.current(m, t, u.code);
          if (c && (latest === null || c.uploadedAt > latest)) latest = c.uploadedAt;
        }
      }
    }
    return latest;
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The values of one indicator template over a window, per unit, and why a unit has none. */
class Win {
  private readonly missingCache = new Map<string, Array<MissingUnit | undefined>>();
  private readonly missingOf = new Map<string, Array<MissingUnit | undefined>>();

  constructor(
    private readonly t: TemplateData,
    readonly window: readonly string[],
    readonly mode: Mode,
    /** the month before the window in the same year (own mode only): a ytd value's base */
    readonly base: string | null,
    /** per unit, per element: NaN when the unit lacks a month the element needs (or owes none) */
    readonly values: Float64Array[],
    /** per unit: owes some month of the window (a flow's), owes the window's last month (a ytd's or stock's) */
    private readonly owesAny: Uint8Array,
    private readonly owesLast: Uint8Array,
  ) {}

  /** whether unit k owes what element j needs in this window (else it is neither counted nor missing) */
  owes(k: number, j: number): boolean {
    return (this.t.flow[j] === 1 ? this.owesAny : this.owesLast)[k] === 1;
  }

  /** whether unit k owes every element of `need` (a loop, not a closure per unit: comparisons ask for every unit) */
  owesAll(k: number, need: readonly number[]): boolean {
    for (const j of need) if (!this.owes(k, j)) return false;
    return true;
  }

  /** why unit k has no value of element j: one shared object per unit and months needed */
  missing(k: number, j: number): MissingUnit {
    const el = this.t.def.elements[j]!;
    const variant = el.semantics === 'flow' ? 'all' : el.semantics === 'ytd' && this.base ? 'base' : 'last';
    // asked for every element and comparison of a unit: the answer per unit and variant, once
    let known = this.missingOf.get(variant);
    if (!known) this.missingOf.set(variant, (known = []));
    return (known[k] ??= this.findMissing(k, variant));
  }

  private findMissing(k: number, variant: 'all' | 'base' | 'last'): MissingUnit {
    const needed = variant === 'all' ? this.window : variant === 'base' ? [this.base!, this.window[this.window.length - 1]!] : [this.window[this.window.length - 1]!];
    const absent = needed.filter((m) => this.t.period(m)[k] === null);
    // every needed month is there: the element itself was left empty
    const key = absent.length ? variant : 'empty';
    let list = this.missingCache.get(key);
    if (!list) this.missingCache.set(key, (list = []));
    let m = list[k];
    if (!m) {
      const u = this.t.units[k]!;
      m = { code: u.code, name: u.name, reason: absent.length ? this.t.absentText(k, absent, this.window) : '未填' };
      list[k] = m;
    }
    return m;
  }
}

/**
 * A unit's period: its values (and those of the institutions merged into it, summed), null when one
 * of them owing that period has no accepted submission, undefined when none of them owes it.
 */
type PeriodRow = Float64Array | null | undefined;

/**
 * The values of one indicator template: a dense grid period × institution × element. Its periods are
 * those of the template's 周期 (months, quarters or years); windows arrive in months and are taken
 * in whole periods (`within`).
 */
class TemplateData {
  readonly units: Unit[];
  /** per unit: itself and the institutions merged into it (recursively), whose months count under it */
  private readonly members: Unit[][];
  private readonly codes: string[];
  /** per element: 1 for a flow (a window needs all its months), else 0 (its last month) */
  readonly flow: Uint8Array;
  /** how this template's elements are read from the input's value table, when it holds the template */
  private readonly held: ValueColumns | null;
  private readonly grid = new Map<string, PeriodRow[]>();
  /** comparisons' excluded units by windows and labels, per unit: the reasons met so far */
  private readonly excludedMemo = new Map<string, Array<Array<{ a: MissingUnit | null; b: MissingUnit | null; unit: MissingUnit }>>>();
  private readonly wins = new Map<string, Win>();
  /** the template's 周期: its rows are months, quarters or years */
  readonly kind: PeriodKind;

  constructor(
    readonly ctx: Context,
    readonly def: IndicatorTemplate,
  ) {
    const owing = ctx.owing(def.id);
    const byCode = new Map(owing.map((u) => [u.code, u]));
    this.kind = def.periodType;
    const periods = ctx.periodsOf(def.id);
    const last = periods[periods.length - 1]!;
    // a predecessor counts under its successor when the successor owes this template at the period's end
    const home = (u: Unit): Unit => {
      let at = u;
      for (let n = 0; n < 16 && at.mergedInto; n++) {
        const next = byCode.get(at.mergedInto);
        if (!next) break;
        at = next;
      }
      return at !== u && ctx.owedAt(at, def.id, last) ? at : u;
    };
    const groups = new Map<string, Unit[]>();
    for (const u of owing) {
      const h = home(u);
      groups.set(h.code, [...(groups.get(h.code) ?? []), u]);
    }
    this.units = owing.filter((u) => groups.has(u.code));
    this.members = this.units.map((u) => [u, ...groups.get(u.code)!.filter((m) => m !== u)]);
    this.codes = def.elements.map((e) => e.code);
    this.flow = Uint8Array.from(def.elements, (e) => (e.semantics === 'flow' ? 1 : 0));
    this.held = ctx.input.values?.columns(def.id, this.codes) ?? null;
  }

  /** values of a period of the template's 周期, per unit (see PeriodRow). Non-finite numbers are absent. */
  period(period: string): PeriodRow[] {
    let rows = this.grid.get(period);
    if (rows) return rows;
    rows = this.members.map((members) => {
      let acc: PeriodRow;
      let copied = false;
      for (const u of members) {
        if (!this.ctx.owedAt(u, this.def.id, period)) continue;
        const v = this.own(period, u);
        if (!v) return null;
        if (!acc) acc = v;
        else {
          // own values may be the value table's: summed into a copy
          if (!copied) acc = acc.slice();
          copied = true;
          for (let j = 0; j < v.length; j++) acc[j] = acc[j]! + v[j]!;
        }
      }
      return acc;
    });
    this.grid.set(period, rows);
    return rows;
  }

  /** A window of months in the template's own periods: the months, or the whole quarters or years within them. */
  within(window: readonly string[]): string[] {
    return periodsWithin(this.kind, window);
  }

  /** one institution's own accepted values of a period (the value table's own: never changed), null when it has none */
  private own(period: string, u: Unit): Float64Array | null {
    const s = this.ctx.current(period, this.def.id, u.code)?.submission;
    if (!s || s.kind !== 'indicator') return null;
    return (this.held && this.ctx.input.values!.row(period, u.code, this.held)) ?? readValues(s.values, this.codes);
  }

  /** whether unit k owes some month of a window (it has a row in the detail, a place in the totals) */
  owesIn(k: number, window: readonly string[]): boolean {
    return window.some((m) => this.period(m)[k] !== undefined);
  }

  /** the names of the institutions merged into unit k that count in a window */
  mergedIn(k: number, window: readonly string[]): string[] {
    return this.members[k]!.slice(1)
      .filter((u) => window.some((m) => this.ctx.owedAt(u, this.def.id, m)))
      .map((u) => u.name);
  }

  /** the month before a window, when it is in the window's year (a ytd value's base) */
  private base(window: readonly string[]): string | null {
    const before = shiftPeriod(window[0]!, -1);
    return yearOf(before) === yearOf(window[window.length - 1]!) ? before : null;
  }

  /** The window's values per unit and element (NaN when the unit lacks a month it needs). */
  win(window: readonly string[], mode: Mode): Win {
    const key = `${mode}:${window.join(',')}`;
    const cached = this.wins.get(key);
    if (cached) return cached;
    if (!window.length) {
      // no whole period of the template's 周期 in the window: nobody owes anything in it
      const none = new Win(this, window, mode, null, this.units.map(() => new Float64Array(this.codes.length).fill(NaN)), new Uint8Array(this.units.length), new Uint8Array(this.units.length));
      this.wins.set(key, none);
      return none;
    }
    const last = window[window.length - 1]!;
    const base = mode === 'own' ? this.base(window) : null;
    const lastRows = this.period(last);
    const baseRows = base ? this.period(base) : null;
    const all = window.map((m) => this.period(m));
    const E = this.codes.length;
    const kinds = this.def.elements.map((el) => (el.semantics === 'flow' ? 0 : el.semantics === 'stock' || !baseRows ? 1 : 2));
    const owesAny = new Uint8Array(this.units.length);
    const owesLast = new Uint8Array(this.units.length);
    // one buffer for the window, a view per unit (not thousands of small allocations)
    const block = new ArrayBuffer(this.units.length * E * Float64Array.BYTES_PER_ELEMENT);
    const out = this.units.map((_, k) => {
      const v = new Float64Array(block, k * E * Float64Array.BYTES_PER_ELEMENT, E);
      const lastRow = lastRows[k];
      // a base month owed by nobody (an institution that began since) counts as nothing accumulated yet
      const baseRow = baseRows?.[k];
      owesLast[k] = lastRow === undefined ? 0 : 1;
      owesAny[k] = all.some((rows) => rows[k] !== undefined) ? 1 : 0;
      for (let j = 0; j < E; j++) {
        const kind = kinds[j];
        if (kind === 0) {
          let s = 0;
          for (const rows of all) {
            const r = rows[k];
            if (r !== undefined) s += r ? r[j]! : NaN;
          }
          v[j] = owesAny[k] ? s : NaN;
        } else if (kind === 1) {
          v[j] = lastRow ? lastRow[j]! : NaN;
        } else {
          v[j] = (lastRow ? lastRow[j]! : NaN) - (baseRow ? baseRow[j]! : baseRow === undefined ? 0 : NaN);
        }
      }
      return v;
    });
    const w = new Win(this, window, mode, base, out, owesAny, owesLast);
    this.wins.set(key, w);
    return w;
  }

  aggregate(window: readonly string[], mode: Mode): Float64Array[] {
    return this.win(window, mode).values;
  }

  /**
   * 未上报 / 未通过 for one missing month of a one-month window; else 1月未上报、3月未通过. A month
   * missing for an institution merged into this one names it: 3月未上报（并入前：某某卫生院）.
   */
  absentText(k: number, absent: readonly string[], window: readonly string[]): string {
    const words = absent.map((m) => {
      const lacking = this.members[k]!.filter((u) => this.ctx.owedAt(u, this.def.id, m) && !this.ctx.current(m, this.def.id, u.code));
      const self = lacking.find((u) => u === this.units[k]) ?? null;
      const who = self ? '' : `（并入前：${lacking.map((u) => u.name).join('、')}）`;
      return { m, word: this.ctx.absentWord(m, this.def.id, (self ?? lacking[0] ?? this.units[k]!).code) + who };
    });
    if (window.length === 1 && words.length === 1 && absent[0] === window[0]) return words[0]!.word;
    return words.map(({ m, word }) => `${shortLabel(m, this.ctx.spec.year)}${word}`).join('、');
  }

  private elementMeasure(j: number, window: readonly string[], mode: Mode, subset?: Set<number>): Measure {
    const el = this.def.elements[j]!;
    const w = this.win(window, mode);
    const values = w.values;
    let sum = 0;
    let covered = 0;
    let owed = 0;
    const missing: MissingUnit[] = [];
    for (let k = 0; k < this.units.length; k++) {
      if ((subset && !subset.has(k)) || !w.owes(k, j)) continue;
      owed++;
      const x = values[k]![j]!;
      if (Number.isNaN(x)) {
        missing.push(w.missing(k, j));
        continue;
      }
      sum += x;
      covered++;
    }
    return { value: el.additive && covered > 0 ? sum : null, covered, owed, missing };
  }

  private indexes(codes: readonly string[]): number[] {
    return codes.map((c) => {
      const j = this.codes.indexOf(c);
      if (j < 0) throw new Error(`${this.def.id}: indicator refers to unknown element ${c}`);
      return j;
    });
  }

  /** Σ numerator / Σ denominator × factor over the units with both */
  private rateMeasure(x: IndicatorTemplate['indicators'][number], window: readonly string[], mode: Mode, subset?: Set<number>): Measure {
    const w = this.win(window, mode);
    const values = w.values;
    const num = this.indexes(x.numerator);
    const den = this.indexes(x.denominator);
    let n = 0;
    let d = 0;
    let covered = 0;
    let owed = 0;
    const missing: MissingUnit[] = [];
    const operands = [...num, ...den];
    for (let k = 0; k < this.units.length; k++) {
      // a unit that does not owe every operand in this window (one that began or ended in it) forms no pair
      if ((subset && !subset.has(k)) || !w.owesAll(k, operands)) continue;
      owed++;
      const v = values[k]!;
      const a = sumAt(v, num);
      const b = sumAt(v, den);
      if (Number.isNaN(a) || Number.isNaN(b)) {
        const j = operands.find((i) => Number.isNaN(v[i]!))!;
        missing.push(w.missing(k, j));
        continue;
      }
      n += a;
      d += b;
      covered++;
    }
    return { value: covered > 0 && d > 0 ? rate(n, d, x.factor) : null, covered, owed, missing, numerator: n, denominator: d };
  }

  summary(months: ConsolidationResult['windows'], targets: Target[]): SummarySection {
    const rows: SummaryRow[] = [];
    // months of the year 本年累计 covers: the m of 序时进度's m/12
    const elapsed = months.ytd.length;
    const windows = { current: this.within(months.current), ytd: this.within(months.ytd), previous: this.within(months.previous), lastYear: this.within(months.lastYear) };
    const byType = (types: readonly string[] | undefined) =>
      types ? new Set(this.units.flatMap((u, k) => (types.includes(u.type) ? [k] : []))) : undefined;
    this.def.elements.forEach((el, j) => {
      const m = (w: readonly string[]) => this.elementMeasure(j, w, 'own');
      const current = m(windows.current);
      const previous = m(windows.previous);
      const lastYear = m(windows.lastYear);
      const target = targets.find((t) => t.indicator === el.code);
      rows.push({
        kind: 'element',
        template: this.def.id,
        code: el.code,
        name: el.name,
        unit: el.unit,
        semantics: el.semantics,
        additive: el.additive,
        factor: null,
        valueType: el.type,
        current,
        ytd: m(windows.ytd),
        previous,
        lastYear,
        ...this.comparisons([j], windows, (v, ks) => (el.additive && ks.length ? ks.reduce((s, k) => s + v[k]![j]!, 0) : null), 'percent'),
        target: target ? this.elementTarget(target, j, windows.ytd, elapsed, byType(target.institutionTypes)) : null,
      });
    });
    for (const x of this.def.indicators) {
      const num = this.indexes(x.numerator);
      const den = this.indexes(x.denominator);
      const m = (w: readonly string[], subset?: Set<number>) => this.rateMeasure(x, w, 'own', subset);
      const current = m(windows.current);
      const previous = m(windows.previous);
      const lastYear = m(windows.lastYear);
      const ytd = m(windows.ytd);
      const target = targets.find((t) => t.indicator === x.code);
      let targetResult: TargetResult | null = null;
      if (target) {
        const scoped = target.institutionTypes ? m(windows.ytd, byType(target.institutionTypes)) : ytd;
        targetResult = judge(target, scoped.value, elapsed, x.unit, [], scoped.covered, scoped.owed, this.scopeNames(target));
      }
      rows.push({
        kind: 'indicator',
        template: this.def.id,
        code: x.code,
        name: x.name,
        unit: x.unit,
        semantics: 'rate',
        additive: true,
        factor: x.factor,
        valueType: 'rate',
        current,
        ytd,
        previous,
        lastYear,
        ...this.comparisons([...num, ...den], windows, (v, ks) => rateOver(v, num, den, x.factor, new Set(ks)).value, 'points'),
        target: targetResult,
      });
    }
    return { template: this.def, owed: this.units.filter((_, k) => this.owesIn(k, windows.current)).length, rows };
  }

  /** 环比 and 同比 over the comparable sets (可比口径): the units with every needed column in both windows. */
  private comparisons(need: number[], windows: ConsolidationResult['windows'], value: (values: Float64Array[], ks: number[]) => number | null, kind: Change['kind']) {
    const labels = this.ctx.labels;
    const mom = this.comparable(need, windows.current, windows.previous, value, [labels.current, labels.previous]);
    const yoy = this.comparable(need, windows.current, windows.lastYear, value, [labels.current, labels.lastYear]);
    return { mom: change(mom.current, mom.base, kind), yoy: change(yoy.current, yoy.base, kind), comparable: { mom: mom.set, yoy: yoy.set } };
  }

  private comparable(need: number[], a: readonly string[], b: readonly string[], value: (values: Float64Array[], ks: number[]) => number | null, labels: [string, string]) {
    const wa = this.win(a, 'own');
    const wb = this.win(b, 'own');
    const ks: number[] = [];
    const excluded: MissingUnit[] = [];
    // one object per unit and reason, shared by the rows that leave the unit out for the same reason
    const memoKey = `${a.join()}|${b.join()}|${labels.join('|')}`;
    let memo = this.excludedMemo.get(memoKey);
    if (!memo) this.excludedMemo.set(memoKey, (memo = []));
    for (let k = 0; k < this.units.length; k++) {
      const owedA = wa.owesAll(k, need);
      const owedB = wb.owesAll(k, need);
      if (!owedA && !owedB) continue;
      const lackA = owedA ? firstNaN(wa.values[k]!, need) : -1;
      const lackB = owedB ? firstNaN(wb.values[k]!, need) : -1;
      if (lackA === undefined && lackB === undefined) {
        ks.push(k);
        continue;
      }
      const whyA = lackA === undefined ? null : lackA < 0 ? NOT_OWED : wa.missing(k, lackA);
      const whyB = lackB === undefined ? null : lackB < 0 ? NOT_OWED : wb.missing(k, lackB);
      const known = (memo[k] ??= []);
      let hit: MissingUnit | undefined;
      for (const x of known) if (x.a === whyA && x.b === whyB) hit = x.unit;
      if (!hit) {
        const say = (label: string, why: MissingUnit | null) => (why === null ? '' : `${label}${why === NOT_OWED ? '不应报' : why.reason}`);
        const [ra, rb] = [say(labels[0], whyA), say(labels[1], whyB)];
        const u = this.units[k]!;
        hit = { code: u.code, name: u.name, reason: ra && rb ? `${ra}、${rb}` : ra || rb };
        known.push({ a: whyA, b: whyB, unit: hit });
      }
      excluded.push(hit);
    }
    return { current: value(wa.values, ks), base: value(wb.values, ks), set: { covered: ks.length, excluded } };
  }

  private scopeNames(target: Target): string[] | null {
    if (!target.institutionTypes) return null;
    const names = new Map(this.ctx.units.map((u) => [u.type, u.typeName]));
    return target.institutionTypes.map((t) => names.get(t) ?? t);
  }

  private elementTarget(target: Target, j: number, ytd: readonly string[], elapsed: number, subset: Set<number> | undefined): TargetResult {
    const el = this.def.elements[j]!;
    const m = this.elementMeasure(j, ytd, 'own', subset);
    if (el.additive) return judge(target, m.value, elapsed, el.unit, [], m.covered, m.owed, this.scopeNames(target));
    // not summable: every institution in scope is judged on its own value
    const values = this.aggregate(ytd, 'own');
    const failing: string[] = [];
    let judgedCount = 0;
    const due = dueOf(target, elapsed).judged;
    const w = this.win(ytd, 'own');
    this.units.forEach((u, k) => {
      if ((subset && !subset.has(k)) || !w.owes(k, j)) return;
      const x = values[k]![j]!;
      if (Number.isNaN(x) || due === null) return;
      judgedCount++;
      if (!meets(target.direction, x, due)) failing.push(u.name);
    });
    return {
      ...judge(target, null, elapsed, el.unit, failing, m.covered, m.owed, this.scopeNames(target)),
      status: judgedCount === 0 ? '无数据' : failing.length ? '未达标' : '达标',
      verdict: judgedCount === 0 ? '无数据' : failing.length ? `${failing.length} 家未达标` : '均达标',
    };
  }

  detail(months: readonly string[], level: ConsolidationInput['level']): DetailSheet {
    const window = this.within(months);
    const columns: DetailColumn[] = [
      ...this.def.elements.map((el) => ({
        kind: 'element' as const,
        code: el.code,
        name: el.name,
        unit: el.unit,
        semantics: el.semantics,
        additive: el.additive,
        valueType: el.type,
      })),
      ...this.def.indicators.map((x) => ({
        kind: 'indicator' as const,
        code: x.code,
        name: x.name,
        unit: x.unit,
        semantics: 'rate' as const,
        additive: true,
        valueType: 'rate' as const,
      })),
    ];
    const E = this.def.elements.length;
    const C = columns.length;
    const values = this.aggregate(window, 'asSubmitted');
    const rateIdx = this.def.indicators.map((x) => ({ x, num: this.indexes(x.numerator), den: this.indexes(x.denominator) }));

    // 合计 over institutions, whatever the level
    const total = new Float64Array(C).fill(NaN);
    const covered = new Int32Array(C);
    const sums = new Float64Array(E);
    for (let k = 0; k < this.units.length; k++) {
      const v = values[k]!;
      for (let j = 0; j < E; j++) {
        if (Number.isNaN(v[j]!)) continue;
        sums[j]! += v[j]!;
        covered[j]!++;
      }
    }
    for (let j = 0; j < E; j++) if (this.def.elements[j]!.additive && covered[j]! > 0) total[j] = sums[j]!;
    rateIdx.forEach(({ x, num, den }, i) => {
      const r = rateOver(values, num, den, x.factor, null);
      total[E + i] = r.value ?? NaN;
      covered[E + i] = r.covered;
    });

    const inWindow = this.units.flatMap((_, k) => (this.owesIn(k, window) ? [k] : []));
    const rows: DetailRow[] =
      level === 'county'
        ? inWindow.map((k) => {
            const u = this.units[k]!;
            const row = new Float64Array(C).fill(NaN);
            row.set(values[k]!);
            rateIdx.forEach(({ x, num, den }, i) => {
              const a = sumAt(values[k]!, num);
              const b = sumAt(values[k]!, den);
              if (!Number.isNaN(a) && !Number.isNaN(b) && b > 0) row[E + i] = rate(a, b, x.factor);
            });
            return { code: u.code, name: u.name, group: u.typeName, status: this.unitStatus(k, window), values: row, note: this.unitNote(k, window, values[k]!) };
          })
        : this.countyRows(window, values, rateIdx, C, inWindow);

    const missing: MissingUnit[] = [];
    for (const k of inWindow) {
      const u = this.units[k]!;
      const absent = window.filter((m) => this.period(m)[k] === null);
      if (absent.length) missing.push({ code: u.code, name: u.name, reason: this.absentText(k, absent, window) });
    }
    return { template: this.def, columns, rows, total, covered, owed: inWindow.length, missing };
  }

  private countyRows(window: readonly string[], values: Float64Array[], rateIdx: Array<{ x: IndicatorTemplate['indicators'][number]; num: number[]; den: number[] }>, C: number, inWindow: number[]): DetailRow[] {
    const E = this.def.elements.length;
    const rows: DetailRow[] = [];
    for (const county of [...this.ctx.input.counties].sort((a, b) => cmp(a.code, b.code))) {
      const ks = new Set(inWindow.filter((k) => this.units[k]!.county.code === county.code));
      if (!ks.size) continue;
      const row = new Float64Array(C).fill(NaN);
      for (let j = 0; j < E; j++) {
        if (!this.def.elements[j]!.additive) continue;
        let s = 0;
        let n = 0;
        for (const k of ks) {
          const x = values[k]![j]!;
          if (Number.isNaN(x)) continue;
          s += x;
          n++;
        }
        if (n) row[j] = s;
      }
      rateIdx.forEach(({ x, num, den }, i) => {
        row[E + i] = rateOver(values, num, den, x.factor, ks).value ?? NaN;
      });
      let complete = 0;
      const missing: string[] = [];
      for (const k of ks) {
        const absent = window.filter((m) => this.period(m)[k] === null);
        if (!absent.length) complete++;
        else missing.push(`${this.units[k]!.name}（${this.absentText(k, absent, window)}）`);
      }
      rows.push({
        code: county.code,
        name: county.name,
        group: `${ks.size}家`,
        status: `实报 ${complete}/${ks.size}`,
        values: row,
        note: missing.length ? `缺报 ${missing.length} 家：${listNames(missing)}` : '',
      });
    }
    return rows;
  }

  private unitStatus(k: number, window: readonly string[]): string {
    const u = this.units[k]!;
    if (window.length === 1 && this.ctx.owedAt(u, this.def.id, window[0]!)) {
      const c = this.ctx.current(window[0]!, this.def.id, u.code);
      if (c) return c.status === 'accepted_with_warnings' ? '有警告' : '已通过';
      return this.ctx.absentWord(window[0]!, this.def.id, u.code);
    }
    const owed = window.filter((m) => this.period(m)[k] !== undefined);
    const n = owed.filter((m) => this.period(m)[k]).length;
    if (window.length === 1) return n ? '已通过' : this.absentText(k, owed, window);
    return n === 0 ? '未上报' : `已报 ${n}/${owed.length} ${this.kind === 'quarter' ? '个季度' : this.kind === 'year' ? '年' : '个月'}`;
  }

  private unitNote(k: number, window: readonly string[], v: Float64Array): string {
    const parts: string[] = [];
    const owed = window.filter((m) => this.period(m)[k] !== undefined);
    const absent = owed.filter((m) => this.period(m)[k] === null);
    if (absent.length && window.length > 1 && absent.length < owed.length) parts.push(`缺${this.absentText(k, absent, window)}`);
    const merged = this.mergedIn(k, window);
    if (merged.length) parts.push(`含并入机构 ${merged.join('、')} 并入前的数据`);
    if (absent.length < owed.length) {
      const w = this.win(window, 'asSubmitted');
      const empty = this.def.elements.filter((_, j) => Number.isNaN(v[j]!) && w.missing(k, j).reason === '未填').map((e) => e.code);
      if (empty.length) parts.push(`未填：${empty.join('、')}`);
    }
    const u = this.units[k]!;
    for (const m of window) {
      const s = this.ctx.current(m, this.def.id, u.code)?.submission;
      if (!s || s.kind !== 'indicator') continue;
      for (const code of this.codes) {
        const r = Object.hasOwn(s.remarks ?? {}, code) ? s.remarks[code] : undefined;
        if (typeof r === 'string' && r.trim()) parts.push(`${window.length > 1 ? shortLabel(m, this.ctx.spec.year) + ' ' : ''}${code}：${r.trim()}`);
      }
    }
    return parts.join('；');
  }
}

/** a comparison's window the unit does not owe (不应报) */
const NOT_OWED: MissingUnit = { code: '', name: '', reason: '不应报' };

/** the first of `idx` whose value is NaN, or undefined */
function firstNaN(v: Float64Array, idx: readonly number[]): number | undefined {
  for (const j of idx) if (Number.isNaN(v[j]!)) return j;
  return undefined;
}

function sumAt(v: Float64Array, idx: readonly number[]): number {
  let s = 0;
  for (const j of idx) s += v[j]!;
  return s;
}

/** The one place a rate is computed. */
export function rate(numerator: number, denominator: number, factor: number): number {
  return (numerator / denominator) * factor;
}

function rateOver(values: Float64Array[], num: number[], den: number[], factor: number, subset: Set<number> | null): { value: number | null; covered: number } {
  let n = 0;
  let d = 0;
  let covered = 0;
  const visit = (k: number) => {
    const a = sumAt(values[k]!, num);
    const b = sumAt(values[k]!, den);
    if (Number.isNaN(a) || Number.isNaN(b)) return;
    n += a;
    d += b;
    covered++;
  };
  if (subset) for (const k of subset) visit(k);
  else for (let k = 0; k < values.length; k++) visit(k);
  return { value: covered > 0 && d > 0 ? rate(n, d, factor) : null, covered };
}

/** 环比/同比: a count's change in percent (empty on a missing or zero base), a rate's in points. */
export function change(c: number | null, b: number | null, kind: Change['kind']): Change | null {
  if (c === null || b === null) return null;
  if (kind === 'percent') {
    if (b === 0) return null;
    const v = ((c - b) / b) * 100;
    return Number.isFinite(v) ? { value: v, kind } : null;
  }
  const v = c - b;
  return Number.isFinite(v) ? { value: v, kind } : null;
}

function meets(direction: Target['direction'], value: number, due: number): boolean {
  return direction === '>=' ? value >= due - TARGET_EPSILON : value <= due + TARGET_EPSILON;
}

/**
 * What a target asks for after `elapsed` months of its year (序时进度): the annual value at year end or
 * without pace; linear: value × elapsed / 12; quarterly: the milestone of the latest quarter ended (none
 * before the first: not judged yet).
 */
export function dueOf(target: Target, elapsed: number): { paced: number | null; judged: number | null; yearEnd: boolean } {
  const pace = target.pace ?? 'none';
  const yearEnd = elapsed >= 12;
  if (pace === 'none' || yearEnd) return { paced: null, judged: target.value, yearEnd };
  if (pace === 'linear') {
    const paced = (target.value * elapsed) / 12;
    return { paced, judged: paced, yearEnd };
  }
  const quarters = Math.floor(elapsed / 3);
  const paced = quarters > 0 && target.milestones ? target.milestones[quarters - 1]! : null;
  return { paced, judged: paced, yearEnd };
}

/** The target's judgement of a measured value (null: no data); `unit` words the gap. */
function judge(target: Target, measured: number | null, elapsed: number, unit: string, failing: string[], covered: number, owed: number, scope: string[] | null): TargetResult {
  const pace = target.pace ?? 'none';
  const { paced, judged, yearEnd } = dueOf(target, elapsed);
  const ok = measured !== null && judged !== null ? meets(target.direction, measured, judged) : null;
  const gap = measured !== null && judged !== null ? measured - judged : null;
  const behind = gap === null ? '' : unit === '%' ? `${Math.abs(gap).toFixed(2)} 个百分点` : `差 ${Number(Math.abs(gap).toFixed(2))} ${unit}`;
  const verdict =
    measured === null ? '无数据'
    : judged === null ? '未到考核节点'
    : paced !== null ? (ok ? '达到序时进度' : `落后序时进度（${behind}）`)
    : pace !== 'none' && yearEnd ? (ok ? '全年达标' : '全年未达标')
    : ok ? '达标' : '未达标';
  return {
    direction: target.direction,
    value: target.value,
    year: target.year,
    document: target.document,
    quote: target.quote,
    scope,
    measured,
    pace,
    elapsed,
    paced,
    gap,
    status: ok === null ? '无数据' : ok ? '达标' : '未达标',
    verdict,
    failing,
    covered,
    owed,
  };
}

export function listNames(names: readonly string[], max = 10): string {
  return names.length <= max ? names.join('、') : `${names.slice(0, max).join('、')} 等 ${names.length} 家`;
}

/** listNames of units as 名称（原因）, formatting only the ones shown (a province leaves out thousands) */
export function listUnits(units: readonly MissingUnit[], max = 10): string {
  const shown = units.slice(0, max).map((x) => `${x.name}（${x.reason}）`);
  return units.length <= max ? shown.join('、') : `${shown.join('、')} 等 ${units.length} 家`;
}

// ---- 上报情况 ----

function statusOf(ctx: Context): ConsolidationResult['status'] {
  const templates = new Map(ctx.input.templates.map((t) => [t.id, t]));
  const rows: StatusRow[] = [];
  for (const u of ctx.units) {
    for (const template of [...u.owes].sort()) {
      const def = templates.get(template);
      if (!def) continue;
      for (const period of ctx.periodsOf(template)) {
        if (!ctx.owedAt(u, template, period)) continue;
        const e = ctx.slot(period, template, u.code);
        const current = e?.current ?? null;
        const latest = e?.latest ?? null;
        const deadline = deadlineOf(period, def.deadlineDay ?? u.county.deadlineDay, def.deadlineMonth);
        const status: SlotStatus = current ? (current.status === 'accepted_with_warnings' ? '有警告' : '已通过') : latest ? '未通过' : '未上报';
        const review = reviewOf(current);
        const uploadedAt = current?.uploadedAt ?? latest?.uploadedAt ?? null;
        const timeliness = timelinessOf(e, deadline, ctx.input.generatedAt);
        const openRejection = openRejectionOf(e);
        const notes: string[] = [];
        if (current && openRejection) notes.push(`${shortTime(openRejection.uploadedAt)} 重新上传的版本未通过（错误 ${openRejection.errors} 条），仍以 ${shortTime(current.uploadedAt)} 通过的版本为准`);
        if (!current && openRejection) notes.push(`最近一次上传 ${shortTime(openRejection.uploadedAt)} 未通过，请按校验问题更正后重新上传`);
        if (review === 'returned') notes.push(`审核退回：${current!.review?.reason ?? ''}`);
        if (e?.correction) notes.push(`已关账，${shortTime(e.correction.uploadedAt)} 的补报待审核，通过后替换本报表`);
        rows.push({
          county: u.county.code,
          countyName: u.county.name,
          institution: u.code,
          name: u.name,
          template,
          templateTitle: def.title,
          period,
          status,
          review: review ? (REVIEW_LABELS[review] as ReviewWord) : '',
          uploadedAt,
          timeliness,
          versions: latest?.versions ?? (current ? 1 : 0),
          errors: openRejection?.errors ?? 0,
          warnings: current?.warnings ?? 0,
          note: notes.join('；'),
        });
      }
    }
  }
  const total = (key: string, label: string, list: StatusRow[]): StatusTotal => {
    const owed = list.length;
    const submitted = list.filter((r) => r.status === '已通过' || r.status === '有警告').length;
    const onTime = list.filter((r) => r.timeliness === '按时').length;
    const approved = list.filter((r) => r.review === '已审核').length;
    return {
      key,
      label,
      owed,
      submitted,
      approved,
      unreviewed: submitted - approved,
      onTime,
      rejected: list.filter((r) => r.status === '未通过').length,
      missing: list.filter((r) => r.status === '未上报').length,
      rate: owed ? (submitted / owed) * 100 : null,
      timely: owed ? (onTime / owed) * 100 : null,
    };
  };
  const byTemplate = ctx.input.templates.filter((t) => rows.some((r) => r.template === t.id)).map((t) => total(t.id, t.title, rows.filter((r) => r.template === t.id)));
  const byCounty = [...ctx.input.counties].sort((a, b) => cmp(a.code, b.code)).map((c) => total(c.code, c.name, rows.filter((r) => r.county === c.code)));
  return { rows, byTemplate, byCounty, overall: total('', '合计', rows) };
}

/** 3月 / 第1季度 within the consolidation's year; with the year otherwise (2024年12月, 2024年) */
function shortLabel(period: string, year: number): string {
  if (periodKind(period) === 'month') return monthLabel(period, year);
  return period.startsWith(String(year)) && period.length > 4 ? periodLabel(period).slice(5) : periodLabel(period);
}

/**
 * Each quarterly or annual template's next period due as of generatedAt: the latest one ended (dueWith
 * of the month before generatedAt's), or the one after it when its deadline has passed.
 */
function dueNextOf(input: ConsolidationInput): ConsolidationResult['dueNext'] {
  const owed = new Set(input.counties.flatMap((c) => c.institutions.flatMap((i) => i.owes)));
  const day = input.counties[0]?.deadlineDay ?? 5;
  const month = shiftPeriod(shanghaiMonth(input.generatedAt), -1);
  const out: ConsolidationResult['dueNext'] = [];
  for (const t of input.templates) {
    if (t.periodType === 'month' || !owed.has(t.id)) continue;
    const deadline = (p: string) => deadlineOf(p, t.deadlineDay ?? day, t.deadlineMonth);
    let period = dueWith(month)[t.periodType];
    if (deadline(period).getTime() < input.generatedAt.getTime()) period = shiftPeriod(period, 1);
    out.push({ template: t.id, title: t.title, periodType: t.periodType, period, deadline: deadline(period).toISOString(), rule: deadlineRule(t.periodType, t.deadlineDay ?? day, t.deadlineMonth) });
  }
  return out;
}

function shortTime(iso: string): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  return new Date(t + SHANGHAI_OFFSET_MS).toISOString().slice(5, 16).replace('T', ' ').replace('-', '月').replace(' ', '日 ');
}

// ---- 任务台账 ----

function ledgerOf(ctx: Context, def: LedgerTemplate): LedgerLine[] {
  const lines: LedgerLine[] = [];
  for (const u of ctx.units) {
    if (!u.owes.includes(def.id)) continue;
    // a ledger is a snapshot: the latest month of the period that has an accepted one
    const month = [...ctx.periodsOf(def.id)].reverse().find((m) => ctx.owedAt(u, def.id, m) && ctx.current(m, def.id, u.code));
    if (!month) continue;
    const current = ctx.current(month, def.id, u.code)!;
    const stored = current.submission.kind === 'ledger' ? current.submission.rows : [];
    const rows = ctx.input.ledgerRows.get(current.versionId) ?? stored;
    const end = monthEnd(month);
    for (const row of [...rows].sort((a, b) => a.row - b.row)) {
      const overdue = row.status === '已滞后' || (row.status !== '已完成' && typeof row.deadline === 'string' && row.deadline <= end);
      lines.push({ county: u.county.code, institution: u.code, name: u.name, month, row, overdue });
    }
  }
  return lines;
}

// ---- 校验问题 ----

function issuesOf(ctx: Context): IssueLine[] {
  const lines: IssueLine[] = [];
  for (const u of ctx.units) {
    for (const template of [...u.owes].sort()) {
      for (const period of ctx.periodsOf(template)) {
        const e = ctx.slot(period, template, u.code);
        if (!e || !ctx.owedAt(u, template, period)) continue;
        const base = { institution: u.code, name: u.name, template, period };
        const { current, latest } = e;
        const open = latest && latest.status === 'rejected' && (!current || latest.order > current.order) ? latest : null;
        if (open) {
          const listed = open.firstIssues.filter((i) => i.severity !== 'info');
          const more = Math.max(0, open.errors + open.warnings - listed.length);
          listed.forEach((i, n) => lines.push({ ...base, state: '未解决', severity: i.severity, sheet: i.sheet, cell: i.cell, element: i.element, message: i.message, more: n === listed.length - 1 ? more : 0, reportKey: open.reportKey }));
          if (!listed.length && more) lines.push({ ...base, state: '未解决', severity: 'error', sheet: null, cell: null, element: null, message: `共 ${more} 条问题`, more, reportKey: open.reportKey });
        }
        if (current && current.warnings > 0) {
          const listed = current.firstIssues.filter((i) => i.severity === 'warning');
          const more = Math.max(0, current.warnings - listed.length);
          listed.forEach((i, n) => lines.push({ ...base, state: '已接收', severity: i.severity, sheet: i.sheet, cell: i.cell, element: i.element, message: i.message, more: n === listed.length - 1 ? more : 0, reportKey: current.reportKey }));
          if (!listed.length) lines.push({ ...base, state: '已接收', severity: 'warning', sheet: null, cell: null, element: null, message: `共 ${more} 条警告`, more, reportKey: current.reportKey });
        }
      }
    }
  }
  return lines;
}
