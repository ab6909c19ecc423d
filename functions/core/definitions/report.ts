/**
 * What a definitions import reports: the same contract as `hmis validate` (a status and issues
 * with a stable code, the sheet, the cell and a Chinese message that starts with 工作表!单元格),
 * plus the change in words.
 */
import { columnLetter, type Severity } from '../report.ts';

export const DEFINITION_CODES = {
  'definitions-file': { severity: 'error', title: '不是可读取的定义工作簿' },
  'definitions-sheet-missing': { severity: 'error', title: '缺少工作表' },
  'definitions-header-missing': { severity: 'error', title: '缺少表头' },
  'definitions-value-invalid': { severity: 'error', title: '取值不合要求' },
  'definitions-duplicate': { severity: 'error', title: '代码重复' },
  'definitions-reference': { severity: 'error', title: '引用了不存在的代码' },
  'definitions-rule-impossible': { severity: 'error', title: '校验规则不可能成立' },
  'definitions-lifecycle': { severity: 'error', title: '启用、停用或并入关系有误' },
  'definitions-removed': { severity: 'error', title: '删除了不能删除的定义' },
  'definitions-stale': { severity: 'error', title: '定义已被他人更新' },
  'definitions-effective': { severity: 'error', title: '生效期有误' },
  'definitions-scope': { severity: 'error', title: '修改了其他旗县的定义' },
  'definitions-past': { severity: 'warning', title: '生效期早于本月：已过各期按新定义重算' },
} as const satisfies Record<string, { severity: Severity; title: string }>;

export type DefinitionCode = keyof typeof DEFINITION_CODES;

export interface DefinitionIssue {
  severity: Severity;
  code: DefinitionCode;
  sheet: string | null;
  /** A1 reference */
  cell: string | null;
  row: number | null;
  column: string | null;
  value: string | null;
  /** 校验规则!C5「JC98」不是 T-JC 的数据项 */
  message: string;
}

export interface DefinitionsReport {
  /** accepted: stored (or would be, with --dry-run); rejected: nothing changed; unchanged: nothing to store */
  status: 'accepted' | 'rejected' | 'unchanged';
  /** YYYY-MM the change is in force from */
  effective: string;
  /** the version the workbook was edited from, and the version stored (null: none) */
  baseVersion: number | null;
  version: number | null;
  issues: DefinitionIssue[];
  /** the change in words */
  summary: string[];
  dryRun: boolean;
}

export function defIssue(code: DefinitionCode, message: string, where: { sheet?: string | null; row?: number | null; col?: number | null; value?: string | null } = {}): DefinitionIssue {
  const column = where.col ? columnLetter(where.col) : null;
  const cell = column && where.row ? `${column}${where.row}` : null;
  const at = where.sheet ? `${where.sheet}${cell ? `!${cell}` : ''}` : '';
  return {
    severity: DEFINITION_CODES[code].severity,
    code,
    sheet: where.sheet ?? null,
    cell,
    row: where.row ?? null,
    column,
    value: where.value ?? null,
    message: at ? `${at}${where.value ? `「${where.value}」` : ''}${message}` : message,
  };
}
