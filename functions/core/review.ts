/**
 * Review (审核) of accepted returns, and closing a month (关账). Pure over ports: the portal and
 * `hmis approve` run the same code.
 *
 *   accepted upload ──▶ 待审核 (pending) ──approve──▶ 已审核 (approved)
 *                              └──return (reason)──▶ 退回 (returned): alert to the institution, which re-uploads
 *   a re-upload (a new current version) ──▶ 待审核 again, whatever the old one's review
 *   month closed: an accepted upload is a 补报, held apart; approved, it replaces the current return;
 *                 returned, the current return stays
 *
 * The reviewer sees the version's warnings and marks each 已核实 with a note; the institution explains
 * them (说明). Every write names the version it was made on: a review of a version replaced meanwhile
 * is refused (ReviewError 'conflict'), never applied to the new one.
 */
import { feedbackLocationOf, returnedAlert } from './alert/messages.ts';
import { auditEvent, type AuditActor } from './audit.ts';
import { periodLabel } from './layout.ts';
import type { Alerter, AuditLog, CurrentSubmission, PeriodEntry, Review, ReviewSlot, ReviewState, SubmissionStore } from '../ports/index.ts';
import type { Issue } from './report.ts';
import type { DefinitionsPort } from './definitions/source.ts';

export const REVIEW_LABELS: Record<ReviewState, string> = { pending: '待审核', approved: '已审核', returned: '退回' };
export const MAX_REASON_CHARS = 200;
export const MAX_NOTE_CHARS = 500;

/** The review state of an accepted version; one from before review existed counts as approved. */
export function reviewOf(current: Pick<CurrentSubmission, 'review'> | null | undefined): ReviewState | null {
  return current ? (current.review?.state ?? 'approved') : null;
}

/** A return counts in approved-only figures when it is approved. */
export const isApproved = (current: Pick<CurrentSubmission, 'review'> | null | undefined): boolean => reviewOf(current) === 'approved';

/** Names one warning of a version, for its 已核实 mark: stable for the version's report. */
export function warningKey(issue: Pick<Issue, 'code' | 'sheet' | 'cell' | 'element'>): string {
  return [issue.code, issue.sheet ?? '', issue.cell ?? '', issue.element ?? ''].join('|');
}

export class ReviewError extends Error {
  override name = 'ReviewError';
  constructor(
    readonly kind: 'not-found' | 'conflict' | 'invalid' | 'closed',
    message: string,
  ) {
    super(message);
  }
}

export interface ReviewDeps {
  store: SubmissionStore;
  audit: AuditLog;
  definitions: DefinitionsPort;
  alerter?: Alerter;
  reportsBucket: string;
  portalBaseUrl?: string;
}

/** Who acts, from where. */
export interface Actor extends AuditActor {
  ip: string | null;
}

export interface SlotRequest {
  county: string;
  institution: string;
  template: string;
  period: string;
  /** the version the person looked at; absent (CLI): whatever is to review now */
  versionId?: string;
}

/** What is to review in a slot: the held correction first (a closed month), else the current version. */
export function reviewTarget(entry: PeriodEntry | undefined, versionId?: string): { version: CurrentSubmission; held: boolean } | null {
  const held = entry?.correction ?? null;
  const current = entry?.current ?? null;
  if (versionId !== undefined) {
    if (held?.versionId === versionId) return { version: held, held: true };
    if (current?.versionId === versionId) return { version: current, held: false };
    return null;
  }
  if (held) return { version: held, held: true };
  return current ? { version: current, held: false } : null;
}

async function target(deps: ReviewDeps, request: SlotRequest) {
  const entry = (await deps.store.listPeriod(request.county, request.period)).find((e) => e.institution === request.institution && e.template === request.template);
  const found = reviewTarget(entry, request.versionId);
  if (!found) {
    throw request.versionId !== undefined && (entry?.current || entry?.correction)
      ? new ReviewError('conflict', '该报表已重新上传，请刷新后查看最新版本')
      : new ReviewError('not-found', `${request.institution} ${request.template} ${periodLabel(request.period)}没有已通过校验的报表可审核`);
  }
  const slot: ReviewSlot = { county: request.county, institution: request.institution, template: request.template, period: request.period, versionId: found.version.versionId, held: found.held };
  return { ...found, slot };
}

/** One line of the audit trail about a slot's version, by the person acting. */
function record(deps: ReviewDeps, request: SlotRequest & { by: Actor }, action: 'review' | 'explain', versionId: string, detail: string, now: Date): Promise<void> {
  const { county, institution, template, period, by } = request;
  return deps.audit.append(
    auditEvent({ scope: county, action, outcome: 'ok', actor: { username: by.username, name: by.name }, ip: by.ip, subject: { institution, template, period, versionId }, detail }, now),
  );
}

async function names(deps: ReviewDeps, request: SlotRequest) {
  const defs = await deps.definitions.at(request.period);
  const template = defs.template(request.template);
  return {
    institution: defs.institution(request.institution)?.institution.name ?? request.institution,
    template: template?.title ?? request.template,
    shortTemplate: template?.sheetName,
  };
}

/**
 * Approves or returns what is to review in a slot. A return needs a reason, alerts the institution
 * and shows in the portal; approving a held correction makes it current.
 */
export async function decide(
  deps: ReviewDeps,
  request: SlotRequest & { decision: 'approve' | 'return'; reason?: string; by: Actor },
  now: Date,
): Promise<{ state: ReviewState; held: boolean; versionId: string }> {
  const reason = (request.reason ?? '').trim();
  if (request.decision === 'return' && !reason) throw new ReviewError('invalid', '退回时请填写原因');
  if ([...reason].length > MAX_REASON_CHARS) throw new ReviewError('invalid', `退回原因不超过 ${MAX_REASON_CHARS} 字`);
  const { version, held, slot } = await target(deps, request);
  const state: ReviewState = request.decision === 'approve' ? 'approved' : 'returned';
  const review: Review = { state, by: request.by.username, byName: request.by.name ?? request.by.username, at: now.toISOString(), ...(state === 'returned' ? { reason } : {}) };
  const ok = held && state === 'approved' ? await deps.store.promoteCorrection(version, review) : await deps.store.setReview(slot, review);
  if (!ok) throw new ReviewError('conflict', '该报表已重新上传，请刷新后审核最新版本');
  const n = await names(deps, request);
  const what = `${n.institution} ${n.template} ${periodLabel(request.period)}${held ? '补报' : ''}`;
  await record(deps, request, 'review', version.versionId, state === 'approved' ? `审核通过：${what}${held ? '（替换原报表）' : ''}` : `退回：${what}。原因：${reason}`, now);
  if (state === 'returned' && deps.alerter) {
    const link = deps.portalBaseUrl ? feedbackLocationOf({ portalBaseUrl: deps.portalBaseUrl, reportsBucket: deps.reportsBucket, feedbackKey: version.reportKey, version }) : null;
    await deps.alerter.publish(
      returnedAlert({
        version,
        institutionName: n.institution,
        templateTitle: n.template,
        ...(n.shortTemplate ? { templateShortTitle: n.shortTemplate } : {}),
        reason,
        reviewerName: request.by.name ?? request.by.username,
        correction: held,
        link,
      }),
    );
  }
  return { state, held, versionId: version.versionId };
}

/** The reviewer's 已核实 on one warning of the version under review, with a note. */
export async function checkWarning(deps: ReviewDeps, request: SlotRequest & { versionId: string; key: string; note: string; by: Actor }, now: Date): Promise<void> {
  const note = request.note.trim();
  if ([...note].length > MAX_NOTE_CHARS) throw new ReviewError('invalid', `核实说明不超过 ${MAX_NOTE_CHARS} 字`);
  const { version, slot } = await target(deps, request);
  if (!/^[a-z0-9-]+\|/.test(request.key) || request.key.length > 300) throw new ReviewError('invalid', '警告标识无效');
  if (Object.keys(version.checks ?? {}).length >= 500 && !version.checks?.[request.key]) throw new ReviewError('invalid', '已核实的警告过多');
  const ok = await deps.store.checkWarning(slot, request.key, { by: request.by.username, byName: request.by.name ?? request.by.username, at: now.toISOString(), note });
  if (!ok) throw new ReviewError('conflict', '该报表已重新上传，请刷新后审核最新版本');
  const n = await names(deps, request);
  const where = request.key.split('|').slice(1).filter(Boolean).join(' ');
  await record(deps, request, 'review', version.versionId, `已核实警告：${n.institution} ${n.template} ${periodLabel(request.period)} ${where}${note ? `。说明：${note}` : ''}`, now);
}

/** The institution's 说明 of its warnings, on the version it uploaded. */
export async function explain(deps: ReviewDeps, request: SlotRequest & { versionId: string; text: string; by: Actor }, now: Date): Promise<void> {
  const text = request.text.trim();
  if (!text) throw new ReviewError('invalid', '请填写说明');
  if ([...text].length > MAX_NOTE_CHARS) throw new ReviewError('invalid', `说明不超过 ${MAX_NOTE_CHARS} 字`);
  const { version, slot } = await target(deps, request);
  const ok = await deps.store.explain(slot, { by: request.by.username, byName: request.by.name ?? request.by.username, at: now.toISOString(), text });
  if (!ok) throw new ReviewError('conflict', '该报表已重新上传，请在最新版本上填写说明');
  await record(deps, request, 'explain', version.versionId, `说明：${text}`, now);
}

/** 关账: from now on an accepted upload of the month is a correction (补报) held until approved. */
export async function closeMonth(deps: ReviewDeps, request: { county: string; period: string; by: Actor }, now: Date): Promise<void> {
  const closed = await deps.store.closeMonth({ county: request.county, period: request.period, by: request.by.username, byName: request.by.name ?? request.by.username, at: now.toISOString() });
  if (!closed) throw new ReviewError('closed', `${periodLabel(request.period)}已关账`);
  await deps.audit.append(
    auditEvent(
      { scope: request.county, action: 'close-month', outcome: 'ok', actor: { username: request.by.username, name: request.by.name }, ip: request.by.ip, subject: { period: request.period }, detail: `关账：${periodLabel(request.period)}` },
      now,
    ),
  );
}
