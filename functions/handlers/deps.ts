/** The ports over AWS, built once per process (a Lambda cold start) from the environment. */
import { config } from '../config.ts';
import { dynamoClient, s3Client, snsClient } from '../adapters/aws/clients.ts';
import { DynamoSubmissionStore } from '../adapters/dynamo/store.ts';
import { S3ObjectStore } from '../adapters/s3/objects.ts';
import { SnsAlerter } from '../adapters/sns/alerter.ts';
import type { Alerter, ObjectStore, SubmissionStore } from '../ports/index.ts';

export interface AwsDeps {
  objects: ObjectStore;
  store: SubmissionStore;
  /** absent when ALERTS_TOPIC_ARN is not set: nothing is published (logged instead) */
  alerter?: Alerter;
  reportsBucket: string;
  maxUploadBytes: number;
  portalBaseUrl?: string;
  counties?: string[];
}

export function awsDeps(): AwsDeps {
  const cfg = config();
  return {
    objects: new S3ObjectStore(s3Client()),
    store: new DynamoSubmissionStore(dynamoClient(), cfg.tableName),
    ...(cfg.alertsTopicArn ? { alerter: new SnsAlerter(snsClient(), cfg.alertsTopicArn) } : {}),
    reportsBucket: cfg.reportsBucket,
    maxUploadBytes: cfg.maxUploadBytes,
    ...(cfg.portalBaseUrl ? { portalBaseUrl: cfg.portalBaseUrl } : {}),
    ...(cfg.counties ? { counties: cfg.counties } : {}),
  };
}
