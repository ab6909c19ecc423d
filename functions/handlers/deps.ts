/** The ports over AWS, built once per process (a Lambda cold start) from the environment. */
import { config } from '../config.ts';
import { dynamoClient, s3Client, snsClient, sqsClient } from '../adapters/aws/clients.ts';
import { DynamoSubmissionStore } from '../adapters/dynamo/store.ts';
import { DynamoAuditLog } from '../adapters/dynamo/audit.ts';
import { StoredDefinitionsStore } from '../adapters/dynamo/definitions.ts';
import { StoredDefinitions } from '../core/definitions/source.ts';
import { S3ObjectStore } from '../adapters/s3/objects.ts';
import { SnsAlerter } from '../adapters/sns/alerter.ts';
import { SqsUploadQueue } from '../adapters/sqs/queue.ts';
import type { IngestDeps } from '../core/ingest.ts';
import type { ScheduleDeps } from '../core/schedule.ts';

/** What both functions need: ingest's ports and the scheduled function's. */
export type AwsDeps = IngestDeps & ScheduleDeps & { definitionsStore: StoredDefinitionsStore };

export function awsDeps(): AwsDeps {
  const cfg = config();
  const objects = new S3ObjectStore(s3Client());
  const definitionsStore = new StoredDefinitionsStore(dynamoClient(), cfg.tableName, objects, cfg.reportsBucket);
  return {
    // cached per container; a new version is seen within DEFINITIONS_MAX_AGE_MS
    definitions: new StoredDefinitions(definitionsStore),
    definitionsStore,
    objects,
    store: new DynamoSubmissionStore(dynamoClient(), cfg.tableName),
    audit: new DynamoAuditLog(dynamoClient(), cfg.tableName),
    ...(cfg.alertsTopicArn ? { alerter: new SnsAlerter(snsClient(), cfg.alertsTopicArn) } : {}),
    reportsBucket: cfg.reportsBucket,
    maxUploadBytes: cfg.maxUploadBytes,
    ...(cfg.portalBaseUrl ? { portalBaseUrl: cfg.portalBaseUrl } : {}),
    ...(cfg.counties ? { counties: cfg.counties } : {}),
    ...(cfg.uploadQueueUrl ? { reconcile: { listing: objects, queue: new SqsUploadQueue(sqsClient(), cfg.uploadQueueUrl), uploadsBucket: cfg.uploadsBucket } } : {}),
  };
}
