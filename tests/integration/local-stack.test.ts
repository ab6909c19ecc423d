/**
 * The local stack with the real AWS SDK v3 clients (nothing stubbed): S3 bytes and pagination,
 * DynamoDB table and GSI, SNS Publish into alerts.jsonl, the S3 → SQS → Lambda path (encoding, filter,
 * versions, partial batch failures, redelivery, dead letters, redrive), endpoints.json, and
 * persistence across a restart.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { CreateTopicCommand, InvalidParameterException, ListTopicsCommand, NotFoundException, PublishCommand } from '@aws-sdk/client-sns';
import { StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dynamoClient, makeClients, resetClients, s3Client, snsClient, type Clients } from '../../functions/adapters/aws/clients.ts';
import type { SqsRecord, UploadHandler } from '../../functions/adapters/local/queue.ts';
import { decodeKey, s3RecordsOf, type S3EventRecord } from '../../functions/handlers/s3-event.ts';
import { findOrStartStack, readEndpoints, startLocalStack, waitIdle, type LocalStack } from '../../functions/adapters/local/stack.ts';
import { config, ConfigError, DEFAULT_MAX_UPLOAD_BYTES, ENV, loadConfig, resetConfig } from '../../functions/config.ts';

const UPLOAD_KEY = 'uploads/150525/150525-101/T-JC/2025-03/三月 报表.xlsx';

async function bytesOf(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

async function jsonLines(file: string): Promise<any[]> {
  if (!existsSync(file)) return [];
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe('the run-wide stack (globalSetup)', () => {
  const stack = inject('stack');
  let clients: Clients;
  beforeAll(() => {
    clients = makeClients(stack);
  });
  afterAll(() => clients.destroy());

  it('describes itself in endpoints.json', async () => {
    const { dataDir, env, ...endpoints } = stack;
    expect(await readEndpoints(dataDir)).toEqual(endpoints);
    expect(endpoints).toMatchObject({
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      buckets: { uploads: 'hmis-uploads', reports: 'hmis-reports' },
      table: 'hmis-sheets',
      topics: { alerts: 'arn:aws:sns:us-east-1:000000000000:hmis-alerts', ops: 'arn:aws:sns:us-east-1:000000000000:hmis-ops' },
    });
    expect(endpoints.s3).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env).toMatchObject({ AWS_ENDPOINT_URL_S3: endpoints.s3, UPLOADS_BUCKET: 'hmis-uploads', S3_FORCE_PATH_STYLE: 'true' });
  });

  it('gives back the exact bytes put, from a buffer and from a stream (no aws-chunked framing)', async () => {
    const body = randomBytes(200_000);
    await clients.s3.send(new PutObjectCommand({ Bucket: stack.buckets.reports, Key: 'test/bytes/buffer.bin', Body: body }));
    expect((await bytesOf(clients.s3, stack.buckets.reports, 'test/bytes/buffer.bin')).equals(body)).toBe(true);
    await clients.s3.send(
      new PutObjectCommand({ Bucket: stack.buckets.reports, Key: 'test/bytes/stream.bin', Body: Readable.from([body.subarray(0, 70_000), body.subarray(70_000)]), ContentLength: body.length }),
    );
    expect((await bytesOf(clients.s3, stack.buckets.reports, 'test/bytes/stream.bin')).equals(body)).toBe(true);
  });

  it('paginates ListObjectsV2 (s3rver continuation tokens on OpenSSL 3)', async () => {
    const keys = ['a', 'b', 'c', 'd', 'e'].map((k) => `test/list/${k} 键.json`);
    for (const key of keys) await clients.s3.send(new PutObjectCommand({ Bucket: stack.buckets.reports, Key: key, Body: key }));
    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateListObjectsV2({ client: clients.s3 }, { Bucket: stack.buckets.reports, Prefix: 'test/list/', MaxKeys: 2 })) {
      pages++;
      seen.push(...(page.Contents ?? []).map((o) => o.Key!));
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(keys);
  });

  it('stores and queries DynamoDB items on the table and on GSI1', async () => {
    const db = clients.dynamodb;
    const pk = `TEST#${Date.now()}`;
    for (const [sk, period] of [['A', '2025-01'], ['B', '2025-02'], ['C', '2025-03']] as const) {
      await db.send(
        new PutItemCommand({
          TableName: stack.table,
          Item: { PK: { S: pk }, SK: { S: sk }, GSI1PK: { S: `${pk}#H` }, GSI1SK: { S: period }, n: { N: '1' } },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
    }
    const base = await db.send(new QueryCommand({ TableName: stack.table, KeyConditionExpression: 'PK = :pk AND SK > :sk', ExpressionAttributeValues: { ':pk': { S: pk }, ':sk': { S: 'A' } } }));
    expect(base.Items?.map((i) => i.SK!.S)).toEqual(['B', 'C']);
    const gsi = await db.send(
      new QueryCommand({
        TableName: stack.table,
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :h AND GSI1SK BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':h': { S: `${pk}#H` }, ':from': { S: '2025-02' }, ':to': { S: '2025-03' } },
        ScanIndexForward: false,
      }),
    );
    expect(gsi.Items?.map((i) => [i.GSI1SK!.S, i.n!.N])).toEqual([['2025-03', '1'], ['2025-02', '1']]);
  });

  it('lands an SNS Publish, with its attributes, in alerts.jsonl before answering; refuses what SNS refuses', async () => {
    const marker = `marker-${Date.now()}`;
    const out = await clients.sns.send(
      new PublishCommand({
        TopicArn: stack.topics.alerts,
        Subject: 'HMIS: 150525-101 T-JC 2025-03 rejected',
        Message: `上报被拒绝 ${marker} & <xml> a+b=c`,
        MessageAttributes: { county: { DataType: 'String', StringValue: '150525' }, errors: { DataType: 'Number', StringValue: '3' } },
      }),
    );
    expect(out.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    const lines = await jsonLines(join(stack.dataDir, 'alerts.jsonl'));
    const line = lines.find((l) => l.message.includes(marker));
    expect(line).toMatchObject({
      topicArn: stack.topics.alerts,
      subject: 'HMIS: 150525-101 T-JC 2025-03 rejected',
      message: `上报被拒绝 ${marker} & <xml> a+b=c`,
      attributes: { county: '150525', errors: '3' },
      messageId: out.MessageId,
    });
    expect(Date.parse(line.receivedAt)).not.toBeNaN();

    await expect(clients.sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:nope', Message: 'x' }))).rejects.toBeInstanceOf(NotFoundException);
    const created = await clients.sns.send(new CreateTopicCommand({ Name: 'hmis-test-topic' }));
    expect(created.TopicArn).toBe('arn:aws:sns:us-east-1:000000000000:hmis-test-topic');
    const listed = await clients.sns.send(new ListTopicsCommand({}));
    expect(listed.Topics?.map((t) => t.TopicArn)).toEqual(expect.arrayContaining([stack.topics.alerts, stack.topics.ops, created.TopicArn]));
    await expect(clients.sns.send(new PublishCommand({ TopicArn: stack.topics.ops, Subject: 'two\nlines', Message: 'x' }))).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it('serves handler code configured only by the environment (AWS_ENDPOINT_URL_* read by the SDK itself)', async () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, stack.env);
      resetConfig();
      resetClients();
      expect(config()).toMatchObject({ uploadsBucket: 'hmis-uploads', s3ForcePathStyle: true, endpoints: { s3: stack.s3 } });
      await s3Client().send(new PutObjectCommand({ Bucket: config().reportsBucket, Key: 'test/env/x.txt', Body: 'env' }));
      expect((await bytesOf(clients.s3, stack.buckets.reports, 'test/env/x.txt')).toString()).toBe('env');
      await dynamoClient().send(new PutItemCommand({ TableName: config().tableName, Item: { PK: { S: 'ENV' }, SK: { S: 'x' } } }));
      await snsClient().send(new PublishCommand({ TopicArn: config().opsTopicArn, Message: 'from env' }));
      // any code, not only our factories: the checksum variables keep a streamed body intact
      const plain = new S3Client({ forcePathStyle: true });
      try {
        const body = Buffer.from('streamed '.repeat(2_000));
        await plain.send(new PutObjectCommand({ Bucket: 'hmis-reports', Key: 'test/env/stream.txt', Body: Readable.from([body]), ContentLength: body.length }));
        expect((await bytesOf(clients.s3, stack.buckets.reports, 'test/env/stream.txt')).equals(body)).toBe(true);
      } finally {
        plain.destroy();
      }
    } finally {
      resetClients();
      resetConfig();
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  it('lets another process wait until uploads are processed', async () => {
    await waitIdle(stack);
  });
});

describe('the S3 → SQS → Lambda path', () => {
  let dataDir: string;
  let stack: LocalStack;
  let clients: Clients;
  let target: UploadHandler = () => ({ batchItemFailures: [] });
  const received: SqsRecord[][] = [];
  const records = () => received.flat().flatMap((m) => s3RecordsOf(m.body));

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'hmis-trigger-'));
    stack = await startLocalStack({
      dataDir,
      dynamodbInMemory: true,
      retryDelaysMs: [20, 40],
      onUpload: (event, context) => {
        received.push(event.Records);
        return target(event, context);
      },
      log: () => {},
    });
    clients = makeClients(stack.endpoints);
  });
  afterAll(async () => {
    clients?.destroy();
    await stack?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('delivers an upload as S3 does, in an SQS message: URL-encoded key, bucket ARN, size, eTag, sequencer, the version written, the principal', async () => {
    received.length = 0;
    const bodies: Buffer[] = [];
    target = async (event) => {
      for (const r of event.Records.flatMap((m) => s3RecordsOf(m.body))) bodies.push(await bytesOf(clients.s3, r.s3.bucket.name, decodeKey(r.s3.object.key)));
      return { batchItemFailures: [] };
    };
    const body = randomBytes(5_000);
    const put = await clients.s3.send(new PutObjectCommand({ Bucket: 'hmis-uploads', Key: UPLOAD_KEY, Body: body }));
    await stack.idle();

    expect(received).toHaveLength(1);
    expect(received[0]![0]).toMatchObject({ eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:hmis-ingest-queue', attributes: { ApproximateReceiveCount: '1' } });
    const record = records()[0]! as S3EventRecord & Record<string, any>;
    expect(record).toMatchObject({
      eventSource: 'aws:s3',
      eventName: 'ObjectCreated:Put',
      awsRegion: 'us-east-1',
      userIdentity: { principalId: 'AWS:S3RVER' },
      s3: { bucket: { name: 'hmis-uploads', arn: 'arn:aws:s3:::hmis-uploads' }, object: { size: 5_000, versionId: put.VersionId } },
    });
    expect(put.VersionId).toMatch(/^[0-9A-F]{24}$/);
    expect(record.s3.object.key).toBe('uploads/150525/150525-101/T-JC/2025-03/%E4%B8%89%E6%9C%88+%E6%8A%A5%E8%A1%A8.xlsx');
    expect(decodeKey(record.s3.object.key)).toBe(UPLOAD_KEY);
    expect(record.s3.object.eTag).toMatch(/^[0-9a-f]{32}$/);
    expect(record.s3.object.sequencer).toMatch(/^[0-9A-F]{16}$/);
    expect(Date.parse(record.eventTime)).not.toBeNaN();
    expect(bodies[0]!.equals(body)).toBe(true);
  });

  it('encodes + and parentheses so that decoding gives the key back', async () => {
    received.length = 0;
    target = () => ({ batchItemFailures: [] });
    const key = 'uploads/150525/150525-101/T-JC/2025-03/a+b (2) 100%.xlsx';
    await clients.s3.send(new PutObjectCommand({ Bucket: 'hmis-uploads', Key: key, Body: 'x' }));
    await stack.idle();
    const encoded = records()[0]!.s3.object.key;
    expect(encoded).toBe('uploads/150525/150525-101/T-JC/2025-03/a%2Bb+%282%29+100%25.xlsx');
    expect(decodeKey(encoded)).toBe(key);
  });

  it('keeps every PUT of a key as its own version: the event names it, GetObject with VersionId reads exactly its bytes', async () => {
    received.length = 0;
    target = () => ({ batchItemFailures: [] });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await clients.s3.send(new PutObjectCommand({ Bucket: 'hmis-uploads', Key: UPLOAD_KEY, Body: `v${i}` }))).VersionId!);
    await stack.idle();
    const events = records().map((r) => r.s3.object);
    expect(events.map((o) => o.versionId)).toEqual(ids);
    const sequencers = events.map((o) => o.sequencer!);
    expect([...sequencers].sort()).toEqual(sequencers);
    expect(new Set(sequencers).size).toBe(3);
    for (const [i, id] of ids.entries()) {
      const out = await clients.s3.send(new GetObjectCommand({ Bucket: 'hmis-uploads', Key: UPLOAD_KEY, VersionId: id }));
      expect([out.VersionId, await out.Body!.transformToString()]).toEqual([id, `v${i}`]);
    }
    expect(await (await clients.s3.send(new GetObjectCommand({ Bucket: 'hmis-uploads', Key: UPLOAD_KEY }))).Body!.transformToString()).toBe('v2');
  });

  it('filters on the prefix only (any file name under uploads/ is delivered); nothing for other prefixes, the reports bucket, or deletes', async () => {
    received.length = 0;
    target = () => ({ batchItemFailures: [] });
    await clients.s3.send(new PutObjectCommand({ Bucket: 'hmis-uploads', Key: 'uploads/150525/150525-101/T-JC/2025-03/data.csv', Body: 'x' }));
    await clients.s3.send(new PutObjectCommand({ Bucket: 'hmis-uploads', Key: 'uploads/150525/150525-101/T-JC/2025-03/DATA.XLSX', Body: 'x' }));
    await clients.s3.send(new PutObjectCommand({ Bucket: 'hmis-uploads', Key: 'inbox/150525/report.xlsx', Body: 'x' }));
    await clients.s3.send(new PutObjectCommand({ Bucket: 'hmis-reports', Key: 'uploads/150525/report.xlsx', Body: 'x' }));
    await clients.s3.send(new DeleteObjectCommand({ Bucket: 'hmis-uploads', Key: UPLOAD_KEY }));
    await stack.idle();
    expect(records().map((r) => decodeKey(r.s3.object.key))).toEqual(['uploads/150525/150525-101/T-JC/2025-03/data.csv', 'uploads/150525/150525-101/T-JC/2025-03/DATA.XLSX']);
  });

  it('receives only the failed messages of a batch again (ReportBatchItemFailures)', async () => {
    received.length = 0;
    const keys = ['a', 'b', 'c'].map((n) => `uploads/150525/150525-104/T-JC/2025-03/${n}.xlsx`);
    // b fails its first receive only (a timer would race a loaded machine's redelivery)
    let failuresOfB = 1;
    target = (event) => ({
      batchItemFailures: event.Records.filter((m) => decodeKey(s3RecordsOf(m.body)[0]!.s3.object.key).endsWith('/b.xlsx') && failuresOfB-- > 0).map((m) => ({ itemIdentifier: m.messageId })),
    });
    await Promise.all(keys.map((Key) => clients.s3.send(new PutObjectCommand({ Bucket: 'hmis-uploads', Key, Body: 'x' }))));
    await stack.idle();
    const seen = records().map((r) => decodeKey(r.s3.object.key).split('/').pop());
    expect(seen.filter((k) => k === 'a.xlsx')).toHaveLength(1);
    expect(seen.filter((k) => k === 'c.xlsx')).toHaveLength(1);
    expect(seen.filter((k) => k === 'b.xlsx')).toHaveLength(2);
    expect(received.flat().find((m) => m.body.includes('b.xlsx') && m.attributes.ApproximateReceiveCount === '2')).toBeDefined();
  });

  it('after its last receive (3) a message waits in dead-letter.jsonl; StartMessageMoveTask (hmis replay) moves it back', async () => {
    received.length = 0;
    let down = true;
    target = () => {
      if (down) throw new Error('DynamoDB is down');
      return { batchItemFailures: [] };
    };
    const key = 'uploads/150525/150525-102/T-JC/2025-03/失败.xlsx';
    await clients.s3.send(new PutObjectCommand({ Bucket: 'hmis-uploads', Key: key, Body: 'x' }));
    await stack.idle();
    expect(received).toHaveLength(3);
    // the same message each time, counted
    expect(new Set(received.map((r) => r[0]!.messageId)).size).toBe(1);
    expect(received.map((r) => r[0]!.attributes.ApproximateReceiveCount)).toEqual(['1', '2', '3']);
    expect(stack.stats()).toMatchObject({ deadLettered: 1 });
    const dead = await jsonLines(join(dataDir, 'dead-letter.jsonl'));
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ receiveCount: 3, lastError: 'DynamoDB is down', sourceQueueArn: 'arn:aws:sqs:us-east-1:000000000000:hmis-ingest-queue' });
    expect(decodeKey(s3RecordsOf(dead[0].body)[0]!.s3.object.key)).toBe(key);

    down = false;
    received.length = 0;
    await expect(clients.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: 'arn:aws:sqs:us-east-1:000000000000:nope' }))).rejects.toThrow();
    await clients.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: stack.endpoints.queues.deadLetters }));
    await stack.idle();
    expect(received.map((r) => r[0]!.body)).toEqual([dead[0].body]);
    expect(await jsonLines(join(dataDir, 'dead-letter.jsonl'))).toHaveLength(0);
  });

  it('succeeds on a second receive without a dead letter', async () => {
    let attempts = 0;
    target = () => {
      if (++attempts < 2) throw new Error('transient');
      return { batchItemFailures: [] };
    };
    await clients.s3.send(new PutObjectCommand({ Bucket: 'hmis-uploads', Key: 'uploads/150525/150525-103/T-JC/2025-03/retry.xlsx', Body: 'x' }));
    await stack.idle();
    expect(attempts).toBe(2);
    expect(await jsonLines(join(dataDir, 'dead-letter.jsonl'))).toHaveLength(0);
  });

  it('is found, not started twice, by findOrStartStack', async () => {
    const found = await findOrStartStack(dataDir);
    expect(found.started).toBe(false);
    expect(found.endpoints).toEqual(stack.endpoints);
    await found.stop(); // does nothing
    await found.idle();
    await expect(startLocalStack({ dataDir })).rejects.toThrow(/already runs/);
  });

  it('refuses a second stack on a data dir in use even without endpoints.json (LevelDB has one owner)', async () => {
    const saved = await readFile(join(dataDir, 'endpoints.json'), 'utf8');
    await rm(join(dataDir, 'endpoints.json'));
    try {
      await expect(startLocalStack({ dataDir, log: () => {} })).rejects.toThrow(/in use by process/);
    } finally {
      await writeFile(join(dataDir, 'endpoints.json'), saved);
    }
  });
});

describe('persistence', () => {
  it('keeps objects and items across a stop and a start on the same data dir', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'hmis-persist-'));
    try {
      const first = await startLocalStack({ dataDir, log: () => {} });
      let clients = makeClients(first.endpoints);
      await clients.s3.send(new PutObjectCommand({ Bucket: 'hmis-reports', Key: 'reports/持久.json', Body: '{"ok":true}' }));
      await clients.dynamodb.send(new PutItemCommand({ TableName: first.endpoints.table, Item: { PK: { S: 'P' }, SK: { S: '1' }, v: { S: '保存' } } }));
      clients.destroy();
      await first.stop();
      expect(existsSync(join(dataDir, 'endpoints.json'))).toBe(false);

      const second = await findOrStartStack(dataDir, { log: () => {} });
      try {
        expect(second.started).toBe(true);
        expect(existsSync(join(dataDir, 'endpoints.json'))).toBe(true);
        clients = makeClients(second.endpoints);
        expect((await bytesOf(clients.s3, 'hmis-reports', 'reports/持久.json')).toString()).toBe('{"ok":true}');
        const q = await clients.dynamodb.send(new QueryCommand({ TableName: second.endpoints.table, KeyConditionExpression: 'PK = :p', ExpressionAttributeValues: { ':p': { S: 'P' } } }));
        expect(q.Items?.[0]?.v).toEqual({ S: '保存' });
        clients.destroy();
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('config', () => {
  const base = { UPLOADS_BUCKET: 'hmis-uploads', REPORTS_BUCKET: 'hmis-reports', TABLE_NAME: 'hmis-sheets' };

  it('reads the minimum with defaults; empty optional variables count as unset', () => {
    expect(loadConfig({ ...base, ALERTS_TOPIC_ARN: '', S3_FORCE_PATH_STYLE: '' })).toEqual({
      uploadsBucket: 'hmis-uploads',
      reportsBucket: 'hmis-reports',
      tableName: 'hmis-sheets',
      maxUploadBytes: DEFAULT_MAX_UPLOAD_BYTES,
      s3ForcePathStyle: false,
      endpoints: {},
    });
    expect(ENV.uploadsBucket).toBe('UPLOADS_BUCKET');
  });

  it('names every bad or missing variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ UPLOADS_BUCKET: 'Bad_Bucket', MAX_UPLOAD_BYTES: '0x1A', S3_FORCE_PATH_STYLE: 'yes', ALERTS_TOPIC_ARN: 'hmis-alerts', PORTAL_BASE_URL: 'ftp://x' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['UPLOADS_BUCKET', 'REPORTS_BUCKET (unset): required', 'TABLE_NAME', 'MAX_UPLOAD_BYTES', 'S3_FORCE_PATH_STYLE', 'ALERTS_TOPIC_ARN', 'PORTAL_BASE_URL']) {
      expect(message).toContain(name);
    }
  });

  it('takes MAX_UPLOAD_BYTES only as a plain positive integer', () => {
    expect(loadConfig({ ...base, MAX_UPLOAD_BYTES: '1048576' }).maxUploadBytes).toBe(1_048_576);
    for (const bad of ['0', '-1', '1e6', ' 5', '5.0']) expect(() => loadConfig({ ...base, MAX_UPLOAD_BYTES: bad })).toThrow(ConfigError);
  });
});
