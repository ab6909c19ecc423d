/**
 * The audit trail in the table (ARCHITECTURE.md): one item per event, written once.
 *
 *   AUD#<scope>#<yyyy-mm> / <at>#<suffix>     scope: county (or city, or '-'); month: Beijing month of `at`
 *
 * A put with attribute_not_exists: the same event id twice is one event (an upload's event is keyed
 * by its version). The writers' roles may put items under AUD#* and nothing else there: no update,
 * no delete (infra).
 */
import { PutItemCommand, ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { beijingMonth, type AuditEvent } from '../../core/audit.ts';
import { shiftPeriod } from '../../core/validate/history.ts';
import type { AuditLog } from '../../ports/index.ts';
import { queryAll, type CapacityMeter } from './store.ts';

/** Partition keys of audit items: writers are granted puts under this prefix only. */
export const AUDIT_KEY_PREFIX = 'AUD#';
export const auditPartition = (scope: string, month: string): string => `${AUDIT_KEY_PREFIX}${scope}#${month}`;

export class DynamoAuditLog implements AuditLog {
  readonly capacity: CapacityMeter = { readUnits: 0 };

  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
  ) {}

  async append(event: AuditEvent): Promise<void> {
    const { id, ...rest } = event;
    try {
      await this.db.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall({ PK: auditPartition(event.scope, beijingMonth(event.at)), SK: id, ...rest }, { removeUndefinedValues: true }),
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  async list(scope: string, fromMonth: string, toMonth: string): Promise<AuditEvent[]> {
    const events: AuditEvent[] = [];
    for (let month = fromMonth; month <= toMonth; month = shiftPeriod(month, 1)) {
      const items = await queryAll(this.db, this.capacity, {
        TableName: this.table,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: marshall({ ':pk': auditPartition(scope, month) }),
      });
      for (const { PK: _pk, SK, ...rest } of items) events.push({ ...(rest as Omit<AuditEvent, 'id'>), id: String(SK) });
    }
    return events;
  }
}
