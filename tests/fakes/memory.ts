/** In-memory fakes of the ports, for unit tests of the core only (storage tests use dynalite/s3rver). */
import type { LedgerRow, Submission } from '../../functions/core/normalize/submission.ts';
import type { DefinitionsLog } from '../../functions/core/definitions/log.ts';
import type { Alert, Alerter, AttemptSummary, CurrentSubmission, DefinitionsHead, DefinitionsStore, ObjectStore, PeriodEntry, StoredVersion, SubmissionIdentityKey, SubmissionStore, SubmissionVersion } from '../../functions/ports/index.ts';

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
    if (existing && !(existing.order < current.order || (existing.order === current.order && existing.versionId === current.versionId))) return false;
    this.currents.set(id, current);
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
    const entry = (inst: string, tpl: string) => out.get(`${tpl}#${inst}`) ?? { institution: inst, template: tpl, current: null, latest: null };
    for (const c of this.currents.values()) if (c.county === county && c.period === period) out.set(`${c.template}#${c.institution}`, { ...entry(c.institution, c.template), current: c });
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
