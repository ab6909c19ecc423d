/**
 * The audit trail (操作记录): who did what, when and from where. Append-only: an event is written once
 * (AuditLog port; one DynamoDB item each, keys in ARCHITECTURE.md) and never changed; the scheduled
 * function exports each day's events as JSON lines to the reports bucket (exportAuditDay).
 *
 * Recorded: every sign-in (success or failure, with the address), sign-out, upload (person, address,
 * key, version), workbook download, review (approve, return, 已核实), 说明, definitions change, user
 * change, regeneration and month close (关账).
 */
import { randomBytes } from 'node:crypto';
import { SHANGHAI_OFFSET_MS } from './consolidate/period.ts';
import type { AuditLog, ObjectStore } from '../ports/index.ts';

export const AUDIT_ACTIONS = ['sign-in', 'sign-out', 'upload', 'download', 'review', 'explain', 'definitions', 'user', 'regenerate', 'close-month'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const ACTION_LABELS: Record<AuditAction, string> = {
  'sign-in': '登录',
  'sign-out': '退出',
  upload: '上传',
  download: '下载',
  review: '审核',
  explain: '说明',
  definitions: '定义管理',
  user: '用户管理',
  regenerate: '生成汇总表',
  'close-month': '关账',
};

export interface AuditActor {
  /** the portal user (mobile number), `cli:<name>` for a command, `system` for the scheduled function, `iam:<principal>` */
  username: string;
  name: string | null;
}

export interface AuditEvent {
  /** `<at>#<suffix>`: sorts by time; a deterministic suffix (an upload's version) makes a repeated write one event */
  id: string;
  /** ISO time */
  at: string;
  /** the county (or city, for a viewer; '-' when nobody can be placed: a sign-in with an unknown name) */
  scope: string;
  action: AuditAction;
  outcome: 'ok' | 'refused';
  actor: AuditActor;
  ip: string | null;
  /** what it was about, as far as it applies */
  subject: { institution?: string; template?: string; period?: string; versionId?: string; key?: string; username?: string };
  /** one Chinese sentence: 退回：JC05 与上月相差过大，请核实 */
  detail: string;
}

export type AuditInput = Omit<AuditEvent, 'id' | 'at'> & { at?: Date; id?: string };

/** An event with its time and id; `suffix` makes it idempotent (the same suffix at the same time is one event). */
export function auditEvent(input: AuditInput, now: Date, suffix?: string): AuditEvent {
  const at = (input.at ?? now).toISOString();
  const { at: _at, id: _id, ...rest } = input;
  return { ...rest, id: input.id ?? `${at}#${suffix ?? randomBytes(4).toString('hex')}`, at, detail: rest.detail.slice(0, 500) };
}

/** The Beijing month (YYYY-MM) and day (YYYY-MM-DD) of an instant: an event's partition and export file. */
export function beijingMonth(at: string | Date): string {
  return beijingDay(at).slice(0, 7);
}

export function beijingDay(at: string | Date): string {
  return new Date(new Date(at).getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10);
}

/** Events of the scope in [from, to] (months), filtered; newest first, as the 操作记录 page shows them. */
export interface AuditFilter {
  action?: AuditAction;
  /** username, or part of a name */
  actor?: string;
  institution?: string;
  outcome?: 'ok' | 'refused';
}

export function filterEvents(events: readonly AuditEvent[], filter: AuditFilter): AuditEvent[] {
  const who = filter.actor?.trim();
  return events
    .filter(
      (e) =>
        (!filter.action || e.action === filter.action) &&
        (!filter.outcome || e.outcome === filter.outcome) &&
        (!filter.institution || e.subject.institution === filter.institution) &&
        (!who || e.actor.username === who || (e.actor.name ?? '').includes(who) || e.subject.username === who),
    )
    .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/** One line of text per event, for `hmis audit`: 2025-04-07 10:05 登录 张三（13800000001） 1.2.3.4 成功 … */
export function auditLine(e: AuditEvent): string {
  const time = new Date(new Date(e.at).getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
  const who = e.actor.name ? `${e.actor.name}（${e.actor.username}）` : e.actor.username;
  const what = [e.subject.institution, e.subject.template, e.subject.period].filter(Boolean).join(' ');
  return [time, ACTION_LABELS[e.action], e.outcome === 'ok' ? '成功' : '拒绝', who, e.ip ?? '—', what || '—', e.detail].join('\t');
}

export const auditExportKey = (scope: string, day: string): string => `audit/${scope}/${day.slice(0, 4)}/${day}.jsonl`;

/**
 * Writes one Beijing day's events of each scope as JSON lines (one event per line, oldest first) to
 * `audit/<scope>/<yyyy>/<yyyy-mm-dd>.jsonl` in the reports bucket; a scope without events that day
 * gets no file. Repeatable: the same day gives the same bytes.
 */
export async function exportAuditDay(deps: { audit: AuditLog; objects: ObjectStore; reportsBucket: string }, scopes: readonly string[], day: string): Promise<Array<{ scope: string; key: string; events: number }>> {
  const out: Array<{ scope: string; key: string; events: number }> = [];
  for (const scope of scopes) {
    const events = (await deps.audit.list(scope, day.slice(0, 7), day.slice(0, 7))).filter((e) => beijingDay(e.at) === day);
    if (!events.length) continue;
    const key = auditExportKey(scope, day);
    await deps.objects.put(deps.reportsBucket, key, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`, 'application/x-ndjson; charset=utf-8');
    out.push({ scope, key, events: events.length });
  }
  return out;
}
