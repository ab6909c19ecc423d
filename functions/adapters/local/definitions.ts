/**
 * The definitions of a local stack: the same store as in AWS over its S3 and DynamoDB. A new stack
 * starts with the bundled initial definitions (schemas/), as a first deployment does; a stack that
 * already has definitions keeps the commission's.
 */
import { bundledLog } from '../../../schemas/index.ts';
import { makeClients, type Clients } from '../aws/clients.ts';
import { S3ObjectStore } from '../s3/objects.ts';
import { seedDefinitions, StoredDefinitionsStore } from '../dynamo/definitions.ts';
import type { StackEndpoints } from './stack.ts';

export function localDefinitionsStore(endpoints: Pick<StackEndpoints, 'table' | 'buckets'>, clients: Clients): StoredDefinitionsStore {
  return new StoredDefinitionsStore(clients.dynamodb, endpoints.table, new S3ObjectStore(clients.s3), endpoints.buckets.reports);
}

export async function seedLocalDefinitions(endpoints: StackEndpoints): Promise<boolean> {
  const clients = makeClients(endpoints);
  try {
    return await seedDefinitions(localDefinitionsStore(endpoints, clients), bundledLog());
  } finally {
    clients.destroy();
  }
}
