/**
 * Ingestion: one uploaded object → one submission version with its report; an accepted version
 * becomes current unless a newer one already is. Pure over ports: no AWS SDK here.
 *
 * Nothing lost, nothing silent: every upload gets a report; a bad upload never replaces the current
 * accepted one; a late older upload never replaces a newer one; the same event twice does the work once.
 * A deterministic rejection is an outcome, not an exception: only transient faults throw.
 */
import { createHash } from 'node:crypto';
import { feedbackLocationOf, rejectionAlert, shouldAlert } from './alert/messages.ts';
import { msg } from './gate/messages.ts';
import type { IndicatorSubmission, Submission } from './normalize/submission.ts';
import { XLSX_TYPE } from './render/deterministic.ts';
import { makeIssue, statusOf, type Report } from './report.ts';
import { HISTORY_PERIODS, shiftPeriod, type HistoryPoint } from './validate/history.ts';
import { periodKind, periodLabel } from './layout.ts';
import { lastMonthOf } from './consolidate/period.ts';
import { validateUpload } from './validate/index.ts';
import type { Alerter, AuditLog, CurrentSubmission, ObjectStore, StoredVersion, SubmissionStore, SubmissionVersion, UploadEventRecord, VersionRef } from '../ports/index.ts';
import { auditEvent } from './audit.ts';
import type { Definitions } from './definitions/definitions.ts';
import type { DefinitionsPort } from './definitions/source.ts';

/** The S3 event, as the handler decoded it (or as reconciliation rebuilt it from a listing). */
export type UploadEvent = UploadEventRecord;

export interface UploadKey {
  county: string;
  institution: string;
  template: string;
  period: string;
  fileName: string;
}

export interface IngestDeps {
  definitions: DefinitionsPort;
  objects: ObjectStore;
  store: SubmissionStore;
  alerter?: Alerter;
  /** the audit trail: every upload, with who and from where */
  audit?: AuditLog;
  reportsBucket: string;
  maxUploadBytes: number;
  /** the portal, for links in alerts (else the S3 location of the marked-up workbook) */
  portalBaseUrl?: string;
  now?: () => Date;
  /** waits before the 2nd, 3rd… try of the alert's settle write (default 100 ms, 400 ms, 1.6 s) */
  settleRetryMs?: readonly number[];
}

/** A claim on a version's alert older than this is taken to be a crashed attempt's (the ingest function times out at 60 s). */
export const ALERT_LEASE_MS = 90_000;

/** The metadata field an upload can carry to say who uploaded it (the portal's presigned POST sets it). */
export const UPLOADER_METADATA = 'uploader';
/** The person (portal username) and the address the portal signed the upload for: x-amz-meta-uploader-user, -uploader-ip. */
export const UPLOADER_USER_METADATA = 'uploader-user';
export const UPLOADER_IP_METADATA = 'uploader-ip';

/**
 * An upload without uploader metadata came by the IAM path: a principal's own credentials (IAM
 * policies keep it to its prefix). The version records that principal instead, as `iam:<principalId>`
 * (the S3 event's userIdentity.principalId). Reconciliation, which rebuilds events from a listing,
 * knows no principal: it names itself (RECONCILE_PRINCIPAL); the access log says who wrote the object.
 */
export const IAM_UPLOADER_PREFIX = 'iam:';
export const RECONCILE_PRINCIPAL = 'hmis-reconcile';

export type IngestOutcome =
  | { kind: 'ignored'; key: string; reason: string }
  | {
      kind: 'processed';
      versionId: string;
      status: Report['status'];
      becameCurrent: boolean;
      reportKey: string;
      feedbackKey: string | null;
      /** whether this call sent the version's alert (false for a duplicate event, or nothing to alert) */
      alerted: boolean;
      /** the version was stored already (a redelivery, reconciliation): finished, not validated again */
      resumed: boolean;
      /** a closed month's accepted upload: held as a correction (补报) until a reviewer approves it */
      held: boolean;
      report: Report;
    };

/** Any file name: a file that is not an .xlsx still gets a version, refused with file-not-xlsx. */
/** the period is a month (2025-03), a quarter (2025-Q1) or a year (2025), as the return's 周期 says */
export const UPLOAD_KEY_PATTERN = /^uploads\/(\d{6})\/(\d{6}-\d{3})\/(T-[A-Z]{2})\/(\d{4}(?:-(?:0[1-9]|1[0-2])|-Q[1-4])?)\/([^/\u0000-\u001f]{1,120})$/;

/** An Excel workbook's name, in any letter case (.xlsx, .XLSX, .Xlsx). */
export const isXlsxName = (fileName: string): boolean => /\.xlsx$/i.test(fileName.trim());

/** uploads/<county>/<institution>/<template>/<period>/<file name>, the institution inside the county. */
export function parseUploadKey(key: string): UploadKey | null {
  const m = UPLOAD_KEY_PATTERN.exec(key);
  if (!m) return null;
  const [, county, institution, template, period, fileName] = m as unknown as [string, string, string, string, string, string];
  if (!institution.startsWith(`${county}-`)) return null;
  return { county, institution, template, period, fileName };
}

/**
 * Deterministic identity of an upload: the same object version always gives the same id, whether an
 * S3 event or reconciliation announces it (key and the bucket's version id); without a version id
 * (an unversioned bucket) the same event gives the same id.
 */
export function versionOf(event: UploadEvent): VersionRef {
  const identity = event.objectVersionId ? `${event.key}\n${event.objectVersionId}` : `${event.key}\n${event.sequencer}\n${event.eTag ?? ''}`;
  const versionId = createHash('sha256').update(identity).digest('hex').slice(0, 20);
  return { versionId, order: `${event.eventTime}#${event.sequencer.padStart(24, '0')}`, uploadedAt: event.eventTime, objectKey: event.key };
}

export function reportKeyOf(key: UploadKey, versionId: string): string {
  return `reports/${key.county}/${key.institution}/${key.template}/${key.period}/${versionId}.json`;
}

/**
 * One upload → its version, processed to the end. Steps, each idempotent: report and feedback
 * objects, the version item (written once per version id), "current" (accepted only, newer only),
 * the alert (once), and last the attempt item, whose set of version ids is what reconciliation
 * counts as processed. A version already stored (a redelivery, reconciliation, a crash half-way) is
 * finished from what was stored, never validated again: the same version always has one outcome.
 */
export async function ingestUpload(event: UploadEvent, deps: IngestDeps): Promise<IngestOutcome> {
  const key = parseUploadKey(event.key);
  if (!key) return { kind: 'ignored', key: event.key, reason: 'key outside uploads/<county>/<institution>/<template>/<period>/<file>' };
  const ref = versionOf(event);
  const now = deps.now?.() ?? new Date();
  const defs = await deps.definitions.at(key.period);
  const stored = await deps.store.findVersion(key, ref.versionId);
  if (stored) return complete(stored, await storedReport(stored.version, deps), true, deps, defs, now);

  const reportKey = reportKeyOf(key, ref.versionId);
  const { report, submission, bytes, uploader, person } = await validateObject(event, key, deps, defs, now);
  // the marked-up workbook first: the version item, once written, points at it
  let feedbackKey: string | null = null;
  if (report.issues.some((i) => i.severity !== 'info')) {
    // imported here, not at the top: it brings exceljs, whose loading a cold start pays only for uploads that get one
    const { buildFeedback, feedbackKeyOf } = await import('./render/feedback.ts');
    feedbackKey = feedbackKeyOf(key, ref.versionId);
    const feedback = await buildFeedback(bytes ?? new Uint8Array(), report, {
      uploadedAt: event.eventTime,
      fileName: key.fileName,
      institutionName: defs.institution(key.institution)?.institution.name,
      templates: defs.templates,
    });
    await deps.objects.put(deps.reportsBucket, feedbackKey, feedback.bytes, XLSX_TYPE);
  }
  const version: SubmissionVersion = {
    ...ref,
    county: key.county,
    institution: key.institution,
    template: key.template,
    period: key.period,
    templateVersion: report.template?.version ?? null,
    status: report.status,
    errors: report.stats.errors,
    warnings: report.stats.warnings,
    reportKey,
    feedbackKey,
    firstIssues: report.issues.filter((i) => i.severity !== 'info').slice(0, 20),
    objectVersionId: event.objectVersionId ?? null,
    uploader,
    // the person, when the portal signed the upload; else whoever `uploader` names
    uploadedBy: person.user ?? uploader,
    uploaderIp: person.ip,
  };
  await deps.objects.put(deps.reportsBucket, reportKey, JSON.stringify(report, null, 2), 'application/json; charset=utf-8');
  if (!(await deps.store.putVersion(version, submission))) {
    // another delivery of this version wrote it first (with its own order): finish from that one
    const winner = await deps.store.findVersion(key, ref.versionId);
    if (winner) return complete(winner, await storedReport(winner.version, deps), true, deps, defs, now);
  }
  return complete({ version, submission }, report, false, deps, defs, now);
}

async function complete({ version, submission }: StoredVersion, report: Report, resumed: boolean, deps: IngestDeps, defs: Definitions, now: Date): Promise<IngestOutcome> {
  let becameCurrent = false;
  let held = false;
  if (submission && version.status !== 'rejected') {
    const current: CurrentSubmission = { ...version, status: version.status, submission, review: { state: 'pending' } };
    // a closed month keeps its returns: an accepted upload waits as a correction until it is approved
    if (await deps.store.closure(version.county, version.period)) held = await deps.store.holdCorrection(current);
    else becameCurrent = await deps.store.makeCurrent(current);
  }
  const alerted = await alertOnce(version, report, deps, defs, now);
  await deps.audit?.append(uploadEvent(version, held, defs, now));
  await deps.store.recordAttempt(version);
  return { kind: 'processed', versionId: version.versionId, status: version.status, becameCurrent, reportKey: version.reportKey, feedbackKey: version.feedbackKey ?? null, alerted, resumed, held, report };
}

const STATUS_WORDS = { accepted: '已通过', accepted_with_warnings: '有警告', rejected: '未通过' } as const;

/** The upload's audit event, keyed by its version: a repeated delivery writes it once. */
function uploadEvent(version: SubmissionVersion, held: boolean, defs: Definitions, now: Date) {
  const name = defs.institution(version.institution)?.institution.name ?? version.institution;
  const title = defs.template(version.template)?.title ?? version.template;
  return auditEvent(
    {
      at: new Date(version.uploadedAt),
      scope: version.county,
      action: 'upload',
      outcome: 'ok',
      actor: { username: version.uploadedBy ?? version.uploader ?? 'unknown', name: null },
      ip: version.uploaderIp ?? null,
      subject: { institution: version.institution, template: version.template, period: version.period, versionId: version.versionId, key: version.objectKey },
      detail: `${name} ${title} ${periodLabel(version.period)}：${STATUS_WORDS[version.status]}${version.errors ? `，错误 ${version.errors} 项` : ''}${version.warnings ? `，警告 ${version.warnings} 项` : ''}${held ? '（已关账：作为补报，待审核通过后替换原报表）' : ''}`,
    },
    now,
    `upload-${version.versionId}`,
  );
}

/** The report a stored version was given (written before the version item). */
async function storedReport(version: SubmissionVersion, deps: IngestDeps): Promise<Report> {
  const bytes = await deps.objects.get(deps.reportsBucket, version.reportKey, 64 * 1024 * 1024);
  if (!bytes) throw new Error(`report ${version.reportKey} of version ${version.versionId} is missing or too large`);
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as Report;
}

/** The marker of an alert published whose settle write failed: redelivery settles it instead of publishing again. */
export const alertMarkerKeyOf = (reportKey: string): string => reportKey.replace(/\.json$/, '.alert.json');

/**
 * One alert per rejected version, whatever the number of deliveries: a claim in the store, then the
 * publish, then the claim settled. A failed publish releases the claim and throws (the message is
 * redelivered); a crash between claim and publish is healed by the lease: the retry may send it.
 * The settle write is retried with backoff; if it still fails, a marker object records the publish
 * (S3, not the failing table) and the error is thrown: the redelivery finds the marker, settles and
 * sends nothing. What remains (a crash between publish and both records) is in ARCHITECTURE.md.
 */
async function alertOnce(version: SubmissionVersion, report: Report, deps: IngestDeps, defs: Definitions, now: Date): Promise<boolean> {
  if (!deps.alerter || !shouldAlert(report)) return false;
  if (!(await deps.store.claimAlert(version, now, ALERT_LEASE_MS))) return false;
  const marker = alertMarkerKeyOf(version.reportKey);
  if (await deps.objects.exists(deps.reportsBucket, marker)) {
    await settleWithRetry(version, deps, now);
    return false;
  }
  const found = defs.institution(version.institution);
  const template = defs.template(version.template);
  const alert = rejectionAlert({
    version,
    report,
    institutionName: found?.institution.name ?? version.institution,
    countyName: found?.county.name ?? version.county,
    templateTitle: template?.title ?? version.template,
    ...(template ? { templateShortTitle: template.sheetName } : {}),
    feedbackLocation: feedbackLocationOf({ portalBaseUrl: deps.portalBaseUrl ?? null, reportsBucket: deps.reportsBucket, feedbackKey: version.feedbackKey ?? version.reportKey, version }),
  });
  try {
    await deps.alerter.publish(alert);
  } catch (err) {
    await deps.store.settleAlert(version, false, now);
    throw err;
  }
  try {
    await settleWithRetry(version, deps, now);
  } catch (err) {
    await deps.objects.put(deps.reportsBucket, marker, JSON.stringify({ versionId: version.versionId, publishedAt: now.toISOString() }), 'application/json');
    throw err;
  }
  return true;
}

async function settleWithRetry(version: SubmissionVersion, deps: IngestDeps, now: Date): Promise<void> {
  const waits = deps.settleRetryMs ?? [100, 400, 1_600];
  for (let attempt = 0; ; attempt++) {
    try {
      return await deps.store.settleAlert(version, true, now);
    } catch (err) {
      if (attempt >= waits.length) throw err;
      await new Promise((r) => setTimeout(r, waits[attempt]));
    }
  }
}

interface Validated {
  report: Report;
  submission: Submission | null;
  /** the upload's bytes, when they were read */
  bytes?: Uint8Array;
  /** who uploaded, when known */
  uploader: string | null;
  /** the person and address the portal signed the upload for (x-amz-meta-uploader-user, -uploader-ip) */
  person: { user: string | null; ip: string | null };
}

async function validateObject(event: UploadEvent, key: UploadKey, deps: IngestDeps, defs: Definitions, now: Date): Promise<Validated> {
  const options = { institution: key.institution, template: key.template, period: key.period, now, definitions: deps.definitions };
  const xlsx = isXlsxName(key.fileName);
  const notXlsx = (size: number) => onlyIssue(makeIssue('file-not-xlsx', msg.notXlsx(key.fileName), { value: key.fileName }), size, options);
  if (event.size > deps.maxUploadBytes) return xlsx ? tooLarge(event.size, deps.maxUploadBytes, options) : notXlsx(event.size);
  const object = await deps.objects.read(event.bucket, event.key, deps.maxUploadBytes, event.objectVersionId);
  if (!object) return xlsx ? tooLarge(event.size, deps.maxUploadBytes, options) : notXlsx(event.size);
  const named = object.metadata[UPLOADER_METADATA];
  const person = { user: object.metadata[UPLOADER_USER_METADATA]?.slice(0, 64) || null, ip: object.metadata[UPLOADER_IP_METADATA]?.slice(0, 64) || null };
  if (named !== undefined && !mayUploadFor(named, key)) return { ...refused(named, object.bytes.length, options), person };
  if (named === undefined && !event.principal) return { ...anonymous(object.bytes.length, options), person };
  const uploader = named ?? `${IAM_UPLOADER_PREFIX}${event.principal}`;
  if (!xlsx) return { ...notXlsx(object.bytes.length), uploader, person };
  const history = await historyOf(key, deps.store, defs);
  return { ...(await validateUpload(object.bytes, { ...options, history })), bytes: object.bytes, uploader, person };
}

/**
 * Who may upload under an institution's prefix: the institution itself and its county's commission
 * (<county>-000). IAM policies keep each uploader to its prefix in AWS; this refuses what they let
 * through by mistake (a shared role, a commission account uploading elsewhere, a forged key).
 */
export function mayUploadFor(uploader: string, key: Pick<UploadKey, 'county' | 'institution'>): boolean {
  return uploader === key.institution || uploader === `${key.county}-000`;
}

function refused(uploader: string, size: number, identity: { institution: string; period: string }): Validated {
  const shown = uploader.length > 40 ? `${uploader.slice(0, 40)}…` : uploader;
  return onlyIssue(makeIssue('uploader-not-allowed', `上传者「${shown}」无权报送机构 ${identity.institution} 的报表：请登录本机构的账号，在本机构的目录下上传。`, { value: shown }), size, identity);
}

function anonymous(size: number, identity: { institution: string; period: string }): Validated {
  return onlyIssue(makeIssue('uploader-missing', `无法确认上传者：请登录报送平台上传，或使用本机构的账号密钥上传（不接受匿名上传）。`), size, identity);
}

function tooLarge(size: number, max: number, identity: { institution: string; period: string }): Validated {
  return onlyIssue(makeIssue('file-too-large', `文件大小 ${(size / 1048576).toFixed(1)} MB，超过 ${(max / 1048576).toFixed(0)} MB 的上限。请只保留模板中的工作表后重新上传。`, { value: size }), size, identity);
}

/** A report refusing the upload before it is opened. */
function onlyIssue(issue: Report['issues'][number], size: number, identity: { institution: string; period: string }): Validated {
  const report: Report = {
    status: statusOf([issue]),
    template: null,
    institution: identity.institution,
    period: identity.period,
    issues: [issue],
    stats: { bytes: size, rows: 0, values: 0, normalized: 0, errors: 1, warnings: 0, infos: 0, durationMs: 0 },
  };
  return { report, submission: null, uploader: null, person: { user: null, ip: null } };
}

/**
 * The institution's accepted months of this template, for history checks (indicator returns only).
 * An institution that others were merged into also has their months before the merge: summed,
 * for the months every one of them has.
 */
async function historyOf(key: UploadKey, store: SubmissionStore, defs: Definitions): Promise<HistoryPoint[] | undefined> {
  if (defs.template(key.template)?.kind !== 'indicator') return undefined;
  const from = shiftPeriod(key.period, -HISTORY_PERIODS[periodKind(key.period)]);
  const to = shiftPeriod(key.period, -1);
  const institution = defs.institution(key.institution)?.institution;
  const members = [...(institution ? [institution] : []), ...defs.predecessorsOf(key.institution)];
  const months = await Promise.all(members.map((m) => store.history(m.code, key.template, from, to)));
  if (members.length <= 1) return (months[0] ?? []).map((c) => ({ period: c.period, values: (c.submission as IndicatorSubmission).values }));
  const points: HistoryPoint[] = [];
  for (let period = from; period <= to; period = shiftPeriod(period, 1)) {
    const owing = members.map((m, n) => ({ m, accepted: months[n]! })).filter(({ m }) => defs.active(m, lastMonthOf(period)));
    const found = owing.map(({ accepted }) => accepted.find((c) => c.period === period));
    if (!owing.length || found.some((c) => !c)) continue;
    const values: Record<string, number> = {};
    for (const c of found) for (const [code, v] of Object.entries((c!.submission as IndicatorSubmission).values)) values[code] = (values[code] ?? 0) + v;
    points.push({ period, values });
  }
  return points;
}
