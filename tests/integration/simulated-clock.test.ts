/**
 * A simulated clock through the local stack (the demo, `hmis serve --clock`): the S3 event carries the
 * simulated upload time, the real ingest handler records it as the version's upload time (on time or
 * late against the deadline), and the local SNS stamps alerts with it. With a portal on the stack
 * (the `portal` hook), endpoints.json names it and a rejection alert links to its page of the upload.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeClients, type Clients } from '../../functions/adapters/aws/clients.ts';
import { DynamoSubmissionStore } from '../../functions/adapters/dynamo/store.ts';
import { lazyUploadHandler } from '../../functions/adapters/local/handler.ts';
import { startPortal, type LocalPortal } from '../../functions/adapters/local/portal.ts';
import { readEndpoints, startLocalStack, type LocalStack } from '../../functions/adapters/local/stack.ts';
import { readAlerts } from '../../functions/cli/alerts.ts';
import { deadlineOf } from '../../functions/core/consolidate/period.ts';
import { timelinessOf } from '../../functions/core/consolidate/slot.ts';
import { CASES } from '../../fixtures/workbooks/cases.ts';
import { caseFile } from '../../fixtures/workbooks/make.ts';

const KEY = 'uploads/150525/150525-101/T-JC/2025-03';
let dataDir: string;
let stack: LocalStack;
let portal: LocalPortal | undefined;
let clients: Clients;
let simulated = new Date('2025-04-03T10:00:00+08:00');

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'hmis-clock-'));
  stack = await startLocalStack({
    dataDir,
    dynamodbInMemory: true,
    clock: () => simulated,
    onUpload: lazyUploadHandler(() => stack.env),
    portal: async (endpoints) => (portal = await startPortal({ stack: { endpoints }, dataDir, port: 0, log: () => {} })).url,
    log: () => {},
  });
  clients = makeClients(stack.endpoints);
}, 60_000);

afterAll(async () => {
  clients?.destroy();
  await portal?.close();
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const upload = async (name: string, at: string, file: string) => {
  simulated = new Date(at);
  await clients.s3.send(new PutObjectCommand({ Bucket: stack.endpoints.buckets.uploads, Key: `${KEY}/${file}`, Body: await readFile(caseFile(CASES.find((c) => c.name === name)!)) }));
  await stack.idle();
};

it('records the simulated upload time: on time before the deadline, late after it', async () => {
  const store = new DynamoSubmissionStore(clients.dynamodb, stack.endpoints.table);
  const deadline = deadlineOf('2025-03', 5);
  const slot = async () => (await store.listPeriod('150525', '2025-03')).find((e) => e.institution === '150525-101' && e.template === 'T-JC')!;

  await upload('valid-T-JC', '2025-04-03T10:00:00+08:00', 'first.xlsx');
  expect((await slot()).current!.uploadedAt).toBe('2025-04-03T02:00:00.000Z');
  expect(timelinessOf(await slot(), deadline, new Date('2025-04-09T09:00:00+08:00'))).toBe('按时');

  await upload('rule-JC-R03', '2025-04-06T09:30:00+08:00', 'wrong.xlsx');
  await upload('valid-T-JC', '2025-04-07T15:00:00+08:00', 'again.xlsx');
  const after = await slot();
  expect(after.current!.uploadedAt).toBe('2025-04-07T07:00:00.000Z');
  expect(after.latest!.versions).toBe(3);
  expect(timelinessOf(after, deadline, new Date('2025-04-09T09:00:00+08:00'))).toBe('逾期');
});

it('stamps the alert with the simulated time, links the portal’s page of the upload, and an SMS of one segment', async () => {
  const endpoints = (await readEndpoints(dataDir))!;
  expect(endpoints.portal).toBe(portal!.url);
  expect(stack.env.PORTAL_BASE_URL).toBe(portal!.url);

  const alerts = (await readAlerts(dataDir)).filter((a) => a.attributes.kind === 'rejection');
  expect(alerts).toHaveLength(1);
  const alert = alerts[0]!;
  expect(alert.receivedAt).toBe('2025-04-06T01:30:00.000Z');
  expect(alert.messageStructure).toBe('json');
  expect(alert.message).toContain('上传时间：2025-04-06 09:30（北京时间）');
  const link = alert.deliveries.email.match(/http:\/\/127\.0\.0\.1:\d+\/submissions\/\S+/)![0];
  expect(link.startsWith(`${portal!.url}/submissions/150525-101/T-JC/2025-03/`)).toBe(true);
  expect(alert.message).not.toContain('s3://');
  expect(alert.deliveries.sms).toBe('【卫健统计】八仙筒镇中心卫生院 2025年3月基层月报未通过（错误1项），请登录报送平台查看');
  expect(alert.smsSegments).toBe(1);
  // the link opens the portal's page (which then shows that upload once signed in)
  const page = await fetch(link);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('卫生健康统计报表平台');
});
