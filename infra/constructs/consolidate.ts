/**
 * store → consolidate: functions/handlers/consolidate.ts, invoked by EventBridge Scheduler in the
 * configured time zone (Asia/Shanghai) with
 *   {"task":"after-deadline"}   working days 09:00: consolidation and the digest of missing returns
 *                               for each county whose deadline has passed (the handler decides)
 *   {"task":"nightly"}          every night 02:00: consolidation of the reporting month
 * and on demand (`aws lambda invoke`, docs/DEPLOY.md) with
 *   {"task":"consolidate","level":"county","code":"150525","period":"2025-03"} or
 *   {"task":"digest","county":"150525","period":"2025-03"} or
 *   {"task":"lake","county":"150525","year":2025} (nightly and after-deadline rewrite the lake too),
 * and twice a day with {"task":"reconcile"} (nightly 01:30, working days 08:30: before the workbook and
 * the digest), which lists uploads/ and sends what the event path lost to the ingest queue. Every
 * scheduled input carries "scheduledTime": "<aws.scheduler.scheduled-time>" (the run's own time).
 *
 * It may read the table (and write only its TASK# markers), write consolidated/ and lake/ keys only,
 * publish the digest, list the uploads bucket's versions under uploads/ and send to the ingest queue.
 * Reconciliation's counts are metrics (embedded metric format); ReconcileFound ≥ 1 raises an alarm.
 */
import { Duration, TimeZone } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { UPLOAD_PREFIX } from '../../functions/config.ts';
import { RECONCILE_METRICS_NAMESPACE } from '../../functions/core/reconcile.ts';
import { SCHEDULES } from '../../functions/core/schedule.ts';
import { TASK_KEY_PREFIX } from '../../functions/adapters/dynamo/store.ts';
import { LAKE_PREFIX } from '../../functions/core/lake/index.ts';
import { DefaultFunction } from './defaults.ts';
import type { Storage } from './storage.ts';

export const CONSOLIDATE_WRITES = 'consolidated/';
/** the nightly audit trail export (functions/core/audit.ts auditExportKey) */
export const AUDIT_EXPORTS = 'audit/';
export const LAKE_WRITES = LAKE_PREFIX;
export const CONSOLIDATE_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'];

/** The scheduled tasks and the input each sends: the handler's own (functions/core/schedule.ts SCHEDULES). */
export const SCHEDULED_TASKS = {
  AfterDeadline: SCHEDULES.find((s) => s.name === 'after-deadline')!,
  Nightly: SCHEDULES.find((s) => s.name === 'nightly')!,
  ReconcileNightly: SCHEDULES.find((s) => s.name === 'reconcile-nightly')!,
  ReconcileAfterDeadline: SCHEDULES.find((s) => s.name === 'reconcile-after-deadline')!,
} as const;

export interface ConsolidateProps {
  storage: Storage;
  alerts: sns.ITopic;
  /** the alarms' topic (the function itself publishes to alerts only) */
  ops: sns.ITopic;
  environment: Record<string, string>;
  logRetentionDays: number;
  schedule: { afterDeadline: string; nightly: string; timezone: string };
  stage: string;
  /** the ingest queue: reconciliation sends to it */
  uploadQueue: sqs.IQueue;
}

export class Consolidate extends Construct {
  readonly function: DefaultFunction;
  readonly schedules: Record<keyof typeof SCHEDULED_TASKS, scheduler.Schedule>;
  readonly reconcileAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ConsolidateProps) {
    super(scope, id);
    const { storage } = props;
    this.function = new DefaultFunction(this, 'Consolidate', {
      handler: 'consolidate',
      description: 'stored submissions -> consolidated workbooks (county, city) -> digest',
      memorySize: 1024,
      timeout: Duration.minutes(5),
      environment: props.environment,
      logRetentionDays: props.logRetentionDays,
      opsTopic: props.ops,
    });
    const f = this.function;
    f.allow('ReadSubmissions', CONSOLIDATE_TABLE_ACTIONS, [storage.table.tableArn]);
    f.allow('QueryHistory', ['dynamodb:Query'], [storage.gsi1Arn]);
    // its only writes: the markers that make a scheduled digest go out once a day (TASK#… items)
    f.allow('ClaimScheduledTasks', ['dynamodb:PutItem', 'dynamodb:DeleteItem'], [storage.table.tableArn], undefined, {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${TASK_KEY_PREFIX}*`] },
    });
    f.allow('WriteConsolidated', ['s3:PutObject'], [storage.reports.arnForObjects(`${CONSOLIDATE_WRITES}*`)], 'Consolidated workbooks, one key per county (or city, province) and period, under consolidated/ only.');
    f.allow('ExportAudit', ['s3:PutObject'], [storage.reports.arnForObjects(`${AUDIT_EXPORTS}*`)], "One JSON lines file per scope and Beijing day under audit/ (the audit trail's daily export).");
    f.allow('WriteLake', ['s3:PutObject'], [storage.reports.arnForObjects(`${LAKE_WRITES}*`)], 'The lake: one Parquet object per county and year, under lake/ only.');
    f.allow('PublishDigest', ['sns:Publish'], [props.alerts.topicArn]);
    f.allow('ListUploads', ['s3:ListBucket', 's3:ListBucketVersions'], [storage.uploadsBucketArn], undefined, { StringLike: { 's3:prefix': [`${UPLOAD_PREFIX}*`] } });
    f.allow('SendLostUploads', ['sqs:SendMessage'], [props.uploadQueue.queueArn]);
    this.reconcileAlarm = f.alarm(
      'ReconcileAlarm',
      new cloudwatch.Metric({ namespace: RECONCILE_METRICS_NAMESPACE, metricName: 'ReconcileFound', dimensionsMap: { FunctionName: f.fn.functionName }, period: Duration.minutes(5), statistic: 'Maximum' }),
      'reconcile: an upload had no processed version (or a version its object): the event path lost something; it was sent to ingest again (README, Operating it)',
    );

    const timeZone = TimeZone.of(props.schedule.timezone);
    const schedule = (id: keyof typeof SCHEDULED_TASKS, expression: string, description: string) =>
      new scheduler.Schedule(this, id, {
        description,
        schedule: scheduler.ScheduleExpression.expression(expression, timeZone),
        target: new InvokeFunction(f.fn, {
          // the run's own time: the workbook stamps it (reproducible), a late delivery computes the same day
          input: scheduler.ScheduleTargetInput.fromObject({ ...SCHEDULED_TASKS[id].task, scheduledTime: scheduler.ContextAttribute.scheduledTime }),
          // Scheduler's own delivery failures go to the function's dead-letter queue too
          deadLetterQueue: f.deadLetterQueue,
          retryAttempts: 2,
          maxEventAge: Duration.hours(6),
        }),
      });
    this.schedules = {
      AfterDeadline: schedule('AfterDeadline', props.schedule.afterDeadline, `hmis ${props.stage}: after the deadline, consolidation and the digest of missing returns (working days)`),
      Nightly: schedule('Nightly', props.schedule.nightly, `hmis ${props.stage}: nightly consolidation of the reporting month`),
      ReconcileNightly: schedule('ReconcileNightly', SCHEDULED_TASKS.ReconcileNightly.cron, `hmis ${props.stage}: nightly reconciliation of uploads with the table, before the nightly workbook`),
      ReconcileAfterDeadline: schedule('ReconcileAfterDeadline', SCHEDULED_TASKS.ReconcileAfterDeadline.cron, `hmis ${props.stage}: reconciliation before the after-deadline workbook and digest (working days)`),
    };
  }
}

/**
 * LambdaInvoke grants the Scheduler role lambda:InvokeFunction on the function and on `<arn>:*`
 * (every version and alias); the schedules invoke $LATEST only, so the grant names the function alone.
 */
class InvokeFunction extends targets.LambdaInvoke {
  constructor(
    private readonly target: lambda.IFunction,
    props: targets.ScheduleTargetBaseProps,
  ) {
    super(target, props);
  }

  protected override addTargetActionToRole(role: iam.IRole): void {
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'InvokeConsolidate', actions: ['lambda:InvokeFunction'], resources: [this.target.functionArn] }));
  }
}
