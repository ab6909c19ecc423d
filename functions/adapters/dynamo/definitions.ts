/**
 * DefinitionsStore over the reports bucket and the table: each version's whole log is one immutable
 * object `definitions/v<version>-<hash>.json`; the item DEFS / HEAD names the newest one and moves
 * only by a conditional write, so two imports never both become version n.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DefinitionsLog } from '../../core/definitions/log.ts';
import type { DefinitionsHead, DefinitionsStore, ObjectStore } from '../../ports/index.ts';

export const DEFINITIONS_KEY = { PK: 'DEFS', SK: 'HEAD' } as const;
export const DEFINITIONS_PREFIX = 'definitions/';
/** a log is small (a province's initial definitions ≈ 2 MB); this bounds a read */
const MAX_LOG_BYTES = 64 * 1024 * 1024;

/** The object key of a log: its newest version and a hash of its content. */
export function definitionsKey(log: DefinitionsLog, body = JSON.stringify(log)): string {
  const newest = log.versions[log.versions.length - 1]?.version ?? 0;
  return `${DEFINITIONS_PREFIX}v${newest}-${createHash('sha256').update(body).digest('hex').slice(0, 12)}.json`;
}

export class StoredDefinitionsStore implements DefinitionsStore {
  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
    private readonly objects: ObjectStore,
    private readonly bucket: string,
  ) {}

  async head(): Promise<DefinitionsHead | null> {
    const out = await this.db.send(new GetItemCommand({ TableName: this.table, Key: { PK: { S: DEFINITIONS_KEY.PK }, SK: { S: DEFINITIONS_KEY.SK } }, ConsistentRead: true }));
    const version = Number(out.Item?.version?.N);
    const key = out.Item?.key?.S;
    return out.Item && Number.isInteger(version) && key ? { version, key } : null;
  }

  async read(head: DefinitionsHead): Promise<DefinitionsLog> {
    const bytes = await this.objects.get(this.bucket, head.key, MAX_LOG_BYTES);
    if (!bytes) throw new Error(`definitions: ${head.key} is larger than ${MAX_LOG_BYTES} bytes`);
    const log = JSON.parse(Buffer.from(bytes).toString('utf8')) as DefinitionsLog;
    if (log.versions[log.versions.length - 1]?.version !== head.version) throw new Error(`definitions: ${head.key} does not end at version ${head.version}`);
    return log;
  }

  async write(log: DefinitionsLog, expected: number | null): Promise<boolean> {
    const newest = log.versions[log.versions.length - 1];
    if (!newest) throw new Error('definitions: an empty log');
    const body = JSON.stringify(log);
    const key = definitionsKey(log, body);
    // the object first: the head, once moved, always names something readable
    await this.objects.put(this.bucket, key, body, 'application/json; charset=utf-8');
    try {
      await this.db.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            PK: { S: DEFINITIONS_KEY.PK },
            SK: { S: DEFINITIONS_KEY.SK },
            version: { N: String(newest.version) },
            key: { S: key },
            effective: { S: newest.effective ?? '' },
            by: { S: newest.by },
            updatedAt: { S: newest.createdAt },
          },
          ...(expected === null ? { ConditionExpression: 'attribute_not_exists(PK)' } : { ConditionExpression: '#v = :expected', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':expected': { N: String(expected) } } }),
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }
}

/** Stores `log` as the first definitions when none are stored; never replaces the commission's. */
export async function seedDefinitions(store: DefinitionsStore, log: DefinitionsLog): Promise<boolean> {
  if (await store.head()) return false;
  return store.write(log, null);
}
