/**
 * kill -9 of `hmis serve` in the middle of a burst (16 concurrent clients), then a restart with no
 * command run: every acknowledged upload is processed, none twice, and reconciliation finds 0.
 * Also a torn write (a 0-byte s3rver metadata file, as a kill mid-PUT leaves): listing works after
 * the restart. Short in `npm test`; HMIS_CHAOS=full (npm run chaos): 500 uploads, three rounds.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { makeClients } from '../../functions/adapters/aws/clients.ts';
import { burst, expectExactlyOneVersionEach, keyIn, killHard, size, startServe, stopServe, workbooks, type Acknowledged, TIMEOUT_MS } from './harness.ts';

const started: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const child of started.splice(0)) await stopServe(child);
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function serve(dataDir: string) {
  const s = await startServe(dataDir);
  started.push(s.child);
  return s;
}

describe('kill -9 of hmis serve mid-burst', () => {
  const total = size(64, 500);
  const rounds = size(1, 3);

  it(`${total} uploads from 16 clients, killed after half were acknowledged, restarted (${rounds} round(s)): 0 lost, 0 doubled`, async () => {
    const { accepted, rejected } = await workbooks();
    const dataDir = await mkdtemp(join(tmpdir(), 'hmis-chaos-crash-'));
    dirs.push(dataDir);
    const acked: Acknowledged[] = [];
    for (let round = 0; round < rounds; round++) {
      const items = Array.from({ length: total }, (_, i) => ({ key: keyIn(`r${round}-${String(i).padStart(3, '0')}.xlsx`), body: i % 4 === 3 ? rejected : accepted }));
      const first = await serve(dataDir);
      // the kill comes from inside the burst, the moment half are acknowledged
      const half = Math.floor(total / 2);
      let killed: Promise<void> | undefined;
      const before = await burst(first.endpoints, items, 16, (n) => {
        if (n >= half && !killed) killed = killHard(first.child);
      });
      await killed;
      acked.push(...before.acked);
      expect(before.acked.length).toBeGreaterThanOrEqual(half);
      expect(before.acked.length).toBeLessThan(total);

      // restart, no command run: what the dead process had queued is ingested at start
      const second = await serve(dataDir);
      const rest = items.filter((item) => !before.acked.some((a) => a.key === item.key));
      const after = await burst(second.endpoints, rest, 16);
      expect(after.failed).toBe(0);
      acked.push(...after.acked);
      const { objects, versions } = await expectExactlyOneVersionEach(second.endpoints, acked);
      expect(versions).toBe(objects);
      expect(objects).toBeGreaterThanOrEqual(acked.length);
      await stopServe(second.child);
    }
  }, TIMEOUT_MS);
});

describe('a torn write', () => {
  it('a 0-byte ._S3rver_metadata.json (a kill mid-PUT) is cleaned at start: listing works, the torn key is gone or restored', async () => {
    const { accepted } = await workbooks();
    const dataDir = await mkdtemp(join(tmpdir(), 'hmis-chaos-torn-'));
    dirs.push(dataDir);
    const first = await serve(dataDir);
    const { acked } = await burst(first.endpoints, [{ key: keyIn('kept.xlsx'), body: accepted }], 1);
    await killHard(first.child);
    // what a kill during a PUT leaves: the object's bytes, no MD5, a 0-byte metadata file; and a torn
    // overwrite of the kept key (its metadata truncated)
    const folder = join(dataDir, 's3', 'hmis-uploads', 'uploads', '150525', '150525-101', 'T-JC', '2025-03');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'torn.xlsx._S3rver_object'), accepted.subarray(0, 100));
    await writeFile(join(folder, 'torn.xlsx._S3rver_metadata.json'), '');
    await writeFile(join(folder, 'kept.xlsx._S3rver_metadata.json'), '');

    const second = await serve(dataDir);
    const c = makeClients(second.endpoints);
    try {
      const listed = await c.s3.send(new ListObjectsV2Command({ Bucket: 'hmis-uploads', Prefix: 'uploads/' }));
      expect((listed.Contents ?? []).map((o) => o.Key)).toEqual([keyIn('kept.xlsx')]);
    } finally {
      c.destroy();
    }
    await expectExactlyOneVersionEach(second.endpoints, acked);
    expect(second.output()).toMatch(/mended after an unclean stop: 1 half-written objects removed|half-written/);
  }, TIMEOUT_MS);
});
