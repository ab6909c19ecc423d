/** In-memory fakes of the ports, for unit tests of the core only (storage tests use dynalite/s3rver). */
import type { LedgerRow, Submission } from '../../functions/core/normalize/submission.ts';
import type { DefinitionsLog } from '../../functions/core/definitions/log.ts';
import { randomBytes } from 'node:crypto';
import type { AuditEvent } from '../../functions/core/audit.ts';
import { beijingMonth } from '../../functions/core/audit.ts';
import { passwordProblem, type Person, type PersonRecord } from '../../functions/core/people.ts';
import {
  IdentityError,
  type Alert,
  type Alerter,
  type AttemptSummary,
  type AuditLog,
  type Closure,
  type CurrentSubmission,
  type DefinitionsHead,
  type DefinitionsStore,
  type Explanation,
  type IdentityProvider,
  type ObjectStore,
  type PeriodEntry,
  type StoredVersion,
  type SubmissionIdentityKey,
  type Review,
  type ReviewSlot,
  type Session,
  type SignInOutcome,
  type SubmissionStore,
  type SubmissionVersion,
  type WarningCheck,
} from '../../functions/ports/index.ts';

export class MemoryObjects implements ObjectStore {
  readonly objects = new Map<string, Uint8Array>();
  readonly metadata = new Map<string, Record<string, string>>();
  async get(bucket: string, key: string, maxBytes: number) {
    return (await this.read(bucket, key, maxBytes))?.bytes ?? null;
  }
  async exists(bucket: string, key: string) {
    return this.objects.has(`${bucket}/${key}`);
  }
  async read(bucket: string, key: string, maxBytes: number) {
    const body = this.objects.get(`${bucket}/${key}`);
    if (!body) throw new Error(`NoSuchKey ${bucket}/${key}`);
    return body.length > maxBytes ? null : { bytes: body, metadata: this.metadata.get(`${bucket}/${key}`) ?? {} };
  }
  async put(bucket: string, key: string, body: Uint8Array | string, _contentType?: string, metadata: Record<string, string> = {}) {
    this.objects.set(`${bucket}/${key}`, typeof body === 'string' ? Buffer.from(body) : body);
    this.metadata.set(`${bucket}/${key}`, metadata);
  }
  async list(bucket: string, prefix: string) {
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(`${bucket}/${prefix}`))
      .map(([k, body]) => ({ key: k.slice(bucket.length + 1), size: body.length, lastModified: new Date(0).toISOString() }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
  text(bucket: string, key: string): string {
    return Buffer.from(this.objects.get(`${bucket}/${key}`)!).toString('utf8');
  }
}

export class MemoryStore implements SubmissionStore {
  readonly versionsById = new Map<string, { version: SubmissionVersion; submission: Submission | null }>();
  readonly currents = new Map<string, CurrentSubmission>();
  readonly attempts = new Map<string, { latest: SubmissionVersion; ids: Set<string> }>();

  async putVersion(version: SubmissionVersion, submission: Submission | null) {
    if (this.versionsById.has(version.versionId)) return false;
    this.versionsById.set(version.versionId, { version, submission });
    return true;
  }
  async findVersion(_identity: SubmissionIdentityKey, versionId: string): Promise<StoredVersion | null> {
    return this.versionsById.get(versionId) ?? null;
  }
  async processedVersions(county: string, period: string) {
    return [...this.attempts.values()]
      .filter((a) => a.latest.county === county && a.latest.period === period)
      .map((a) => ({ institution: a.latest.institution, template: a.latest.template, period, versionIds: [...a.ids] }));
  }
  async makeCurrent(current: CurrentSubmission) {
    const id = `${current.county}|${current.period}|${current.template}|${current.institution}`;
    const existing = this.currents.get(id);
    if (existing?.versionId === current.versionId) return true;
    if (existing && !(existing.order < current.order)) return false;
    this.currents.set(id, { review: { state: 'pending' }, checks: {}, explanation: null, ...structuredClone(current) });
    return true;
  }
  readonly corrections = new Map<string, CurrentSubmission>();
  readonly closures = new Map<string, Closure>();
  async closure(county: string, period: string) {
    return this.closures.get(`${county}|${period}`) ?? null;
  }
  async closeMonth(closure: Closure) {
    const id = `${closure.county}|${closure.period}`;
    if (this.closures.has(id)) return false;
    this.closures.set(id, closure);
    return true;
  }
  async holdCorrection(correction: CurrentSubmission) {
    const id = `${correction.county}|${correction.period}|${correction.template}|${correction.institution}`;
    const existing = this.corrections.get(id);
    if (existing?.versionId === correction.versionId) return true;
    if (existing && !(existing.order < correction.order)) return false;
    this.corrections.set(id, { review: { state: 'pending' }, checks: {}, explanation: null, ...structuredClone(correction) });
    return true;
  }
  private reviewable(slot: ReviewSlot): CurrentSubmission | null {
    const item = (slot.held ? this.corrections : this.currents).get(`${slot.county}|${slot.period}|${slot.template}|${slot.institution}`);
    return item?.versionId === slot.versionId ? item : null;
  }
  async setReview(slot: ReviewSlot, review: Review) {
    const item = this.reviewable(slot);
    if (item) item.review = review;
    return !!item;
  }
  async checkWarning(slot: ReviewSlot, key: string, check: WarningCheck) {
    const item = this.reviewable(slot);
    if (item) item.checks = { ...item.checks, [key]: check };
    return !!item;
  }
  async explain(slot: ReviewSlot, explanation: Explanation) {
    const item = this.reviewable(slot);
    if (item) item.explanation = explanation;
    return !!item;
  }
  async promoteCorrection(correction: CurrentSubmission, review: Review) {
    const id = `${correction.county}|${correction.period}|${correction.template}|${correction.institution}`;
    const existing = this.currents.get(id);
    if (existing && existing.order > correction.order) return false;
    this.currents.set(id, { ...structuredClone(correction), review });
    if (this.corrections.get(id)?.versionId === correction.versionId) this.corrections.delete(id);
    return true;
  }
  async recordAttempt(version: SubmissionVersion) {
    const id = `${version.county}|${version.period}|${version.template}|${version.institution}`;
    const a = this.attempts.get(id) ?? { latest: version, ids: new Set<string>() };
    a.ids.add(version.versionId);
    if (a.latest.order <= version.order) a.latest = version;
    this.attempts.set(id, a);
  }
  async listPeriod(county: string, period: string): Promise<PeriodEntry[]> {
    const out = new Map<string, PeriodEntry>();
    const entry = (inst: string, tpl: string) => out.get(`${tpl}#${inst}`) ?? { institution: inst, template: tpl, current: null, latest: null, correction: null };
    for (const c of this.currents.values()) if (c.county === county && c.period === period) out.set(`${c.template}#${c.institution}`, { ...entry(c.institution, c.template), current: structuredClone(c) });
    for (const c of this.corrections.values()) if (c.county === county && c.period === period) out.set(`${c.template}#${c.institution}`, { ...entry(c.institution, c.template), correction: structuredClone(c) });
    for (const a of this.attempts.values()) {
      const v = a.latest;
      if (v.county === county && v.period === period) out.set(`${v.template}#${v.institution}`, { ...entry(v.institution, v.template), latest: { ...v, versions: a.ids.size } as AttemptSummary });
    }
    return [...out.values()];
  }
  async history(institution: string, template: string, from: string, to: string) {
    return [...this.currents.values()].filter((c) => c.institution === institution && c.template === template && c.period >= from && c.period <= to).sort((a, b) => a.period.localeCompare(b.period));
  }
  async versions(identity: { institution: string; template: string; period: string }) {
    return [...this.versionsById.values()]
      .map((v) => v.version)
      .filter((v) => v.institution === identity.institution && v.template === identity.template && v.period === identity.period)
      .sort((a, b) => a.order.localeCompare(b.order));
  }
  readonly alertStates = new Map<string, { claimedAt?: number; sentAt?: number }>();
  async claimAlert(version: { versionId: string }, now: Date, leaseMs: number) {
    const state = this.alertStates.get(version.versionId) ?? {};
    if (state.sentAt !== undefined || (state.claimedAt !== undefined && state.claimedAt > now.getTime() - leaseMs)) return false;
    this.alertStates.set(version.versionId, { claimedAt: now.getTime() });
    return true;
  }
  async settleAlert(version: { versionId: string }, sent: boolean, now: Date) {
    this.alertStates.set(version.versionId, sent ? { sentAt: now.getTime() } : {});
  }
  readonly tasks = new Set<string>();
  async claimTask(id: string) {
    if (this.tasks.has(id)) return false;
    this.tasks.add(id);
    return true;
  }
  async releaseTask(id: string) {
    this.tasks.delete(id);
  }
  async ledgerRows(_i: string, _t: string, _p: string, versionId: string): Promise<LedgerRow[]> {
    const s = this.versionsById.get(versionId)?.submission;
    return s?.kind === 'ledger' ? s.rows : [];
  }
}

export class MemoryAlerter implements Alerter {
  readonly sent: Alert[] = [];
  async publish(alert: Alert) {
    this.sent.push(alert);
  }
}

/** DefinitionsStore in memory: the head moves by compare-and-set, as the table item does. */
export class MemoryDefinitions implements DefinitionsStore {
  private log: DefinitionsLog | null = null;
  reads = 0;
  heads = 0;
  constructor(initial?: DefinitionsLog) {
    if (initial) this.log = structuredClone(initial);
  }
  async head(): Promise<DefinitionsHead | null> {
    this.heads++;
    const newest = this.log?.versions[this.log.versions.length - 1];
    return newest ? { version: newest.version, key: `definitions/v${newest.version}.json` } : null;
  }
  async read(): Promise<DefinitionsLog> {
    this.reads++;
    return structuredClone(this.log!);
  }
  async write(log: DefinitionsLog, expected: number | null): Promise<boolean> {
    const newest = this.log?.versions[this.log.versions.length - 1]?.version ?? null;
    if (newest !== expected) return false;
    this.log = structuredClone(log);
    return true;
  }
}

export class MemoryAudit implements AuditLog {
  readonly events: AuditEvent[] = [];
  async append(event: AuditEvent) {
    if (!this.events.some((e) => e.scope === event.scope && e.id === event.id)) this.events.push(structuredClone(event));
  }
  async list(scope: string, fromMonth: string, toMonth: string) {
    return this.events.filter((e) => e.scope === scope && beijingMonth(e.at) >= fromMonth && beijingMonth(e.at) <= toMonth).sort((a, b) => a.id.localeCompare(b.id));
  }
}

/**
 * An IdentityProvider in memory for unit tests of the portal core: the same outcomes as the Cognito
 * adapter (functions/adapters/cognito/identity.ts), opaque tokens. The adapter itself is tested over
 * HTTP against the local user pool (tests/integration/identity.test.ts).
 */
export class MemoryIdentity implements IdentityProvider {
  readonly users = new Map<string, PersonRecord & { password: string }>();
  private readonly tokens = new Map<string, { username: string; refresh: string; issuedAt: number; revoked: boolean }>();
  private readonly challenges = new Map<string, string>();
  constructor(private readonly now: () => number = Date.now) {}

  /** a user who has signed in once already (password set) */
  add(person: Person, password: string) {
    this.users.set(person.username, { ...person, enabled: true, status: 'CONFIRMED', createdAt: new Date(this.now()).toISOString(), password });
  }
  private issue(username: string): SignInOutcome {
    const accessToken = `at-${randomBytes(12).toString('hex')}`;
    const refreshToken = `rt-${randomBytes(12).toString('hex')}`;
    this.tokens.set(accessToken, { username, refresh: refreshToken, issuedAt: Math.floor(this.now() / 1000), revoked: false });
    return { kind: 'signed-in', tokens: { accessToken, refreshToken, expiresIn: 12 * 3600 } };
  }
  async signIn(username: string, password: string): Promise<SignInOutcome> {
    const u = this.users.get(username);
    if (!u || u.password !== password) return { kind: 'refused', reason: 'credentials', message: 'Incorrect username or password.' };
    if (!u.enabled) return { kind: 'refused', reason: 'disabled', message: 'User is disabled.' };
    if (u.status === 'FORCE_CHANGE_PASSWORD') {
      const session = randomBytes(8).toString('hex');
      this.challenges.set(session, username);
      return { kind: 'new-password', session };
    }
    return this.issue(username);
  }
  async completeNewPassword(username: string, session: string, newPassword: string): Promise<SignInOutcome> {
    if (this.challenges.get(session) !== username) return { kind: 'refused', reason: 'session-expired', message: 'Invalid session for the user, session is expired.' };
    const problem = passwordProblem(newPassword);
    if (problem) return { kind: 'refused', reason: 'password-policy', message: problem };
    this.challenges.delete(session);
    Object.assign(this.users.get(username)!, { password: newPassword, status: 'CONFIRMED' });
    return this.issue(username);
  }
  async verify(accessToken: string): Promise<Session | null> {
    const t = this.tokens.get(accessToken);
    const u = t && this.users.get(t.username);
    if (!t || !u || t.revoked || !u.enabled) return null;
    const { enabled: _e, status: _s, createdAt: _c, password: _p, ...person } = u;
    return { person, tokenId: accessToken, issuedAt: t.issuedAt, authTime: t.issuedAt, expiresAt: t.issuedAt + 12 * 3600 };
  }
  async signOut(tokens: { accessToken?: string; refreshToken?: string }) {
    for (const t of this.tokens.values()) if (t.refresh === tokens.refreshToken) t.revoked = true;
  }
  async createUser(person: Person, temporaryPassword: string) {
    if (this.users.has(person.username)) throw new IdentityError('user-exists', '该手机号已有账号');
    this.users.set(person.username, { ...person, enabled: true, status: 'FORCE_CHANGE_PASSWORD', createdAt: new Date(this.now()).toISOString(), password: temporaryPassword });
  }
  async getUser(username: string) {
    const u = this.users.get(username);
    if (!u) return null;
    const { password: _p, ...record } = u;
    return structuredClone(record);
  }
  async listUsers() {
    return [...this.users.values()].map(({ password: _p, ...record }) => structuredClone(record));
  }
  private signOutEverywhere(username: string) {
    for (const t of this.tokens.values()) if (t.username === username) t.revoked = true;
  }
  async setEnabled(username: string, enabled: boolean) {
    const u = this.users.get(username);
    if (!u) throw new IdentityError('user-not-found', '账号不存在');
    u.enabled = enabled;
    if (!enabled) this.signOutEverywhere(username);
  }
  async resetPassword(username: string, temporaryPassword: string) {
    const u = this.users.get(username);
    if (!u) throw new IdentityError('user-not-found', '账号不存在');
    Object.assign(u, { password: temporaryPassword, status: 'FORCE_CHANGE_PASSWORD' });
    this.signOutEverywhere(username);
  }
}
