/**
 * Reconciliation over the local stack, through `hmis reconcile`: uploads whose events were lost are
 * ingested, a half-processed slot is finished, a version without its object is reported, and a second
 * run finds 0. The scheduled function's task and its metrics line as well.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeClients, type Clients } from '../../functions/adapters/aws/clients.ts';
import { DynamoSubmissionStore, keys } from '../../functions/adapters/dynamo/store.ts';
import { lazyUploadHandler, startLocalStack, type LocalStack, type UploadHandler } from '../../functions/adapters/local/index.ts';
import { run as reconcileCli } from '../../functions/cli/reconcile.ts';
import { localDeps } from '../../functions/cli/local.ts';
import { reconcileMetrics, type ReconcileReport } from '../../functions/core/reconcile.ts';
import { runTask } from '../../functions/core/schedule.ts';
import { CASES } from '../../fixtures/workbooks/cases.ts';
import { caseFile } from '../../fixtures/workbooks/make.ts';
import { readFile } from 'node:fs/promises';

let dataDir: string;
let stack: LocalStack;
let clients: Clients;
let store: DynamoSubmissionStore;
/** lose: the event path drops what it is given (a lost notification) */
let lose = false;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'hmis-reconcile-'));
  let env: Record<string, string> = {};
  const ingest = lazyUploadHandler(() => env);
  const onUpload: UploadHandler = (event, context) => (lose ? { batchItemFailures: [] } : ingest(event, context));
  stack = await startLocalStack({ dataDir, dynamodbInMemory: true, retryDelaysMs: [50, 100], onUpload, log: () => {} });
  env = stack.env;
  clients = makeClients(stack.endpoints);
  store = new DynamoSubmissionStore(clients.dynamodb, stack.endpoints.table);
});
afterAll(async () => {
  clients?.destroy();
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; report: ReconcileReport }> {
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
  try {
    const code = await reconcileCli([...args, '--json', '--data-dir', dataDir]);
    // the report is the command's last line (the in-process handler logs its own lines before it)
    return { code, report: JSON.parse(out[out.length - 1]!) };
  } finally {
    log.mockRestore();
  }
}

const key = (inst: string, name: string) => `uploads/150525/${inst}/T-JC/2025-03/${name}`;

describe('hmis reconcile', () => {
  it('ingests uploads whose events were lost, finishes a half-processed slot, reports a version without its object; then finds 0', async () => {
    const valid = await readFile(caseFile(CASES.find((c) => c.name === 'valid-T-JC')!));
    // processed normally
    await clients.s3.send(new PutObjectCommand({ Bucket: 'hmis-uploads', Key: key('150525-101', 'ok.xlsx'), Body: valid }));
    // a second upload processed, then its attempt item lost (a crash before the last step)
    await clients.s3.send(new PutObjectCommand({ Bucket: 'hmis-uploads', Key: key('150525-101', 'half.xlsx'), Body: valid }));
    await stack.idle();
    const half = (await store.versions({ institution: '150525-101', template: 'T-JC', period: '2025-03' })).find((v) => v.objectKey.endsWith('half.xlsx'))!;
    await clients.dynamodb.send(new DeleteItemCommand({ TableName: stack.endpoints.table, Key: { PK: { S: keys.countyPeriod('150525', '2025-03') }, SK: { S: keys.attempt('T-JC', '150525-101') } } }));
    // two uploads whose notifications were lost
    lose = true;
    for (const name of ['lost-1.xlsx', 'lost-2.xlsx']) await clients.s3.send(new PutObjectCommand({ Bucket: 'hmis-uploads', Key: key('150525-102', name), Body: valid }));
    await stack.idle();
    lose = false;
    // a processed version whose object is gone
    await clients.dynamodb.send(
      new UpdateItemCommand({ TableName: stack.endpoints.table, Key: { PK: { S: keys.countyPeriod('150525', '2025-03') }, SK: { S: keys.attempt('T-JC', '150525-103') } }, UpdateExpression: 'ADD versionIds :v', ExpressionAttributeValues: { ':v': { SS: ['0123456789abcdef0123'] } } }),
    );

    const first = await cli([]);
    expect(first.code).toBe(1);
    expect(first.report).toMatchObject({ objects: 4, processed: 0, found: 5 });
    // (the ATT item of 150525-101 is gone: both of its versions are unprocessed, one of them never stored twice)
    expect(first.report.missing.map((m) => m.key).sort()).toEqual([key('150525-102', 'lost-1.xlsx'), key('150525-102', 'lost-2.xlsx')]);
    expect(first.report.halfDone.map((m) => m.key).sort()).toEqual([key('150525-101', 'half.xlsx'), key('150525-101', 'ok.xlsx')]);
    expect(first.report.halfDone.find((h) => h.key.endsWith('half.xlsx'))!.versionId).toBe(half.versionId);
    expect(first.report.orphans).toEqual([{ institution: '150525-103', template: 'T-JC', period: '2025-03', versionId: '0123456789abcdef0123' }]);

    // ingested and finished by now; the orphan stays reported (nothing can bring its object back)
    const entries = await store.listPeriod('150525', '2025-03');
    // (150525-101's workbook under 150525-102: rejected for its institution, processed all the same)
    expect(entries.find((e) => e.institution === '150525-102')).toMatchObject({ current: null, latest: { status: 'rejected', versions: 2 } });
    expect(entries.find((e) => e.institution === '150525-101')).toMatchObject({ current: { status: 'accepted' }, latest: { versions: 2 } });
    expect((await store.versions({ institution: '150525-101', template: 'T-JC', period: '2025-03' })).length).toBe(2);
    await clients.dynamodb.send(new DeleteItemCommand({ TableName: stack.endpoints.table, Key: { PK: { S: keys.countyPeriod('150525', '2025-03') }, SK: { S: keys.attempt('T-JC', '150525-103') } } }));
    const second = await cli([]);
    expect([second.code, second.report.found, second.report.objects, second.report.processed]).toEqual([0, 0, 4, 4]);
  });

  it('--county and --period narrow what is compared; a bad period is a usage error', async () => {
    expect((await cli(['--county', '150425'])).report.objects).toBe(0);
    expect((await cli(['--county', '150525', '--period', '2025-02'])).report.objects).toBe(0);
    expect((await cli(['--period', '2025-03'])).report.objects).toBe(4);
    await expect(reconcileCli(['--period', '2025-3', '--data-dir', dataDir])).rejects.toThrow(/--period/);
  });

  it('the scheduled task reconciles the last months of the served counties, and its counts are metrics (embedded metric format)', async () => {
    const deps = { ...localDeps(stack.endpoints, clients, store), counties: ['150525'] };
    const outcome = await runTask({ task: 'reconcile' }, deps, new Date('2025-04-10T02:00:00+08:00'));
    expect(outcome.reconciled).toMatchObject({ objects: 0, young: 4, found: 0 }); // younger than 15 minutes: left to the event path
    const later = await runTask({ task: 'reconcile', scheduledTime: '2099-01-01T00:00:00Z' }, deps, new Date(Date.now() + 3_600_000));
    // a schedule far later: 2025-03 is older than the window of months
    expect(later.reconciled).toMatchObject({ objects: 0, found: 0 });
    const now = await runTask({ task: 'reconcile', period: '2025-03' }, deps, new Date());
    expect(now.reconciled).toMatchObject({ objects: 4, processed: 4, found: 0 });
    const line = reconcileMetrics(now.reconciled!, 'hmis-test-consolidate', new Date(0)) as Record<string, any>;
    expect(line._aws.CloudWatchMetrics[0]).toEqual({ Namespace: 'hmis', Dimensions: [['FunctionName']], Metrics: ['ReconcileObjects', 'ReconcileMissing', 'ReconcileHalfDone', 'ReconcileOrphans', 'ReconcileFound'].map((Name) => ({ Name, Unit: 'Count' })) });
    expect(line).toMatchObject({ FunctionName: 'hmis-test-consolidate', ReconcileObjects: 4, ReconcileFound: 0 });
  });
});
