/**
 * The synthesised template, asserted: what issue 6 promises a county (notification filter, schedule,
 * dead letters, alarms, encryption, retention) and least privilege (one role per function, no
 * wildcard action, writes only under the function's own prefixes). One synth for the file, no bundling.
 */
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_KEYS } from '../../functions/adapters/dynamo/table.ts';
import { ENV, UPLOAD_PREFIX } from '../../functions/config.ts';
import { INGEST_BATCH_SIZE, INGEST_MAX_RECEIVES, OLDEST_MESSAGE_ALARM_SECONDS } from '../../infra/constructs/ingest.ts';
import { bundledDefinitions } from '../../schemas/index.ts';
import { loadDeployConfig } from '../../infra/config.ts';
import { HmisStack } from '../../infra/stack.ts';
import { LAKE_COLUMNS } from '../../functions/core/lake/index.ts';
import { actionsOf, arn, flat, inspect, PORTAL_API_CONTEXT, ref, resourcesOf, type Resource, type Statement } from './template.ts';

type Inspect = ReturnType<typeof inspect>;


let template: Template;
let resources: Record<string, Resource>;
let stack: HmisStack;
let workDir: string;

const CONTEXT: Record<string, string> = {
  ...PORTAL_API_CONTEXT,
  stage: 'test',
  counties: '150525,150425',
  opsEmails: 'ops@example.org',
};
const CONFIG_FILE = {
  alerts: [
    { protocol: 'email', endpoint: 'naiman@example.org', filter: { county: ['150525'] } },
    { protocol: 'sms', endpoint: '+8613800000000', filter: { institution: ['150525-101'], severity: ['error'] } },
  ],
};

let ofType: Inspect['ofType'];
let logicalId: Inspect['logicalId'];
let roleStatements: Inspect['roleStatements'];

beforeAll(async () => {
  const { mkdtemp, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = (workDir = await mkdtemp(join(tmpdir(), 'hmis-infra-')));
  await writeFile(join(dir, 'config.json'), JSON.stringify(CONFIG_FILE));
  const context: Record<string, string> = { ...CONTEXT, config: join(dir, 'config.json') };
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, outdir: join(dir, 'cdk.out') });
  stack = new HmisStack(app, 'hmis-test', { config: loadDeployConfig((k) => context[k]) });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
  ({ ofType, logicalId, roleStatements } = inspect(stack, resources));
});

afterAll(async () => {
  const { rm } = await import('node:fs/promises');
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('storage', () => {
  it('uploads bucket: versioned, encrypted, public access blocked, old versions expire, retained', () => {
    const uploads = logicalId(stack.storage.uploads);
    const bucket = resources[uploads]!;
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { DestinationBucketName: ref(logicalId(stack.storage.accessLogs)) },
    });
    expect(bucket.Properties.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 730 }, Status: 'Enabled' }),
    );
  });

  it('every bucket is encrypted, private, TLS only (1.2+); every data bucket is retained', () => {
    const buckets = ofType('AWS::S3::Bucket');
    expect(buckets).toHaveLength(4);
    const web = logicalId(stack.portal.webBucket);
    for (const [id, bucket] of buckets) {
      // the portal's page bucket holds only files of the repository; its deployment empties it on delete
      expect(bucket.DeletionPolicy, id).toBe(id === web ? 'Delete' : 'Retain');
      expect(bucket.Properties.BucketEncryption, id).toBeDefined();
      expect(bucket.Properties.PublicAccessBlockConfiguration, id).toMatchObject({ BlockPublicPolicy: true, RestrictPublicBuckets: true });
      const policy = ofType('AWS::S3::BucketPolicy').find(([, p]) => JSON.stringify(p.Properties.Bucket) === JSON.stringify(ref(id)));
      expect(policy, `${id} has a bucket policy`).toBeDefined();
      const statements = policy![1].Properties.PolicyDocument.Statement as Statement[];
      expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
      expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }));
    }
  });

  it('reports are a separate bucket: nothing a function writes can trigger ingest', () => {
    expect(stack.storage.reports).not.toBe(stack.storage.uploads);
    const withNotifications = ofType('AWS::S3::Bucket').filter(([, b]) => b.Properties.NotificationConfiguration);
    expect(withNotifications.map(([id]) => id)).toEqual([logicalId(stack.storage.uploads)]);
  });

  it('table: keys of functions/adapters/dynamo/table.ts, on demand, PITR, deletion protection, retained', () => {
    const [[, table]] = ofType('AWS::DynamoDB::Table') as [[string, Resource]];
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      DeletionProtectionEnabled: true,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      KeySchema: [
        { AttributeName: TABLE_KEYS.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: TABLE_KEYS.sortKey.name, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: TABLE_KEYS.gsi1.indexName,
          KeySchema: [
            { AttributeName: TABLE_KEYS.gsi1.partitionKey.name, KeyType: 'HASH' },
            { AttributeName: TABLE_KEYS.gsi1.sortKey.name, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });
});

describe('ingest', () => {
  it('S3 ObjectCreated under the upload prefix (no suffix: the handler decides) goes to the ingest queue, which only that bucket of this account may send to', () => {
    const queue = logicalId(stack.ingest.queue);
    const bucket = resources[logicalId(stack.storage.uploads)]!;
    expect(bucket.Properties.NotificationConfiguration).toEqual({
      QueueConfigurations: [{ Event: 's3:ObjectCreated:*', Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: UPLOAD_PREFIX }] } }, Queue: arn(queue) }],
    });
    const [[policyId, policy]] = ofType('AWS::SQS::QueuePolicy').filter(([, p]) => JSON.stringify(p.Properties.Queues) === JSON.stringify([ref(queue)])) as [[string, Resource]];
    const allow = (policy.Properties.PolicyDocument.Statement as Statement[]).find((st) => st.Effect === 'Allow')!;
    expect(allow).toMatchObject({ Action: 'sqs:SendMessage', Principal: { Service: 's3.amazonaws.com' }, Resource: arn(queue), Condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') } } });
    expect(flat((allow.Condition as any).ArnEquals['aws:SourceArn'])).toBe('arn:<AWS::Partition>:s3:::hmis-test-uploads-<AWS::AccountId>-<AWS::Region>');
    // S3 checks that it may send when the notification is saved: the policy exists first
    expect(bucket.DependsOn).toEqual(expect.arrayContaining([queue, policyId]));
  });

  it('the queue: encrypted, TLS only, retained, visibility 6 × the timeout, a dead-letter queue after 5 receives; SQS may redrive it back', () => {
    const queue = resources[logicalId(stack.ingest.queue)]!;
    const dlq = logicalId(stack.ingest.deadLetterQueue);
    expect(queue.DeletionPolicy).toBe('Retain');
    expect(queue.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 360,
      MessageRetentionPeriod: 14 * 24 * 3600,
      RedrivePolicy: { deadLetterTargetArn: arn(dlq), maxReceiveCount: INGEST_MAX_RECEIVES },
    });
    // no RedriveAllowPolicy: the default (allowAll) lets StartMessageMoveTask return messages to their source queue
    expect(resources[dlq]!.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    expect(resources[dlq]!.Properties.RedriveAllowPolicy).toBeUndefined();
    expect(resources[dlq]!.DeletionPolicy).toBe('Retain');
  });

  it('an event source mapping hands batches to ingest and takes back only the failed messages (ReportBatchItemFailures); no async retries', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping').map(([, m]) => m.Properties);
    expect(mappings).toEqual([
      expect.objectContaining({ EventSourceArn: arn(logicalId(stack.ingest.queue)), FunctionName: ref(logicalId(stack.ingest.function.fn)), BatchSize: INGEST_BATCH_SIZE, FunctionResponseTypes: ['ReportBatchItemFailures'] }),
    ]);
    expect(ofType('AWS::Lambda::EventInvokeConfig').filter(([, c]) => JSON.stringify(c.Properties.FunctionName) === JSON.stringify(ref(logicalId(stack.ingest.function.fn))))).toEqual([]);
    expect(ofType('AWS::Lambda::Permission').filter(([, p]) => p.Properties.Principal === 's3.amazonaws.com')).toEqual([]);
  });

  it('no custom resource for the notification (part of the bucket); the custom resources copy the portal page and seed the definitions', () => {
    // ingest, consolidate, portal-api, the definitions seed and BucketDeployment's handler (both deploy time only)
    expect(ofType('AWS::Lambda::Function')).toHaveLength(5);
    expect(Object.values(resources).filter((r) => r.Type.startsWith('Custom::')).map((r) => r.Type).sort()).toEqual(['Custom::CDKBucketDeployment', 'Custom::HmisDefinitionsSeed']);
  });
});

describe('functions', () => {
  const specs = () => [
    { construct: stack.ingest.function, memory: 1536, timeout: 60 },
    { construct: stack.consolidate.function, memory: 1024, timeout: 300 },
  ];

  it('current Node.js on arm64, explicit memory and timeout, recursive loops terminated, own log group with retention', () => {
    for (const { construct, memory, timeout } of [...specs(), { construct: stack.portal.function, memory: 1024, timeout: 29 }]) {
      const fn = resources[logicalId(construct.fn)]!;
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: memory,
        Timeout: timeout,
        RecursiveLoop: 'Terminate',
        Handler: 'index.handler',
        LoggingConfig: { LogGroup: ref(logicalId(construct.logGroup)) },
        Role: arn(logicalId(construct.role)),
      });
      const logs = resources[logicalId(construct.logGroup)]!;
      expect(logs.Properties.RetentionInDays).toBe(365);
      expect(logs.DeletionPolicy).toBe('Retain');
    }
  });

  it('environment: the names of functions/config.ts, the counties served, the portal for links; no ops topic (no handler publishes there)', () => {
    for (const { construct } of specs()) {
      const vars = resources[logicalId(construct.fn)]!.Properties.Environment.Variables as Record<string, unknown>;
      expect(Object.keys(vars).sort()).toEqual(
        [ENV.uploadsBucket, ENV.reportsBucket, ENV.tableName, ENV.alertsTopicArn, ENV.maxUploadBytes, ENV.counties, ENV.portalBaseUrl, ...(construct === stack.consolidate.function ? [ENV.uploadQueueUrl] : [])].sort(),
      );
      expect(vars[ENV.counties]).toBe('150525,150425');
      expect(vars[ENV.maxUploadBytes]).toBe(String(10 * 1024 * 1024));
      expect(flat(vars[ENV.uploadsBucket])).toBe('hmis-test-uploads-<AWS::AccountId>-<AWS::Region>');
      expect(vars[ENV.reportsBucket]).toEqual(ref(logicalId(stack.storage.reports)));
      expect(vars[ENV.tableName]).toEqual(ref(logicalId(stack.storage.table)));
      expect(vars[ENV.alertsTopicArn]).toEqual(ref(logicalId(stack.topics.alerts)));
      expect(vars).not.toHaveProperty(ENV.opsTopicArn);
      expect(vars).not.toHaveProperty(ENV.s3ForcePathStyle);
      // no portalBaseUrl in this config: the distribution's own address
      expect(vars[ENV.portalBaseUrl]).toEqual({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [logicalId(stack.portal.distribution), 'DomainName'] }]] });
    }
  });

  it('async failures (the scheduled function): two retries, then the SQS dead-letter queue (encrypted, TLS only, retained, 14 days)', () => {
    for (const { construct } of specs().slice(1)) {
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: ref(logicalId(construct.fn)),
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: arn(logicalId(construct.deadLetterQueue)) } },
      });
      const queue = resources[logicalId(construct.deadLetterQueue)]!;
      expect(queue.DeletionPolicy).toBe('Retain');
      expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [ref(logicalId(construct.deadLetterQueue))],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
  });

  it('alarms: dead-letter depth and function errors of each function, the ingest queue\'s oldest message, reconciliation finding anything (and failed sign-ins: portal.test.ts); all to the operations topic', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    expect(alarms).toHaveLength(11);
    const ops = ref(logicalId(stack.topics.ops));
    for (const a of alarms) expect(a.AlarmActions).toEqual([ops]);
    const queueDepth = (queue: string) => expect.objectContaining({ MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS', Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }], Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    for (const { construct } of [...specs(), { construct: stack.portal.function }, { construct: stack.definitions.function }]) {
      expect(alarms).toContainEqual(queueDepth(logicalId(construct.deadLetterQueue)));
      expect(alarms).toContainEqual(expect.objectContaining({ MetricName: 'Errors', Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName', Value: ref(logicalId(construct.fn)) }], Threshold: 1 }));
    }
    expect(stack.ingest.function.deadLetterQueue).toBe(stack.ingest.deadLetterQueue);
    expect(alarms).toContainEqual(
      expect.objectContaining({
        MetricName: 'ApproximateAgeOfOldestMessage',
        Namespace: 'AWS/SQS',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.ingest.queue), 'QueueName'] } }],
        Statistic: 'Maximum',
        Threshold: OLDEST_MESSAGE_ALARM_SECONDS,
      }),
    );
    expect(alarms).toContainEqual(
      expect.objectContaining({
        MetricName: 'ReconcileFound',
        Namespace: 'hmis',
        Dimensions: [{ Name: 'FunctionName', Value: ref(logicalId(stack.consolidate.function.fn)) }],
        Threshold: 1,
        TreatMissingData: 'notBreaching',
      }),
    );
  });
});

describe('schedule', () => {
  it('EventBridge Scheduler in Asia/Shanghai: working days after the deadline and every night, with retries and a dead-letter queue', () => {
    const fn = arn(logicalId(stack.consolidate.function.fn));
    const dlq = arn(logicalId(stack.consolidate.function.deadLetterQueue));
    const schedules = ofType('AWS::Scheduler::Schedule').map(([, s]) => s.Properties);
    expect(schedules).toHaveLength(4);
    for (const [expression, task] of [
      ['cron(0 9 ? * MON-FRI *)', 'after-deadline'],
      ['cron(0 2 * * ? *)', 'nightly'],
      ['cron(30 1 * * ? *)', 'reconcile'],
      ['cron(30 8 ? * MON-FRI *)', 'reconcile'],
    ]) {
      expect(schedules).toContainEqual(
        expect.objectContaining({
          ScheduleExpression: expression,
          ScheduleExpressionTimezone: 'Asia/Shanghai',
          State: 'ENABLED',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: expect.objectContaining({
            Arn: fn,
            // the schedule's own time, not the clock at run time: a reproducible workbook
            Input: JSON.stringify({ task, scheduledTime: '<aws.scheduler.scheduled-time>' }),
            DeadLetterConfig: { Arn: dlq },
            RetryPolicy: expect.objectContaining({ MaximumRetryAttempts: 2 }),
          }),
        }),
      );
    }
  });

  it("the Scheduler's role may invoke the consolidate function (not its versions) and send to its dead-letter queue, nothing else", () => {
    const [[, schedule]] = ofType('AWS::Scheduler::Schedule') as [[string, Resource]];
    const roleId = schedule.Properties.Target.RoleArn['Fn::GetAtt'][0] as string;
    expect(resources[roleId]!.Properties.AssumeRolePolicyDocument.Statement[0]).toMatchObject({
      Principal: { Service: 'scheduler.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') } },
    });
    const grants = roleStatements(roleId).map((s) => [actionsOf(s).join(','), resourcesOf(s)]);
    expect(grants).toEqual([
      ['lambda:InvokeFunction', [arn(logicalId(stack.consolidate.function.fn))]],
      ['sqs:SendMessage', [arn(logicalId(stack.consolidate.function.deadLetterQueue))]],
    ]);
  });
});

describe('topics', () => {
  it('alerts and ops topics: TLS only; alerts encrypted with the AWS-managed SNS key', () => {
    for (const topic of [stack.topics.alerts, stack.topics.ops]) {
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [ref(logicalId(topic))],
        PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
      });
    }
    expect(flat(resources[logicalId(stack.topics.alerts)]!.Properties.KmsMasterKeyId)).toContain('alias/aws/sns');
  });

  it('subscriptions carry the filter policies of the config', () => {
    const subs = ofType('AWS::SNS::Subscription').map(([, s]) => s.Properties);
    const alerts = ref(logicalId(stack.topics.alerts));
    expect(subs).toContainEqual(expect.objectContaining({ TopicArn: alerts, Protocol: 'email', Endpoint: 'naiman@example.org', FilterPolicy: { county: ['150525'] } }));
    expect(subs).toContainEqual(
      expect.objectContaining({ TopicArn: alerts, Protocol: 'sms', Endpoint: '+8613800000000', FilterPolicy: { institution: ['150525-101'], severity: ['error'] } }),
    );
    expect(subs).toContainEqual(expect.objectContaining({ TopicArn: ref(logicalId(stack.topics.ops)), Protocol: 'email', Endpoint: 'ops@example.org' }));
    expect(subs).toHaveLength(3);
  });
});

describe('names', () => {
  it('descriptions and display names are ASCII (IAM, SNS and Scheduler refuse much else)', () => {
    for (const [id, r] of Object.entries(resources)) {
      for (const key of ['Description', 'DisplayName', 'AlarmDescription']) {
        const value = r.Properties?.[key];
        if (typeof value === 'string') expect(value, `${id}.${key}`).toMatch(/^[\x20-\x7e]*$/);
      }
    }
  });
});

describe('least privilege', () => {
  it('no Allow statement anywhere has a wildcard action or Resource "*"', () => {
    const docs = Object.entries(resources).flatMap(([id, r]) => {
      if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') return [[id, r.Properties.PolicyDocument] as const];
      if (r.Type === 'AWS::IAM::Role') return (r.Properties.Policies ?? []).map((p: any) => [id, p.PolicyDocument] as const);
      return [];
    });
    expect(docs.length).toBeGreaterThan(5);
    for (const [id, doc] of docs) {
      for (const s of doc.Statement as Statement[]) {
        if (s.Effect !== 'Allow') continue;
        for (const action of actionsOf(s)) expect(action, `${id}: ${action}`).not.toContain('*');
        for (const resource of resourcesOf(s)) expect(resource, id).not.toBe('*');
      }
    }
    // and no role holds an AWS managed policy (AWSLambdaBasicExecutionRole grants logs on "*")
    for (const [id, role] of ofType('AWS::IAM::Role')) expect(role.Properties.ManagedPolicyArns, id).toBeUndefined();
  });

  it('one role per function', () => {
    const roles = ofType('AWS::Lambda::Function').map(([, f]) => JSON.stringify(f.Properties.Role));
    expect(new Set(roles).size).toBe(roles.length);
  });

  it('ingest: reads uploads, writes only report and feedback keys, reads and writes the table and GSI1, publishes alerts (not to ops)', () => {
    const f = stack.ingest.function;
    const reports = logicalId(stack.storage.reports);
    const grants = roleStatements(logicalId(f.role)).map((s) => ({ actions: actionsOf(s).sort(), resources: resourcesOf(s).map(flat).sort() }));
    expect(grants).toEqual([
      { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`<${logicalId(f.logGroup)}>`] },
      { actions: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'], resources: [`<${logicalId(stack.ingest.queue)}>`] },
      { actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: ['arn:<AWS::Partition>:s3:::hmis-test-uploads-<AWS::AccountId>-<AWS::Region>/uploads/*'] },
      { actions: ['s3:PutObject'], resources: [`<${reports}>/feedback/*`, `<${reports}>/reports/*`] },
      { actions: ['s3:GetObject'], resources: [`<${reports}>/reports/*`] },
      { actions: ['s3:ListBucket'], resources: [`<${reports}>`] },
      {
        actions: ['dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
        resources: [`<${logicalId(stack.storage.table)}>`],
      },
      { actions: ['dynamodb:Query'], resources: [`<${logicalId(stack.storage.table)}>/index/GSI1`] },
      { actions: ['sns:Publish'], resources: [`<${logicalId(stack.topics.alerts)}>`] },
      { actions: ['s3:GetObject'], resources: [`<${reports}>/definitions/*`] },
    ]);
  });

  it('consolidate: reads the table, writes only its TASK# markers there, consolidated and lake keys and the audit export in S3, publishes the digest (not to ops)', () => {
    const f = stack.consolidate.function;
    const statements = roleStatements(logicalId(f.role));
    const grants = statements.map((s) => ({ actions: actionsOf(s).sort(), resources: resourcesOf(s).map(flat).sort() }));
    expect(grants).toEqual([
      { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`<${logicalId(f.logGroup)}>`] },
      { actions: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], resources: [`<${logicalId(f.deadLetterQueue)}>`] },
      { actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'], resources: [`<${logicalId(stack.storage.table)}>`] },
      { actions: ['dynamodb:Query'], resources: [`<${logicalId(stack.storage.table)}>/index/GSI1`] },
      { actions: ['dynamodb:DeleteItem', 'dynamodb:PutItem'], resources: [`<${logicalId(stack.storage.table)}>`] },
      { actions: ['s3:PutObject'], resources: [`<${logicalId(stack.storage.reports)}>/consolidated/*`] },
      { actions: ['s3:PutObject'], resources: [`<${logicalId(stack.storage.reports)}>/audit/*`] },
      { actions: ['s3:PutObject'], resources: [`<${logicalId(stack.storage.reports)}>/lake/*`] },
      { actions: ['sns:Publish'], resources: [`<${logicalId(stack.topics.alerts)}>`] },
      { actions: ['s3:ListBucket', 's3:ListBucketVersions'], resources: ['arn:<AWS::Partition>:s3:::hmis-test-uploads-<AWS::AccountId>-<AWS::Region>'] },
      { actions: ['sqs:SendMessage'], resources: [`<${logicalId(stack.ingest.queue)}>`] },
      { actions: ['s3:GetObject'], resources: [`<${logicalId(stack.storage.reports)}>/definitions/*`] },
    ]);
    const lists = statements.find((s) => actionsOf(s).includes('s3:ListBucketVersions'))!;
    expect(lists.Condition).toEqual({ StringLike: { 's3:prefix': ['uploads/*'] } });
    const writes = statements.find((s) => actionsOf(s).includes('dynamodb:PutItem'))!;
    expect(writes.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TASK#*'] } });
  });
});

describe('the lake: a Glue table and an Athena workgroup over lake/', () => {
  it('the Glue table reads lake/ as Parquet with the lake\'s columns, partitions year and county projected from the deployment\'s counties', () => {
    const [[, db]] = ofType('AWS::Glue::Database') as [[string, Resource]];
    expect(db.Properties.DatabaseInput.Name).toBe('hmis_test');
    const [[, table]] = ofType('AWS::Glue::Table') as [[string, Resource]];
    const input = table.Properties.TableInput;
    expect(table.Properties.DatabaseName).toBe('hmis_test');
    expect(input.Name).toBe('values');
    expect(input.StorageDescriptor.Columns.map((c: { Name: string; Type: string }) => `${c.Name}:${c.Type}`)).toEqual(
      LAKE_COLUMNS.map((c) => `${c.name}:${c.type === 'STRING' ? 'string' : c.type === 'DOUBLE' ? 'double' : 'int'}`),
    );
    expect(input.PartitionKeys).toEqual([{ Name: 'year', Type: 'int' }, { Name: 'county', Type: 'string' }]);
    expect(flat(input.StorageDescriptor.Location)).toBe(`s3://<${logicalId(stack.storage.reports)}>/lake/`);
    expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
    expect(input.Parameters).toMatchObject({ classification: 'parquet', 'projection.enabled': 'true', 'projection.county.type': 'enum', 'projection.county.values': '150525,150425', 'projection.year.type': 'integer' });
    expect(flat(input.Parameters['storage.location.template'])).toBe(`s3://<${logicalId(stack.storage.reports)}>/lake/year=\${year}/county=\${county}/`);
  });

  it('the Athena workgroup enforces its settings: encrypted results under athena-results/ (expiring), a scan cap', () => {
    const [[, wg]] = ofType('AWS::Athena::WorkGroup') as [[string, Resource]];
    expect(wg.Properties.Name).toBe('hmis-test-lake');
    const c = wg.Properties.WorkGroupConfiguration;
    expect(c.EnforceWorkGroupConfiguration).toBe(true);
    expect(c.BytesScannedCutoffPerQuery).toBeGreaterThan(0);
    expect(flat(c.ResultConfiguration.OutputLocation)).toBe(`s3://<${logicalId(stack.storage.reports)}>/athena-results/`);
    expect(c.ResultConfiguration.EncryptionConfiguration).toEqual({ EncryptionOption: 'SSE_S3' });
    const rules = resources[logicalId(stack.storage.reports)]!.Properties.LifecycleConfiguration.Rules;
    expect(rules).toContainEqual(expect.objectContaining({ Prefix: 'athena-results/', ExpirationInDays: 30, Status: 'Enabled' }));
  });

  it('the query policy: this workgroup, this table, read lake/ and the results; nothing else of the bucket, no wildcard action', () => {
    const [[, policy]] = ofType('AWS::IAM::ManagedPolicy').filter(([id]) => id === logicalId(stack.lake.queryPolicy)) as [[string, Resource]];
    const statements = policy.Properties.PolicyDocument.Statement as Statement[];
    const reports = `<${logicalId(stack.storage.reports)}>`;
    const grants = statements.map((s) => ({ sid: s.Sid, actions: actionsOf(s).sort(), resources: resourcesOf(s).map(flat).sort(), condition: s.Condition }));
    for (const g of grants) for (const a of g.actions) expect(a).not.toContain('*');
    expect(grants.find((g) => g.sid === 'RunQueriesInTheWorkGroup')!.resources).toEqual(['arn:<AWS::Partition>:athena:<AWS::Region>:<AWS::AccountId>:workgroup/hmis-test-lake']);
    expect(grants.find((g) => g.sid === 'ReadTheTable')!.resources).toEqual([
      'arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:catalog',
      'arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:database/hmis_test',
      'arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/hmis_test/values',
    ]);
    expect(grants.find((g) => g.sid === 'ReadTheTable')!.actions.every((a) => a.startsWith('glue:Get'))).toBe(true);
    // objects: lake/ read only; athena-results/ read and write; the bucket listed under those prefixes only
    const objects = grants.filter((g) => g.resources.some((r) => r.startsWith(`${reports}/`)));
    expect(objects.map((g) => ({ actions: g.actions, resources: g.resources }))).toEqual([
      { actions: ['s3:GetObject'], resources: [`${reports}/lake/*`] },
      { actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'], resources: [`${reports}/athena-results/*`] },
    ]);
    const list = grants.find((g) => g.sid === 'ListLakeAndResults')!;
    expect(list.resources).toEqual([reports]);
    expect(list.condition).toEqual({ StringLike: { 's3:prefix': ['lake/*', 'athena-results/*'] } });
    // no function but consolidate writes lake/
    const writers = ofType('AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Properties.PolicyDocument).includes('/lake/*'));
    expect(writers).toHaveLength(1);
    expect(writers[0]![1].Properties.Roles).toEqual([ref(logicalId(stack.consolidate.function.role))]);
  });
});

describe('definitions (the commission\'s, in the store)', () => {
  it('the first deployment seeds the bundled definitions through a custom resource that only writes into an empty store', () => {
    const [[, seed]] = ofType('Custom::HmisDefinitionsSeed') as [[string, Resource]];
    expect(seed.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [logicalId(stack.definitions.function.fn), 'Arn'] });
    expect(seed.Properties.Seed).toMatch(/^[0-9a-f]{16}$/);
    const f = stack.definitions.function;
    const statements = roleStatements(logicalId(f.role));
    const grants = statements.map((s) => ({ actions: actionsOf(s).sort(), resources: resourcesOf(s).map(flat).sort(), condition: s.Condition }));
    expect(grants).toEqual([
      { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`<${logicalId(f.logGroup)}>`], condition: undefined },
      { actions: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], resources: [`<${logicalId(f.deadLetterQueue)}>`], condition: undefined },
      { actions: ['s3:PutObject'], resources: [`<${logicalId(stack.storage.reports)}>/definitions/*`], condition: undefined },
      { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resources: [`<${logicalId(stack.storage.table)}>`], condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['DEFS'] } } },
    ]);
  });
});

describe('institution upload rights (per-institution policies from the registry)', () => {
  const uploads = 'arn:<AWS::Partition>:s3:::hmis-test-uploads-<AWS::AccountId>-<AWS::Region>/uploads/';

  it('one managed policy per institution of the served counties: PutObject under its own prefix, nothing else', () => {
    const served = bundledDefinitions().counties.filter((c) => ['150525', '150425'].includes(c.code));
    const institutions = served.flatMap((c) => c.institutions.map((i) => [c.code, i.code] as const));
    expect(stack.access.institutionPolicies.size).toBe(institutions.length);
    for (const [county, inst] of institutions) {
      const policy = resources[logicalId(stack.access.institutionPolicies.get(inst)!)]!;
      expect(policy.Properties.ManagedPolicyName).toBe(`hmis-test-upload-${inst}`);
      const statements = policy.Properties.PolicyDocument.Statement as Statement[];
      expect(statements.map((s) => [s.Effect, actionsOf(s), resourcesOf(s).map(flat)])).toEqual([['Allow', ['s3:PutObject'], [`${uploads}${county}/${inst}/*`]]]);
    }
    // counties not served get nothing
    expect([...stack.access.institutionPolicies.keys()].every((code) => code.startsWith('150525-') || code.startsWith('150425-'))).toBe(true);
  });

  it("a county's commission uploads under the county and reads (lists) only its consolidated workbooks", () => {
    const reports = logicalId(stack.storage.reports);
    const policy = resources[logicalId(stack.access.commissionPolicies.get('150525')!)]!;
    expect(policy.Properties.ManagedPolicyName).toBe('hmis-test-commission-150525');
    const statements = (policy.Properties.PolicyDocument.Statement as Statement[]).map((s) => [actionsOf(s), resourcesOf(s).map(flat), s.Condition]);
    expect(statements).toEqual([
      [['s3:PutObject'], [`${uploads}150525/*`], undefined],
      [['s3:GetObject'], [`<${reports}>/consolidated/150525/*`], undefined],
      [['s3:ListBucket'], [`<${reports}>`], { StringLike: { 's3:prefix': ['consolidated/150525/*'] } }],
    ]);
  });

  it('by-tag (a province): one policy, the prefix taken from the caller\'s principal tags', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const tagged = new HmisStack(app, 'hmis-tagged', { config: loadDeployConfig((k) => ({ ...PORTAL_API_CONTEXT, stage: 'test', institutionAccess: 'by-tag' })[k as 'stage']) });
    expect(tagged.access.institutionPolicies.size).toBe(0);
    expect(tagged.access.commissionPolicies.size).toBe(bundledDefinitions().counties.length);
    const json = Template.fromStack(tagged).toJSON();
    const policy = json.Resources[tagged.getLogicalId(tagged.access.byTagPolicy!.node.defaultChild as CfnElement)];
    expect(policy.Properties.ManagedPolicyName).toBe('hmis-test-upload-by-tag');
    const statements = (policy.Properties.PolicyDocument.Statement as Statement[]).map((s) => [s.Effect, actionsOf(s), resourcesOf(s).map(flat)]);
    expect(statements).toEqual([['Allow', ['s3:PutObject'], [`${uploads}\${aws:PrincipalTag/hmis-county}/\${aws:PrincipalTag/hmis-institution}/*`]]]);
    expect(Object.keys(json.Outputs)).toContain('UploadByTagPolicy');
  });

  it('outputs name what an operator needs', () => {
    const outputs = Object.keys(template.toJSON().Outputs);
    for (const name of ['UploadsBucket', 'ReportsBucket', 'TableName', 'AlertsTopicArn', 'OpsTopicArn', 'IngestFunction', 'ConsolidateFunction', 'IngestQueue', 'IngestDeadLetterQueue', 'IngestDeadLetterQueueArn', 'ConsolidateDeadLetterQueue', 'IngestLogGroup', 'ConsolidateLogGroup', 'PortalUrl', 'UserPoolId', 'UserPoolClientId', 'PortalFunction', 'PortalLogGroup', 'PortalApiAccessLogGroup']) {
      expect(outputs).toContain(name);
    }
    expect(outputs.filter((o) => o.startsWith('CommissionPolicy')).sort()).toEqual(['CommissionPolicy150425', 'CommissionPolicy150525']);
  });
});
