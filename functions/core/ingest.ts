/**
 * Ingestion: one uploaded object → one submission version with its report; an accepted version
 * becomes current unless a newer one already is. Pure over ports: no AWS SDK here.
 *
 * Nothing lost, nothing silent: every upload gets a report; a bad upload never replaces the current
 * accepted one; a late older upload never replaces a newer one; the same event twice does the work once.
 * A deterministic rejection is an outcome, not an exception: only transient faults throw.
 */
import { createHash } from 'node:crypto';
import { findTemplate } from '../../schemas/index.ts';
import type { IndicatorSubmission } from './normalize/submission.ts';
import { makeIssue, statusOf, type Report } from './report.ts';
import { HISTORY_MONTHS, shiftPeriod, type HistoryPoint } from './validate/history.ts';
import { validateUpload } from './validate/index.ts';
import type { Alerter, CurrentSubmission, ObjectStore, SubmissionStore, SubmissionVersion, VersionRef } from '../ports/index.ts';

/** The S3 event, as the handler decoded it. */
export interface UploadEvent {
  bucket: string;
  /** decoded object key */
  key: string;
  size: number;
  /** S3's sequencer: orders events for the same key */
  sequencer: string;
  eTag?: string;
  /** ISO time of the upload */
  eventTime: string;
}

export interface UploadKey {
  county: string;
  institution: string;
  template: string;
  period: string;
  fileName: string;
}

export interface IngestDeps {
  objects: ObjectStore;
  store: SubmissionStore;
  alerter?: Alerter;
  reportsBucket: string;
  maxUploadBytes: number;
  now?: () => Date;
}

export type IngestOutcome =
  | { kind: 'ignored'; key: string; reason: string }
  | { kind: 'processed'; versionId: string; status: Report['status']; becameCurrent: boolean; reportKey: string; report: Report };

export const UPLOAD_KEY_PATTERN = /^uploads\/(\d{6})\/(\d{6}-\d{3})\/(T-[A-Z]{2})\/(\d{4}-(?:0[1-9]|1[0-2]))\/([^/\u0000-\u001f]{1,120}\.xlsx)$/;

/** uploads/<county>/<institution>/<template>/<period>/<file name>.xlsx, the institution inside the county. */
export function parseUploadKey(key: string): UploadKey | null {
  const m = UPLOAD_KEY_PATTERN.exec(key);
  if (!m) return null;
  const [, county, institution, template, period, fileName] = m as unknown as [string, string, string, string, string, string];
  if (!institution.startsWith(`${county}-`)) return null;
  return { county, institution, template, period, fileName };
}

/** Deterministic identity of an upload: the same event always gives the same version. */
export function versionOf(event: UploadEvent): VersionRef {
  const versionId = createHash('sha256').update(`${event.key}\n${event.sequencer}\n${event.eTag ?? ''}`).digest('hex').slice(0, 20);
  return { versionId, order: `${event.eventTime}#${event.sequencer.padStart(24, '0')}`, uploadedAt: event.eventTime, objectKey: event.key };
}

export function reportKeyOf(key: UploadKey, versionId: string): string {
  return `reports/${key.county}/${key.institution}/${key.template}/${key.period}/${versionId}.json`;
}

export async function ingestUpload(event: UploadEvent, deps: IngestDeps): Promise<IngestOutcome> {
  const key = parseUploadKey(event.key);
  if (!key) return { kind: 'ignored', key: event.key, reason: 'key outside uploads/<county>/<institution>/<template>/<period>/<file>.xlsx' };
  const ref = versionOf(event);
  const reportKey = reportKeyOf(key, ref.versionId);
  const now = deps.now?.() ?? new Date();

  const report = await validateObject(event, key, deps, now);
  const version: SubmissionVersion = {
    ...ref,
    county: key.county,
    institution: key.institution,
    template: key.template,
    period: key.period,
    templateVersion: report.report.template?.version ?? null,
    status: report.report.status,
    errors: report.report.stats.errors,
    warnings: report.report.stats.warnings,
    reportKey,
    firstIssues: report.report.issues.filter((i) => i.severity !== 'info').slice(0, 20),
  };
  await deps.objects.put(deps.reportsBucket, reportKey, JSON.stringify(report.report, null, 2), 'application/json; charset=utf-8');
  await deps.store.putVersion(version, report.submission);
  let becameCurrent = false;
  if (report.submission && version.status !== 'rejected') {
    const current: CurrentSubmission = { ...version, status: version.status, submission: report.submission };
    becameCurrent = await deps.store.makeCurrent(current);
  }
  await deps.store.recordAttempt(version);
  return { kind: 'processed', versionId: ref.versionId, status: version.status, becameCurrent, reportKey, report: report.report };
}

async function validateObject(event: UploadEvent, key: UploadKey, deps: IngestDeps, now: Date) {
  const options = { institution: key.institution, template: key.template, period: key.period, now };
  if (event.size > deps.maxUploadBytes) return tooLarge(event.size, deps.maxUploadBytes, options);
  const bytes = await deps.objects.get(event.bucket, event.key, deps.maxUploadBytes);
  if (!bytes) return tooLarge(event.size, deps.maxUploadBytes, options);
  const history = await historyOf(key, deps.store);
  return validateUpload(bytes, { ...options, history });
}

function tooLarge(size: number, max: number, identity: { institution: string; period: string }) {
  const issues = [makeIssue('file-too-large', `文件大小 ${(size / 1048576).toFixed(1)} MB，超过 ${(max / 1048576).toFixed(0)} MB 的上限。请只保留模板中的工作表后重新上传。`, { value: size })];
  const report: Report = {
    status: statusOf(issues),
    template: null,
    institution: identity.institution,
    period: identity.period,
    issues,
    stats: { bytes: size, rows: 0, values: 0, normalized: 0, errors: 1, warnings: 0, infos: 0, durationMs: 0 },
  };
  return { report, submission: null };
}

/** The institution's accepted months of this template, for history checks (indicator returns only). */
async function historyOf(key: UploadKey, store: SubmissionStore): Promise<HistoryPoint[] | undefined> {
  if (findTemplate(key.template)?.kind !== 'indicator') return undefined;
  const past = await store.history(key.institution, key.template, shiftPeriod(key.period, -HISTORY_MONTHS), shiftPeriod(key.period, -1));
  return past.map((c) => ({ period: c.period, values: (c.submission as IndicatorSubmission).values }));
}
