/**
 * Builders of consolidation inputs from plain values, without a store: for unit tests, the
 * benchmark's synthetic province, and anyone who wants a consolidation of hand-made data.
 */
import type { Issue } from '../report.ts';
import { lastMonthOf } from './period.ts';
import type { LedgerRow } from '../normalize/submission.ts';
import type { AttemptSummary, CurrentSubmission, PeriodEntry, ReviewState } from '../../ports/index.ts';

export interface EntrySpec {
  county?: string;
  institution: string;
  template: string;
  period: string;
  /** the accepted values; absent: no accepted version */
  values?: Record<string, number>;
  remarks?: Record<string, string>;
  /** ledger rows of an accepted ledger */
  rows?: LedgerRow[];
  /** accepted_with_warnings when warnings are given */
  warnings?: Issue[];
  /** a rejected upload, newer than the accepted one (or the only one) */
  rejected?: Issue[];
  /** ISO time of the accepted upload; default: the 2nd of the month after the period, 10:00 Asia/Shanghai */
  uploadedAt?: string;
  rejectedAt?: string;
  versions?: number;
  /** 审核 of the accepted version; absent: none recorded (counts as approved) */
  review?: ReviewState;
}

/** One PeriodEntry, as SubmissionStore.listPeriod would return it. */
export function makeEntry(spec: EntrySpec): PeriodEntry {
  const county = spec.county ?? spec.institution.slice(0, 6);
  // the period's last month (a quarter's or a year's too); Date.UTC's 1-based month is the following one
  const [y, m] = lastMonthOf(spec.period).split('-').map(Number) as [number, number];
  const uploadedAt = spec.uploadedAt ?? new Date(Date.UTC(y, m, 2, 2, 0, 0)).toISOString();
  const base = {
    county,
    institution: spec.institution,
    template: spec.template,
    period: spec.period,
    templateVersion: 1,
  };
  let current: CurrentSubmission | null = null;
  if (spec.values || spec.rows) {
    const warnings = spec.warnings ?? [];
    const versionId = `${spec.institution}-${spec.template}-${spec.period}-ok`;
    current = {
      ...base,
      versionId,
      order: `${uploadedAt}#1`,
      uploadedAt,
      objectKey: `uploads/${county}/${spec.institution}/${spec.template}/${spec.period}/x.xlsx`,
      status: warnings.length ? 'accepted_with_warnings' : 'accepted',
      errors: 0,
      warnings: warnings.length,
      reportKey: `reports/${county}/${spec.institution}/${spec.template}/${spec.period}/${versionId}.json`,
      firstIssues: warnings,
      ...(spec.review ? { review: { state: spec.review } } : {}),
      submission: spec.rows
        ? { kind: 'ledger', template: { id: spec.template, version: 1 }, county, institution: spec.institution, period: spec.period, rows: spec.rows, reporter: { name: null, phone: null, date: null } }
        : { kind: 'indicator', template: { id: spec.template, version: 1 }, county, institution: spec.institution, period: spec.period, values: spec.values!, remarks: spec.remarks ?? {}, reporter: { name: null, phone: null, date: null } },
    };
  }
  let latest: AttemptSummary | null = current ? { ...current, versions: spec.versions ?? 1 } : null;
  if (spec.rejected) {
    const at = spec.rejectedAt ?? new Date(Date.parse(uploadedAt) + 3600_000).toISOString();
    const versionId = `${spec.institution}-${spec.template}-${spec.period}-bad`;
    latest = {
      ...base,
      versionId,
      order: `${at}#2`,
      uploadedAt: at,
      objectKey: `uploads/${county}/${spec.institution}/${spec.template}/${spec.period}/bad.xlsx`,
      status: 'rejected',
      errors: spec.rejected.filter((i) => i.severity === 'error').length,
      warnings: spec.rejected.filter((i) => i.severity === 'warning').length,
      reportKey: `reports/${county}/${spec.institution}/${spec.template}/${spec.period}/${versionId}.json`,
      firstIssues: spec.rejected,
      versions: spec.versions ?? (current ? 2 : 1),
    };
  }
  return { institution: spec.institution, template: spec.template, current, latest };
}

/** Groups entries by period (month, quarter, year), as ConsolidationInput.entries wants them. */
export function byMonth(entries: readonly PeriodEntry[], months: readonly string[] = []): Map<string, PeriodEntry[]> {
  const out = new Map<string, PeriodEntry[]>(months.map((m) => [m, []]));
  for (const e of entries) {
    const period = e.current?.period ?? e.latest?.period;
    if (!period) continue;
    if (!out.has(period)) out.set(period, []);
    out.get(period)!.push(e);
  }
  return out;
}
