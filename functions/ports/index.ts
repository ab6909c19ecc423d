/**
 * The ports the core needs. The core never imports an AWS SDK: adapters implement these over
 * S3, DynamoDB and SNS (functions/adapters), and unit tests over plain memory.
 */
import type { Report, ReportStatus } from '../core/report.ts';
import type { LedgerRow, Submission, SubmissionIdentity } from '../core/normalize/submission.ts';
import type { DefinitionsLog } from '../core/definitions/log.ts';

export interface StoredObject {
  bytes: Uint8Array;
  /** user metadata (x-amz-meta-*), names in lower case */
  metadata: Record<string, string>;
}

export interface ObjectStore {
  /** bytes of an object, refusing (null) anything larger than maxBytes */
  get(bucket: string, key: string, maxBytes: number): Promise<Uint8Array | null>;
  /** bytes and metadata of an object (a given version when the bucket keeps versions), null when larger than maxBytes */
  read(bucket: string, key: string, maxBytes: number, versionId?: string): Promise<StoredObject | null>;
  put(bucket: string, key: string, body: Uint8Array | string, contentType: string): Promise<void>;
  /** every object under a prefix (all pages), in key order */
  list(bucket: string, prefix: string): Promise<ObjectSummary[]>;
  /** whether an object exists (alert markers) */
  exists(bucket: string, key: string): Promise<boolean>;
}

/** What reconciliation reads of the uploads bucket (a versioned bucket: every version counts). */
export interface UploadListing {
  /** the next level of "folders" under a prefix (delimiter '/'), e.g. uploads/ → uploads/150525/ */
  listPrefixes(bucket: string, prefix: string): Promise<string[]>;
  /** every object version under a prefix (all pages; delete markers left out) */
  listVersions(bucket: string, prefix: string): Promise<ObjectVersionSummary[]>;
}

export interface ObjectVersionSummary {
  key: string;
  /** the bucket's version id of this object version */
  versionId: string;
  size: number;
  eTag?: string;
  /** ISO time */
  lastModified: string;
}

/** Where upload events go to be ingested (the ingest queue): reconciliation sends what the event path lost. */
export interface UploadQueue {
  send(events: UploadEventRecord[]): Promise<void>;
}

/** An upload as an event announces it (core/ingest.ts UploadEvent; the adapters turn it into the S3 notification shape). */
export interface UploadEventRecord {
  bucket: string;
  /** decoded object key */
  key: string;
  size: number;
  /** S3's sequencer ('' when unknown: an event rebuilt from a listing) */
  sequencer: string;
  eTag?: string;
  /** ISO time of the upload */
  eventTime: string;
  /** the object's version id (a versioned bucket) */
  objectVersionId?: string;
  /** who wrote it, as the S3 event names the principal (absent: unknown) */
  principal?: string;
}

export interface ObjectSummary {
  key: string;
  size: number;
  /** ISO time */
  lastModified: string;
}

/** Where one upload stands among the uploads of the same submission: later order wins. */
export interface VersionRef {
  /** deterministic id of the upload: the same S3 event always gives the same id */
  versionId: string;
  /** sortable: upload time (ISO, ms) then S3 sequencer; decides which upload is newer */
  order: string;
  uploadedAt: string;
  objectKey: string;
}

/** One upload of a submission, as kept for audit. */
export interface SubmissionVersion extends VersionRef {
  county: string;
  institution: string;
  template: string;
  period: string;
  templateVersion: number | null;
  status: ReportStatus;
  errors: number;
  warnings: number;
  /** where the full JSON report is, in the reports bucket */
  reportKey: string;
  /** the first issues, for status pages that should not fetch the report */
  firstIssues: Report['issues'];
  /** where the marked-up workbook is, in the reports bucket (null when the upload had nothing to mark) */
  feedbackKey?: string | null;
  /** the S3 object version read (a versioned bucket) */
  objectVersionId?: string | null;
  /** who uploaded: the uploader metadata (an institution or commission code), or `iam:<principal>` */
  uploader?: string | null;
}

/** A version as stored, with its values when it was accepted. */
export interface StoredVersion {
  version: SubmissionVersion;
  submission: Submission | null;
}

/** The accepted version that counts for a submission: what consolidation reads. */
export interface CurrentSubmission extends SubmissionVersion {
  status: 'accepted' | 'accepted_with_warnings';
  submission: Submission;
}

/** The latest attempt at a submission, whatever its status, and how many uploads there were. */
export interface AttemptSummary extends SubmissionVersion {
  versions: number;
}

export interface PeriodEntry {
  institution: string;
  template: string;
  current: CurrentSubmission | null;
  latest: AttemptSummary | null;
}

export interface SubmissionStore {
  /** Keeps a version (and, for accepted ones, its values). Idempotent: the same versionId twice is one version; false when it was there already. */
  putVersion(version: SubmissionVersion, submission: Submission | null): Promise<boolean>;
  /** Makes an accepted version current unless a newer one already is. Returns whether it became current. */
  makeCurrent(current: CurrentSubmission): Promise<boolean>;
  /** Records the attempt: counts it once, and keeps it as the latest unless a newer attempt is there. */
  recordAttempt(version: SubmissionVersion): Promise<void>;
  /** Everything of a county and period: current accepted submissions and latest attempts. */
  listPeriod(county: string, period: string): Promise<PeriodEntry[]>;
  /** Current accepted submissions of one institution and template for periods in [from, to]. */
  history(institution: string, template: string, from: string, to: string): Promise<CurrentSubmission[]>;
  /** One version of a submission by its id, with its values, or null (read consistently: an ingest resumes from it). */
  findVersion(identity: SubmissionIdentityKey, versionId: string): Promise<StoredVersion | null>;
  /** The version ids of every fully processed upload of a county and period, per submission (reconciliation). */
  processedVersions(county: string, period: string): Promise<Array<SubmissionIdentityKey & { versionIds: string[] }>>;
  /** Every version of one submission, oldest first (audit). */
  versions(identity: Omit<SubmissionIdentity, 'template' | 'county'> & { template: string }): Promise<SubmissionVersion[]>;
  /**
   * Claims the right to send the one alert of a version: true for exactly one caller until it settles,
   * again after `leaseMs` if that caller vanished (a crashed attempt must not silence the alert).
   */
  claimAlert(version: VersionRef & SubmissionIdentityKey, now: Date, leaseMs: number): Promise<boolean>;
  /** After the claim: sent (never again) or not sent (the claim is released for a retry). */
  settleAlert(version: VersionRef & SubmissionIdentityKey, sent: boolean, now: Date): Promise<void>;
  /** Claims a one-off piece of scheduled work (a county's digest of the day): true for exactly one caller. */
  claimTask(id: string, now: Date): Promise<boolean>;
  /** Gives a claimed task back (its work failed and will be retried). */
  releaseTask(id: string): Promise<void>;
  /** Ledger rows of a version (stored apart: a 10,000-row ledger does not fit one item). */
  ledgerRows?(institution: string, template: string, period: string, versionId: string): Promise<LedgerRow[]>;
}

/** What names a submission: institution, template, period. */
export interface SubmissionIdentityKey {
  institution: string;
  template: string;
  period: string;
}

/** One alert, in the form each channel gets (published with SNS's per-protocol message structure). */
export interface Alert {
  /** email subject */
  subject: string;
  /** the full text: email, and every other protocol (SNS "default") */
  message: string;
  /** SMS: one segment (at most 70 characters of Chinese text) */
  sms: string;
  attributes: Record<string, string>;
}

export interface Alerter {
  publish(alert: Alert): Promise<void>;
}

/** Where the newest definitions version is (a small record the functions check every half minute). */
export interface DefinitionsHead {
  version: number;
  /** the object holding the whole log up to that version */
  key: string;
}

/** The commission's definitions, as a log of versions (functions/core/definitions). */
export interface DefinitionsStore {
  /** the newest version; null when nothing is stored yet */
  head(): Promise<DefinitionsHead | null>;
  read(head: DefinitionsHead): Promise<DefinitionsLog>;
  /** Stores a log whose previous newest version was `expected` (null: the first). False when another writer moved the head first. */
  write(log: DefinitionsLog, expected: number | null): Promise<boolean>;
}
