import type { Definitions } from '../core/definitions/definitions.ts';
import { ANY_PERIOD_PATTERN, periodLabel } from '../core/layout.ts';
import type { PeriodEntry, ReviewState } from '../ports/index.ts';
import { REVIEW_LABELS, reviewOf } from '../core/review.ts';
import { shanghaiTime } from '../core/consolidate/period.ts';
import { openRejectionOf, timelinessOf } from '../core/consolidate/slot.ts';
import type { Timeliness } from '../core/consolidate/types.ts';
import { parseArgs, requireFlag, stringFlag, UsageError } from './args.ts';
import { DEFAULT_DATA_DIR, openLocal } from './local.ts';
import { STATUS } from './upload.ts';

export interface StatusRow {
  institution: string;
  name: string;
  template: string;
  /** of the current accepted version when there is one, else of the latest attempt, else missing */
  status: 'accepted' | 'accepted_with_warnings' | 'rejected' | 'missing';
  uploadedAt: string | null;
  versions: number;
  errors: number;
  warnings: number;
  /** a later attempt that was rejected, shown beside the accepted one, never instead of it */
  laterRejected: { uploadedAt: string; errors: number } | null;
  /** 按时 / 逾期 by the accepted version's upload time; 未到期, 逾期未改, 逾期未报 without one */
  timeliness: Timeliness;
  /** 审核 of the accepted version (null without one) */
  review: ReviewState | null;
  /** a closed month's correction (补报) waiting for review */
  correction: { uploadedAt: string; review: ReviewState } | null;
}

/** Who owes what for a month, a quarter or a year (the definitions in force for the period), what arrived and what was accepted (store), on time or not as of `now`. */
export function statusRows(defs: Definitions, countyCode: string, period: string, entries: readonly PeriodEntry[], now: Date): StatusRow[] {
  const county = defs.county(countyCode)!;
  const rows: StatusRow[] = [];
  for (const inst of defs.activeIn(county, period)) {
    for (const template of defs.owed(inst, period)) {
      const e = entries.find((x) => x.institution === inst.code && x.template === template);
      const shown = e?.current ?? e?.latest ?? null;
      const later = e?.current ? openRejectionOf(e) : null;
      rows.push({
        institution: inst.code,
        name: inst.name,
        template,
        status: shown ? shown.status : 'missing',
        uploadedAt: shown?.uploadedAt ?? null,
        versions: e?.latest?.versions ?? 0,
        errors: shown?.errors ?? 0,
        warnings: shown?.warnings ?? 0,
        laterRejected: later ? { uploadedAt: later.uploadedAt, errors: later.errors } : null,
        timeliness: timelinessOf(e, defs.deadlineOf(county, template, period), now),
        review: reviewOf(e?.current),
        correction: e?.correction ? { uploadedAt: e.correction.uploadedAt, review: reviewOf(e.correction)! } : null,
      });
    }
  }
  return rows;
}

/** `hmis status --county 150525 --period 2025-03|2025-Q1|2024 [--json] [--data-dir .hmis]`: the returns of that period's 周期 */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { county: 'string', period: 'string', json: 'boolean', 'data-dir': 'string' });
  const countyCode = requireFlag(args, 'county');
  const period = requireFlag(args, 'period');
  if (!ANY_PERIOD_PATTERN.test(period)) throw new UsageError(`--period must be a month (2025-03), a quarter (2025-Q1) or a year (2024), got ${period}`);
  const local = await openLocal(stringFlag(args, 'data-dir') ?? DEFAULT_DATA_DIR);
  try {
    const defs = await local.deps.definitions.at(period);
    if (!defs.county(countyCode)) throw new UsageError(`unknown county ${countyCode}`);
    const rows = statusRows(defs, countyCode, period, await local.store.listPeriod(countyCode, period), new Date());
    console.log(args.flags.json ? JSON.stringify(rows, null, 2) : renderStatus(defs.county(countyCode)!.name, period, rows));
    return 0;
  } finally {
    await local.close();
  }
}

export function renderStatus(countyName: string, period: string, rows: readonly StatusRow[]): string {
  const ok = rows.filter((r) => r.status === 'accepted' || r.status === 'accepted_with_warnings').length;
  const onTime = rows.filter((r) => r.timeliness === '按时').length;
  const timely = rows.length ? `${((onTime / rows.length) * 100).toFixed(1)}%` : '—';
  const lines = [
    `${countyName} ${periodLabel(period)}（${period}）上报情况：应报 ${rows.length}，已通过 ${ok}，未通过 ${rows.filter((r) => r.status === 'rejected').length}，未上报 ${rows.filter((r) => r.status === 'missing').length}；按时 ${onTime}，及时率 ${timely}`,
    '',
  ];
  lines.push('机构代码     机构名称                 模板   状态     审核     上报时间(北京)   时效     版本 错误 警告');
  for (const r of rows) {
    const later = r.laterRejected ? `  （其后一次上报未通过，错误 ${r.laterRejected.errors}）` : '';
    const correction = r.correction ? `  （补报 ${shanghaiTime(r.correction.uploadedAt)}：${REVIEW_LABELS[r.correction.review]}）` : '';
    lines.push(`${r.institution}  ${r.name.padEnd(12, '　')}  ${r.template}  ${STATUS[r.status]!.padEnd(4, '　')}  ${(r.review ? REVIEW_LABELS[r.review] : '—').padEnd(3, '　')}  ${((r.uploadedAt && shanghaiTime(r.uploadedAt)) ?? '—').padEnd(16)} ${r.timeliness.padEnd(4, '　')} ${String(r.versions).padStart(3)} ${String(r.errors).padStart(4)} ${String(r.warnings).padStart(4)}${later}${correction}`);
  }
  return lines.join('\n');
}
