/**
 * SQL over every value in AWS: a Glue table over lake/ in the reports bucket (the Parquet files the
 * scheduled function writes, functions/core/lake) and an Athena workgroup to query it, with a managed
 * policy that gives an analyst exactly that: run queries in this workgroup, read the table's metadata,
 * read lake/ and read and write the workgroup's results, nothing else in the bucket.
 *
 *   SELECT county, sum(value) FROM "<database>"."values" WHERE element = 'JC28' AND period = '2025-03' GROUP BY county
 *
 * Partitions are projected (no crawler, no partition writes): year from 2000 to 2100, county from the
 * deployment's counties. The workgroup enforces its own settings: results encrypted under
 * athena-results/ (expired after 30 days), a cap on the data one query scans.
 */
import { Aws, Duration } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { GLUE_TYPE, LAKE_COLUMNS, LAKE_PARTITIONS, LAKE_PREFIX } from '../../functions/core/lake/index.ts';
import { acknowledgeScopedResources } from './defaults.ts';
import type { Storage } from './storage.ts';

export const LAKE_TABLE = 'values';
export const ATHENA_RESULTS_PREFIX = 'athena-results/';
/** 10 GB: a province's ten years are well under 1 GB of Parquet */
export const BYTES_SCANNED_CUTOFF = 10 * 1024 ** 3;

export interface LakeProps {
  stage: string;
  storage: Storage;
  /** the counties whose partitions are projected (the deployment's) */
  counties: readonly string[];
}

export class Lake extends Construct {
  readonly databaseName: string;
  readonly table: glue.CfnTable;
  readonly workGroup: athena.CfnWorkGroup;
  /** attach to the people who query the lake */
  readonly queryPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: LakeProps) {
    super(scope, id);
    const bucket = props.storage.reports.bucketName;
    this.databaseName = `hmis_${props.stage.toLowerCase().replace(/[^a-z0-9]/g, '_')}`;

    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: this.databaseName, description: 'hmis-sheets: every accepted value, tidy (lake/ in the reports bucket)' },
    });

    const location = `s3://${bucket}/${LAKE_PREFIX}`;
    this.table = new glue.CfnTable(this, 'Values', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name: LAKE_TABLE,
        description: 'one row per value of a current accepted return (functions/core/lake LAKE_COLUMNS)',
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          classification: 'parquet',
          'projection.enabled': 'true',
          'projection.year.type': 'integer',
          'projection.year.range': '2000,2100',
          'projection.county.type': 'enum',
          'projection.county.values': props.counties.join(','),
          'storage.location.template': `${location}year=\${year}/county=\${county}/`,
        },
        partitionKeys: LAKE_PARTITIONS.map((p) => ({ name: p.name, type: p.glueType })),
        storageDescriptor: {
          location,
          columns: LAKE_COLUMNS.map((c) => ({ name: c.name, type: GLUE_TYPE[c.type], comment: c.comment })),
          inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
        },
      },
    });
    this.table.node.addDependency(database); // the table names the database

    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: `hmis-${props.stage}-lake`,
      description: 'hmis-sheets: SQL over lake/ (the values table)',
      state: 'ENABLED',
      recursiveDeleteOption: false,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: BYTES_SCANNED_CUTOFF,
        resultConfiguration: {
          outputLocation: `s3://${bucket}/${ATHENA_RESULTS_PREFIX}`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });
    props.storage.reports.addLifecycleRule({ id: 'expire-athena-results', prefix: ATHENA_RESULTS_PREFIX, expiration: Duration.days(30), noncurrentVersionExpiration: Duration.days(1) });

    const arn = (service: string, resource: string) => `arn:${Aws.PARTITION}:${service}:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
    const reports = props.storage.reports;
    this.queryPolicy = new iam.ManagedPolicy(this, 'QueryPolicy', {
      description: `hmis ${props.stage}: query the lake with Athena (workgroup ${this.workGroup.name} only), read lake/ only`,
      statements: [
        new iam.PolicyStatement({
          sid: 'RunQueriesInTheWorkGroup',
          actions: ['athena:StartQueryExecution', 'athena:StopQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:GetQueryResultsStream', 'athena:GetWorkGroup', 'athena:ListQueryExecutions'],
          resources: [arn('athena', `workgroup/${this.workGroup.name}`)],
        }),
        new iam.PolicyStatement({
          sid: 'ReadTheTable',
          actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions'],
          resources: [arn('glue', 'catalog'), arn('glue', `database/${this.databaseName}`), arn('glue', `table/${this.databaseName}/${LAKE_TABLE}`)],
        }),
        new iam.PolicyStatement({
          sid: 'ListLakeAndResults',
          actions: ['s3:ListBucket', 's3:GetBucketLocation'],
          resources: [reports.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${LAKE_PREFIX}*`, `${ATHENA_RESULTS_PREFIX}*`] } },
        }),
        new iam.PolicyStatement({ sid: 'ReadLake', actions: ['s3:GetObject'], resources: [reports.arnForObjects(`${LAKE_PREFIX}*`)] }),
        new iam.PolicyStatement({
          sid: 'QueryResults',
          actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
          resources: [reports.arnForObjects(`${ATHENA_RESULTS_PREFIX}*`)],
        }),
      ],
    });
    acknowledgeScopedResources(this.queryPolicy, this.queryPolicy.document, 'Objects under lake/ (the Parquet files, one per county and year) and under athena-results/ (the workgroup\'s own results) only.');
  }
}
