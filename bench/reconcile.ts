/**
 * Reconciliation benchmark (`npx tsx bench/reconcile.ts`; not part of the test suite).
 *
 * Province scale, synthetic: 100 counties × 30 institutions × 5 templates = 15,000 upload versions of
 * one month in the local stack's versioned uploads bucket, each with its processed version in the
 * table (attempt items). Times `reconcile` over the local stack (ListObjectVersions through the S3
 * front, per institution prefix, 16 at once; one Query per county and period; nothing found):
 * median of 3, printed as `reconcileMs15k`. Then one upload version is taken out of the table and
 * reconciliation must find it (the measure is of a run that looks, not of one that skips).
 *
 * Options: --runs N, --objects N (a multiple of 150), --concurrency N, --json.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WriteRequest } from '@aws-sdk/client-dynamodb';
import { makeClients } from '../functions/adapters/aws/clients.ts';
import { batchWrite, DynamoSubmissionStore, keys } from '../functions/adapters/dynamo/store.ts';
import { startLocalStack } from '../functions/adapters/local/stack.ts';
import { VersionStore } from '../functions/adapters/local/versions.ts';
import { S3ObjectStore } from '../functions/adapters/s3/objects.ts';
import { versionOf } from '../functions/core/ingest.ts';
import { reconcile } from '../functions/core/reconcile.ts';
import { recordFigures } from './results.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const RUNS = flag('--runs', 3);
const OBJECTS = flag('--objects', 15_000);
const CONCURRENCY = flag('--concurrency', 16);
const TEMPLATES = ['T-JC', 'T-YY', 'T-FY', 'T-JK', 'T-TZ'];
const PER_COUNTY = 30;
const PERIOD = '2025-03';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = await mkdtemp(join(tmpdir(), 'hmis-bench-reconcile-'));
try {
  const counties = Math.ceil(OBJECTS / (PER_COUNTY * TEMPLATES.length));
  const started = performance.now();
  // the uploads, written as the S3 front keeps them (the stack restores the current objects at start)
  const versions = await VersionStore.open(join(dir, 's3-versions'));
  const items: Array<{ county: string; institution: string; template: string; versionId: string }> = [];
  for (let c = 0; c < counties && items.length < OBJECTS; c++) {
    const county = String(150001 + c);
    for (let i = 1; i <= PER_COUNTY; i++) {
      for (const template of TEMPLATES) {
        const institution = `${county}-${String(100 + i).padStart(3, '0')}`;
        const key = `uploads/${county}/${institution}/${template}/${PERIOD}/${template}-${institution}.xlsx`;
        const v = await versions.add({ bucket: 'hmis-uploads', key, etag: '0'.repeat(32), size: 4, metadata: {}, eventName: 'ObjectCreated:Put', principal: 'AWS:S3RVER' }, Buffer.from('xlsx'));
        items.push({ county, institution, template, versionId: versionOf({ bucket: 'hmis-uploads', key, size: 4, sequencer: '', eventTime: v.lastModified, objectVersionId: v.versionId }).versionId });
      }
    }
  }
  const stack = await startLocalStack({ dataDir: dir, dynamodbInMemory: true, log: () => {} });
  const clients = makeClients(stack.endpoints);
  try {
    // each upload processed: its version id in the attempt item of its submission
    const writes: WriteRequest[] = items.map((it) => ({
      PutRequest: { Item: { PK: { S: keys.countyPeriod(it.county, PERIOD) }, SK: { S: keys.attempt(it.template, it.institution) }, versionIds: { SS: [it.versionId] } } },
    }));
    // a thousand at a time: dynalite runs in this process, and 600 batches at once would starve it
    for (let i = 0; i < writes.length; i += 1000) await batchWrite(clients.dynamodb, stack.endpoints.table, writes.slice(i, i + 1000));
    const setupMs = performance.now() - started;
    const store = new DynamoSubmissionStore(clients.dynamodb, stack.endpoints.table);
    const sent: unknown[] = [];
    const deps = { listing: new S3ObjectStore(clients.s3), store, queue: { send: async (e: unknown[]) => void sent.push(...e) }, uploadsBucket: 'hmis-uploads' };
    const times: number[] = [];
    let objects = 0;
    for (let run = 0; run < RUNS; run++) {
      const t = performance.now();
      const report = await reconcile({ now: new Date(), concurrency: CONCURRENCY }, deps);
      times.push(performance.now() - t);
      objects = report.objects;
      if (report.found !== 0 || report.objects !== items.length) throw new Error(`expected ${items.length} objects and 0 found, got ${report.objects} and ${report.found}`);
    }
    // one taken out of the table: found, and sent to ingest
    const gone = items[Math.floor(items.length / 2)]!;
    await clients.dynamodb.send(new (await import('@aws-sdk/client-dynamodb')).DeleteItemCommand({ TableName: stack.endpoints.table, Key: { PK: { S: keys.countyPeriod(gone.county, PERIOD) }, SK: { S: keys.attempt(gone.template, gone.institution) } } }));
    const check = await reconcile({ now: new Date(), concurrency: CONCURRENCY }, deps);
    if (check.missing.length !== 1 || sent.length !== 1) throw new Error(`a lost upload was not found: ${JSON.stringify({ missing: check.missing.length, sent: sent.length })}`);
    const result = { objects, counties, runs: RUNS, concurrency: CONCURRENCY, reconcileMs15k: Math.round(median(times)), runsMs: times.map(Math.round), setupMs: Math.round(setupMs) };
    recordFigures('reconcile', { reconcileMs15k: result.reconcileMs15k });
    if (args.includes('--json')) console.log(JSON.stringify(result));
    else {
      console.log(`reconcile, ${objects} upload versions in ${counties} counties (local stack: S3 front + dynalite), ${CONCURRENCY} prefixes at once`);
      console.log(`  runs: ${result.runsMs.join(' ms, ')} ms (setup ${result.setupMs} ms)`);
      console.log(`reconcileMs15k: ${result.reconcileMs15k}`);
    }
  } finally {
    clients.destroy();
    await stack.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
