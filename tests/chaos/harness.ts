/**
 * The chaos suite's tools: `hmis serve` as a child process it can kill -9 (only the processes it
 * started), concurrent upload clients, and the one invariant every fault must leave intact:
 *
 *   every object version under uploads/ has exactly one processed version (Σ versions in
 *   `hmis status` = the object versions listed), no version item twice, and reconciliation finds 0.
 *
 * Loopback only; every loop bounded in count and time. `HMIS_CHAOS=full` (npm run chaos) runs the
 * full sizes; `npm test` runs short ones.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { makeClients } from '../../functions/adapters/aws/clients.ts';
import { DynamoSubmissionStore } from '../../functions/adapters/dynamo/store.ts';
import { readEndpoints, waitIdle, type StackEndpoints } from '../../functions/adapters/local/stack.ts';
import { S3ObjectStore } from '../../functions/adapters/s3/objects.ts';
import { SqsUploadQueue } from '../../functions/adapters/sqs/queue.ts';
import { statusRows } from '../../functions/cli/status.ts';
import { parseUploadKey, versionOf } from '../../functions/core/ingest.ts';
import { reconcile, type ReconcileReport } from '../../functions/core/reconcile.ts';
import { CASES } from '../../fixtures/workbooks/cases.ts';
import { bundledDefinitions } from '../../schemas/index.ts';
import { caseFile } from '../../fixtures/workbooks/make.ts';

export const FULL = process.env.HMIS_CHAOS === 'full';
export const size = (short: number, full: number) => (FULL ? full : short);
/** a chaos test's time bound (vitest's 30 s default is for unit tests) */
export const TIMEOUT_MS = FULL ? 900_000 : 180_000;

/** 150525-101's T-JC 2025-03: accepted, and the same with a broken rule: rejected (with an alert). */
export const workbooks = async () => ({
  accepted: await readFile(caseFile(CASES.find((c) => c.name === 'valid-T-JC')!)),
  rejected: await readFile(caseFile(CASES.find((c) => c.name === 'rule-JC-R03')!)),
});
export const SLOT = { county: '150525', institution: '150525-101', template: 'T-JC', period: '2025-03' } as const;
export const keyIn = (name: string) => `uploads/${SLOT.county}/${SLOT.institution}/${SLOT.template}/${SLOT.period}/${name}`;

/** `hmis serve` on `dataDir`, free ports, no portal: a child process of this one. */
export async function startServe(dataDir: string, timeoutMs = 60_000): Promise<{ child: ChildProcess; endpoints: StackEndpoints; output: () => string }> {
  const bin = join(import.meta.dirname, '../../bin/hmis.mjs');
  const child = spawn(process.execPath, [bin, 'serve', '--data-dir', dataDir, '--s3-port', '0', '--dynamodb-port', '0', '--sns-port', '0', '--sqs-port', '0', '--portal-port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let output = '';
  child.stdout!.on('data', (c) => (output = (output + c).slice(-20_000)));
  child.stderr!.on('data', (c) => (output = (output + c).slice(-20_000)));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`hmis serve exited ${child.exitCode}:\n${output}`);
    const endpoints = await readEndpoints(dataDir);
    // ready once the banner is printed: the handler is loaded and the portal up
    if (endpoints && endpoints.pid === child.pid && output.includes('Ctrl-C')) return { child, endpoints, output: () => output };
    await sleep(100);
  }
  killHard(child);
  throw new Error(`hmis serve did not start within ${timeoutMs} ms:\n${output}`);
}

/** kill -9 of a child this suite started (never anything else). */
export function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  return exited;
}

export async function stopServe(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(30_000).then(() => killHard(child))]);
}

export interface Acknowledged {
  key: string;
  versionId: string;
}

/**
 * `total` PUTs from `clients` concurrent S3 clients (each its own connection pool), in order of
 * index; `onAck` after each acknowledged one. A PUT that fails (the server died) is not acknowledged
 * and not retried: the client stops.
 */
export async function burst(endpoints: StackEndpoints, items: Array<{ key: string; body: Buffer }>, clients: number, onAck?: (done: number) => void): Promise<{ acked: Acknowledged[]; failed: number }> {
  const acked: Acknowledged[] = [];
  let failed = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const c = makeClients(endpoints, { maxAttempts: 1 });
      try {
        while (next < items.length) {
          const item = items[next++]!;
          try {
            const out = await c.s3.send(new (await import('@aws-sdk/client-s3')).PutObjectCommand({ Bucket: endpoints.buckets.uploads, Key: item.key, Body: item.body }));
            acked.push({ key: item.key, versionId: out.VersionId! });
            onAck?.(acked.length);
          } catch {
            failed++;
            return;
          }
        }
      } finally {
        c.destroy();
      }
    }),
  );
  return { acked, failed };
}

/**
 * The invariant, checked against a running stack: returns the reconciliation report (which must be 0)
 * and the counts. `acked`: uploads whose PUT was answered: each must be processed.
 */
export async function expectExactlyOneVersionEach(endpoints: StackEndpoints, acked: readonly Acknowledged[] = []): Promise<{ objects: number; versions: number; report: ReconcileReport }> {
  await waitIdle(endpoints);
  const c = makeClients(endpoints);
  try {
    const objects = new S3ObjectStore(c.s3);
    const store = new DynamoSubmissionStore(c.dynamodb, endpoints.table);
    const listed = await objects.listVersions(endpoints.buckets.uploads, 'uploads/');
    const periods = new Set(listed.map((v) => `${parseUploadKey(v.key)!.county}#${parseUploadKey(v.key)!.period}`));
    const processed = new Set<string>();
    let statusVersions = 0;
    for (const cp of periods) {
      const [county, period] = cp.split('#') as [string, string];
      for (const slot of await store.processedVersions(county, period)) for (const id of slot.versionIds) processed.add(id);
      // what `hmis status` prints: versions per owed slot
      statusVersions += statusRows(bundledDefinitions(), county, period, await store.listPeriod(county, period), new Date()).reduce((n, r) => n + r.versions, 0);
      for (const slot of await store.processedVersions(county, period)) {
        const items = await store.versions(slot);
        expect(new Set(items.map((v) => v.versionId)).size, `no version item twice in ${slot.institution} ${slot.template} ${period}`).toBe(items.length);
      }
    }
    const expected = listed.map((v) => versionOf({ bucket: endpoints.buckets.uploads, key: v.key, size: v.size, sequencer: '', eventTime: v.lastModified, objectVersionId: v.versionId }).versionId);
    const lost = acked.filter((a) => !processed.has(versionOf({ bucket: endpoints.buckets.uploads, key: a.key, size: 0, sequencer: '', eventTime: '', objectVersionId: a.versionId }).versionId));
    expect(lost, 'acknowledged uploads never processed').toEqual([]);
    expect(expected.filter((id) => !processed.has(id)), 'object versions without a processed version').toEqual([]);
    expect(processed.size, 'processed versions = object versions under uploads/').toBe(listed.length);
    expect(statusVersions, 'Σ versions in hmis status = object versions under uploads/').toBe(listed.length);
    const report = await reconcile({ now: new Date() }, { listing: objects, store, queue: new SqsUploadQueue(c.sqs, endpoints.queues.uploads), uploadsBucket: endpoints.buckets.uploads });
    expect({ found: report.found, missing: report.missing, halfDone: report.halfDone, orphans: report.orphans }).toEqual({ found: 0, missing: [], halfDone: [], orphans: [] });
    return { objects: listed.length, versions: processed.size, report };
  } finally {
    c.destroy();
  }
}

/** Alerts the local SNS endpoint received, per version id named in the message. */
export async function alertsPerVersion(dataDir: string, versionIds: readonly string[]): Promise<Map<string, number>> {
  const lines = (await readFile(join(dataDir, 'alerts.jsonl'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
  const counts = new Map<string, number>();
  for (const line of lines) {
    const message = (JSON.parse(line) as { message: string }).message;
    for (const id of versionIds) if (message.includes(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}
