/**
 * Reproducible workbooks: `hmis consolidate --generated-at` and the scheduled function's
 * scheduledTime (EventBridge Scheduler's <aws.scheduler.scheduled-time>) stamp that time, not the
 * clock's, so the same data and the same time give byte-identical workbooks.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { makeClients, type Clients } from '../../functions/adapters/aws/clients.ts';
import { DynamoSubmissionStore } from '../../functions/adapters/dynamo/store.ts';
import { run as consolidateCli } from '../../functions/cli/consolidate.ts';
import { makeEntry } from '../../functions/core/consolidate/build.ts';
import { bundledDefinitions } from '../../schemas/index.ts';

const stack = inject('stack');
// 磴口县 2024-02 belongs to this file alone
const COUNTY = '150822';
const PERIOD = '2024-02';
let clients: Clients;
let dir: string;

beforeAll(async () => {
  clients = makeClients(stack);
  dir = await mkdtemp(join(tmpdir(), 'hmis-reproducible-'));
  const store = new DynamoSubmissionStore(clients.dynamodb, stack.table);
  const defs = bundledDefinitions();
  const inst = defs.county(COUNTY)!.institutions[1]!;
  const e = makeEntry({ institution: inst.code, template: defs.templatesOf(inst)[0]!, period: PERIOD, values: {} });
  await store.putVersion(e.current!, e.current!.submission);
  await store.makeCurrent(e.current!);
  await store.recordAttempt(e.current!);
});
afterAll(async () => {
  clients.destroy();
  await rm(dir, { recursive: true, force: true });
});

async function consolidate(out: string, ...extra: string[]): Promise<string> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((l: string) => void lines.push(l));
  try {
    expect(await consolidateCli(['--county', COUNTY, '--period', PERIOD, '--out', out, '--data-dir', stack.dataDir, ...extra])).toBe(0);
  } finally {
    log.mockRestore();
  }
  return lines.join('\n');
}

describe('reproducible workbooks', () => {
  it('hmis consolidate --generated-at: the same data and time give byte-identical workbooks, stamped with that time', async () => {
    const first = await consolidate(join(dir, 'a.xlsx'), '--generated-at', '2024-03-06T02:00:00+08:00');
    const second = await consolidate(join(dir, 'b.xlsx'), '--generated-at', '2024-03-06T02:00:00+08:00');
    const [a, b] = await Promise.all([readFile(join(dir, 'a.xlsx')), readFile(join(dir, 'b.xlsx'))]);
    expect(a.length).toBeGreaterThan(5_000);
    expect(Buffer.compare(a, b)).toBe(0);
    expect(first).toContain('_20240306-020000.xlsx');
    expect(second).toContain('_20240306-020000.xlsx');
    // another time, another stamp and other bytes (the 说明 sheet says when it was generated)
    await consolidate(join(dir, 'c.xlsx'), '--generated-at', '2024-03-07T02:00:00+08:00');
    expect(Buffer.compare(a, await readFile(join(dir, 'c.xlsx')))).not.toBe(0);
    await expect(consolidateCli(['--county', COUNTY, '--period', PERIOD, '--generated-at', 'yesterday', '--data-dir', stack.dataDir])).rejects.toThrow(/--generated-at/);
  });

  it('the scheduled function stamps the scheduled time it is given, not the clock at run time', async () => {
    Object.assign(process.env, stack.env);
    const { handler } = await import('../../functions/handlers/consolidate.ts');
    const task = { task: 'consolidate', level: 'county', code: COUNTY, period: PERIOD, scheduledTime: '2024-03-06T18:00:00Z' };
    const one = (await handler(task)) as { published: Array<{ key: string }> };
    const two = (await handler(task)) as { published: Array<{ key: string }> };
    expect(one.published[0]!.key).toMatch(/_20240307-020000\.xlsx$/);
    expect(two.published[0]!.key).toBe(one.published[0]!.key);
    const body = async (key: string) => Buffer.from(await (await clients.s3.send(new GetObjectCommand({ Bucket: stack.buckets.reports, Key: key }))).Body!.transformToByteArray());
    const written = await body(one.published[0]!.key);
    expect(Buffer.compare(written, await body(`consolidated/${COUNTY}/latest/${PERIOD}.xlsx`))).toBe(0);
    expect(await handler({ ...task, scheduledTime: 'not a time' })).toMatchObject({ error: expect.stringContaining('scheduledTime') });
  });
});
