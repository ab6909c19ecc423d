/**
 * The validator: bytes in, one report out, never a throw for bad input.
 * Stages run in order, each only where the earlier passed: file → structure → cells → rules
 * (history is added by ingestion, where a store is at hand).
 */
import { gateUpload, noParts, type GateLimits } from '../gate/index.ts';
import type { Submission } from '../normalize/submission.ts';
import { INSTRUCTIONS_SHEET, META_SHEET } from '../layout.ts';
import { parseWorkbook, type Sheet } from '../parse/index.ts';
import { statusOf, type Issue, type Report } from '../report.ts';
import { checkIndicatorReturn } from './indicator.ts';
import type { HistoryPoint } from './history.ts';
import { checkLedger } from './ledger.ts';
import { checkStructure, peekPeriod } from './structure.ts';
import type { DefinitionsPort } from '../definitions/source.ts';
import { shanghaiMonth } from '../consolidate/period.ts';

export interface ValidateOptions {
  /** the definitions; the file is checked against those in force for its period */
  definitions: DefinitionsPort;
  /** the institution the file was uploaded for (from the S3 key or --institution); the file must match */
  institution?: string;
  /** YYYY-MM the file was uploaded for */
  period?: string;
  /** template id the file was uploaded for */
  template?: string;
  /** "now", to refuse periods that have not begun; defaults to the clock */
  now?: Date;
  limits?: Partial<GateLimits>;
  /** the institution's accepted months of this template (ingestion supplies them from the store) */
  history?: readonly HistoryPoint[];
  /** time budget of the parse, ms */
  deadlineMs?: number;
}

export interface ValidationResult {
  report: Report;
  /** the normalised submission, present when nothing stopped the checks before the cells were read */
  submission: Submission | null;
}

/** Cells the parser will hold at most: the largest ledger (10,000 rows × 8 columns) plus headroom. */
const MAX_CELLS = 200_000;

export async function validateUpload(bytes: Uint8Array, options: ValidateOptions): Promise<ValidationResult> {
  const started = performance.now();
  const issues: Issue[] = [];
  const done = (identity: Pick<Report, 'template' | 'institution' | 'period'>, submission: Submission | null): ValidationResult => ({
    report: buildReport(identity, issues, bytes.length, submission, performance.now() - started),
    submission: issues.some((i) => i.severity === 'error') ? null : submission,
  });
  const uploadedAs = { template: null, institution: options.institution ?? null, period: options.period ?? null };

  const parts = noParts();
  const gate = gateUpload(bytes, options.limits, parts);
  if (!gate.ok) {
    issues.push(...gate.issues);
    return done(uploadedAs, null);
  }
  const parsed = await parseWorkbook(bytes, gate.sheets, { deadlineMs: options.deadlineMs ?? 8_000, maxCells: MAX_CELLS, date1904: gate.date1904, parts });
  if (!parsed.ok) {
    issues.push(...parsed.issues);
    return done(uploadedAs, null);
  }
  // the definitions of the period it was uploaded for, else of the period the file says, else of this month
  const period = options.period ?? peekPeriod(parsed.sheets) ?? shanghaiMonth(options.now ?? new Date());
  const structure = checkStructure(parsed.sheets, await options.definitions.at(period), options);
  issues.push(...structure.issues);
  const identity = { template: structure.template, institution: structure.institution, period: structure.period };
  const s = structure.structure;
  const submission = !s ? null : s.def.kind === 'indicator' ? checkIndicatorReturn({ ...s, def: s.def }, issues, options.history) : checkLedger({ ...s, def: s.def }, gate.date1904, issues);
  nameSheets(issues, parsed.sheets);
  return done(identity, submission);
}

/**
 * In a workbook with sheets besides the template's own (a copy, a scratch sheet, one per month),
 * every message names the sheet it is about.
 */
function nameSheets(issues: Issue[], sheets: readonly Sheet[]): void {
  if (sheets.filter((s) => s.name !== INSTRUCTIONS_SHEET && s.name !== META_SHEET).length < 2) return;
  for (const issue of issues) {
    if (issue.sheet && !issue.message.includes(`“${issue.sheet}”`)) issue.message = `工作表“${issue.sheet}”${issue.message}`;
  }
}

function buildReport(identity: Pick<Report, 'template' | 'institution' | 'period'>, issues: Issue[], bytes: number, submission: Submission | null, ms: number): Report {
  const count = (sev: Issue['severity']) => issues.filter((i) => i.severity === sev).length;
  return {
    status: statusOf(issues),
    ...identity,
    issues,
    stats: {
      bytes,
      rows: submission ? (submission.kind === 'indicator' ? Object.keys(submission.values).length : submission.rows.length) : 0,
      values: submission ? (submission.kind === 'indicator' ? Object.keys(submission.values).length : submission.rows.length * 8) : 0,
      normalized: issues.filter((i) => i.code.startsWith('normalized-')).length,
      errors: count('error'),
      warnings: count('warning'),
      infos: count('info'),
      durationMs: Math.round(ms),
    },
  };
}
