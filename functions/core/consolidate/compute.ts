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
 */
import type { IndicatorTemplate, LedgerTemplate, Target } from '../../../schemas/model.ts';
import type { CurrentSubmission, PeriodEntry } from '../../ports/index.ts';
import {
  columnLabels,
  deadlineOf,
  monthEnd,
  monthLabel,
  parsePeriod,
  previousPeriod,
  SHANGHAI_OFFSET_MS,
  shiftMonths,
  yearOf,
  yearToDate,
  type PeriodSpec,
} from './period.ts';
import { shiftPeriod } from '../validate/history.ts';
import { openRejectionOf, timelinessOf } from './slot.ts';
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
    counties: [...input.counties].sort((a, b) => cmp(a.code, b.code)).map((c) => ({ code: c.code, name: c.name, institutions: c.institutions.length, deadlineDay: c.deadlineDay })),
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
  private readonly slots = new Map<string, PeriodEntry>();

  constructor(
    readonly input: ConsolidationInput,
    readonly spec: PeriodSpec,
    readonly months: string[],
  ) {
    this.units = [...input.counties]
      .sort((a, b) => cmp(a.code, b.code))
      .flatMap((county) => [...county.institutions].sort((a, b) => cmp(a.code, b.code)).map((i) => ({ ...i, county })));
    for (const [month, list] of input.entries) {
      for (const e of list) {
        // a stored entry of another month (a broken adapter) must not land in this one
        const period = e.current?.period ?? e.latest?.period ?? month;
        if (period !== month) continue;
        this.slots.set(slotKey(month, e.template, e.institution), e);
      }
    }
  }

  slot(month: string, template: string, institution: string): PeriodEntry | undefined {
    return this.slots.get(slotKey(month, template, institution));
  }

  current(month: string, template: string, institution: string): CurrentSubmission | null {
    return this.slot(month, template, institution)?.current ?? null;
  }

  /** 未通过 when an upload was made and none was accepted, else 未上报 */
  absentWord(month: string, template: string, institution: string): '未通过' | '未上报' {
    const e = this.slot(month, template, institution);
    return e?.latest && !e.current ? '未通过' : '未上报';
  }

  owing(template: string): Unit[] {
    return this.units.filter((u) => u.owes.includes(template));
  }

  dataAsOf(): string | null {
    let latest: string | null = null;
    for (const m of this.months) {
      for (const u of this.units) {
        for (const t of u.owes) {
          const c = this.current(m, t, u.code);
          if (c && (latest === null || c.uploadedAt > latest)) latest = c.uploadedAt;
        }
      }
    }
    return latest;
  }
}

const slotKey = (month: string, template: string, institution: string) => `${month}|${template}|${institution}`;
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The values of one indicator template over a window, per unit, and why a unit has none. */
class Win {
  private readonly missingCache = new Map<string, Array<MissingUnit | undefined>>();

  constructor(
    private readonly t: TemplateData,
    readonly window: readonly string[],
    readonly mode: Mode,
    /** the month before the window in the same year (own mode only): a ytd value's base */
    readonly base: string | null,
    /** per unit, per element: NaN when the unit lacks a month the element needs */
    readonly values: Float64Array[],
  ) {}

  /** why unit k has no value of element j: one shared object per unit and months needed */
  missing(k: number, j: number): MissingUnit {
    const el = this.t.def.elements[j]!;
    const variant = el.semantics === 'flow' ? 'all' : el.semantics === 'ytd' && this.base ? 'base' : 'last';
    const needed = variant === 'all' ? this.window : variant === 'base' ? [this.base!, this.window[this.window.length - 1]!] : [this.window[this.window.length - 1]!];
    const absent = needed.filter((m) => !this.t.month(m)[k]);
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

/** The values of one indicator template: a dense grid month × institution × element. */
class TemplateData {
  readonly units: Unit[];
  private readonly codes: string[];
  private readonly grid = new Map<string, Array<Float64Array | null>>();
  private readonly wins = new Map<string, Win>();

  constructor(
    readonly ctx: Context,
    readonly def: IndicatorTemplate,
  ) {
    this.units = ctx.owing(def.id);
    this.codes = def.elements.map((e) => e.code);
  }

  /** values of a month, per unit; null: no accepted submission. Non-finite numbers are absent. */
  month(month: string): Array<Float64Array | null> {
    let rows = this.grid.get(month);
    if (rows) return rows;
    rows = this.units.map((u) => {
      const s = this.ctx.current(month, this.def.id, u.code)?.submission;
      if (!s || s.kind !== 'indicator') return null;
      const v = new Float64Array(this.codes.length);
      const values = s.values;
      for (let j = 0; j < this.codes.length; j++) {
        const code = this.codes[j]!;
        const x = values[code];
        // own numbers only: nothing from a prototype, nothing non-finite
        v[j] = typeof x === 'number' && Number.isFinite(x) && Object.hasOwn(values, code) ? x : NaN;
      }
      return v;
    });
    this.grid.set(month, rows);
    return rows;
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
    const last = window[window.length - 1]!;
    const base = mode === 'own' ? this.base(window) : null;
    const lastRows = this.month(last);
    const baseRows = base ? this.month(base) : null;
    const all = window.map((m) => this.month(m));
    const E = this.codes.length;
    const kinds = this.def.elements.map((el) => (el.semantics === 'flow' ? 0 : el.semantics === 'stock' || !baseRows ? 1 : 2));
    const out = this.units.map((_, k) => {
      const v = new Float64Array(E);
      const lastRow = lastRows[k];
      const baseRow = baseRows?.[k];
      for (let j = 0; j < E; j++) {
        const kind = kinds[j];
        if (kind === 0) {
          let s = 0;
          for (const rows of all) {
            const r = rows[k];
            s += r ? r[j]! : NaN;
          }
          v[j] = s;
        } else if (kind === 1) {
          v[j] = lastRow ? lastRow[j]! : NaN;
        } else {
          v[j] = (lastRow ? lastRow[j]! : NaN) - (baseRow ? baseRow[j]! : NaN);
        }
      }
      return v;
    });
    const w = new Win(this, window, mode, base, out);
    this.wins.set(key, w);
    return w;
  }

  aggregate(window: readonly string[], mode: Mode): Float64Array[] {
    return this.win(window, mode).values;
  }

  /** 未上报 / 未通过 for one missing month of a one-month window; else 1月未上报、3月未通过 */
  absentText(k: number, absent: readonly string[], window: readonly string[]): string {
    const u = this.units[k]!;
    if (window.length === 1 && absent.length === 1 && absent[0] === window[0]) return this.ctx.absentWord(absent[0]!, this.def.id, u.code);
    return absent.map((m) => `${monthLabel(m, this.ctx.spec.year)}${this.ctx.absentWord(m, this.def.id, u.code)}`).join('、');
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
      if (subset && !subset.has(k)) continue;
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
    for (let k = 0; k < this.units.length; k++) {
      if (subset && !subset.has(k)) continue;
      owed++;
      const v = values[k]!;
      const a = sumAt(v, num);
      const b = sumAt(v, den);
      if (Number.isNaN(a) || Number.isNaN(b)) {
        const j = [...num, ...den].find((i) => Number.isNaN(v[i]!))!;
        missing.push(w.missing(k, j));
        continue;
      }
      n += a;
      d += b;
      covered++;
    }
    return { value: covered > 0 && d > 0 ? rate(n, d, x.factor) : null, covered, owed, missing, numerator: n, denominator: d };
  }

  summary(windows: ConsolidationResult['windows'], targets: Target[]): SummarySection {
    const rows: SummaryRow[] = [];
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
        mom: change(current, previous, 'percent'),
        yoy: change(current, lastYear, 'percent'),
        target: target ? this.elementTarget(target, j, windows.ytd, byType(target.institutionTypes)) : null,
      });
    });
    for (const x of this.def.indicators) {
      const m = (w: readonly string[], subset?: Set<number>) => this.rateMeasure(x, w, 'own', subset);
      const current = m(windows.current);
      const previous = m(windows.previous);
      const lastYear = m(windows.lastYear);
      const ytd = m(windows.ytd);
      const target = targets.find((t) => t.indicator === x.code);
      let targetResult: TargetResult | null = null;
      if (target) {
        const scoped = target.institutionTypes ? m(windows.ytd, byType(target.institutionTypes)) : ytd;
        targetResult = judge(target, scoped.value, [], scoped.covered, scoped.owed, this.scopeNames(target));
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
        mom: change(current, previous, 'points'),
        yoy: change(current, lastYear, 'points'),
        target: targetResult,
      });
    }
    return { template: this.def, owed: this.units.length, rows };
  }

  private scopeNames(target: Target): string[] | null {
    if (!target.institutionTypes) return null;
    const names = new Map(this.ctx.units.map((u) => [u.type, u.typeName]));
    return target.institutionTypes.map((t) => names.get(t) ?? t);
  }

  private elementTarget(target: Target, j: number, ytd: readonly string[], subset: Set<number> | undefined): TargetResult {
    const el = this.def.elements[j]!;
    const m = this.elementMeasure(j, ytd, 'own', subset);
    if (el.additive) return judge(target, m.value, [], m.covered, m.owed, this.scopeNames(target));
    // not summable: every institution in scope is judged on its own value
    const values = this.aggregate(ytd, 'own');
    const failing: string[] = [];
    let judged = 0;
    this.units.forEach((u, k) => {
      if (subset && !subset.has(k)) return;
      const x = values[k]![j]!;
      if (Number.isNaN(x)) return;
      judged++;
      if (!meets(target, x)) failing.push(u.name);
    });
    return {
      ...judge(target, null, failing, m.covered, m.owed, this.scopeNames(target)),
      status: judged === 0 ? '无数据' : failing.length ? '未达标' : '达标',
    };
  }

  detail(window: readonly string[], level: ConsolidationInput['level']): DetailSheet {
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

    const rows: DetailRow[] =
      level === 'county'
        ? this.units.map((u, k) => {
            const row = new Float64Array(C).fill(NaN);
            row.set(values[k]!);
            rateIdx.forEach(({ x, num, den }, i) => {
              const a = sumAt(values[k]!, num);
              const b = sumAt(values[k]!, den);
              if (!Number.isNaN(a) && !Number.isNaN(b) && b > 0) row[E + i] = rate(a, b, x.factor);
            });
            return { code: u.code, name: u.name, group: u.typeName, status: this.unitStatus(k, window), values: row, note: this.unitNote(k, window, values[k]!) };
          })
        : this.countyRows(window, values, rateIdx, C);

    const missing: MissingUnit[] = [];
    this.units.forEach((u, k) => {
      const absent = window.filter((m) => !this.month(m)[k]);
      if (absent.length) missing.push({ code: u.code, name: u.name, reason: this.absentText(k, absent, window) });
    });
    return { template: this.def, columns, rows, total, covered, owed: this.units.length, missing };
  }

  private countyRows(window: readonly string[], values: Float64Array[], rateIdx: Array<{ x: IndicatorTemplate['indicators'][number]; num: number[]; den: number[] }>, C: number): DetailRow[] {
    const E = this.def.elements.length;
    const rows: DetailRow[] = [];
    for (const county of [...this.ctx.input.counties].sort((a, b) => cmp(a.code, b.code))) {
      const ks = new Set(this.units.flatMap((u, k) => (u.county.code === county.code ? [k] : [])));
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
        const absent = window.filter((m) => !this.month(m)[k]);
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
    if (window.length === 1) {
      const c = this.ctx.current(window[0]!, this.def.id, u.code);
      if (c) return c.status === 'accepted_with_warnings' ? '有警告' : '已通过';
      return this.ctx.absentWord(window[0]!, this.def.id, u.code);
    }
    const n = window.filter((m) => this.month(m)[k]).length;
    return n === 0 ? '未上报' : `已报 ${n}/${window.length} 个月`;
  }

  private unitNote(k: number, window: readonly string[], v: Float64Array): string {
    const parts: string[] = [];
    const absent = window.filter((m) => !this.month(m)[k]);
    if (absent.length && window.length > 1 && absent.length < window.length) parts.push(`缺${this.absentText(k, absent, window)}`);
    if (absent.length < window.length) {
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
        if (typeof r === 'string' && r.trim()) parts.push(`${window.length > 1 ? monthLabel(m, this.ctx.spec.year) + ' ' : ''}${code}：${r.trim()}`);
      }
    }
    return parts.join('；');
  }
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
export function change(current: Measure, base: Measure, kind: Change['kind']): Change | null {
  const c = current.value;
  const b = base.value;
  if (c === null || b === null) return null;
  if (kind === 'percent') {
    if (b === 0) return null;
    const v = ((c - b) / b) * 100;
    return Number.isFinite(v) ? { value: v, kind } : null;
  }
  const v = c - b;
  return Number.isFinite(v) ? { value: v, kind } : null;
}

function meets(target: Target, value: number): boolean {
  return target.direction === '>=' ? value >= target.value - TARGET_EPSILON : value <= target.value + TARGET_EPSILON;
}

function judge(target: Target, measured: number | null, failing: string[], covered: number, owed: number, scope: string[] | null): TargetResult {
  return {
    direction: target.direction,
    value: target.value,
    year: target.year,
    document: target.document,
    quote: target.quote,
    scope,
    measured,
    status: measured === null ? '无数据' : meets(target, measured) ? '达标' : '未达标',
    failing,
    covered,
    owed,
  };
}

export function listNames(names: readonly string[], max = 10): string {
  return names.length <= max ? names.join('、') : `${names.slice(0, max).join('、')} 等 ${names.length} 家`;
}

// ---- 上报情况 ----

function statusOf(ctx: Context): ConsolidationResult['status'] {
  const titles = new Map(ctx.input.templates.map((t) => [t.id, t.title]));
  const rows: StatusRow[] = [];
  for (const u of ctx.units) {
    for (const template of [...u.owes].sort()) {
      if (!titles.has(template)) continue;
      for (const month of ctx.months) {
        const e = ctx.slot(month, template, u.code);
        const current = e?.current ?? null;
        const latest = e?.latest ?? null;
        const deadline = deadlineOf(month, u.county.deadlineDay);
        const status: SlotStatus = current ? (current.status === 'accepted_with_warnings' ? '有警告' : '已通过') : latest ? '未通过' : '未上报';
        const uploadedAt = current?.uploadedAt ?? latest?.uploadedAt ?? null;
        const timeliness = timelinessOf(e, deadline, ctx.input.generatedAt);
        const openRejection = openRejectionOf(e);
        const notes: string[] = [];
        if (current && openRejection) notes.push(`${shortTime(openRejection.uploadedAt)} 重新上传的版本未通过（错误 ${openRejection.errors} 条），仍以 ${shortTime(current.uploadedAt)} 通过的版本为准`);
        if (!current && openRejection) notes.push(`最近一次上传 ${shortTime(openRejection.uploadedAt)} 未通过，请按校验问题更正后重新上传`);
        rows.push({
          county: u.county.code,
          countyName: u.county.name,
          institution: u.code,
          name: u.name,
          template,
          templateTitle: titles.get(template)!,
          month,
          status,
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
    return {
      key,
      label,
      owed,
      submitted,
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
    const month = [...ctx.months].reverse().find((m) => ctx.current(m, def.id, u.code));
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
      for (const month of ctx.months) {
        const e = ctx.slot(month, template, u.code);
        if (!e) continue;
        const base = { institution: u.code, name: u.name, template, month };
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
