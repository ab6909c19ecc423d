/**
 * The single DynamoDB table, defined once for the CDK stack and the local stack.
 *
 *   PK (S) / SK (S)            primary key
 *   GSI1: GSI1PK (S) / GSI1SK (S), projection ALL
 *   billing PAY_PER_REQUEST
 *
 * The item layout over these keys is in functions/adapters/dynamo/store.ts.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

export const TABLE_KEYS = {
  partitionKey: { name: 'PK', type: 'S' },
  sortKey: { name: 'SK', type: 'S' },
  gsi1: {
    indexName: 'GSI1',
    partitionKey: { name: 'GSI1PK', type: 'S' },
    sortKey: { name: 'GSI1SK', type: 'S' },
    projection: 'ALL',
  },
  billingMode: 'PAY_PER_REQUEST',
} as const;

export function createTableInput(tableName: string): CreateTableCommandInput {
  const k = TABLE_KEYS;
  return {
    TableName: tableName,
    BillingMode: k.billingMode,
    AttributeDefinitions: [k.partitionKey, k.sortKey, k.gsi1.partitionKey, k.gsi1.sortKey].map((a) => ({
      AttributeName: a.name,
      AttributeType: a.type,
    })),
    KeySchema: [
      { AttributeName: k.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: k.sortKey.name, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: k.gsi1.indexName,
        KeySchema: [
          { AttributeName: k.gsi1.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: k.gsi1.sortKey.name, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: k.gsi1.projection },
      },
    ],
  };
}

export interface EnsureTableOptions {
  /** seconds (default 60) */
  maxWaitTime?: number;
  /** seconds between DescribeTable polls (default 1 and 1: the waiter's own default first delay is 20 s) */
  minDelay?: number;
  maxDelay?: number;
}

/**
 * Creates the table unless it exists, then waits until it is ACTIVE. Returns whether it created it.
 * dynalite on disk answers CREATING for a few ms after CreateTable: the local stack polls faster.
 */
export async function ensureTable(client: DynamoDBClient, name: string, options: EnsureTableOptions = {}): Promise<'created' | 'exists'> {
  const { maxWaitTime = 60, minDelay = 1, maxDelay = 1 } = options;
  let outcome: 'created' | 'exists' = 'exists';
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') return 'exists';
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
    try {
      await client.send(new CreateTableCommand(createTableInput(name)));
      outcome = 'created';
    } catch (createErr) {
      // someone else created it meanwhile
      if (!(createErr instanceof ResourceInUseException)) throw createErr;
    }
  }
  await waitUntilTableExists({ client, maxWaitTime, minDelay, maxDelay }, { TableName: name });
  return outcome;
}
