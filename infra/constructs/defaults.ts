/**
 * The defaults every function of the stack gets, in one place:
 *  - its own role (no managed policies; log writes to its own log group only; callers add the rest),
 *  - its own log group with a retention,
 *  - Node.js 24 on arm64, explicit memory and timeout, recursive loop detection TERMINATE,
 *  - its code built at synth by infra/bundle.ts (the local esbuild: ESM, minified, the AWS SDK included,
 *    what a cold start never runs in files of its own),
 *  - async invocations retried twice, then sent to an SQS dead-letter queue (on-failure destination),
 *    unless the function is invoked by a queue (ingest: its queue has the dead-letter queue),
 *  - alarms on the dead-letter queue's depth and on the function's errors, to the operations topic.
 */
import { AssetHashType, DockerImage, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from '../bundle.ts';

export const RUNTIME = lambda.Runtime.NODEJS_24_X;
export const ARCHITECTURE = lambda.Architecture.ARM_64;

/**
 * A handler's code: `tsx infra/bundle.ts <handler> <dir>` run at synth, the output hashed (a change of
 * any bundled file, and only that, is a new version). The Docker image is CDK's fallback, never used:
 * local bundling succeeds or fails synth with esbuild's message.
 */
function handlerCode(handler: string): lambda.Code {
  const bundleScript = fileURLToPath(new URL('../bundle.ts', import.meta.url));
  return lambda.Code.fromAsset(PROJECT_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24'),
      command: ['npx', 'tsx', 'infra/bundle.ts', handler, '/asset-output'], // also what makes each handler's asset its own
      local: {
        tryBundle(outputDir) {
          const run = spawnSync(process.execPath, ['--import', 'tsx', bundleScript, handler, outputDir], { cwd: PROJECT_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
          if (run.status !== 0) throw new Error(`bundling ${handler} failed (${run.error?.message ?? `exit ${run.status ?? run.signal}`})`);
          return true;
        },
      },
    },
  });
}

export interface DefaultFunctionProps {
  /** handler file name under functions/handlers, without .ts */
  handler: string;
  description: string;
  /** MB */
  memorySize: number;
  timeout: Duration;
  environment: Record<string, string>;
  logRetentionDays: number;
  opsTopic: sns.ITopic;
  reservedConcurrentExecutions?: number;
  /** invoked by an SQS event source mapping, not asynchronously: that queue's dead-letter queue is this one (no async retries, no on-failure destination) */
  queueDeadLetters?: sqs.Queue;
}

export class DefaultFunction extends Construct {
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly deadLetterQueue: sqs.Queue;
  readonly alarms: { deadLetters: cloudwatch.Alarm; errors: cloudwatch.Alarm };
  private readonly opsTopic: sns.ITopic;

  constructor(scope: Construct, id: string, props: DefaultFunctionProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.handler}: its own role, least privilege`,
    });
    this.allow('WriteOwnLogs', ['logs:CreateLogStream', 'logs:PutLogEvents'], [this.logGroup.logGroupArn], "The function's own log group; its streams are created per execution environment.");

    this.deadLetterQueue = props.queueDeadLetters ?? deadLetterQueue(this, 'DeadLetters');
    const asyncInvoked = !props.queueDeadLetters;

    this.fn = new lambda.Function(this, 'Function', {
      code: handlerCode(props.handler),
      handler: 'index.handler',
      description: props.description,
      runtime: RUNTIME,
      architecture: ARCHITECTURE,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      environment: props.environment,
      recursiveLoop: lambda.RecursiveLoop.TERMINATE,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      ...(asyncInvoked ? { retryAttempts: 2, maxEventAge: Duration.hours(6), onFailure: new destinations.SqsDestination(this.deadLetterQueue) } : {}),
    });
    Validations.of(this.fn).acknowledge(
      {
        id: 'Serverless-LambdaDLQ',
        reason: asyncInvoked
          ? 'Failed async invocations go to the SQS on-failure destination (it records the event and the error); a legacy DLQ as well would deliver each failure twice.'
          : 'Invoked by an SQS event source mapping: a message that keeps failing goes to that queue\'s dead-letter queue (redrive policy), which a function DLQ would never see.',
      },
      {
        id: 'Serverless-LambdaTracing',
        reason: 'X-Ray needs xray:PutTraceSegments on Resource "*"; the functions log one JSON line per event instead and failures land in the dead-letter queue.',
      },
    );

    this.opsTopic = props.opsTopic;
    const alarm = this.alarm.bind(this);
    this.alarms = {
      deadLetters: alarm(
        'DeadLettersAlarm',
        this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
        `${props.handler}: ${asyncInvoked ? 'an event failed after its retries' : 'a message failed on its last receive'} and waits in the dead-letter queue (${stack.stackName})`,
      ),
      errors: alarm(
        'ErrorsAlarm',
        this.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        `${props.handler}: the function threw (a transient fault; ${asyncInvoked ? 'Lambda retries it twice' : 'its messages are received again'}) (${stack.stackName})`,
      ),
    };
  }

  /** An alarm to the operations topic when `metric` reaches `threshold` in one period (no data: not breaching). */
  alarm(id: string, metric: cloudwatch.IMetric, description: string, threshold = 1): cloudwatch.Alarm {
    const a = new cloudwatch.Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    a.addAlarmAction(new actions.SnsAction(this.opsTopic));
    return a;
  }

  /** Adds one explicit statement to the function's own role. */
  allow(sid: string, actions: string[], resources: string[], reason?: string, conditions?: Record<string, unknown>): void {
    const statement = new iam.PolicyStatement({ sid, actions, resources, ...(conditions ? { conditions } : {}) });
    this.role.addToPrincipalPolicy(statement);
    if (reason) acknowledgeScopedResources(this.role, new iam.PolicyDocument({ statements: [statement] }), reason);
  }
}

/** A dead-letter queue: SSE, TLS only, 14 days, retained; its depth is alarmed by the function using it. */
export function deadLetterQueue(scope: Construct, id: string): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy: RemovalPolicy.RETAIN,
  });
  Validations.of(queue).acknowledge(
    {
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself a dead-letter queue (of a function, or of the ingest queue); its depth raises an alarm.',
    },
    {
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'The last stop: failed events wait here (14 days, alarmed) until an operator replays them after fixing the fault (docs/DEPLOY.md).',
    },
  );
  return queue;
}

/**
 * cdk-nag reports each wildcard resource of a policy as its own AwsSolutions-IAM5 finding. This
 * acknowledges the ones that are a key prefix (`…/reports/*`, a log group's `:*`) by the id cdk-nag
 * gives each, so that any other wildcard still fails the check. A bare "*" is refused outright.
 */
export function acknowledgeScopedResources(scope: Construct, document: iam.PolicyDocument, reason: string): void {
  const doc = Stack.of(scope).resolve(document.toJSON()) as { Statement: Array<{ Action: unknown; Resource: unknown }> };
  for (const statement of doc.Statement) {
    for (const action of [statement.Action].flat()) {
      if (String(action).includes('*')) throw new Error(`${scope.node.path}: wildcard action ${String(action)}`);
    }
    for (const resource of [statement.Resource].flat()) {
      const id = nagResourceId(resource);
      if (id === '*') throw new Error(`${scope.node.path}: Resource "*"`);
      if (id.includes('*')) Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${id}]`, reason });
    }
  }
}

/**
 * How cdk-nag 3 renders a resolved policy resource in a finding id (its utils/flatten-cfn-reference:
 * `${x}` → `<x>`, Ref → `<Id>`, GetAtt → `<Id.Attr>`, Join joined).
 */
export function nagResourceId(resource: unknown): string {
  if (resource === undefined) return '';
  if (typeof resource === 'string') return resource.replace(/\$\{/g, '<').replace(/}/g, '>');
  const r = resource as Record<string, unknown>;
  if (r['Fn::Join']) {
    const [sep, parts] = r['Fn::Join'] as [string, unknown[]];
    return parts.map(nagResourceId).join(sep);
  }
  if (r['Fn::Sub']) return nagResourceId(r['Fn::Sub']);
  if (r['Fn::GetAtt']) {
    const [id, attr] = r['Fn::GetAtt'] as [unknown, unknown];
    return `<${nagResourceId(id)}.${nagResourceId(attr)}>`;
  }
  if (r['Fn::ImportValue']) return nagResourceId(r['Fn::ImportValue']);
  if (r.Ref) return `<${nagResourceId(r.Ref)}>`;
  return JSON.stringify(resource);
}
