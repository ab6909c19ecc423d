/**
 * The defaults every function of the stack gets, in one place:
 *  - its own role (no managed policies; log writes to its own log group only; callers add the rest),
 *  - its own log group with a retention,
 *  - Node.js 24 on arm64, explicit memory and timeout, recursive loop detection TERMINATE,
 *  - bundling by the local esbuild (ESM, minified, the AWS SDK included: the versions we test),
 *  - async invocations retried twice, then sent to an SQS dead-letter queue (on-failure destination),
 *    unless the function is invoked by a queue (ingest: its queue has the dead-letter queue),
 *  - alarms on the dead-letter queue's depth and on the function's errors, to the operations topic.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';

/** The repository root: entries, package-lock.json and esbuild are found from here. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const handlerEntry = (name: string) => fileURLToPath(new URL(`../../functions/handlers/${name}.ts`, import.meta.url));

export const RUNTIME = lambda.Runtime.NODEJS_24_X;
export const ARCHITECTURE = lambda.Architecture.ARM_64;

/**
 * What NodejsFunction hands to esbuild; bench/bundle.ts builds with the same options.
 * ESM needs `require` for the CommonJS dependencies (exceljs and its zip libraries).
 */
export const BUNDLING = {
  format: nodejs.OutputFormat.ESM,
  target: 'node24',
  mainFields: ['module', 'main'],
  minify: true,
  keepNames: true,
  sourceMap: false,
  // the SDK is bundled: the versions the tests ran, not whatever the runtime ships
  externalModules: [] as string[],
  banner: "import { createRequire as __hmisRequire } from 'node:module'; const require = __hmisRequire(import.meta.url);",
} as const;

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
  /** override the entry file (tests of the construct only) */
  entry?: string;
}

export class DefaultFunction extends Construct {
  readonly fn: nodejs.NodejsFunction;
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

    this.fn = new nodejs.NodejsFunction(this, 'Function', {
      entry: props.entry ?? handlerEntry(props.handler),
      handler: 'handler',
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
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      bundling: { ...BUNDLING, mainFields: [...BUNDLING.mainFields], externalModules: [...BUNDLING.externalModules] },
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
