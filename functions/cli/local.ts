/**
 * How local commands reach the stack: the one running on the data dir (`hmis serve`), found through
 * its endpoints.json, or one started in this process on that data dir with the ingest handler wired.
 */
import { makeClients, type Clients } from '../adapters/aws/clients.ts';
import { DynamoSubmissionStore } from '../adapters/dynamo/store.ts';
import { DynamoAuditLog } from '../adapters/dynamo/audit.ts';
import type { AuditLog } from '../ports/index.ts';
import { localDefinitionsStore } from '../adapters/local/definitions.ts';
import type { StoredDefinitionsStore } from '../adapters/dynamo/definitions.ts';
import { fixedDefinitions, StoredDefinitions, type DefinitionsPort } from '../core/definitions/source.ts';
import { bundledLog } from '../../schemas/index.ts';
import { S3ObjectStore } from '../adapters/s3/objects.ts';
import { SnsAlerter } from '../adapters/sns/alerter.ts';
import { SqsUploadQueue } from '../adapters/sqs/queue.ts';
import type { ScheduleDeps } from '../core/schedule.ts';
import { lazyUploadHandler } from '../adapters/local/handler.ts';
import { findOrStartStack, type RunningStack } from '../adapters/local/stack.ts';

export const DEFAULT_DATA_DIR = '.hmis';

export interface Local {
  stack: RunningStack;
  clients: Clients;
  store: DynamoSubmissionStore;
  /** the ports the scheduled function gets in AWS, over the local stack */
  deps: ReturnType<typeof localDeps>;
  /** where the definitions are kept (imports write here) */
  definitionsStore: StoredDefinitionsStore;
  close(): Promise<void>;
}

export async function openLocal(dataDir = DEFAULT_DATA_DIR, log: (line: string) => void = () => {}): Promise<Local> {
  let env: Record<string, string> = {};
  const stack = await findOrStartStack(dataDir, { onUpload: lazyUploadHandler(() => env), dynamodbPort: 0, s3Port: 0, snsPort: 0, sqsPort: 0, log });
  env = stack.env;
  const clients = makeClients(stack.endpoints);
  const store = new DynamoSubmissionStore(clients.dynamodb, stack.endpoints.table);
  return {
    stack,
    clients,
    store,
    deps: localDeps(stack.endpoints, clients, store),
    definitionsStore: localDefinitionsStore(stack.endpoints, clients),
    async close() {
      await stack.idle();
      clients.destroy();
      await stack.stop();
    },
  };
}

/** ScheduleDeps over the local stack's clients (what awsDeps() builds from the environment in AWS). */
export function localDeps(endpoints: RunningStack['endpoints'], clients: Clients, store = new DynamoSubmissionStore(clients.dynamodb, endpoints.table)): ScheduleDeps & { definitions: StoredDefinitions; audit: AuditLog } {
  const objects = new S3ObjectStore(clients.s3);
  return {
    definitions: new StoredDefinitions(localDefinitionsStore(endpoints, clients)),
    objects,
    store,
    audit: new DynamoAuditLog(clients.dynamodb, endpoints.table),
    alerter: new SnsAlerter(clients.sns, endpoints.topics.alerts),
    reportsBucket: endpoints.buckets.reports,
    reconcile: { listing: objects, queue: new SqsUploadQueue(clients.sqs, endpoints.queues.uploads), uploadsBucket: endpoints.buckets.uploads },
    ...(endpoints.portal ? { portalBaseUrl: endpoints.portal } : {}),
  };
}

/**
 * The definitions a command reads: those stored in the stack on `--data-dir` (started here when
 * none runs), else the bundled initial ones, as a new stack would hold them.
 */
export async function commandDefinitions(dataDir: string | undefined): Promise<{ definitions: DefinitionsPort; local: Local | null; close(): Promise<void> }> {
  if (dataDir === undefined) return { definitions: fixedDefinitions(bundledLog()), local: null, close: async () => {} };
  const local = await openLocal(dataDir);
  return { definitions: local.deps.definitions, local, close: () => local.close() };
}
