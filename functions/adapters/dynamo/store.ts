/**
 * SubmissionStore over one DynamoDB table (keys in ARCHITECTURE.md). No transactions (dynalite has
 * none, and none are needed): versions are written under their own keys, then one conditional
 * write flips "current".
 *
 *   SUB#<inst>#<tpl>#<period> / V#<versionId>           a version (audit), values map when accepted (V#<order>#<versionId> before issue 14)
 *   SUB#<inst>#<tpl>#<period> / R#<versionId>#<nnnn>     ledger rows of a version, gzipped JSON text in chunks of ≤ 300 KB
 *   CP#<county>#<period>      / CUR#<tpl>#<inst>         current accepted version (GSI1: H#<inst>#<tpl> / <period>)
 *   CP#<county>#<period>      / ATT#<tpl>#<inst>         latest attempt and the set of version ids
 *   CP#<county>#<period>      / PEND#<tpl>#<inst>        a closed month's correction (补报), held until approved
 *   CLOSE#<county>            / <period>                 the month closed (关账): who, when
 *   TASK#<id>                 / TASK                     a one-off scheduled task done (digest#<county>#<period>#<day>)
 *
 * The review (审核) of a current version or held correction lives on its own item (review, checks,
 * explanation), written with a condition on its versionId: a review of a version that has since been
 * replaced fails instead of landing on the new one, and a re-upload (a new item) starts pending.
 */
import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type QueryCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { gunzipSync, gzipSync } from 'node:zlib';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { LedgerRow, Submission } from '../../core/normalize/submission.ts';
import type {
  AttemptSummary,
  Closure,
  CurrentSubmission,
  Explanation,
  PeriodEntry,
  StoredVersion,
  Review,
  ReviewSlot,
  SubmissionIdentityKey,
  SubmissionStore,
  SubmissionVersion,
  VersionRef,
  WarningCheck,
} from '../../ports/index.ts';

/**
 * Ledger rows are stored as JSON text in chunk items of at most this many bytes before compression
 * (DynamoDB's item limit is 400 KB; gzip never grows a chunk by more than a few hundred bytes): one
 * binary attribute marshals and writes far faster than thousands of nested maps, and gzip makes it a
 * sixteenth (a 10,000-row ledger: 2.5 MB of JSON in 9 items, 150 KB written; issue 17).
 */
export const LEDGER_CHUNK_BYTES = 300_000;

/** Rows in order, cut into JSON arrays of at most maxBytes (UTF-8) each; a row is never split. */
export function chunkRows(rows: readonly LedgerRow[], maxBytes = LEDGER_CHUNK_BYTES): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const row of rows) {
    const json = JSON.stringify(row);
    const bytes = Buffer.byteLength(json) + 1;
    if (current.length && size + bytes > maxBytes) {
      chunks.push(`[${current.join(',')}]`);
      current = [];
      size = 2;
    }
    current.push(json);
    size += bytes;
  }
  if (current.length) chunks.push(`[${current.join(',')}]`);
  return chunks;
}
const MARSHALL = { removeUndefinedValues: true, convertEmptyValues: false } as const;

/** Partition keys of one-off task markers: the scheduled function may write these and nothing else. */
export const TASK_KEY_PREFIX = 'TASK#';

export const keys = {
  submission: (inst: string, tpl: string, period: string) => `SUB#${inst}#${tpl}#${period}`,
  /** one item per version id, whatever order the first delivery computed: no path can write a version twice */
  version: (versionId: string) => `V#${versionId}`,
  rows: (versionId: string, chunk: number) => `R#${versionId}#${String(chunk).padStart(4, '0')}`,
  countyPeriod: (county: string, period: string) => `CP#${county}#${period}`,
  current: (tpl: string, inst: string) => `CUR#${tpl}#${inst}`,
  attempt: (tpl: string, inst: string) => `ATT#${tpl}#${inst}`,
  correction: (tpl: string, inst: string) => `PEND#${tpl}#${inst}`,
  closed: (county: string) => `CLOSE#${county}`,
  history: (inst: string, tpl: string) => `H#${inst}#${tpl}`,
  task: (id: string) => `${TASK_KEY_PREFIX}${id}`,
};

export class DynamoSubmissionStore implements SubmissionStore {
  /** read units consumed by this store's queries and gets since it was made (bench/consolidate.ts reports them) */
  readonly capacity: CapacityMeter = { readUnits: 0 };

  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
  ) {}

  async putVersion(version: SubmissionVersion, submission: Submission | null): Promise<boolean> {
    const pk = keys.submission(version.institution, version.template, version.period);
    let stored: Submission | null = submission;
    if (submission?.kind === 'ledger') {
      const chunks: WriteRequest[] = chunkRows(submission.rows).map((rowsJson, i) => ({
        PutRequest: { Item: { PK: { S: pk }, SK: { S: keys.rows(version.versionId, i) }, rowsGzip: { B: gzipSync(rowsJson, { level: 1 }) } } },
      }));
      await batchWrite(this.db, this.table, chunks);
      stored = { ...submission, rows: [] };
    }
    const item = { PK: pk, SK: keys.version(version.versionId), ...toItem(version), submission: stored ?? undefined };
    return this.conditionally(new PutItemCommand({ TableName: this.table, Item: marshall(item, MARSHALL), ConditionExpression: 'attribute_not_exists(PK)' }));
  }

  async findVersion(identity: SubmissionIdentityKey, versionId: string): Promise<StoredVersion | null> {
    const out = await this.db.send(
      new GetItemCommand({ TableName: this.table, Key: marshall({ PK: keys.submission(identity.institution, identity.template, identity.period), SK: keys.version(versionId) }), ConsistentRead: true }),
    );
    if (!out.Item) return null;
    const { submission, ...version } = fromItem(unmarshall(out.Item));
    return { version, submission: (submission as Submission | undefined) ?? null };
  }

  async processedVersions(county: string, period: string): Promise<Array<SubmissionIdentityKey & { versionIds: string[] }>> {
    const items = await queryAll(this.db, this.capacity, {
      TableName: this.table,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :att)',
      ProjectionExpression: 'SK, versionIds',
      ExpressionAttributeValues: marshall({ ':pk': keys.countyPeriod(county, period), ':att': 'ATT#' }),
    });
    return items.map((item) => {
      const [, template, institution] = String(item.SK).split('#') as [string, string, string];
      return { institution, template, period, versionIds: [...((item.versionIds as Set<string> | undefined) ?? [])] };
    });
  }

  async makeCurrent(current: CurrentSubmission): Promise<boolean> {
    const item = this.reviewable(current, keys.current(current.template, current.institution));
    const put = await this.conditionally(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({ ...item, GSI1PK: keys.history(current.institution, current.template), GSI1SK: current.period }, MARSHALL),
        ConditionExpression: 'attribute_not_exists(PK) OR #order < :order',
        ExpressionAttributeNames: { '#order': 'order' },
        ExpressionAttributeValues: marshall({ ':order': current.order }),
      }),
    );
    // the same version again (a repeated event) is current already; its review must stay as it is
    return put || (await this.current(current.county, current.period, current.template, current.institution))?.versionId === current.versionId;
  }

  async holdCorrection(correction: CurrentSubmission): Promise<boolean> {
    const item = this.reviewable(correction, keys.correction(correction.template, correction.institution));
    const put = await this.conditionally(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall(item, MARSHALL),
        ConditionExpression: 'attribute_not_exists(PK) OR #order < :order',
        ExpressionAttributeNames: { '#order': 'order' },
        ExpressionAttributeValues: marshall({ ':order': correction.order }),
      }),
    );
    if (put) return true;
    const held = await this.db.send(new GetItemCommand({ TableName: this.table, Key: marshall({ PK: item.PK, SK: item.SK }), ConsistentRead: true }));
    return held.Item ? unmarshall(held.Item).versionId === correction.versionId : false;
  }

  /** The item of a version under review: its fields, the submission (ledger rows apart) and a fresh review. */
  private reviewable(current: CurrentSubmission, sk: string) {
    const submission = current.submission.kind === 'ledger' ? { ...current.submission, rows: [] } : current.submission;
    return {
      PK: keys.countyPeriod(current.county, current.period),
      SK: sk,
      ...toItem(current),
      submission,
      review: current.review ?? { state: 'pending' },
      checks: current.checks ?? {},
      explanation: current.explanation ?? null,
    };
  }

  async closure(county: string, period: string): Promise<Closure | null> {
    const out = await this.db.send(new GetItemCommand({ TableName: this.table, Key: marshall({ PK: keys.closed(county), SK: period }), ConsistentRead: true }));
    if (!out.Item) return null;
    const i = unmarshall(out.Item);
    return { county, period, by: String(i.by), byName: String(i.byName ?? ''), at: String(i.at) };
  }

  async closeMonth(closure: Closure): Promise<boolean> {
    return this.conditionally(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({ PK: keys.closed(closure.county), SK: closure.period, by: closure.by, byName: closure.byName, at: closure.at }),
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
  }

  async setReview(slot: ReviewSlot, review: Review): Promise<boolean> {
    return this.updateReviewable(slot, 'SET review = :r', { ':r': review });
  }

  async checkWarning(slot: ReviewSlot, key: string, check: WarningCheck): Promise<boolean> {
    // items written before checks existed have no map to set a key in
    if (!(await this.updateReviewable(slot, 'SET checks = if_not_exists(checks, :empty)', { ':empty': {} }))) return false;
    return this.updateReviewable(slot, 'SET checks.#k = :c', { ':c': check }, { '#k': key });
  }

  async explain(slot: ReviewSlot, explanation: Explanation): Promise<boolean> {
    return this.updateReviewable(slot, 'SET explanation = :e', { ':e': explanation });
  }

  async promoteCorrection(correction: CurrentSubmission, review: Review): Promise<boolean> {
    const promoted = await this.makeCurrent({ ...correction, review });
    if (!promoted) return false;
    // a newer correction uploaded meanwhile stays held
    await this.conditionally(
      new DeleteItemCommand({
        TableName: this.table,
        Key: marshall({ PK: keys.countyPeriod(correction.county, correction.period), SK: keys.correction(correction.template, correction.institution) }),
        ConditionExpression: 'versionId = :vid',
        ExpressionAttributeValues: marshall({ ':vid': correction.versionId }),
      }),
    );
    return true;
  }

  private updateReviewable(slot: ReviewSlot, update: string, values: Record<string, unknown>, names: Record<string, string> = {}): Promise<boolean> {
    return this.conditionally(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall({ PK: keys.countyPeriod(slot.county, slot.period), SK: (slot.held ? keys.correction : keys.current)(slot.template, slot.institution) }),
        UpdateExpression: update,
        ConditionExpression: 'versionId = :vid',
        ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: marshall({ ...values, ':vid': slot.versionId }, MARSHALL),
      }),
    );
  }

  async recordAttempt(version: SubmissionVersion): Promise<void> {
    const Key = marshall({ PK: keys.countyPeriod(version.county, version.period), SK: keys.attempt(version.template, version.institution) });
    // a string set: adding the same version id twice counts it once
    await this.db.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key,
        UpdateExpression: 'ADD versionIds :v',
        ExpressionAttributeValues: { ':v': { SS: [version.versionId] } },
      }),
    );
    const fields = toItem(version);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':order': version.order };
    const sets = Object.entries(fields).map(([k, v], i) => {
      names[`#f${i}`] = k;
      values[`:f${i}`] = v;
      return `#f${i} = :f${i}`;
    });
    await this.conditionally(
      new UpdateItemCommand({
        TableName: this.table,
        Key,
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'attribute_not_exists(#order) OR #order <= :order',
        ExpressionAttributeNames: { ...names, '#order': 'order' },
        ExpressionAttributeValues: marshall(values, MARSHALL),
      }),
    );
  }

  async listPeriod(county: string, period: string): Promise<PeriodEntry[]> {
    const items = await queryAll(this.db, this.capacity, {
      TableName: this.table,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: marshall({ ':pk': keys.countyPeriod(county, period) }),
    });
    const entries = new Map<string, PeriodEntry>();
    for (const item of items) {
      const [kind, template, institution] = String(item.SK).split('#') as [string, string, string];
      const id = `${template}#${institution}`;
      const entry = entries.get(id) ?? { institution, template, current: null, latest: null, correction: null };
      if (kind === 'CUR') entry.current = fromItem(item) as CurrentSubmission;
      if (kind === 'PEND') entry.correction = fromItem(item) as CurrentSubmission;
      if (kind === 'ATT' && item.versionId) entry.latest = { ...(fromItem(item) as SubmissionVersion), versions: (item.versionIds as Set<string> | undefined)?.size ?? 0 } as AttemptSummary;
      entries.set(id, entry);
    }
    return [...entries.values()].sort((a, b) => (a.institution + a.template).localeCompare(b.institution + b.template));
  }

  async history(institution: string, template: string, from: string, to: string): Promise<CurrentSubmission[]> {
    const items = await queryAll(this.db, this.capacity, {
      TableName: this.table,
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK BETWEEN :from AND :to',
      ExpressionAttributeValues: marshall({ ':pk': keys.history(institution, template), ':from': from, ':to': to }),
    });
    return items.map((i) => fromItem(i) as CurrentSubmission);
  }

  async versions(identity: { institution: string; template: string; period: string }): Promise<SubmissionVersion[]> {
    const items = await queryAll(this.db, this.capacity, {
      TableName: this.table,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :v)',
      ExpressionAttributeValues: marshall({ ':pk': keys.submission(identity.institution, identity.template, identity.period), ':v': 'V#' }),
    });
    // oldest first: by order (version items are keyed by id alone)
    return items.map((i) => fromItem(i)).sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  }

  async claimAlert(version: VersionRef & SubmissionIdentityKey, now: Date, leaseMs: number): Promise<boolean> {
    return this.conditionally(
      new UpdateItemCommand({
        TableName: this.table,
        Key: this.versionKey(version),
        UpdateExpression: 'SET alertClaimedAt = :now',
        ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(alertSentAt) AND (attribute_not_exists(alertClaimedAt) OR alertClaimedAt < :stale)',
        ExpressionAttributeValues: marshall({ ':now': now.getTime(), ':stale': now.getTime() - leaseMs }),
      }),
    );
  }

  async settleAlert(version: VersionRef & SubmissionIdentityKey, sent: boolean, now: Date): Promise<void> {
    await this.db.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: this.versionKey(version),
        ...(sent
          ? { UpdateExpression: 'SET alertSentAt = :now REMOVE alertClaimedAt', ExpressionAttributeValues: marshall({ ':now': now.getTime() }) }
          : { UpdateExpression: 'REMOVE alertClaimedAt' }),
      }),
    );
  }

  async claimTask(id: string, now: Date): Promise<boolean> {
    return this.conditionally(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({ PK: keys.task(id), SK: 'TASK', claimedAt: now.toISOString() }),
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
  }

  async releaseTask(id: string): Promise<void> {
    await this.db.send(new DeleteItemCommand({ TableName: this.table, Key: marshall({ PK: keys.task(id), SK: 'TASK' }) }));
  }

  /** Sends a conditional write: true when it was made, false when its condition did not hold. */
  private async conditionally(command: PutItemCommand | UpdateItemCommand | DeleteItemCommand): Promise<boolean> {
    try {
      // one call per type: send's overloads take one command type each
      if (command instanceof PutItemCommand) await this.db.send(command);
      else if (command instanceof UpdateItemCommand) await this.db.send(command);
      else await this.db.send(command);
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  private versionKey(v: VersionRef & SubmissionIdentityKey): Record<string, AttributeValue> {
    return marshall({ PK: keys.submission(v.institution, v.template, v.period), SK: keys.version(v.versionId) });
  }

  async ledgerRows(institution: string, template: string, period: string, versionId: string): Promise<LedgerRow[]> {
    const items = await queryAll(this.db, this.capacity, {
      TableName: this.table,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :r)',
      ExpressionAttributeValues: marshall({ ':pk': keys.submission(institution, template, period), ':r': `R#${versionId}#` }),
    });
    // items written before rows were gzipped hold JSON text (rowsJson), and before that a list of maps (rows)
    return items.flatMap((i) => (i.rowsGzip instanceof Uint8Array ? JSON.parse(gunzipSync(i.rowsGzip).toString('utf8')) : typeof i.rowsJson === 'string' ? JSON.parse(i.rowsJson) : i.rows) as LedgerRow[]);
  }

  /** The current accepted version of one submission, or null. */
  async current(county: string, period: string, template: string, institution: string): Promise<CurrentSubmission | null> {
    const out = await this.db.send(
      new GetItemCommand({ TableName: this.table, Key: marshall({ PK: keys.countyPeriod(county, period), SK: keys.current(template, institution) }), ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' }),
    );
    this.capacity.readUnits += out.ConsumedCapacity?.CapacityUnits ?? 0;
    return out.Item ? (fromItem(unmarshall(out.Item)) as CurrentSubmission) : null;
  }
}

const VERSION_FIELDS = ['versionId', 'order', 'uploadedAt', 'objectKey', 'county', 'institution', 'template', 'period', 'templateVersion', 'status', 'errors', 'warnings', 'reportKey', 'feedbackKey', 'firstIssues', 'objectVersionId', 'uploader', 'uploadedBy', 'uploaderIp'] as const;
/** on current and held items only; absent on items from before review existed */
const REVIEW_FIELDS = ['review', 'checks', 'explanation'] as const;

function toItem(v: SubmissionVersion): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of VERSION_FIELDS) out[f] = f === 'firstIssues' ? JSON.stringify(v.firstIssues) : (v[f] ?? null);
  return out;
}

function fromItem(item: Record<string, unknown>): SubmissionVersion & { submission?: Submission } {
  const out: Record<string, unknown> = {};
  for (const f of VERSION_FIELDS) out[f] = item[f] ?? null;
  out.firstIssues = typeof item.firstIssues === 'string' ? JSON.parse(item.firstIssues) : [];
  if (item.submission) out.submission = item.submission;
  for (const f of REVIEW_FIELDS) if (item[f] !== undefined) out[f] = item[f];
  return out as unknown as SubmissionVersion & { submission?: Submission };
}

/** Read capacity consumed, as DynamoDB reports it (on-demand bills read request units by it). */
export interface CapacityMeter {
  readUnits: number;
}

/** Every page of a Query, its consumed capacity added to `meter`. */
export async function queryAll(db: DynamoDBClient, meter: CapacityMeter, input: QueryCommandInput): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
  do {
    const out = await db.send(new QueryCommand({ ...input, ExclusiveStartKey, ReturnConsumedCapacity: 'TOTAL' }));
    meter.readUnits += out.ConsumedCapacity?.CapacityUnits ?? 0;
    for (const item of out.Items ?? []) items.push(unmarshall(item));
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

/** BatchWriteItem in 25s, retrying UnprocessedItems with exponential backoff and jitter. */
export async function batchWrite(db: DynamoDBClient, table: string, requests: WriteRequest[], maxAttempts = 8): Promise<void> {
  const batches: WriteRequest[][] = [];
  for (let i = 0; i < requests.length; i += 25) batches.push(requests.slice(i, i + 25));
  await Promise.all(
    batches.map(async (batch) => {
      let pending = batch;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= maxAttempts) throw new Error(`BatchWriteItem: ${pending.length} items unprocessed after ${maxAttempts} attempts`);
        if (attempt > 0) await sleep(Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random() / 2));
        const out = await db.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
        pending = out.UnprocessedItems?.[table] ?? [];
      }
    }),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
