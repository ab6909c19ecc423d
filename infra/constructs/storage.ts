/**
 * Where data lives, all of it RETAINed when the stack is deleted:
 *  - the uploads bucket (institutions write, ingest reads): versioned, so an overwritten or deleted
 *    upload is never lost; old versions expire after a configurable time,
 *  - the reports bucket (functions write): separate, so nothing a function writes can trigger ingest;
 *    the audit trail's daily export (audit/) kept AUDIT_RETENTION_DAYS,
 *  - an access-log bucket for both (who uploaded what, from where),
 *  - the one DynamoDB table (keys from functions/adapters/dynamo/table.ts).
 */
import { Aws, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { TABLE_KEYS } from '../../functions/adapters/dynamo/table.ts';

/** Encrypted, private, TLS 1.2+ only, owner-enforced, retained: every bucket of the stack starts from this. */
export const SECURE: s3.BucketProps = {
  encryption: s3.BucketEncryption.S3_MANAGED,
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  removalPolicy: RemovalPolicy.RETAIN,
  autoDeleteObjects: false,
};

/** How long the audit trail's daily exports are kept (audit/ in the reports bucket); the table keeps every event. */
export const AUDIT_RETENTION_DAYS = 3650;

export interface StorageProps {
  stage: string;
  uploadsNoncurrentVersionDays: number;
}

export class Storage extends Construct {
  /**
   * The uploads bucket's name and ARN, built from the stage, account and region rather than read from
   * the bucket: the bucket's notification depends on the ingest function, so the function (its
   * environment, its role) must not depend on the bucket resource.
   */
  readonly uploadsBucketName: string;
  readonly uploadsBucketArn: string;
  readonly uploads: s3.Bucket;
  readonly reports: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const name = (what: string) => `hmis-${props.stage}-${what}-${Aws.ACCOUNT_ID}-${Aws.REGION}`;

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      ...SECURE,
      bucketName: name('access-logs'),
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(400), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket of the uploads and reports buckets; logging it into itself would loop.',
    });

    this.uploadsBucketName = name('uploads');
    this.uploadsBucketArn = `arn:${Aws.PARTITION}:s3:::${this.uploadsBucketName}`;
    this.uploads = new s3.Bucket(this, 'Uploads', {
      ...SECURE,
      bucketName: this.uploadsBucketName,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'uploads/',
      lifecycleRules: [
        {
          id: 'expire-old-versions',
          noncurrentVersionExpiration: Duration.days(props.uploadsNoncurrentVersionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
      ],
    });

    this.reports = new s3.Bucket(this, 'Reports', {
      ...SECURE,
      bucketName: name('reports'),
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'reports/',
      lifecycleRules: [
        { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(90), abortIncompleteMultipartUploadAfter: Duration.days(7) },
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
        // the audit exports: to infrequent access after a month, kept ten years, then gone
        { id: 'audit-retention', prefix: 'audit/', transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) }], expiration: Duration.days(AUDIT_RETENTION_DAYS) },
      ],
    });

    const k = TABLE_KEYS;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: k.partitionKey.name, type: dynamodb.AttributeType.STRING },
      sortKey: { name: k.sortKey.name, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: k.gsi1.indexName,
      partitionKey: { name: k.gsi1.partitionKey.name, type: dynamodb.AttributeType.STRING },
      sortKey: { name: k.gsi1.sortKey.name, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }

  /** ARN of the table's GSI1 (queries on the index need their own resource in IAM). */
  get gsi1Arn(): string {
    return `${this.table.tableArn}/index/${TABLE_KEYS.gsi1.indexName}`;
  }
}
