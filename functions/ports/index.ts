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
  /** Keeps a version (and, for accepted ones, its values). Idempotent: the same versionId twice is one version. */
  putVersion(version: SubmissionVersion, submission: Submission | null): Promise<void>;
  /** Makes an accepted version current unless a newer one already is. Returns whether it became current. */
  makeCurrent(current: CurrentSubmission): Promise<boolean>;
  /** Records the attempt: counts it once, and keeps it as the latest unless a newer attempt is there. */
  recordAttempt(version: SubmissionVersion): Promise<void>;
  /** Everything of a county and period: current accepted submissions and latest attempts. */
  listPeriod(county: string, period: string): Promise<PeriodEntry[]>;
  /** Current accepted submissions of one institution and template for periods in [from, to]. */
  history(institution: string, template: string, from: string, to: string): Promise<CurrentSubmission[]>;
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
