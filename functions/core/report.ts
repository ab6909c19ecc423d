/**
 * What validation produces: issues with stable codes and positions, and one report per file.
 * Validation collects; it does not throw (style.md practice 4).
 */
import type { IssueCode } from './validate/codes.ts';

export type Severity = 'error' | 'warning' | 'info';

export interface Issue {
  severity: Severity;
  code: IssueCode;
  sheet: string | null;
  /** A1 reference, e.g. D14 */
  cell: string | null;
  row: number | null;
  /** column letter, e.g. D */
  column: string | null;
  /** data element code (or ledger column header) the issue is about */
  element: string | null;
  /** the value as seen in the file, before normalisation */
  value: string | number | boolean | null;
  /** Chinese, names the cell, the element and the value */
  message: string;
  /** consistency rule id, for rule-violation */
  rule?: string;
}

export type ReportStatus = 'accepted' | 'accepted_with_warnings' | 'rejected';

export interface ReportStats {
  bytes: number;
  /** data elements (indicator return) or ledger rows read */
  rows: number;
  /** values present after normalisation */
  values: number;
  normalized: number;
  errors: number;
  warnings: number;
  infos: number;
  durationMs: number;
}

export interface Report {
  status: ReportStatus;
  template: { id: string; version: number } | null;
  institution: string | null;
  period: string | null;
  issues: Issue[];
  stats: ReportStats;
}

export const hasErrors = (issues: readonly Issue[]): boolean => issues.some((i) => i.severity === 'error');

export function statusOf(issues: readonly Issue[]): ReportStatus {
  if (hasErrors(issues)) return 'rejected';
  return issues.some((i) => i.severity === 'warning') ? 'accepted_with_warnings' : 'accepted';
}

/** A1 helpers. */
export function columnLetter(col: number): string {
  let s = '';
  for (let n = col; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

export interface Position {
  sheet?: string | null;
  row?: number | null;
  /** 1-based column number */
  col?: number | null;
}

/** Builds an issue; severity comes from the code's catalogue entry unless given. */
export function makeIssue(
  code: IssueCode,
  message: string,
  where: Position & { element?: string | null; value?: Issue['value']; severity?: Severity; rule?: string } = {},
): Issue {
  const column = where.col ? columnLetter(where.col) : null;
  const issue: Issue = {
    severity: where.severity ?? defaultSeverity(code),
    code,
    sheet: where.sheet ?? null,
    cell: column && where.row ? `${column}${where.row}` : null,
    row: where.row ?? null,
    column,
    element: where.element ?? null,
    value: where.value ?? null,
    message,
  };
  if (where.rule) issue.rule = where.rule;
  return issue;
}

import { ISSUE_CODES } from './validate/codes.ts';
function defaultSeverity(code: IssueCode): Severity {
  return ISSUE_CODES[code].severity;
}
