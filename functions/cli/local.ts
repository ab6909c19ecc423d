/**
 * How local commands reach the stack: the one running on the data dir (`hmis serve`), found through
 * its endpoints.json, or one started in this process on that data dir with the ingest handler wired.
 */
import { makeClients, type Clients } from '../adapters/aws/clients.ts';
import { DynamoSubmissionStore } from '../adapters/dynamo/store.ts';
import { lazyUploadHandler } from '../adapters/local/handler.ts';
import { findOrStartStack, type RunningStack } from '../adapters/local/stack.ts';

export const DEFAULT_DATA_DIR = '.hmis';

export interface Local {
  stack: RunningStack;
  clients: Clients;
  store: DynamoSubmissionStore;
  close(): Promise<void>;
}

export async function openLocal(dataDir = DEFAULT_DATA_DIR, log: (line: string) => void = () => {}): Promise<Local> {
  let env: Record<string, string> = {};
  const stack = await findOrStartStack(dataDir, { onUpload: lazyUploadHandler(() => env), dynamodbPort: 0, s3Port: 0, snsPort: 0, log });
  env = stack.env;
  const clients = makeClients(stack.endpoints);
  return {
    stack,
    clients,
    store: new DynamoSubmissionStore(clients.dynamodb, stack.endpoints.table),
    async close() {
      await stack.idle();
      clients.destroy();
      await stack.stop();
    },
  };
}
