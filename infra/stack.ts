/**
 * One stack a county or a whole region deploys: upload → ingest → store → consolidate → alert.
 *
 *   institutions ──PutObject──▶ uploads bucket ──(uploads/ *.xlsx)──▶ ingest ──▶ table, reports bucket, alerts
 *   Scheduler (Asia/Shanghai) ──▶ consolidate ──▶ reports bucket consolidated/, alerts (digest)
 *   failures ──▶ dead-letter queues ──▶ alarms ──▶ ops topic
 *
 * Buckets, table, queues and log groups are RETAINed: deleting the stack loses no data.
 * The handlers' environment uses the names in functions/config.ts, so AWS and the local stack agree.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ENV } from '../functions/config.ts';
import { registry } from '../schemas/index.ts';
import type { DeployConfig } from './config.ts';
import { Consolidate } from './constructs/consolidate.ts';
import { Ingest } from './constructs/ingest.ts';
import { Storage } from './constructs/storage.ts';
import { Topics } from './constructs/topics.ts';
import { UploadAccess } from './constructs/upload-access.ts';

/** Feature flags the stack relies on, set on the stack itself. */
export const FEATURE_FLAGS = [
  // access logs delivered under a bucket policy, not the legacy LogDeliveryWrite ACL
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy',
] as const;

export interface HmisStackProps extends StackProps {
  config: DeployConfig;
  /** entry files to bundle instead of functions/handlers/*.ts (construct tests only) */
  entries?: { ingest?: string; consolidate?: string };
}

export class HmisStack extends Stack {
  readonly storage: Storage;
  readonly topics: Topics;
  readonly ingest: Ingest;
  readonly consolidate: Consolidate;
  readonly access: UploadAccess;

  constructor(scope: Construct, id: string, props: HmisStackProps) {
    super(scope, id, props);
    // behaviour that must not depend on whether cdk.json was read (tests build the stack directly)
    for (const flag of FEATURE_FLAGS) this.node.setContext(flag, true);
    const cfg = props.config;
    const counties = registry.counties.filter((c) => cfg.counties.includes(c.code));

    this.storage = new Storage(this, 'Storage', { stage: cfg.stage, uploadsNoncurrentVersionDays: cfg.uploadsNoncurrentVersionDays });
    this.topics = new Topics(this, 'Topics', { stage: cfg.stage, alerts: cfg.alerts, ops: cfg.ops });

    const environment: Record<string, string> = {
      [ENV.uploadsBucket]: this.storage.uploadsBucketName,
      [ENV.reportsBucket]: this.storage.reports.bucketName,
      [ENV.tableName]: this.storage.table.tableName,
      [ENV.alertsTopicArn]: this.topics.alerts.topicArn,
      [ENV.opsTopicArn]: this.topics.ops.topicArn,
      [ENV.maxUploadBytes]: String(cfg.maxUploadBytes),
      [ENV.counties]: cfg.counties.join(','),
    };
    if (cfg.portalBaseUrl) environment[ENV.portalBaseUrl] = cfg.portalBaseUrl;

    const common = { storage: this.storage, alerts: this.topics.alerts, ops: this.topics.ops, environment, logRetentionDays: cfg.logRetentionDays };
    this.ingest = new Ingest(this, 'Ingest', { ...common, reservedConcurrentExecutions: cfg.ingestReservedConcurrency, entry: props.entries?.ingest });
    this.consolidate = new Consolidate(this, 'Consolidate', { ...common, schedule: cfg.schedule, stage: cfg.stage, entry: props.entries?.consolidate });
    this.access = new UploadAccess(this, 'UploadAccess', {
      stage: cfg.stage,
      mode: cfg.institutionAccess,
      counties,
      uploadsBucketArn: this.storage.uploadsBucketArn,
      reports: this.storage.reports,
    });
    // the portal API (functions/handlers/portal-api.ts) joins here once it exists: docs/DEPLOY.md

    const out = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    out('UploadsBucket', this.storage.uploadsBucketName, 'institutions upload to s3://<this>/uploads/<county>/<institution>/<template>/<period>/<file>.xlsx');
    out('ReportsBucket', this.storage.reports.bucketName, 'reports/, feedback/ (ingest) and consolidated/ (consolidate)');
    out('TableName', this.storage.table.tableName, 'submissions table');
    out('AlertsTopicArn', this.topics.alerts.topicArn, 'subscribe statisticians here (filter on county / institution)');
    out('OpsTopicArn', this.topics.ops.topicArn, 'alarms and failures');
    out('IngestFunction', this.ingest.function.fn.functionName, 'ingest-upload');
    out('ConsolidateFunction', this.consolidate.function.fn.functionName, 'consolidate (aws lambda invoke for an on-demand run)');
    out('IngestLogGroup', this.ingest.function.logGroup.logGroupName, 'aws logs tail <this> --follow');
    out('ConsolidateLogGroup', this.consolidate.function.logGroup.logGroupName, 'aws logs tail <this> --follow');
    out('IngestDeadLetterQueue', this.ingest.function.deadLetterQueue.queueUrl, 'failed uploads after retries');
    out('ConsolidateDeadLetterQueue', this.consolidate.function.deadLetterQueue.queueUrl, 'failed consolidation runs after retries');
    out('Counties', cfg.counties.join(','), 'counties served');
    for (const [code, policy] of this.access.commissionPolicies) out(`CommissionPolicy${code}`, policy.managedPolicyArn, `attach to the users of the ${code} commission`);
    if (this.access.byTagPolicy) out('UploadByTagPolicy', this.access.byTagPolicy.managedPolicyArn, 'attach to institution users tagged hmis-county and hmis-institution');
  }
}
