/**
 * Where one institution × template × month stands: the pieces the consolidated workbook's 上报情况,
 * the portal's grid and `hmis status` all show, computed once.
 */
import type { AttemptSummary, PeriodEntry } from '../../ports/index.ts';
import type { Timeliness } from './types.ts';

type Slot = Pick<PeriodEntry, 'current' | 'latest'> | null | undefined;

/**
 * 按时 / 逾期 for an accepted return (by its upload time); without one, 未到期 before the deadline and
 * after it 逾期未改 (something was uploaded, nothing accepted) or 逾期未报.
 */
export function timelinessOf(slot: Slot, deadline: Date, now: Date): Timeliness {
  if (slot?.current) return Date.parse(slot.current.uploadedAt) <= deadline.getTime() ? '按时' : '逾期';
  if (now.getTime() <= deadline.getTime()) return '未到期';
  return slot?.latest ? '逾期未改' : '逾期未报';
}

/** The latest upload when it was rejected and is newer than the accepted version (or there is none): what still needs fixing. */
export function openRejectionOf(slot: Slot): AttemptSummary | null {
  const latest = slot?.latest;
  return latest && latest.status === 'rejected' && (!slot.current || latest.order > slot.current.order) ? latest : null;
}
