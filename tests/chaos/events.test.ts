/**
 * Events under stress, on an in-process stack with the real ingest handler: a same-key overwrite
 * race (the newest accepted version is current, a rejected one never is), and duplicate and
 * out-of-order deliveries (one version each, one alert per rejected version).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClients, type Clients } from '../../functions/adapters/aws/clients.ts';
import { DynamoSubmissionStore } from '../../functions/adapters/dynamo/store.ts';
import { lazyUploadHandler, startLocalStack, type LocalStack, type SqsRecord, type UploadHandler } from '../../functions/adapters/local/index.ts';
import { versionOf } from '../../functions/core/ingest.ts';
import { alertsPerVersion, burst, expectExactlyOneVersionEach, keyIn, size, SLOT, workbooks, TIMEOUT_MS } from './harness.ts';

let dataDir: string;
let stack: LocalStack;
let clients: Clients;
let store: DynamoSubmissionStore;
/** hold: messages are taken and kept, not processed (the event path is slow, or down) */
let hold = false;
const held: SqsRecord[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'hmis-chaos-events-'));
  let env: Record<string, string> = {};
  const ingest = lazyUploadHandler(() => env);
  const onUpload: UploadHandler = (event, context) => {
    if (!hold) return ingest(event, context);
    held.push(...event.Records);
    return { batchItemFailures: [] };
  };
  stack = await startLocalStack({ dataDir, dynamodbInMemory: true, retryDelaysMs: [50, 100], concurrency: 4, onUpload, log: () => {} });
  env = stack.env;
  clients = makeClients(stack.endpoints);
  store = new DynamoSubmissionStore(clients.dynamodb, stack.endpoints.table);
});
afterAll(async () => {
  clients?.destroy();
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const idOf = (key: string, objectVersionId: string) => versionOf({ bucket: 'hmis-uploads', key, size: 0, sequencer: '', eventTime: '', objectVersionId }).versionId;

describe('a same-key overwrite race', () => {
  const rounds = size(2, 10);
  const writers = 16;

  it(`${rounds} rounds of ${writers} concurrent PUTs of one key, accepted and rejected mixed: the newest accepted version is current, a rejected one never was`, async () => {
    const { accepted, rejected } = await workbooks();
    let seenRejectedCurrent = false;
    let polling = true;
    const poll = (async () => {
      for (let i = 0; polling && i < 10_000; i++) {
        const current = await store.current(SLOT.county, SLOT.period, SLOT.template, SLOT.institution);
        // (the type says it cannot be: the test is that the table agrees)
        if (current && (current.status as string) === 'rejected') seenRejectedCurrent = true;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    for (let round = 0; round < rounds; round++) {
      const key = keyIn(`race-${round}.xlsx`);
      // the last writer of each round is a rejected upload in odd rounds: the accepted one before it must stay current
      const items = Array.from({ length: writers }, (_, i) => ({ key, body: (i + round) % 3 === 0 ? rejected : accepted }));
      const { acked, failed } = await burst(stack.endpoints, items, writers);
      expect(failed).toBe(0);
      await stack.idle();
      const versions = (await clients.s3.send(new ListObjectVersionsCommand({ Bucket: 'hmis-uploads', Prefix: key }))).Versions!; // newest first
      expect(versions).toHaveLength(writers);
      expect(new Set(acked.map((a) => a.versionId))).toEqual(new Set(versions.map((v) => v.VersionId)));
      const stored = new Map((await store.versions(SLOT)).map((v) => [v.versionId, v]));
      const current = await store.current(SLOT.county, SLOT.period, SLOT.template, SLOT.institution);
      // the newest accepted version of all the slot's uploads so far (this round's key is the newest)
      const newestAccepted = versions.map((v) => stored.get(idOf(key, v.VersionId!))!).find((v) => v.status !== 'rejected')!;
      expect(current!.versionId).toBe(newestAccepted.versionId);
      expect(current!.objectVersionId).toBe(newestAccepted.objectVersionId);
    }
    polling = false;
    await poll;
    expect(seenRejectedCurrent).toBe(false);
    await expectExactlyOneVersionEach(stack.endpoints);
  }, TIMEOUT_MS);
});

describe('duplicate and out-of-order events', () => {
  const uploads = size(12, 60);

  it(`${uploads} uploads whose events arrive late, three times each, shuffled: one version each, one alert per rejected version`, async () => {
    const { accepted, rejected } = await workbooks();
    hold = true;
    held.length = 0;
    // four keys, several versions each; a third rejected
    const items = Array.from({ length: uploads }, (_, i) => ({ key: keyIn(`late-${i % 4}.xlsx`), body: i % 3 === 1 ? rejected : accepted }));
    for (const item of items) await burst(stack.endpoints, [item], 1);
    await stack.idle();
    hold = false;
    expect(held).toHaveLength(uploads);

    // every message three times, in a shuffled order (deterministic: a fixed permutation)
    const bodies = [...held, ...held, ...held].map((m) => m.body);
    const order = bodies.map((_, i) => i).sort((a, b) => ((a * 7919) % 101) - ((b * 7919) % 101));
    const shuffled = order.map((i) => bodies[i]!);
    for (let i = 0; i < shuffled.length; i += 10) {
      await clients.sqs.send(new SendMessageBatchCommand({ QueueUrl: stack.endpoints.queues.uploads, Entries: shuffled.slice(i, i + 10).map((MessageBody, n) => ({ Id: String(n), MessageBody })) }));
    }
    await stack.idle();

    await expectExactlyOneVersionEach(stack.endpoints);
    const versions = (await store.versions(SLOT)).filter((v) => v.objectKey.includes('/late-'));
    expect(versions).toHaveLength(uploads);
    const rejectedIds = versions.filter((v) => v.status === 'rejected').map((v) => v.versionId);
    expect(rejectedIds.length).toBe(items.filter((i) => i.body === rejected).length);
    const alerts = await alertsPerVersion(dataDir, versions.map((v) => v.versionId));
    expect(rejectedIds.map((id) => alerts.get(id) ?? 0)).toEqual(rejectedIds.map(() => 1));
    expect([...alerts.keys()].sort()).toEqual([...rejectedIds].sort());
    // per key, the newest accepted object version is what counts for the slot at the end
    const current = await store.current(SLOT.county, SLOT.period, SLOT.template, SLOT.institution);
    const newest = [...versions].sort((a, b) => (a.order < b.order ? 1 : -1)).find((v) => v.status !== 'rejected')!;
    expect(current!.versionId).toBe(newest.versionId);
  }, TIMEOUT_MS);
});
