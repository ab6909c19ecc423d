/** The ports over AWS, built once per process (a Lambda cold start) from the environment. */
import { config } from '../config.ts';
import { dynamoClient, s3Client, sqsClient } from '../adapters/aws/clients.ts';
import { DynamoSubmissionStore } from '../adapters/dynamo/store.ts';
import { DynamoAuditLog } from '../adapters/dynamo/audit.ts';
import { StoredDefinitionsStore } from '../adapters/dynamo/definitions.ts';
import { StoredDefinitions } from '../core/definitions/source.ts';
import { S3ObjectStore } from '../adapters/s3/objects.ts';
import { SqsUploadQueue } from '../adapters/sqs/queue.ts';
import type { IngestDeps } from '../core/ingest.ts';
import type { Alerter } from '../ports/index.ts';
import type { ScheduleDeps } from '../core/schedule.ts';

/** What ingest needs: S3, DynamoDB and SNS (its bundle then holds no SQS client). */
export type IngestAwsDeps = IngestDeps & { definitionsStore: StoredDefinitionsStore; objects: S3ObjectStore; audit: DynamoAuditLog };

/** What every function may need: ingest's ports and the scheduled function's (reconcile sends to the ingest queue). */
export type AwsDeps = IngestAwsDeps & ScheduleDeps;

/**
 * SNS is loaded at the first alert, not at start: most uploads are accepted and alert nobody, so a cold
 * start skips the SNS client (its module is one of infra/bundle.ts's LATE_MODULES).
 */
function alerterAtFirstAlert(topicArn: string): Alerter {
  let alerter: Promise<Alerter> | undefined;
  return {
    async publish(alert) {
      alerter ??= import('../adapters/sns/alerter.ts').then((m) => m.processAlerter(topicArn));
      await (await alerter).publish(alert);
    },
  };
}

export function ingestDeps(): IngestAwsDeps {
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
    ...(cfg.alertsTopicArn ? { alerter: alerterAtFirstAlert(cfg.alertsTopicArn) } : {}),
    reportsBucket: cfg.reportsBucket,
    maxUploadBytes: cfg.maxUploadBytes,
    ...(cfg.portalBaseUrl ? { portalBaseUrl: cfg.portalBaseUrl } : {}),
    ...(cfg.counties ? { counties: cfg.counties } : {}),
  };
}

export function awsDeps(): AwsDeps {
  const cfg = config();
  const deps = ingestDeps();
  return {
    ...deps,
    ...(cfg.uploadQueueUrl ? { reconcile: { listing: deps.objects, queue: new SqsUploadQueue(sqsClient(), cfg.uploadQueueUrl), uploadsBucket: cfg.uploadsBucket } } : {}),
  };
}
