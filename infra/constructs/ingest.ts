/**
 * upload → queue → ingest: S3 ObjectCreated under uploads/ (prefix only: the handler decides on file
 * names) goes to the ingest queue; an event source mapping hands it to functions/handlers/ingest-upload.ts
 * in batches, and the handler reports each failed message (ReportBatchItemFailures) so that only those
 * are received again. After INGEST_MAX_RECEIVES receives a message waits in the dead-letter queue
 * until an operator redrives it to the queue (SQS StartMessageMoveTask, docs/DEPLOY.md).
 *
 * Alarms: the age of the queue's oldest message (uploads wait: the function fails or is throttled),
 * the dead-letter queue's depth, the function's errors.
 *
 * It may read uploads, write report keys only (reports/, feedback/), read its alert markers, read and
 * write the table, and publish alerts. The notification is set on the bucket's CloudFormation resource
 * (no custom resource Lambda with s3:PutBucketNotification on "*").
 */
import { Aws, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { UPLOAD_PREFIX } from '../../functions/config.ts';
import { deadLetterQueue, DefaultFunction } from './defaults.ts';
import type { Storage } from './storage.ts';

/** S3 key prefixes in the reports bucket that ingest writes (ARCHITECTURE.md, Objects). */
export const INGEST_WRITES = ['reports/', 'feedback/'] as const;

/** DynamoDB actions the store uses (functions/adapters/dynamo/store.ts). */
export const INGEST_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem', 'dynamodb:Query'];

export const INGEST_TIMEOUT = Duration.seconds(60);
/** receives of a message before it goes to the dead-letter queue: 5 × the visibility timeout ≈ 30 minutes of retries */
export const INGEST_MAX_RECEIVES = 5;
/** messages per invocation; ingest takes 0.1–2 s each, far inside the timeout */
export const INGEST_BATCH_SIZE = 5;
/** an upload older than this still waiting means the path is stuck (a retry alone waits one visibility timeout, 6 minutes) */
export const OLDEST_MESSAGE_ALARM_SECONDS = 900;

export interface IngestProps {
  storage: Storage;
  alerts: sns.ITopic;
  /** the alarms' topic (the function itself publishes to alerts only) */
  ops: sns.ITopic;
  environment: Record<string, string>;
  logRetentionDays: number;
  reservedConcurrentExecutions?: number;
}

export class Ingest extends Construct {
  readonly function: DefaultFunction;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly oldestMessageAlarm: ReturnType<DefaultFunction['alarm']>;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    const { storage } = props;
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetters');
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's advice for an event source mapping: six times the function's timeout
      visibilityTimeout: Duration.seconds(INGEST_TIMEOUT.toSeconds() * 6),
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: INGEST_MAX_RECEIVES },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // S3 may send to the queue from the uploads bucket of this account only
    this.queue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'UploadsBucketNotifications',
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': storage.uploadsBucketArn }, StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );

    this.function = new DefaultFunction(this, 'IngestUpload', {
      handler: 'ingest-upload',
      description: 'upload -> gate -> parse -> validate -> normalise -> store; report, feedback workbook, alert',
      // exceljs holds the whole workbook while the feedback copy is written
      memorySize: 1536,
      timeout: INGEST_TIMEOUT,
      environment: props.environment,
      logRetentionDays: props.logRetentionDays,
      opsTopic: props.ops,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      queueDeadLetters: this.deadLetterQueue,
    });
    const f = this.function;
    f.fn.addEventSource(new sources.SqsEventSource(this.queue, { batchSize: INGEST_BATCH_SIZE, reportBatchItemFailures: true }));
    const mapping = f.fn.node.children.find((c) => c instanceof lambda.EventSourceMapping)!;
    Validations.of(mapping).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason: 'An SQS event source mapping has no on-failure destination (streams and Kafka do): a message that keeps failing goes to the queue\'s dead-letter queue by its redrive policy, which is alarmed.',
    });
    // GetObject also answers HeadObject (object metadata); GetObjectVersion reads the exact version of the event
    f.allow('ReadUploads', ['s3:GetObject', 's3:GetObjectVersion'], [`${storage.uploadsBucketArn}/${UPLOAD_PREFIX}*`], 'Every upload key is under uploads/; institutions and periods are the keys below it.');
    f.allow('WriteReports', ['s3:PutObject'], INGEST_WRITES.map((p) => storage.reports.arnForObjects(`${p}*`)), 'Report JSON and feedback workbooks, one key per upload version, under these two prefixes only.');
    // a redelivered version is finished from its stored report; an alert marker is read back (functions/core/ingest.ts)
    f.allow('ReadOwnReports', ['s3:GetObject'], [storage.reports.arnForObjects(`${INGEST_WRITES[0]}*`)], 'Its own report JSON and alert markers, under reports/ only.');
    // without ListBucket a missing marker answers 403, not 404 (a HEAD has no s3:prefix to condition on)
    f.allow('FindAlertMarkers', ['s3:ListBucket'], [storage.reports.bucketArn]);
    f.allow('ReadWriteSubmissions', INGEST_TABLE_ACTIONS, [storage.table.tableArn]);
    f.allow('QueryHistory', ['dynamodb:Query'], [storage.gsi1Arn]);
    f.allow('PublishAlerts', ['sns:Publish'], [props.alerts.topicArn]);

    this.oldestMessageAlarm = f.alarm(
      'OldestMessageAlarm',
      this.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }),
      `ingest-upload: an upload has waited in the ingest queue over ${OLDEST_MESSAGE_ALARM_SECONDS / 60} minutes (the function fails or is throttled)`,
      OLDEST_MESSAGE_ALARM_SECONDS,
    );
    notify(storage.uploads, this.queue.queueArn);
    // S3 checks that it may send to the queue when the notification is saved
    storage.uploads.node.addDependency(this.queue);
  }
}

function notify(bucket: s3.Bucket, queueArn: string): void {
  const cfn = bucket.node.defaultChild as s3.CfnBucket;
  cfn.notificationConfiguration = {
    queueConfigurations: [
      {
        event: 's3:ObjectCreated:*',
        queue: queueArn,
        filter: { s3Key: { rules: [{ name: 'prefix', value: UPLOAD_PREFIX }] } },
      },
    ],
  };
}
