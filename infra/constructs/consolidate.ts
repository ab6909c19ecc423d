/**
 * store → consolidate: functions/handlers/consolidate.ts, invoked by EventBridge Scheduler in the
 * configured time zone (Asia/Shanghai) with
 *   {"task":"after-deadline"}   working days 09:00: consolidation and the digest of missing returns
 *                               for each county whose deadline has passed (the handler decides)
 *   {"task":"nightly"}          every night 02:00: consolidation of the reporting month
 * and on demand (`aws lambda invoke`, docs/DEPLOY.md) with
 *   {"task":"consolidate","level":"county","code":"150525","period":"2025-03"} or
 *   {"task":"digest","county":"150525","period":"2025-03"}.
 *
 *   {"task":"lake","county":"150525","year":2025}.
 *
 * It may read the table (never write it), write consolidated/ and lake/ keys only, and publish the digest.
 */
import { Duration, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { SCHEDULES } from '../../functions/core/schedule.ts';
import { TASK_KEY_PREFIX } from '../../functions/adapters/dynamo/store.ts';
import { LAKE_PREFIX } from '../../functions/core/lake/index.ts';
import { DefaultFunction } from './defaults.ts';
import type { Storage } from './storage.ts';

export const CONSOLIDATE_WRITES = 'consolidated/';
export const LAKE_WRITES = LAKE_PREFIX;
export const CONSOLIDATE_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'];

/** The scheduled tasks and the input each sends: the handler's own (functions/core/schedule.ts SCHEDULES). */
export const SCHEDULED_TASKS = {
  AfterDeadline: SCHEDULES.find((s) => s.name === 'after-deadline')!.task,
  Nightly: SCHEDULES.find((s) => s.name === 'nightly')!.task,
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
  entry?: string;
}

export class Consolidate extends Construct {
  readonly function: DefaultFunction;
  readonly schedules: Record<keyof typeof SCHEDULED_TASKS, scheduler.Schedule>;

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
      entry: props.entry,
    });
    const f = this.function;
    f.allow('ReadSubmissions', CONSOLIDATE_TABLE_ACTIONS, [storage.table.tableArn]);
    f.allow('QueryHistory', ['dynamodb:Query'], [storage.gsi1Arn]);
    // its only writes: the markers that make a scheduled digest go out once a day (TASK#… items)
    f.allow('ClaimScheduledTasks', ['dynamodb:PutItem', 'dynamodb:DeleteItem'], [storage.table.tableArn], undefined, {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${TASK_KEY_PREFIX}*`] },
    });
    f.allow('WriteConsolidated', ['s3:PutObject'], [storage.reports.arnForObjects(`${CONSOLIDATE_WRITES}*`)], 'Consolidated workbooks, one key per county (or city, province) and period, under consolidated/ only.');
    f.allow('WriteLake', ['s3:PutObject'], [storage.reports.arnForObjects(`${LAKE_WRITES}*`)], 'The lake: one Parquet object per county and year, under lake/ only.');
    f.allow('PublishDigest', ['sns:Publish'], [props.alerts.topicArn]);

    const timeZone = TimeZone.of(props.schedule.timezone);
    const schedule = (id: keyof typeof SCHEDULED_TASKS, expression: string, description: string) =>
      new scheduler.Schedule(this, id, {
        description,
        schedule: scheduler.ScheduleExpression.expression(expression, timeZone),
        target: new InvokeFunction(f.fn, {
          input: scheduler.ScheduleTargetInput.fromObject(SCHEDULED_TASKS[id]),
          // Scheduler's own delivery failures go to the function's dead-letter queue too
          deadLetterQueue: f.deadLetterQueue,
          retryAttempts: 2,
          maxEventAge: Duration.hours(6),
        }),
      });
    this.schedules = {
      AfterDeadline: schedule('AfterDeadline', props.schedule.afterDeadline, `hmis ${props.stage}: after the deadline, consolidation and the digest of missing returns (working days)`),
      Nightly: schedule('Nightly', props.schedule.nightly, `hmis ${props.stage}: nightly consolidation of the reporting month`),
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
