/**
 * The zod schemas of everything that is data, not code: template definitions, computed indicators,
 * the registry of institutions, and targets. Together they are a definitions set, which the
 * commission owns and edits (functions/core/definitions). Types are inferred from these schemas.
 */
import * as z from './zod.ts';

/** two letters and two or three digits: a return may have more than 100 items (JC01, YY112) */
export const ELEMENT_CODE = /^[A-Z]{2}\d{2,3}$/;
export const elementCode = z.string().check(z.regex(ELEMENT_CODE));
export const TEMPLATE_ID = /^T-[A-Z]{2}$/;
export const templateId = z.string().check(z.regex(TEMPLATE_ID));
/** YYYY-MM: the month a definition is in force from (启用期) or no longer (停用期) */
export const MONTH_ID = /^(\d{4})-(0[1-9]|1[0-2])$/;
export const monthId = z.string().check(z.regex(MONTH_ID));

/** How a month's values add up into a quarter or a year (domain.md "Templates"). */
export const Semantics = z.enum(['flow', 'ytd', 'stock']);
export type Semantics = z.infer<typeof Semantics>;

/** integer: whole number ≥ 0; decimal: number ≥ 0; percent: 0–100, typed as 95.26. */
export const ValueType = z.enum(['integer', 'decimal', 'percent']);
export type ValueType = z.infer<typeof ValueType>;

export const UNITS = ['人', '人次', '例', '例次', '份', '剂次', '家', '次', '台次', '组', '个', '张', '件', '%', '小时', '元', '床', '天', '项'] as const;
export const Unit = z.enum(UNITS);

/**
 * 总结章节 and 总结句式: where a data element, an indicator or a ledger appears in the work summary's data
 * draft (工作总结数据稿, functions/core/draft) and the sentence it is written in, placeholders filled from the
 * period's consolidation: {JC06} 本期, {JC05.累计} 本年累计, {JC-I03.同比} 较上年同期的变化, {JC-I02.目标},
 * {JC-I02.达标}, {期末}, {地区} … (docs/定义管理指南.md). The commission edits them with the definitions.
 */
const summaryPattern = {
  section: z.optional(z.string().check(z.minLength(1), z.maxLength(20))),
  sentence: z.optional(z.string().check(z.minLength(1), z.maxLength(500))),
};

export const DataElement = z.strictObject({
  code: elementCode,
  name: z.string().check(z.minLength(1)),
  unit: Unit,
  type: ValueType,
  required: z.boolean(),
  semantics: Semantics,
  /** false for values that cannot be summed across institutions (satisfaction %, average hours). */
  additive: z._default(z.boolean(), true),
  /** bounds of a plausible value (下限, 上限), beyond the type's own (≥ 0; a percent ≤ 100) */
  min: z.optional(z.number()),
  max: z.optional(z.number()),
  /** where the element comes from: a seed document and its words. */
  source: z._default(z.string(), ''),
  /** 说明: shown to whoever fills the cell */
  hint: z.optional(z.string()),
  ...summaryPattern,
});
export type DataElement = z.infer<typeof DataElement>;

export const RULE_OPS = ['<=', '>=', '==', '<', '>'] as const;
export const RuleOp = z.enum(RULE_OPS);
export type RuleOp = z.infer<typeof RuleOp>;

/** When a rule applies (条件, e.g. JC22>0): a sum of elements compared with a number. */
export const RuleCondition = z.strictObject({
  left: z.array(elementCode).check(z.minLength(1)),
  op: RuleOp,
  value: z.number(),
});
export type RuleCondition = z.infer<typeof RuleCondition>;

/**
 * left op right, each side a sum of data elements, the right side plus a constant (DHIS2's
 * validation rule, kept simple). A rule may apply only under a condition, and a warning rule may
 * tolerate a relative difference (YY07 == YY05+YY06 within 5 %).
 */
export const Rule = z.strictObject({
  id: z.string().check(z.regex(/^[A-Z]{2}-R\d{2,3}$/)),
  left: z.array(elementCode).check(z.minLength(1)),
  op: RuleOp,
  right: z.array(elementCode),
  /** added to the right side (a rule against a number: JC19 >= 2) */
  constant: z.optional(z.number()),
  severity: z._default(z.enum(['error', 'warning']), 'error'),
  when: z.optional(RuleCondition),
  /** percent of the right side the comparison tolerates (容差) */
  tolerance: z.optional(z.number().check(z.gte(0), z.lte(100))),
  /** 说明: why the rule holds, or where it comes from */
  source: z.optional(z.string()),
}).check(
  z.refine((r) => r.right.length > 0 || r.constant !== undefined, { message: 'the right side needs an element or a number', path: ['right'] }),
);
export type Rule = z.infer<typeof Rule>;

export const INDICATOR_FACTORS = [1, 100, 1000, 10000, 100000] as const;
export const INDICATOR_UNITS = ['%', '‰', '1/万', '1/10万', '比值'] as const;

/** A rate recomputed from summed numerator and denominator, never averaged, never typed in. */
export const Indicator = z.strictObject({
  code: z.string().check(z.regex(/^[A-Z]{2}-I\d{2,3}$/)),
  name: z.string().check(z.minLength(1)),
  numerator: z.array(elementCode).check(z.minLength(1)),
  denominator: z.array(elementCode).check(z.minLength(1)),
  /** 100 for %, 1000 for ‰, 100000 for 1/10万, 1 for a plain ratio (医护比). */
  factor: z.union(INDICATOR_FACTORS.map((f) => z.literal(f)) as [z.ZodMiniLiteral<1>, z.ZodMiniLiteral<100>, ...z.ZodMiniLiteral<number>[]]),
  unit: z.enum(INDICATOR_UNITS),
  source: z._default(z.string(), ''),
  ...summaryPattern,
});
export type Indicator = z.infer<typeof Indicator>;

export const LEDGER_STATUSES = ['未启动', '推进中', '已完成', '已滞后'] as const;

export const LedgerColumn = z.strictObject({
  key: z.enum(['taskNo', 'content', 'owner', 'deadline', 'status', 'progress', 'measures', 'remark']),
  header: z.string().check(z.minLength(1)),
  type: z.enum(['text', 'date', 'status', 'percent']),
  required: z.boolean(),
  width: z.number().check(z.positive()),
});
export type LedgerColumn = z.infer<typeof LedgerColumn>;

export const PeriodType = z.enum(['month', 'quarter', 'year']);
export type PeriodType = z.infer<typeof PeriodType>;

const templateBase = {
  id: templateId,
  /** the layout's version: a new one whenever the rows or columns change (the workbook carries it) */
  version: z.number().check(z.int(), z.positive()),
  /** 启用期: the first period this version is used for */
  from: monthId,
  title: z.string().check(z.minLength(1)),
  /** the return sheet's name in the workbook; the consolidated detail sheet adds 明细. */
  sheetName: z.string().check(z.minLength(1), z.maxLength(28)),
  periodType: PeriodType,
  /**
   * 截止日: a return is due by 23:59 Asia/Shanghai of day `deadlineDay` (absent: the county's) of the
   * `deadlineMonth`-th month after its period ends (absent: the next month). A month's or a quarter's:
   * day 5 or 15 of the next month; a year's: e.g. 3-31, March 31 of the next year.
   */
  deadlineDay: z.optional(z.number().check(z.int(), z.gte(1), z.lte(31))),
  deadlineMonth: z.optional(z.number().check(z.int(), z.gte(1), z.lte(12))),
  source: z._default(z.string(), ''),
};

export const IndicatorTemplate = z.strictObject({
  ...templateBase,
  kind: z.literal('indicator'),
  elements: z.array(DataElement).check(z.minLength(1)),
  rules: z.array(Rule),
  indicators: z.array(Indicator),
});

export const LedgerTemplate = z.strictObject({
  ...templateBase,
  kind: z.literal('ledger'),
  columns: z.array(LedgerColumn).check(z.minLength(1)),
  /** rows the blank template prepares with validation; a filled ledger may hold up to maxRows. */
  preparedRows: z.number().check(z.int(), z.positive()),
  maxRows: z.number().check(z.int(), z.positive()),
  ...summaryPattern,
});

export const TemplateDefinition = z.discriminatedUnion('kind', [IndicatorTemplate, LedgerTemplate]);
export type TemplateDefinition = z.infer<typeof TemplateDefinition>;
export type IndicatorTemplate = z.infer<typeof IndicatorTemplate>;
export type LedgerTemplate = z.infer<typeof LedgerTemplate>;

// ---- registry ----

export const InstitutionType = z.strictObject({
  code: z.string().check(z.regex(/^[a-z_]+$/)),
  name: z.string().check(z.minLength(1)),
  /** templates every institution of this type owes, unless the institution says otherwise. */
  templates: z.array(templateId),
});
export type InstitutionType = z.infer<typeof InstitutionType>;

export const Contact = z.strictObject({ name: z.string(), phone: z.optional(z.string()), email: z.optional(z.string()) });
export type Contact = z.infer<typeof Contact>;

export const INSTITUTION_CODE = /^\d{6}-\d{3}$/;

export const Institution = z.strictObject({
  code: z.string().check(z.regex(INSTITUTION_CODE)),
  name: z.string().check(z.minLength(1)),
  type: z.string(),
  /** templates owed beyond the type's (e.g. a commission that reports MCH where no MCH hospital exists). */
  extraTemplates: z._default(z.array(templateId), []),
  contact: z.optional(Contact),
  /** 启用期: owes returns from this month on (absent: always has) */
  from: z.optional(monthId),
  /** 停用期: owes nothing from this month on; its history is kept */
  until: z.optional(monthId),
  /** 并入机构: from `until` on, this institution's history counts under that one */
  mergedInto: z.optional(z.string().check(z.regex(INSTITUTION_CODE))),
  source: z._default(z.string(), ''),
});
export type Institution = z.infer<typeof Institution>;

/**
 * 序时方式: how an annual target is judged during the year. linear: against target × elapsed months / 12
 * (what accumulates through the year); quarterly: against the milestone of the latest quarter ended;
 * none: the target holds all year and is judged as it stands.
 */
export const Pace = z.enum(['linear', 'quarterly', 'none']);
export type Pace = z.infer<typeof Pace>;

export const Target = z.strictObject({
  indicator: z.string(),
  direction: z.enum(['>=', '<=']),
  value: z.number(),
  year: z.number().check(z.int(), z.gte(2000), z.lte(2100)),
  /** the institution types the target is measured over; all when absent. */
  institutionTypes: z.optional(z.array(z.string())),
  pace: z.optional(Pace),
  /** 季度节点: the value due by the end of Q1…Q4 (quarterly pace) */
  milestones: z.optional(z.array(z.number()).check(z.length(4))),
  /** 序时说明: why this pace (a ytd or flow numerator over an annual denominator accumulates; a stock ratio holds) */
  paceNote: z.optional(z.string()),
  /** the document the target comes from (文件) and its words (原文) */
  document: z.string().check(z.minLength(1)),
  quote: z._default(z.string(), ''),
});
export type Target = z.infer<typeof Target>;

export const County = z.strictObject({
  code: z.string().check(z.regex(/^\d{6}$/)),
  name: z.string().check(z.minLength(1)),
  city: z.strictObject({ code: z.string().check(z.regex(/^\d{4}$/)), name: z.string().check(z.minLength(1)) }),
  /** day of the following month, 23:59 Asia/Shanghai, by which a month's returns are due. */
  deadlineDay: z.number().check(z.int(), z.gte(1), z.lte(28)),
  institutions: z.array(Institution).check(z.minLength(1)),
  targets: z.array(Target),
  notes: z.optional(z.string()),
});
export type County = z.infer<typeof County>;

/** One definitions set: what is in force for a period (functions/core/definitions). */
export const DefinitionsContent = z.strictObject({
  institutionTypes: z.array(InstitutionType),
  counties: z.array(County),
  /** one version of each template: the one in force */
  templates: z.array(TemplateDefinition),
});
export type DefinitionsContent = z.infer<typeof DefinitionsContent>;
