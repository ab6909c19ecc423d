/**
 * The real ingest path: SDK PutObject → local S3 → ingest queue → ingest handler → dynalite, and the
 * handler invoked directly with crafted events (duplicates, late arrivals). Nothing is stubbed.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeClients, type Clients } from '../../functions/adapters/aws/clients.ts';
import { DynamoSubmissionStore } from '../../functions/adapters/dynamo/store.ts';
import { startDynamo } from '../../functions/adapters/local/dynamo.ts';
import { waitIdle } from '../../functions/adapters/local/stack.ts';
import { S3ObjectStore } from '../../functions/adapters/s3/objects.ts';
import { ingestUpload, type UploadEvent } from '../../functions/core/ingest.ts';
import { validateUpload } from '../../functions/core/validate/index.ts';
import type { S3Event, SqsBatchResponse, SqsEvent } from '../../functions/handlers/s3-event.ts';
import { CASES } from '../../fixtures/workbooks/cases.ts';
import { buildCase } from '../../fixtures/workbooks/cases.ts';
import { caseFile } from '../../fixtures/workbooks/make.ts';
import { bundledSource } from '../../schemas/index.ts';
import { readAlerts } from '../../functions/cli/alerts.ts';
import { writeWorkbookBuffer } from '../../functions/core/render/deterministic.ts';

const stack = inject('stack');
let clients: Clients;
let store: DynamoSubmissionStore;
let handler: (event: SqsEvent) => Promise<SqsBatchResponse>;

const fixture = (name: string) => readFile(caseFile(CASES.find((c) => c.name === name)!));
/** each test its own institution so tests never share a submission */
const keyOf = (inst: string, file: string, period = '2025-03') => `uploads/150525/${inst}/T-JC/${period}/${file}`;

async function put(key: string, body: Uint8Array, bucket = stack.buckets.uploads): Promise<void> {
  await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function reportOf(key: string): Promise<{ status: string; issues: Array<{ code: string }> }> {
  const out = await clients.s3.send(new GetObjectCommand({ Bucket: stack.buckets.reports, Key: key }));
  return JSON.parse(await out.Body!.transformToString());
}

/** An S3 event as AWS delivers it to the ingest queue (key URL-encoded, + for space; an IAM principal), in an SQS event. */
function eventFor(bucket: string, key: string, size: number, sequencer: string, eventTime: string): SqsEvent {
  const encoded = encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
  const s3: S3Event = { Records: [{ eventName: 'ObjectCreated:Put', eventTime, userIdentity: { principalId: 'AWS:AIDAEXAMPLE' }, s3: { bucket: { name: bucket }, object: { key: encoded, size, sequencer } } }] };
  return { Records: [{ messageId: `m-${sequencer}`, body: JSON.stringify(s3) }] };
}

beforeAll(async () => {
  clients = makeClients(stack);
  store = new DynamoSubmissionStore(clients.dynamodb, stack.table);
  Object.assign(process.env, stack.env);
  ({ handler } = await import('../../functions/handlers/ingest-upload.ts'));
});
afterAll(() => clients.destroy());

describe('ingest through the local stack', () => {
  it('refuses a workbook uploaded under another institution: the institution is the one in the key', async () => {
    // valid-T-JC is 150525-101's workbook
    await put(keyOf('150525-102', '三月 报表.xlsx'), await fixture('valid-T-JC'));
    await waitIdle(stack);
    expect(await store.current('150525', '2025-03', 'T-JC', '150525-102')).toBeNull();
    const [entry] = (await store.listPeriod('150525', '2025-03')).filter((e) => e.institution === '150525-102');
    expect(entry!.latest).toMatchObject({ status: 'rejected', versions: 1 });
    expect((await reportOf(entry!.latest!.reportKey)).issues.map((i) => i.code)).toContain('institution-mismatch');
  });

  it('accepts the institution’s own workbook; a later rejected upload leaves it current; a later good one replaces it', async () => {
    const inst = '150525-101';
    await put(keyOf(inst, '三月报表.xlsx'), await fixture('valid-T-JC'));
    await waitIdle(stack);
    const first = await store.current('150525', '2025-03', 'T-JC', inst);
    expect(first).toMatchObject({ status: 'accepted', submission: { values: { JC07: 1280 } } });
    expect((await reportOf(first!.reportKey)).status).toBe('accepted');

    await put(keyOf(inst, '三月报表.xlsx'), await fixture('rule-JC-R03'));
    await waitIdle(stack);
    expect((await store.current('150525', '2025-03', 'T-JC', inst))!.versionId).toBe(first!.versionId);
    const entry = (await store.listPeriod('150525', '2025-03')).find((e) => e.institution === inst && e.template === 'T-JC')!;
    expect(entry.latest).toMatchObject({ status: 'rejected', versions: 2, errors: 1 });

    await put(keyOf(inst, '三月报表（更正）.xlsx'), await fixture('numbers-as-text'));
    await waitIdle(stack);
    const replaced = await store.current('150525', '2025-03', 'T-JC', inst);
    expect(replaced!.versionId).not.toBe(first!.versionId);
    expect(replaced!.objectKey).toBe(keyOf(inst, '三月报表（更正）.xlsx'));
    expect(await store.versions({ institution: inst, template: 'T-JC', period: '2025-03' })).toHaveLength(3);
  });

  it('the same event delivered twice does the work once', async () => {
    const key = keyOf('150525-103', 'dup.xlsx', '2025-01');
    const body = await fixture('valid-T-JC');
    // stored outside the trigger's bucket, so only our direct invocations process it
    await put(key, body, stack.buckets.reports);
    const event = eventFor(stack.buckets.reports, key, body.length, '00000000000000000A', '2025-02-03T01:00:00.000Z');
    // (a rejected outcome here: what matters is that it is recorded once)
    await handler(event);
    await handler(event);
    const versions = await store.versions({ institution: '150525-103', template: 'T-JC', period: '2025-01' });
    expect(versions).toHaveLength(1);
    const entry = (await store.listPeriod('150525', '2025-01')).find((e) => e.institution === '150525-103')!;
    expect(entry.latest!.versions).toBe(1);
  });

  it('an older upload whose event arrives late never replaces a newer one', async () => {
    const inst = '150525-101';
    const older = keyOf(inst, '旧.xlsx', '2025-02');
    const newer = keyOf(inst, '新.xlsx', '2025-02');
    const feb = await febWorkbook();
    await put(older, feb, stack.buckets.reports);
    await put(newer, feb, stack.buckets.reports);
    await handler(eventFor(stack.buckets.reports, newer, feb.length, '0000000000000000B1', '2025-03-04T02:00:00.000Z'));
    await handler(eventFor(stack.buckets.reports, older, feb.length, '0000000000000000B0', '2025-03-04T01:00:00.000Z'));
    const current = await store.current('150525', '2025-02', 'T-JC', inst);
    expect(current!.objectKey).toBe(newer);
    const entry = (await store.listPeriod('150525', '2025-02')).find((e) => e.institution === inst && e.template === 'T-JC')!;
    expect(entry.latest).toMatchObject({ objectKey: newer, versions: 2 });
    expect((await store.versions({ institution: inst, template: 'T-JC', period: '2025-02' })).map((v) => v.status)).toEqual(['accepted', 'accepted']);
  });

  it('a ledger’s rows are stored apart from its version and read back whole, in order', async () => {
    const bytes = await readFile(caseFile(CASES.find((c) => c.name === 'valid-T-TZ')!));
    const { submission } = await validateUpload(bytes, { definitions: bundledSource(),  institution: '150525-101', template: 'T-TZ', period: '2025-03' });
    await put(`uploads/150525/150525-101/T-TZ/2025-03/台账.xlsx`, bytes);
    await waitIdle(stack);
    const current = await store.current('150525', '2025-03', 'T-TZ', '150525-101');
    expect(current).toMatchObject({ status: expect.stringMatching(/^accepted/), submission: { kind: 'ledger', rows: [] } });
    const rows = await store.ledgerRows('150525-101', 'T-TZ', '2025-03', current!.versionId);
    expect(submission?.kind).toBe('ledger');
    expect(rows).toEqual((submission as { rows: unknown[] }).rows);
    expect(rows.length).toBeGreaterThan(0);
  });

  it('ledger rows written before they were gzipped (JSON text) still read back', async () => {
    const rows = [{ row: 8, taskNo: '1', content: '未压缩的格式', status: '推进中', progress: 40 }];
    await clients.dynamodb.send(new PutItemCommand({ TableName: stack.table, Item: marshall({ PK: 'SUB#150525-109#T-TZ#2024-11', SK: 'R#json#0000', rowsJson: JSON.stringify(rows) }) }));
    expect(await store.ledgerRows('150525-109', 'T-TZ', '2024-11', 'json')).toEqual(rows);
  });

  it('ledger rows written before they were JSON text (a list of maps) still read back', async () => {
    const rows = [{ row: 8, task: '1', content: '旧格式', status: '推进中', progress: 40 }];
    await clients.dynamodb.send(new PutItemCommand({ TableName: stack.table, Item: marshall({ PK: 'SUB#150525-109#T-TZ#2024-12', SK: 'R#old#0000', rows }) }));
    expect(await store.ledgerRows('150525-109', 'T-TZ', '2024-12', 'old')).toEqual(rows);
  });

  it('every object under uploads/ gets an answer: .XLSX is processed; .xls .csv .ods .et .wps .pdf .zip get a rejected version, an alert and a status', async () => {
    // 磴口县's township health centre: a submission no other test touches
    const inst = '150822-101';
    const good = await writeWorkbookBuffer(buildCase({ ...CASES.find((x) => x.name === 'valid-T-JC')!, institution: inst }));
    await put(`uploads/150822/${inst}/T-JC/2025-03/三月报表.XLSX`, good);
    const hostile = (name: string) => readFile(`fixtures/hostile/${name}`);
    const others: Array<[string, Uint8Array]> = [
      ['台账.xls', await hostile('legacy.xls')],
      ['台账.csv', Buffer.from('任务编号,任务内容\n1,家庭医生签约\n')],
      ['台账.ods', await hostile('spreadsheet.ods')],
      ['台账.et', await hostile('legacy.xls')],
      ['台账.wps', await hostile('legacy-word.doc')],
      ['台账.pdf', await hostile('pdf-renamed.xlsx')],
      ['台账.zip', await hostile('plain.zip')],
    ];
    for (const [file, bytes] of others) await put(`uploads/150822/${inst}/T-TZ/2025-03/${file}`, bytes);
    await waitIdle(stack);

    expect(await store.current('150822', '2025-03', 'T-JC', inst)).toMatchObject({ status: 'accepted', objectKey: expect.stringMatching(/\.XLSX$/) });
    const versions = await store.versions({ institution: inst, template: 'T-TZ', period: '2025-03' });
    expect(versions.map((v) => v.objectKey.split('.').pop()).sort()).toEqual(['csv', 'et', 'ods', 'pdf', 'wps', 'xls', 'zip']);
    for (const v of versions) {
      expect(v.status).toBe('rejected');
      const issue = (await reportOf(v.reportKey)).issues[0] as { code: string; message: string };
      expect(issue.code).toBe('file-not-xlsx');
      for (const how of ['Excel', 'WPS', 'LibreOffice', '另存为']) expect(issue.message).toContain(how);
    }
    // the grid: nothing accepted, the latest attempt rejected
    const entry = (await store.listPeriod('150822', '2025-03')).find((e) => e.institution === inst && e.template === 'T-TZ')!;
    expect(entry).toMatchObject({ current: null, latest: { status: 'rejected', versions: 7 } });
    const alerts = (await readAlerts(stack.dataDir)).filter((a) => a.attributes.institution === inst && a.attributes.template === 'T-TZ');
    expect(alerts).toHaveLength(7);
  });

  it('a hostile file gets a report, not a crash', async () => {
    const key = keyOf('150525-104', 'bomb.xlsx');
    await put(key, await readFile('fixtures/hostile/bomb-padding.xlsx'));
    await waitIdle(stack);
    const entry = (await store.listPeriod('150525', '2025-03')).find((e) => e.institution === '150525-104')!;
    expect(entry.latest).toMatchObject({ status: 'rejected' });
    expect((await reportOf(entry.latest!.reportKey)).issues[0]!.code).toBe('file-zip-bomb');
  });
});

describe('a transient DynamoDB fault', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hmis-fault-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('the server stops mid-ingest: the attempt throws (the message is received again), the retry finishes the stored version and counts once', async () => {
    let dynamo = await startDynamo({ directory: join(dir, 'db'), tables: ['faulty'] });
    const port = dynamo.port;
    const db = new DynamoDBClient({ endpoint: dynamo.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 2 });
    const real = new DynamoSubmissionStore(db, 'faulty');
    // the real store; the server is stopped between writing the version and flipping "current"
    const stopping: DynamoSubmissionStore = Object.create(real);
    let stopped = false;
    stopping.makeCurrent = async (c) => {
      if (!stopped) {
        stopped = true;
        await dynamo.close();
      }
      return real.makeCurrent(c);
    };
    const body = await fixture('valid-T-JC');
    const key = keyOf('150525-101', 'fault.xlsx');
    await put(key, body, stack.buckets.reports);
    const event: UploadEvent = { bucket: stack.buckets.reports, key, size: body.length, sequencer: '0000000000000000C0', eventTime: '2025-04-02T00:00:00.000Z', principal: 'AWS:AIDAEXAMPLE' };
    const deps = { definitions: bundledSource(), objects: new S3ObjectStore(clients.s3), reportsBucket: stack.buckets.reports, maxUploadBytes: 10 * 1024 * 1024, now: () => new Date('2025-04-03T00:00:00Z') };

    await expect(ingestUpload(event, { ...deps, store: stopping })).rejects.toThrow();
    dynamo = await startDynamo({ directory: join(dir, 'db'), port, tables: ['faulty'] });
    try {
      const retry = await ingestUpload(event, { ...deps, store: real });
      expect(retry).toMatchObject({ status: 'accepted', becameCurrent: true, resumed: true });
      expect(await real.versions({ institution: '150525-101', template: 'T-JC', period: '2025-03' })).toHaveLength(1);
      expect((await real.listPeriod('150525', '2025-03'))[0]!.latest!.versions).toBe(1);
    } finally {
      db.destroy();
      await dynamo.close();
    }
  }, 30_000);
});

/** valid-T-JC re-dated to February (B4 and the meta sheet) */
async function febWorkbook(): Promise<Buffer> {
  const c = CASES.find((x) => x.name === 'valid-T-JC')!;
  return writeWorkbookBuffer(buildCase({ ...c, period: '2025-02' }));
}
