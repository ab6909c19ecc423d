/**
 * The zod schemas of everything that is data, not code: template definitions, computed
 * indicators, the registry of institutions, and targets. Types are inferred from them.
 */
import { z } from 'zod';

export const ELEMENT_CODE = /^[A-Z]{2}\d{2}$/;
export const elementCode = z.string().regex(ELEMENT_CODE);

/** How a month's values add up into a quarter or a year (domain.md "Templates"). */
export const Semantics = z.enum(['flow', 'ytd', 'stock']);
export type Semantics = z.infer<typeof Semantics>;

/** integer: whole number ≥ 0; decimal: number ≥ 0; percent: 0–100, typed as 95.26. */
export const ValueType = z.enum(['integer', 'decimal', 'percent']);
export type ValueType = z.infer<typeof ValueType>;

export const Unit = z.enum(['人', '人次', '例', '例次', '份', '剂次', '家', '次', '台次', '组', '个', '张', '件', '%', '小时', '元']);

export const DataElement = z
  .object({
    code: elementCode,
    name: z.string().min(1),
    unit: Unit,
    type: ValueType,
    required: z.boolean(),
    semantics: Semantics,
    /** false for values that cannot be summed across institutions (satisfaction %, average hours). */
    additive: z.boolean().default(true),
    /** where the element comes from: a seed document and its words. */
    source: z.string().min(1),
    hint: z.string().optional(),
  })
  .strict();
export type DataElement = z.infer<typeof DataElement>;

/** left op right, each side a sum of data elements (DHIS2's validation rule, kept simple). */
export const Rule = z
  .object({
    id: z.string().regex(/^[A-Z]{2}-R\d{2}$/),
    left: z.array(elementCode).min(1),
    op: z.enum(['<=', '>=', '==']),
    right: z.array(elementCode).min(1),
    severity: z.enum(['error', 'warning']).default('error'),
    source: z.string().optional(),
  })
  .strict();
export type Rule = z.infer<typeof Rule>;

/** A rate recomputed from summed numerator and denominator, never averaged, never typed in. */
export const Indicator = z
  .object({
    code: z.string().regex(/^[A-Z]{2}-I\d{2}$/),
    name: z.string().min(1),
    numerator: z.array(elementCode).min(1),
    denominator: z.array(elementCode).min(1),
    /** 100 for %, 1000 for ‰, 100000 for 1/10万, 1 for a plain ratio (医护比). */
    factor: z.union([z.literal(1), z.literal(100), z.literal(1000), z.literal(100000)]),
    unit: z.enum(['%', '‰', '1/10万', '比值']),
    source: z.string().min(1),
  })
  .strict();
export type Indicator = z.infer<typeof Indicator>;

export const LEDGER_STATUSES = ['未启动', '推进中', '已完成', '已滞后'] as const;

export const LedgerColumn = z
  .object({
    key: z.enum(['taskNo', 'content', 'owner', 'deadline', 'status', 'progress', 'measures', 'remark']),
    header: z.string().min(1),
    type: z.enum(['text', 'date', 'status', 'percent']),
    required: z.boolean(),
    width: z.number().positive(),
  })
  .strict();
export type LedgerColumn = z.infer<typeof LedgerColumn>;

const templateBase = {
  id: z.string().regex(/^T-[A-Z]{2}$/),
  version: z.number().int().positive(),
  /** a version still accepted on upload; retired versions are refused with template-version-retired. */
  accepting: z.boolean(),
  title: z.string().min(1),
  /** the return sheet's name in the workbook; the consolidated detail sheet adds 明细. */
  sheetName: z.string().min(1).max(28),
  periodType: z.literal('month'),
  submitters: z.array(z.string()).min(1),
  source: z.string().min(1),
};

export const IndicatorTemplate = z
  .object({
    ...templateBase,
    kind: z.literal('indicator'),
    elements: z.array(DataElement).min(1),
    rules: z.array(Rule),
    indicators: z.array(Indicator),
  })
  .strict();

export const LedgerTemplate = z
  .object({
    ...templateBase,
    kind: z.literal('ledger'),
    columns: z.array(LedgerColumn).min(1),
    /** rows the blank template prepares with validation; a filled ledger may hold up to maxRows. */
    preparedRows: z.number().int().positive(),
    maxRows: z.number().int().positive(),
  })
  .strict();

export const TemplateDefinition = z.discriminatedUnion('kind', [IndicatorTemplate, LedgerTemplate]);
export type TemplateDefinition = z.infer<typeof TemplateDefinition>;
export type IndicatorTemplate = z.infer<typeof IndicatorTemplate>;
export type LedgerTemplate = z.infer<typeof LedgerTemplate>;

// ---- registry ----

export const InstitutionType = z
  .object({
    code: z.string().regex(/^[a-z_]+$/),
    name: z.string().min(1),
    /** templates every institution of this type owes, unless the institution says otherwise. */
    templates: z.array(z.string().regex(/^T-[A-Z]{2}$/)),
  })
  .strict();
export type InstitutionType = z.infer<typeof InstitutionType>;

export const Institution = z
  .object({
    code: z.string().regex(/^\d{6}-\d{3}$/),
    name: z.string().min(1),
    type: z.string(),
    /** templates owed beyond the type's (e.g. a commission that reports MCH where no MCH hospital exists). */
    extraTemplates: z.array(z.string().regex(/^T-[A-Z]{2}$/)).default([]),
    contact: z
      .object({ name: z.string(), phone: z.string().optional(), email: z.string().optional() })
      .strict()
      .optional(),
    source: z.string().min(1),
  })
  .strict();
export type Institution = z.infer<typeof Institution>;

export const Target = z
  .object({
    indicator: z.string(),
    direction: z.enum(['>=', '<=']),
    value: z.number(),
    year: z.number().int(),
    /** the institution types the target is measured over; all when absent. */
    institutionTypes: z.array(z.string()).optional(),
    document: z.string().min(1),
    quote: z.string().min(1),
  })
  .strict();
export type Target = z.infer<typeof Target>;

export const County = z
  .object({
    code: z.string().regex(/^\d{6}$/),
    name: z.string().min(1),
    city: z.object({ code: z.string().regex(/^\d{4}$/), name: z.string().min(1) }).strict(),
    /** day of the following month, 23:59 Asia/Shanghai, by which a month's returns are due. */
    deadlineDay: z.number().int().min(1).max(28),
    institutions: z.array(Institution).min(1),
    targets: z.array(Target),
    notes: z.string().optional(),
  })
  .strict()
  .superRefine((county, ctx) => {
    const seen = new Set<string>();
    for (const [i, inst] of county.institutions.entries()) {
      if (!inst.code.startsWith(county.code + '-')) {
        ctx.addIssue({ code: 'custom', path: ['institutions', i, 'code'], message: `${inst.code} is not under county ${county.code}` });
      }
      if (seen.has(inst.code)) ctx.addIssue({ code: 'custom', path: ['institutions', i, 'code'], message: `duplicate ${inst.code}` });
      seen.add(inst.code);
    }
  });
export type County = z.infer<typeof County>;
