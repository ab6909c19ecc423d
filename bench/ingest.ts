/**
 * Ingest benchmarks (issue 3), run by `npm run bench`. Medians and ratios, never single timings:
 * the machine is small and shared.
 *
 *  1. PutObject → current in DynamoDB for a typical return (≈ 30 rows), through the local stack.
 *  2. Cost against the floor: (parse + validate + store) / (exceljs's streaming reader alone on the same
 *     bytes), measured alternately in one process, for a 30-row return and a 10,000-row ledger.
 *  3. Storing a 10,000-row ledger (BatchWriteItem, UnprocessedItems retried).
 *  4. Peak RSS of one ingest of the largest accepted file, in a fresh process.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import ExcelJS from 'exceljs';
import { makeClients } from '../functions/adapters/aws/clients.ts';
import { DynamoSubmissionStore } from '../functions/adapters/dynamo/store.ts';
import { lazyUploadHandler } from '../functions/adapters/local/handler.ts';
import { startLocalStack } from '../functions/adapters/local/stack.ts';
import { S3ObjectStore } from '../functions/adapters/s3/objects.ts';
import { ingestUpload } from '../functions/core/ingest.ts';
import { writeWorkbookBuffer } from '../functions/core/render/deterministic.ts';
import { buildTemplateWorkbook } from '../functions/core/render/template.ts';
import { validateUpload } from '../functions/core/validate/index.ts';
import { buildCase, CASES } from '../fixtures/workbooks/cases.ts';
import { bundledDefinitions, bundledSource } from '../schemas/index.ts';
import { recordFigures } from './results.ts';

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 0)} ms`;

/** A T-TZ ledger of `rows` rows for 150525-101, 2025-03. */
export async function bigLedger(rows: number, deadline = new Date(Date.UTC(2030, 11, 31))): Promise<Buffer> {
  const found = bundledDefinitions().institution('150525-101')!;
  const wb = buildTemplateWorkbook(bundledDefinitions().template('T-TZ')!, found.county, found.institution, '2025-03');
  const ws = wb.getWorksheet('任务台账')!;
  const statuses = ['推进中', '已完成', '未启动', '推进中'] as const;
  for (let i = 0; i < rows; i++) {
    const status = statuses[i % 4]!;
    ws.getRow(8 + i).values = [String(i + 1), `重点工作任务第${i + 1}项：落实中医药健康管理服务`, `责任科室${i % 7} 张某`, deadline, status, status === '已完成' ? 100 : status === '未启动' ? 0 : 40 + (i % 50), '按月调度，建立台账', null];
  }
  ws.getCell('B5').value = '张某';
  return writeWorkbookBuffer(wb);
}

async function streamingReadAlone(bytes: Buffer): Promise<number> {
  let cells = 0;
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from([bytes]), { styles: 'cache', sharedStrings: 'cache', worksheets: 'emit', hyperlinks: 'ignore', entries: 'ignore' });
  for await (const ws of reader) for await (const row of ws as unknown as AsyncIterable<ExcelJS.Row>) cells += row.cellCount;
  return cells;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'hmis-bench-'));
  let env: Record<string, string> = {};
  const stack = await startLocalStack({ dataDir: dir, dynamodbInMemory: true, onUpload: lazyUploadHandler(() => env) });
  env = stack.env;
  const { s3, dynamodb, destroy } = makeClients(stack.endpoints);
  const store = new DynamoSubmissionStore(dynamodb, stack.endpoints.table);
  const deps = { definitions: bundledSource(), objects: new S3ObjectStore(s3), store, reportsBucket: stack.endpoints.buckets.reports, maxUploadBytes: 10 * 1024 * 1024 };
  // direct measurements use objects outside the trigger (the reports bucket), so nothing runs twice
  const staged = async (key: string, body: Buffer) => {
    await s3.send(new PutObjectCommand({ Bucket: stack.endpoints.buckets.reports, Key: key, Body: body }));
    // uploaded by the IAM path: the event names its principal (an anonymous upload is refused)
    return { bucket: stack.endpoints.buckets.reports, key, size: body.length, sequencer: String(performance.now()).replace('.', '').padStart(20, '0'), eventTime: new Date().toISOString(), principal: 'AWS:bench' };
  };
  const figures: Record<string, number> = {};
  try {
    const small = await writeWorkbookBuffer(buildCase(CASES.find((c) => c.name === 'valid-T-JC')!));
    const large = await bigLedger(10_000);
    console.log(`inputs: 30-row T-JC ${(small.length / 1024).toFixed(0)} KB; 10,000-row T-TZ ${(large.length / 1024).toFixed(0)} KB`);

    // 1. PutObject → current, through the trigger and the handler (the real local path)
    const latency: number[] = [];
    for (let i = 0; i < 21; i++) {
      const key = `uploads/150525/150525-101/T-JC/2025-03/latency-${i}.xlsx`;
      const t0 = performance.now();
      await s3.send(new PutObjectCommand({ Bucket: stack.endpoints.buckets.uploads, Key: key, Body: small }));
      while ((await store.current('150525', '2025-03', 'T-JC', '150525-101'))?.objectKey !== key) await new Promise((r) => setTimeout(r, 5));
      if (i > 0) latency.push(performance.now() - t0); // the first pays the handler's cold start
    }
    console.log(`1. PutObject → current in DynamoDB (30-row return, local stack): median ${ms(median(latency))} over ${latency.length} (target < 1 s)`);
    figures.putToCurrentMs = median(latency);

    // 2. ingest against exceljs's streaming reader alone, alternately in this process
    for (const [label, bytes, tpl, rounds, name] of [
      ['30-row return', small, 'T-JC', 21, 'ingestReturn'],
      ['10,000-row ledger', large, 'T-TZ', 5, 'ingestLedger'],
    ] as const) {
      const ours: number[] = [];
      const floor: number[] = [];
      for (let i = 0; i < rounds; i++) {
        let t0 = performance.now();
        await streamingReadAlone(bytes);
        floor.push(performance.now() - t0);
        // the workbooks are 2025-03's: any other period in the key would be a (cheaper or dearer) rejection
        const event = await staged(`uploads/150525/150525-101/${tpl}/2025-03/ratio-${i}.xlsx`, bytes);
        t0 = performance.now();
        const out = await ingestUpload(event, deps);
        ours.push(performance.now() - t0);
        if (out.kind !== 'processed' || out.status !== 'accepted') throw new Error(`bench input not accepted: ${JSON.stringify(out.kind === 'processed' ? out.report.issues.slice(0, 3) : out)}`);
      }
      console.log(
        `2. ${label}: ingest (get object + gate + parse + validate + store + report) median ${ms(median(ours))}; exceljs streaming reader alone ${ms(median(floor))}; ratio ${(median(ours) / median(floor)).toFixed(2)} (target ≤ 1.8 for the ledger)`,
      );
      Object.assign(figures, { [`${name}Ms`]: median(ours), [`${name}FloorMs`]: median(floor), [`${name}Ratio`]: median(ours) / median(floor) });
    }

    // 2b. the same ledger with every 推进中 row overdue (2,500 warnings): the marked-up workbook is written too
    const warned = await bigLedger(10_000, new Date(Date.UTC(2025, 0, 31)));
    const withFeedback: number[] = [];
    for (let i = 0; i < 3; i++) {
      const event = await staged(`uploads/150525/150525-101/T-TZ/2025-03/warned-${i}.xlsx`, warned);
      const t0 = performance.now();
      const out = await ingestUpload(event, deps);
      withFeedback.push(performance.now() - t0);
      if (out.kind !== 'processed' || out.status !== 'accepted_with_warnings' || !out.feedbackKey) throw new Error('expected a warned ledger with a marked-up workbook');
    }
    console.log(`2b. 10,000-row ledger with 2,500 warnings, marked-up workbook included: median ${ms(median(withFeedback))}`);
    figures.ledgerWithFeedbackMs = median(withFeedback);

    // 3. storing the 10,000-row ledger alone
    const { submission } = await validateUpload(large, { definitions: bundledSource(),  institution: '150525-101', template: 'T-TZ', period: '2025-03' });
    const storing: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await store.putVersion({ versionId: `store-${i}`, order: `9999-${i}`, uploadedAt: new Date().toISOString(), objectKey: 'x', county: '150525', institution: '150525-101', template: 'T-TZ', period: '2025-03', templateVersion: 1, status: 'accepted', errors: 0, warnings: 0, reportKey: 'x', firstIssues: [] }, submission);
      storing.push(performance.now() - t0);
    }
    console.log(`3. store a 10,000-row ledger (BatchWriteItem of its ≤ 300 KB chunk items, UnprocessedItems retried): median ${ms(median(storing))} (target < 10 s)`);
    figures.storeLedgerMs = median(storing);

    // 4. peak RSS of one ingest of the largest accepted file, in a fresh process
    const event = await staged('uploads/150525/150525-101/T-TZ/2025-03/rss.xlsx', large);
    const script = fileURLToPath(new URL('./ingest-rss.ts', import.meta.url));
    // asynchronously: the stack the child talks to runs in this process
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, JSON.stringify({ endpoints: stack.endpoints, event })], { encoding: 'utf8' });
    const [line, json] = stdout.trim().split('\n').slice(-2) as [string, string];
    console.log(`4. ${line} (target < 256 MB)`);
    const rss = JSON.parse(json) as { peakRssMb: number; importedRssMb: number };
    Object.assign(figures, { ingestPeakRssMb: rss.peakRssMb, ingestImportedRssMb: rss.importedRssMb });
    recordFigures('ingest', figures);
  } finally {
    destroy();
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
