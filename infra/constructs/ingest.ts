/**
 * upload → ingest: S3 ObjectCreated under uploads/, whatever the file name (the same filter the local
 * bridge applies, functions/config.ts), invokes functions/handlers/ingest-upload.ts, which answers a
 * file that is not an .xlsx with a rejected version.
 *
 * It may read uploads, write report keys only (reports/, feedback/), read and write the table, and
 * publish alerts. The notification is set on the bucket's CloudFormation resource (no custom
 * resource Lambda with s3:PutBucketNotification on "*").
 */
import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { UPLOAD_PREFIX } from '../../functions/config.ts';
import { DefaultFunction } from './defaults.ts';
import type { Storage } from './storage.ts';

/** S3 key prefixes in the reports bucket that ingest writes (ARCHITECTURE.md, Objects). */
export const INGEST_WRITES = ['reports/', 'feedback/'] as const;

/** DynamoDB actions the store uses (functions/adapters/dynamo/store.ts). */
export const INGEST_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem', 'dynamodb:Query'];

export interface IngestProps {
  storage: Storage;
  alerts: sns.ITopic;
  /** the alarms' topic (the function itself publishes to alerts only) */
  ops: sns.ITopic;
  environment: Record<string, string>;
  logRetentionDays: number;
  reservedConcurrentExecutions?: number;
  entry?: string;
}

export class Ingest extends Construct {
  readonly function: DefaultFunction;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    const { storage } = props;
    this.function = new DefaultFunction(this, 'IngestUpload', {
      handler: 'ingest-upload',
      description: 'upload -> gate -> parse -> validate -> normalise -> store; report, feedback workbook, alert',
      // exceljs holds the whole workbook while the feedback copy is written
      memorySize: 1536,
      timeout: Duration.seconds(60),
      environment: props.environment,
      logRetentionDays: props.logRetentionDays,
      opsTopic: props.ops,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      entry: props.entry,
    });
    const f = this.function;
    // GetObject also answers HeadObject (object metadata); GetObjectVersion reads the exact version of the event
    f.allow('ReadUploads', ['s3:GetObject', 's3:GetObjectVersion'], [`${storage.uploadsBucketArn}/${UPLOAD_PREFIX}*`], 'Every upload key is under uploads/; institutions and periods are the keys below it.');
    f.allow('WriteReports', ['s3:PutObject'], INGEST_WRITES.map((p) => storage.reports.arnForObjects(`${p}*`)), 'Report JSON and feedback workbooks, one key per upload version, under these two prefixes only.');
    f.allow('ReadWriteSubmissions', INGEST_TABLE_ACTIONS, [storage.table.tableArn]);
    f.allow('QueryHistory', ['dynamodb:Query'], [storage.gsi1Arn]);
    f.allow('PublishAlerts', ['sns:Publish'], [props.alerts.topicArn]);

    f.fn.addPermission('InvokeFromUploads', {
      principal: new iam.ServicePrincipal('s3.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceArn: storage.uploadsBucketArn,
      sourceAccount: Aws.ACCOUNT_ID,
    });
    notify(storage.uploads, f.fn.functionArn);
    // S3 checks that it may invoke the function when the notification is saved
    storage.uploads.node.addDependency(f.fn.node.findChild('InvokeFromUploads'));
  }
}

function notify(bucket: s3.Bucket, functionArn: string): void {
  const cfn = bucket.node.defaultChild as s3.CfnBucket;
  cfn.notificationConfiguration = {
    lambdaConfigurations: [
      {
        event: 's3:ObjectCreated:*',
        function: functionArn,
        filter: {
          s3Key: {
            rules: [{ name: 'prefix', value: UPLOAD_PREFIX }],
          },
        },
      },
    ],
  };
}
