/**
 * One stack a county or a whole region deploys: upload → ingest → store → consolidate → alert.
 *
 *   institutions ──PutObject──▶ uploads bucket ──(uploads/)──▶ ingest queue ──▶ ingest ──▶ table, reports bucket, alerts
 *   Scheduler (Asia/Shanghai) ──▶ consolidate ──▶ reports bucket consolidated/, alerts (digest)
 *                                  └─ reconcile: uploads/ against the table; what was lost ──▶ ingest queue
 *   failures ──▶ dead-letter queues ──▶ alarms ──▶ ops topic
 *   browser ──▶ CloudFront ──▶ page (private bucket) and /api/* ──▶ HTTP API ──▶ portal-api ──▶ table, buckets
 *
 * Data buckets, table, queues, the functions' log groups and the user pool are RETAINed: deleting
 * the stack loses no data (the portal's page bucket, only files of this repository, is deleted).
 * The handlers' environment uses the names in functions/config.ts, so AWS and the local stack agree.
 * The portal's web ACL is in a second stack, `<name>-edge`, in us-east-1 (infra/edge.ts): hmisApp()
 * builds both.
 */
import { CfnOutput, Fn, Stack, type App, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ENV } from '../functions/config.ts';
import { bundledContent } from '../schemas/index.ts';
import type { DeployConfig } from './config.ts';
import { EDGE_REGION, EdgeStack, WEB_ACL_OUTPUT } from './edge.ts';
import { Consolidate } from './constructs/consolidate.ts';
import { DefinitionsSeed, readDefinitions, writeDefinitions } from './constructs/definitions.ts';
import { Ingest } from './constructs/ingest.ts';
import { People } from './constructs/people.ts';
import { Lake } from './constructs/lake.ts';
import { Portal } from './constructs/portal.ts';
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
}

/** The us-east-1 stack that holds a main stack's web ACL. */
export const edgeStackNameOf = (stackName: string): string => `${stackName}-edge`;

/**
 * The app's stacks: `id` (the deployment) and `<id>-edge` (its web ACL, us-east-1), the first
 * depending on the second so that `cdk deploy` deploys the web ACL first.
 */
export function hmisApp(app: App, id: string, props: HmisStackProps): { main: HmisStack; edge: EdgeStack } {
  const edge = new EdgeStack(app, edgeStackNameOf(id), {
    stage: props.config.stage,
    env: { account: props.env?.account },
    description: `hmis-sheets ${props.config.stage}: the portal's web ACL (CloudFront web ACLs live in ${EDGE_REGION})`,
    tags: props.tags,
  });
  const main = new HmisStack(app, id, props);
  main.addStackDependency(edge, 'the portal distribution reads the web ACL ARN from its output');
  return { main, edge };
}

export class HmisStack extends Stack {
  readonly storage: Storage;
  readonly topics: Topics;
  readonly ingest: Ingest;
  readonly consolidate: Consolidate;
  readonly access: UploadAccess;
  readonly portal: Portal;
  readonly people: People;
  readonly definitions: DefinitionsSeed;
  readonly lake: Lake;

  constructor(scope: Construct, id: string, props: HmisStackProps) {
    super(scope, id, props);
    // behaviour that must not depend on whether cdk.json was read (tests build the stack directly)
    for (const flag of FEATURE_FLAGS) this.node.setContext(flag, true);
    const cfg = props.config;
    const counties = bundledContent().counties.filter((c) => cfg.counties.includes(c.code));

    this.storage = new Storage(this, 'Storage', { stage: cfg.stage, uploadsNoncurrentVersionDays: cfg.uploadsNoncurrentVersionDays });
    this.topics = new Topics(this, 'Topics', { stage: cfg.stage, alerts: cfg.alerts, ops: cfg.ops });
    this.people = new People(this, 'People', { stage: cfg.stage });
    // before ingest and consolidate: their alerts link to the portal. The portal depends on neither
    // function nor on the uploads bucket resource (whose CORS rule names the distribution): no cycle.
    this.portal = new Portal(this, 'Portal', {
      stage: cfg.stage,
      storage: this.storage,
      ops: this.topics.ops,
      alerts: this.topics.alerts,
      people: this.people,
      maxUploadBytes: cfg.maxUploadBytes,
      logRetentionDays: cfg.logRetentionDays,
      portalBaseUrl: cfg.portalBaseUrl,
      api: cfg.portalApi,
      // read at deploy time from the edge stack in us-east-1 (CloudFormation's Fn::GetStackOutput, no custom resource)
      webAclArn: Fn.getStackOutput(edgeStackNameOf(this.stackName), WEB_ACL_OUTPUT, EDGE_REGION),
    });

    // no OPS_TOPIC_ARN: no handler publishes to the ops topic (the alarms do, through CloudWatch)
    const environment: Record<string, string> = {
      [ENV.uploadsBucket]: this.storage.uploadsBucketName,
      [ENV.reportsBucket]: this.storage.reports.bucketName,
      [ENV.tableName]: this.storage.table.tableName,
      [ENV.alertsTopicArn]: this.topics.alerts.topicArn,
      [ENV.maxUploadBytes]: String(cfg.maxUploadBytes),
      [ENV.counties]: cfg.counties.join(','),
      // rejection alerts link to /submissions/… on the portal
      [ENV.portalBaseUrl]: this.portal.url,
    };

    const common = { storage: this.storage, alerts: this.topics.alerts, ops: this.topics.ops, environment, logRetentionDays: cfg.logRetentionDays };
    this.ingest = new Ingest(this, 'Ingest', { ...common, reservedConcurrentExecutions: cfg.ingestReservedConcurrency });
    this.consolidate = new Consolidate(this, 'Consolidate', {
      ...common,
      environment: { ...environment, [ENV.uploadQueueUrl]: this.ingest.queue.queueUrl },
      schedule: cfg.schedule,
      stage: cfg.stage,
      uploadQueue: this.ingest.queue,
    });
    // the commission's definitions: seeded once, read by every function, written by the portal's 定义管理
    this.definitions = new DefinitionsSeed(this, 'Definitions', { storage: this.storage, ops: this.topics.ops, environment, logRetentionDays: cfg.logRetentionDays });
    for (const f of [this.ingest.function, this.consolidate.function, this.portal.function]) readDefinitions(f, this.storage);
    writeDefinitions(this.portal.function, this.storage);
    // SQL over every value: a Glue table and an Athena workgroup over lake/ (written by consolidate)
    this.lake = new Lake(this, 'Lake', { stage: cfg.stage, storage: this.storage, counties: cfg.counties });
    this.access = new UploadAccess(this, 'UploadAccess', {
      stage: cfg.stage,
      mode: cfg.institutionAccess,
      counties,
      uploadsBucketArn: this.storage.uploadsBucketArn,
      reports: this.storage.reports,
    });

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
    out('IngestQueue', this.ingest.queue.queueUrl, 'upload events on their way to ingest');
    out('IngestDeadLetterQueue', this.ingest.deadLetterQueue.queueUrl, 'upload events that failed their last receive');
    out('IngestDeadLetterQueueArn', this.ingest.deadLetterQueue.queueArn, 'aws sqs start-message-move-task --source-arn <this> (redrive to the ingest queue)');
    out('ConsolidateDeadLetterQueue', this.consolidate.function.deadLetterQueue.queueUrl, 'failed consolidation runs after retries');
    out('Counties', cfg.counties.join(','), 'counties served');
    out('PortalUrl', this.portal.url, 'the portal (报表平台): people sign in with their mobile number and password');
    out('PortalDistributionUrl', this.portal.distributionUrl, 'the CloudFront address of the portal (point a custom domain here)');
    out('UserPoolId', this.people.pool.userPoolId, 'the people: npx hmis users add … --user-pool-id <this> --table <TableName> --reports-bucket <ReportsBucket> (docs/DEPLOY.md)');
    out('UserPoolClientId', this.people.client.userPoolClientId, "the portal's app client (USER_PASSWORD_AUTH)");
    out('PortalFunction', this.portal.function.fn.functionName, 'portal-api');
    out('PortalLogGroup', this.portal.function.logGroup.logGroupName, 'aws logs tail <this> --follow');
    out('PortalApiAccessLogGroup', this.portal.accessLogs.logGroupName, 'one JSON line per /api request');
    out('PortalApiDnsTarget', this.portal.apiDomain.regionalDomainName, `CNAME ${cfg.portalApi.domainName} to this (CloudFront reaches the API there)`);
    out('LakeDatabase', this.lake.databaseName, `Glue database: SELECT … FROM "<this>"."values"`);
    out('LakeWorkGroup', this.lake.workGroup.name, 'Athena workgroup for the lake (results under athena-results/)');
    out('LakeQueryPolicy', this.lake.queryPolicy.managedPolicyArn, 'attach to the people who query the lake');
    for (const [code, policy] of this.access.commissionPolicies) out(`CommissionPolicy${code}`, policy.managedPolicyArn, `attach to the users of the ${code} commission`);
    if (this.access.byTagPolicy) out('UploadByTagPolicy', this.access.byTagPolicy.managedPolicyArn, 'attach to institution users tagged hmis-county and hmis-institution');
  }
}
