/**
 * The ports the core needs. The core never imports an AWS SDK: adapters implement these over
 * S3, DynamoDB and SNS (functions/adapters), and unit tests over plain memory.
 */
import type { Report, ReportStatus } from '../core/report.ts';
import type { LedgerRow, Submission, SubmissionIdentity } from '../core/normalize/submission.ts';
import type { DefinitionsLog } from '../core/definitions/log.ts';
import type { Person, PersonRecord } from '../core/people.ts';
import type { AuditEvent } from '../core/audit.ts';

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
  /** the person who uploaded: the portal user (mobile number) when the portal signed it, else `uploader` */
  uploadedBy?: string | null;
  /** the uploader's address, as the portal saw it when it signed the upload */
  uploaderIp?: string | null;
}

/** A version as stored, with its values when it was accepted. */
export interface StoredVersion {
  version: SubmissionVersion;
  submission: Submission | null;
}

/** 审核: pending until a county reviewer approves it or returns it with a reason. */
export type ReviewState = 'pending' | 'approved' | 'returned';

export interface Review {
  state: ReviewState;
  /** the reviewer (username, name), when, and a return's reason */
  by?: string;
  byName?: string;
  at?: string;
  reason?: string;
}

/** A reviewer's 已核实 on one warning of the version (keyed by warningKey). */
export interface WarningCheck {
  by: string;
  byName: string;
  at: string;
  note: string;
}

/** The institution's 说明 of its warnings. */
export interface Explanation {
  by: string;
  byName: string;
  at: string;
  text: string;
}

/** The accepted version that counts for a submission: what consolidation reads. */
export interface CurrentSubmission extends SubmissionVersion {
  status: 'accepted' | 'accepted_with_warnings';
  submission: Submission;
  /** absent on items accepted before review existed: those count as approved */
  review?: Review;
  checks?: Record<string, WarningCheck>;
  explanation?: Explanation | null;
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
  /** a closed month's accepted upload (补报), held until a reviewer approves it; then it becomes current */
  correction?: CurrentSubmission | null;
}

/** A month a county closed (关账): uploads after it are corrections (补报). */
export interface Closure {
  county: string;
  period: string;
  by: string;
  byName: string;
  at: string;
}

/** Which reviewable item: the current version, or a closed month's held correction. */
export interface ReviewSlot extends SubmissionIdentityKey {
  county: string;
  /** the version the reviewer looked at: a write fails when another version is there now */
  versionId: string;
  held: boolean;
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

  /** The closing of a county's month, or null while it is open. */
  closure(county: string, period: string): Promise<Closure | null>;
  /** Closes a month (conditional put): false when it was closed already. */
  closeMonth(closure: Closure): Promise<boolean>;
  /** Holds a closed month's accepted upload (补报) unless a newer one is held. Returns whether it is held now. */
  holdCorrection(correction: CurrentSubmission): Promise<boolean>;
  /** Sets the review of the version `slot` names; false when another version is there now. */
  setReview(slot: ReviewSlot, review: Review): Promise<boolean>;
  /** An approved correction becomes current (whatever was current) and is no longer held; false when it is not held any more. */
  promoteCorrection(correction: CurrentSubmission, review: Review): Promise<boolean>;
  /** Records a reviewer's 已核实 of one warning; false when another version is there now. */
  checkWarning(slot: ReviewSlot, key: string, check: WarningCheck): Promise<boolean>;
  /** Records the institution's 说明; false when another version is there now. */
  explain(slot: ReviewSlot, explanation: Explanation): Promise<boolean>;
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

/** The append-only audit trail (操作记录): one item per event, never updated or deleted. */
export interface AuditLog {
  /** Appends an event; the same event id twice is one event. */
  append(event: AuditEvent): Promise<void>;
  /** Events of one scope (a county, a city, or '-') whose Beijing month lies in [fromMonth, toMonth], oldest first. */
  list(scope: string, fromMonth: string, toMonth: string): Promise<AuditEvent[]>;
}

/** The tokens of a session. */
export interface SessionTokens {
  accessToken: string;
  refreshToken: string;
  /** seconds the access token lasts */
  expiresIn: number;
}

export type SignInOutcome =
  | { kind: 'signed-in'; tokens: SessionTokens }
  /** a temporary password was right: a new one must be chosen (`session` continues the sign-in) */
  | { kind: 'new-password'; session: string }
  | { kind: 'refused'; reason: 'credentials' | 'disabled' | 'temporary-expired' | 'password-policy' | 'session-expired'; message: string };

/** A verified session: who holds the access token. */
export interface Session {
  person: Person;
  /** the token's id (jti), and when it was issued and its sign-in happened (seconds) */
  tokenId: string;
  issuedAt: number;
  authTime: number;
  expiresAt: number;
}

/** A refusal of the identity provider that the caller can name (a Chinese message for the page). */
export class IdentityError extends Error {
  override name = 'IdentityError';
  constructor(
    readonly code: 'user-exists' | 'user-not-found' | 'invalid-password' | 'invalid-parameter',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Sign-in and the people of the user pool: Cognito in AWS, the local stand-in on one machine
 * (functions/adapters/cognito/identity.ts over either).
 */
export interface IdentityProvider {
  signIn(username: string, password: string): Promise<SignInOutcome>;
  /** completes a sign-in with a temporary password: the new password replaces it */
  completeNewPassword(username: string, session: string, newPassword: string): Promise<SignInOutcome>;
  /**
   * The session of a valid access token; null when it is malformed, forged, expired, revoked (logout)
   * or its user is disabled or reset. Revocation and disabling are seen within `recheckSeconds`.
   */
  verify(accessToken: string): Promise<Session | null>;
  /** Logout: revokes the refresh token and the access tokens issued with it. */
  signOut(tokens: { accessToken?: string; refreshToken?: string }): Promise<void>;
  createUser(person: Person, temporaryPassword: string): Promise<void>;
  getUser(username: string): Promise<PersonRecord | null>;
  listUsers(): Promise<PersonRecord[]>;
  /** Disabling also ends every session of the user. */
  setEnabled(username: string, enabled: boolean): Promise<void>;
  /** A new temporary password (changed at the next sign-in); every session of the user ends. */
  resetPassword(username: string, temporaryPassword: string): Promise<void>;
}
