/**
 * The data of a consolidation: what goes in (pure data, no I/O; the loader fills it from the
 * SubmissionStore port) and what comes out (everything the workbook shows, already computed).
 */
import type { IndicatorTemplate, LedgerTemplate, Pace, Semantics, Target, TemplateDefinition } from '../../../schemas/model.ts';
import type { LedgerRow } from '../normalize/submission.ts';
import type { Issue } from '../report.ts';
import type { PeriodEntry } from '../../ports/index.ts';
import type { PeriodSpec } from './period.ts';
import type { ValueTable } from './values.ts';

export type Level = 'county' | 'city';

export interface InstitutionUnit {
  code: string;
  name: string;
  /** institution type code (township_hc …) and its Chinese name */
  type: string;
  typeName: string;
  /** template ids the institution owes by its type and extras, from the definitions (never from what was stored) */
  owes: string[];
  /** 启用期, 停用期: owes nothing before `from` and from `until` on (absent: always) */
  from?: string;
  until?: string;
  /** merged into that institution from `until` on: its earlier months count under it */
  mergedInto?: string;
}

export interface CountyUnit {
  code: string;
  name: string;
  /** day of the following month, 23:59 Asia/Shanghai */
  deadlineDay: number;
  institutions: InstitutionUnit[];
}

export interface ConsolidationInput {
  level: Level;
  /** the county (county level) or the city (city level) */
  area: { code: string; name: string };
  /** 2025-03 | 2025-Q1 | 2025 */
  period: string;
  /**
   * The months of the period the consolidation covers, ascending: all months of a past period; of a
   * running quarter or year, the months up to the latest one anything was submitted for.
   */
  months: string[];
  /** one county at county level; every county of the city at city level */
  counties: CountyUnit[];
  /** the template definitions to consolidate (in force for the period's last month), definitions order */
  templates: TemplateDefinition[];
  /** the definitions version in force for the period (printed in 说明) */
  definitionsVersion?: number;
  /** the county's targets (any year: those of the period's year are used); none at city level */
  targets: Target[];
  /**
   * period (2025-03, 2025-Q1, 2025) → every entry of the area for it (all counties at city level).
   * Holds the period's months (and whole quarters and years, for templates of that 周期) and those the
   * comparisons need: 上期, 去年同期, Jan… for 本年累计, and the period before each of them (a
   * year-to-date value's own part is a difference).
   */
  entries: Map<string, PeriodEntry[]>;
  /**
   * The accepted indicator values in columns (the loader's), when they are held apart from the
   * entries: an entry's submission whose values are in the table holds none itself.
   */
  values?: ValueTable;
  /** versionId → ledger rows of current ledger versions (stored apart from the submission) */
  ledgerRows: Map<string, LedgerRow[]>;
  /** the moment of consolidation: printed, judges 逾期, and stamps the workbook's dates */
  generatedAt: Date;
  /** figures count approved returns only (审核: city level always, a county on request); 上报情况 shows every return */
  approvedOnly?: boolean;
  /** what the loader read (for logs and the read-cost report); absent when built by hand */
  stats?: LoadStats;
}

export interface LoadStats {
  /** listPeriod calls (one per county and month) */
  periodReads: number;
  entries: number;
  /** ledgerRows calls and the rows they returned */
  ledgerReads: number;
  ledgerRows: number;
  ms: number;
}

// ---- results ----

export interface MissingUnit {
  /** institution code */
  code: string;
  name: string;
  /** 未上报 | 未通过 | 未填 | 缺1、2月 … */
  reason: string;
}

/** A total (or a rate) over the units that have the value, with who is missing. */
export interface Measure {
  /** null: no unit has it, the denominator is 0, or the element cannot be summed (additive: false) */
  value: number | null;
  /** institutions the value covers */
  covered: number;
  /** institutions owing the template */
  owed: number;
  missing: MissingUnit[];
  /** rates: Σ numerator and Σ denominator over the institutions that reported both */
  numerator?: number;
  denominator?: number;
}

export type ChangeKind = 'percent' | 'points';

/** The institutions a change compares (可比口径): present in both windows; the others left out, and why. */
export interface Comparable {
  covered: number;
  excluded: MissingUnit[];
}

export interface Change {
  /** percent: (本期 − 基期) / 基期 × 100; points: 本期 − 基期 in the rate's own unit */
  value: number;
  kind: ChangeKind;
}

/** against the value judged (the 序时目标 during the year, the annual target at year end or without pace) */
export type TargetStatus = '达标' | '未达标' | '无数据';

export interface TargetResult {
  direction: '>=' | '<=';
  value: number;
  year: number;
  document: string;
  quote: string;
  /** institution types the target is measured over (Chinese names), null: all */
  scope: string[] | null;
  /** the value judged: 本年累计 over the scoped institutions (null for a non-additive element, judged per institution) */
  measured: number | null;
  /** 序时方式 */
  pace: Pace;
  /** months of the year 本年累计 covers (the m of m/12) */
  elapsed: number;
  /** 序时目标: what is due by now (linear: value × elapsed/12; quarterly: the latest milestone); null: judged on the annual value */
  paced: number | null;
  /** measured − the value judged against, in the target's unit (null without data) */
  gap: number | null;
  status: TargetStatus;
  /** in words: 达到序时进度, 落后序时进度（n 个百分点）, 全年达标, 全年未达标, 达标, 未达标, 未到考核节点, 无数据 */
  verdict: string;
  /** non-additive element targets: institutions that miss it */
  failing: string[];
  /** institutions the judged value covers / owe */
  covered: number;
  owed: number;
}

export type RowUnit = '%' | '‰' | '1/10万' | '比值' | string;

export interface SummaryRow {
  kind: 'element' | 'indicator';
  template: string;
  code: string;
  name: string;
  /** element unit or indicator unit (%, ‰, 1/10万, 比值) */
  unit: RowUnit;
  /** element semantics, or 'rate' for a computed indicator */
  semantics: Semantics | 'rate';
  additive: boolean;
  /** indicators: the factor (100, 1000, 100000, 1) */
  factor: number | null;
  valueType: 'integer' | 'decimal' | 'percent' | 'rate';
  current: Measure;
  ytd: Measure;
  previous: Measure;
  lastYear: Measure;
  /** over the comparable set: the institutions with the value in both windows */
  mom: Change | null;
  yoy: Change | null;
  /** who the comparisons leave out (reported in one window, not the other) */
  comparable: { mom: Comparable; yoy: Comparable };
  target: TargetResult | null;
}

export interface SummarySection {
  template: IndicatorTemplate;
  /** units owing the template */
  owed: number;
  rows: SummaryRow[];
}

export interface DetailColumn {
  kind: 'element' | 'indicator';
  code: string;
  name: string;
  unit: string;
  semantics: Semantics | 'rate';
  additive: boolean;
  valueType: SummaryRow['valueType'];
}

export interface DetailRow {
  /** institution code (county level) or county code (city level) */
  code: string;
  name: string;
  /** institution type name, or 实报/应报 at city level */
  group: string;
  /** 已通过 / 有警告 / 未通过 / 未上报 / 已报2/3个月 …; at city level 实报 19/21 */
  status: string;
  /** one value per column; NaN: empty */
  values: Float64Array;
  /** missing months, empty elements, remarks */
  note: string;
}

export interface DetailSheet {
  template: IndicatorTemplate;
  columns: DetailColumn[];
  rows: DetailRow[];
  /** 合计: sums of additive elements, rates from Σ numerator / Σ denominator; NaN: empty */
  total: Float64Array;
  /** institutions each total covers */
  covered: Int32Array;
  /** institutions owing the template */
  owed: number;
  missing: MissingUnit[];
}

export type SlotStatus = '已通过' | '有警告' | '未通过' | '未上报';
export type ReviewWord = '已审核' | '待审核' | '退回' | '';
export type Timeliness = '按时' | '逾期' | '逾期未报' | '逾期未改' | '未到期';

export interface StatusRow {
  county: string;
  countyName: string;
  institution: string;
  name: string;
  template: string;
  templateTitle: string;
  /** the return's period, of the template's 周期: 2025-03, 2025-Q1 or 2025 */
  period: string;
  status: SlotStatus;
  /** 审核 of the accepted return: 已审核, 待审核, 退回; '' without one */
  review: ReviewWord;
  /** ISO */
  uploadedAt: string | null;
  timeliness: Timeliness;
  versions: number;
  errors: number;
  warnings: number;
  note: string;
}

export interface StatusTotal {
  /** template id, county code, or '' for all */
  key: string;
  label: string;
  owed: number;
  submitted: number;
  /** of the submitted, approved (审核) and not (pending or returned) */
  approved: number;
  unreviewed: number;
  onTime: number;
  rejected: number;
  missing: number;
  /** submitted / owed × 100; null when nothing is owed */
  rate: number | null;
  timely: number | null;
}

export interface LedgerLine {
  county: string;
  institution: string;
  name: string;
  /** the month whose ledger this is */
  month: string;
  row: LedgerRow;
  overdue: boolean;
}

export interface IssueLine {
  institution: string;
  name: string;
  template: string;
  /** the return's period, of the template's 周期 */
  period: string;
  /** 未解决: the latest upload was rejected; 已接收: a warning of the accepted version */
  state: '未解决' | '已接收';
  severity: Issue['severity'];
  sheet: string | null;
  cell: string | null;
  element: string | null;
  message: string;
  /** extra issues not listed (the store keeps the first 20 of a version); full report at reportKey */
  more: number;
  reportKey: string;
}

export interface ConsolidationResult {
  level: Level;
  area: { code: string; name: string };
  spec: PeriodSpec;
  months: string[];
  /** 奈曼旗卫生健康统计月报汇总（2025年3月） */
  title: string;
  generatedAt: Date;
  /** the latest upload time (ISO) among the accepted submissions read, or null */
  dataAsOf: string | null;
  /** the definitions version in force for the period, when known */
  definitionsVersion: number | null;
  /** the figures count approved returns only (ConsolidationInput.approvedOnly) */
  approvedOnly: boolean;
  labels: { current: string; previous: string; ytd: string; lastYear: string; mom: string; yoy: string };
  windows: { current: string[]; ytd: string[]; previous: string[]; lastYear: string[] };
  counties: Array<{ code: string; name: string; institutions: number; deadlineDay: number }>;
  /**
   * The quarterly and annual returns the area owes (templates of another 周期 than the month), each with
   * the next period due as of generatedAt and its deadline (ISO): 说明 tells the reader what comes next.
   */
  dueNext: Array<{ template: string; title: string; periodType: 'quarter' | 'year'; period: string; deadline: string; rule: string }>;
  status: { rows: StatusRow[]; byTemplate: StatusTotal[]; byCounty: StatusTotal[]; overall: StatusTotal };
  summary: SummarySection[];
  details: DetailSheet[];
  ledgerTemplate: LedgerTemplate | null;
  ledger: LedgerLine[];
  issues: IssueLine[];
}
