/**
 * The deployed Lambda bundles, measured locally (issue 6): `npx tsx bench/bundle.ts [--runs 15] [--json]`.
 *
 * Each handler is bundled as the CDK stack bundles it at synth (infra/bundle.ts: index.mjs, and the late
 * modules a cold start never runs in files of their own), into a directory outside the repository (so
 * nothing is rescued by node_modules: what is not in the bundle fails to import). Reported:
 *  - index.mjs's size (what a cold start parses), all files' size, and their deflated zip size (what
 *    Lambda stores; the limit is 50 MB zipped / 250 MB unzipped),
 *  - the largest packages in index.mjs (esbuild metafile),
 *  - cold-start import time: `node -e "import('<bundle>')"` spawned N times (default 15) in rounds, each
 *    file once per round (the machine's load changes over minutes and falls on all alike), median —
 *    both the whole process (node start + import) and the import alone, timed inside the child;
 *    node starting with nothing to import is the baseline. Target for ingest: import under 150 ms.
 *    Beside it, the floor: a bundle of the AWS SDK clients ingest builds at start, and nothing else.
 *
 * The handlers read their environment at import (functions/config.ts): the child gets valid dummy
 * values; building the SDK clients opens no connection.
 *
 * Then (unless --no-smoke) the ingest bundle handles real events, each in a fresh process, against the
 * local stack (s3rver, dynalite, SNS; functions/adapters/local): a valid return, a rejected one (its
 * marked-up workbook comes from a late file), and a valid one with the credentials in a shared
 * credentials file instead of the environment (the SDK's file provider comes from a late file).
 * That proves the bundle works beyond import (exceljs, the registry and templates, the SDK, the late
 * files), and times a first invocation as Lambda's cold start pays it: process start, import, one upload.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Metafile } from 'esbuild';
import JSZip from 'jszip';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { makeClients } from '../functions/adapters/aws/clients.ts';
import { startLocalStack } from '../functions/adapters/local/stack.ts';
import { ENV } from '../functions/config.ts';
import { writeWorkbookBuffer } from '../functions/core/render/deterministic.ts';
import { buildCase, CASES } from '../fixtures/workbooks/cases.ts';
import { BUNDLE_OPTIONS, bundleFunction, handlerEntry, type BundledFunction } from '../infra/bundle.ts';
import { recordFigures } from './results.ts';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 15;
const asJson = args.includes('--json');
const smoke = !args.includes('--no-smoke');
const handlers = ['ingest-upload', 'consolidate'] as const;
const TARGET_MS = 150;

const ENVIRONMENT: Record<string, string> = {
  [ENV.uploadsBucket]: 'hmis-bench-uploads',
  [ENV.reportsBucket]: 'hmis-bench-reports',
  [ENV.tableName]: 'hmis-bench',
  [ENV.alertsTopicArn]: 'arn:aws:sns:us-east-1:123456789012:hmis-bench-alerts',
  [ENV.opsTopicArn]: 'arn:aws:sns:us-east-1:123456789012:hmis-bench-ops',
  [ENV.counties]: '150525',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
};

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MiB`;

/**
 * The part of the ingest bundle's import no change of ours removes: the AWS SDK clients it builds at
 * start (S3 and DynamoDB: functions/handlers/deps.ts; SNS waits for the first alert) with the configuration
 * they read; nothing else.
 */
const SDK_FLOOR = `import { dynamoClient, s3Client } from ${JSON.stringify(fileURLToPath(new URL('../functions/adapters/aws/clients.ts', import.meta.url)))};
s3Client(); dynamoClient();
export const handler = () => undefined;`;

/** Bundles one handler as the stack does; `contents` instead of the handler's file (the SDK floor). */
async function bundle(handler: string, outdir: string, contents?: string): Promise<BundledFunction & { file: string; ms: number }> {
  const started = performance.now();
  const bundled = await bundleFunction(contents ? { stdin: contents } : handlerEntry(handler), join(outdir, handler));
  return { ...bundled, file: join(bundled.dir, 'index.mjs'), ms: performance.now() - started };
}

/** The zip Lambda would store (the directory's files, deflated). */
async function zippedSize(bundled: BundledFunction): Promise<number> {
  const zip = new JSZip();
  for (const f of bundled.files) zip.file(f.name, readFileSync(join(bundled.dir, f.name)));
  const bytes = await zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE', compressionOptions: { level: 9 } });
  return bytes.length;
}

/** Bytes in the bundle per package (node_modules/<pkg>) or our own directories. */
function largestInputs(metafile: Metafile, top = 8): Array<[string, number]> {
  const out = Object.values(metafile.outputs)[0];
  const by = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(out?.inputs ?? {})) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const key = m ? m[1]! : path.split('/').slice(0, 2).join('/');
    by.set(key, (by.get(key) ?? 0) + bytesInOutput);
  }
  return [...by].sort((a, b) => b[1] - a[1]).slice(0, top);
}

/** One child process: wall time of the process, and the import alone as timed inside it. */
function coldStart(file: string | null): { processMs: number; importMs: number } {
  const code =
    file === null
      ? 'process.stdout.write("0")'
      : `const t=performance.now();import(${JSON.stringify(pathToFileURL(file).href)}).then(m=>{if(typeof m.handler!=='function')throw new Error('no handler export');process.stdout.write(String(performance.now()-t))})`;
  const started = performance.now();
  const child = spawnSync(process.execPath, ['-e', code], { env: { PATH: process.env.PATH ?? '', ...ENVIRONMENT }, encoding: 'utf8' });
  const processMs = performance.now() - started;
  if (child.status !== 0) throw new Error(`importing ${file} failed:\n${child.stderr}`);
  return { processMs, importMs: Number(child.stdout) };
}

interface Measured {
  handler: string;
  /** index.mjs */
  bytes: number;
  /** all files: index.mjs and the late modules' */
  allBytes: number;
  lateFiles: number;
  zipped: number;
  buildMs: number;
  largest: Array<[string, number]>;
  importMs: number;
  processMs: number;
  importRuns: number[];
}

interface SmokeRun {
  case: string;
  expected: string;
  status: string;
  /** process start + import + one event, in a fresh process */
  firstInvocationMs: number;
}

const RESULT = '@@handler-result@@';

/** A child node process, asynchronously: the local stack's servers live in this process and must keep answering. */
function nodeEval(code: string, env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['-e', code], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

/** The ingest bundle, fresh process per event, against the local stack. */
async function smokeIngest(bundleFile: string, dataDir: string): Promise<SmokeRun[]> {
  const stack = await startLocalStack({ dataDir, dynamodbInMemory: true });
  try {
    const { s3 } = makeClients(stack.endpoints);
    // the third run finds its credentials in a shared credentials file, as outside Lambda
    const credentialsFile = join(dataDir, 'aws-credentials');
    writeFileSync(credentialsFile, `[default]\naws_access_key_id = ${stack.endpoints.credentials.accessKeyId}\naws_secret_access_key = ${stack.endpoints.credentials.secretAccessKey}\n`);
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...withoutKeys } = stack.env;
    const fromFile = { ...withoutKeys, AWS_SHARED_CREDENTIALS_FILE: credentialsFile, AWS_CONFIG_FILE: join(dataDir, 'aws-config-none') };
    const runs: SmokeRun[] = [];
    for (const [i, [name, env]] of ([['valid-T-JC', stack.env], ['value-negative', stack.env], ['valid-T-JC', fromFile]] as const).entries()) {
      const c = CASES.find((x) => x.name === name)!;
      const body = await writeWorkbookBuffer(buildCase(c));
      const key = `uploads/150525/150525-101/T-JC/2025-03/smoke-${i}-${name}.xlsx`;
      const put = await s3.send(new PutObjectCommand({ Bucket: stack.endpoints.buckets.uploads, Key: key, Body: body }));
      const s3Event = {
        Records: [
          {
            eventName: 'ObjectCreated:Put',
            eventTime: new Date(Date.UTC(2025, 3, 2, 1, 0, i)).toISOString(),
            userIdentity: { principalId: 'AWS:bench' }, // the IAM path: an anonymous upload is refused
            s3: { bucket: { name: stack.endpoints.buckets.uploads }, object: { key, size: body.length, eTag: put.ETag?.replace(/"/g, ''), sequencer: `00${String(i + 1).padStart(16, '0')}` } },
          },
        ],
      };
      // as the ingest queue delivers it: the S3 notification in an SQS message
      const event = { Records: [{ messageId: `smoke-${i}`, body: JSON.stringify(s3Event), attributes: { ApproximateReceiveCount: '1' } }] };
      const code = `import(${JSON.stringify(pathToFileURL(bundleFile).href)}).then(m=>m.handler(${JSON.stringify(event)})).then(r=>process.stdout.write('\\n${RESULT}'+JSON.stringify(r)))`;
      const started = performance.now();
      const child = await nodeEval(code, { PATH: process.env.PATH ?? '', ...env, [ENV.counties]: '150525' });
      const firstInvocationMs = performance.now() - started;
      if (child.status !== 0) throw new Error(`the ingest bundle failed on ${name}:\n${child.stderr}`);
      // the handler answers with the messages to deliver again; the outcome is in its log lines (JSON on stdout)
      const response = JSON.parse(child.stdout.slice(child.stdout.lastIndexOf(RESULT) + RESULT.length)) as { batchItemFailures: unknown[] };
      const processed = child.stdout.split('\n').flatMap((line) => (line.startsWith('{') ? [JSON.parse(line) as { msg?: string; status?: string; feedbackKey?: string; alerted?: boolean }] : [])).find((l) => l.msg === 'upload processed');
      if (response.batchItemFailures.length || !processed?.status) throw new Error(`the ingest bundle did not process ${name}:\n${child.stdout}\n${child.stderr}`);
      // the marked-up workbook and the SNS alerter are late files: a rejection without either means one failed to load
      if (processed.status === 'rejected' && !(processed.feedbackKey && processed.alerted)) throw new Error(`the ingest bundle rejected ${name} without a marked-up workbook or an alert:\n${child.stdout}\n${child.stderr}`);
      runs.push({ case: env === fromFile ? `${name}, credentials from a file` : name, expected: c.expect, status: processed.status, firstInvocationMs });
    }
    return runs;
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<void> {
  const outdir = mkdtempSync(join(tmpdir(), 'hmis-bundle-'));
  try {
    const bundles = [];
    for (const handler of handlers) bundles.push({ handler, ...(await bundle(handler, outdir)) });
    const floor = await bundle('aws-sdk-floor', outdir, SDK_FLOOR);
    const files = [...bundles.map((b) => b.file), floor.file];
    for (const file of files) coldStart(file); // warm the disk cache: a Lambda's code is local too
    // in rounds, each file once per round: the machine's load changes over minutes, and so all see the same
    const samples = new Map<string | null, Array<{ processMs: number; importMs: number }>>([null, ...files].map((f) => [f, []]));
    for (let round = 0; round < runs; round++) for (const [file, list] of samples) list.push(coldStart(file));
    const results: Measured[] = [];
    for (const b of bundles) {
      const runsOf = samples.get(b.file)!;
      results.push({
        handler: b.handler,
        bytes: b.files[0]!.bytes,
        allBytes: b.files.reduce((n, f) => n + f.bytes, 0),
        lateFiles: b.files.length - 1,
        zipped: await zippedSize(b),
        buildMs: b.ms,
        largest: largestInputs(b.files[0]!.metafile),
        importMs: median(runsOf.map((s) => s.importMs)),
        processMs: median(runsOf.map((s) => s.processMs)),
        importRuns: runsOf.map((s) => Math.round(s.importMs)),
      });
    }
    const sdkFloorMs = median(samples.get(floor.file)!.map((s) => s.importMs));
    const baselineMs = median(samples.get(null)!.map((s) => s.processMs));
    let smokeRuns: SmokeRun[] = [];
    if (smoke) {
      const ingestFile = join(outdir, 'ingest-upload', 'index.mjs');
      const stackDir = mkdtempSync(join(tmpdir(), 'hmis-bundle-stack-'));
      try {
        smokeRuns = await smokeIngest(ingestFile, stackDir);
      } finally {
        rmSync(stackDir, { recursive: true, force: true });
      }
      const wrong = smokeRuns.filter((r) => r.status !== r.expected);
      if (wrong.length) throw new Error(`the ingest bundle gave ${wrong.map((r) => `${r.case}: ${r.status}, expected ${r.expected}`).join('; ')}`);
    }
    const ingest = results.find((r) => r.handler === 'ingest-upload')!;
    recordFigures('bundle', {
      coldImportMs: ingest.importMs,
      coldProcessMs: ingest.processMs,
      sdkFloorImportMs: sdkFloorMs,
      nodeStartMs: baselineMs,
      ingestBundleMiB: ingest.bytes / 1048576,
      ingestBundleAllMiB: ingest.allBytes / 1048576,
      ingestBundleZippedMiB: ingest.zipped / 1048576,
      ...(smokeRuns.length ? { firstInvocationMs: median(smokeRuns.map((r) => r.firstInvocationMs)) } : {}),
    });
    if (asJson) {
      console.log(JSON.stringify({ node: process.version, runs, baselineMs, targetMs: TARGET_MS, results, smoke: smokeRuns }, null, 2));
      return;
    }
    console.log(`Lambda bundles (infra/bundle.ts: esbuild ${BUNDLE_OPTIONS.format}, ${BUNDLE_OPTIONS.target}, minified, AWS SDK bundled); node ${process.version}, ${runs} runs, medians`);
    console.log(`node start with nothing to import: ${baselineMs.toFixed(0)} ms; importing the AWS SDK clients ingest builds at start, alone: ${sdkFloorMs.toFixed(0)} ms`);
    for (const r of results) {
      const verdict = r.handler === 'ingest-upload' ? (r.importMs < TARGET_MS ? ` (target < ${TARGET_MS} ms: met)` : ` (target < ${TARGET_MS} ms: MISSED)`) : '';
      console.log(`\n${r.handler}: index.mjs ${mb(r.bytes)}, with ${r.lateFiles} late files ${mb(r.allBytes)}, ${mb(r.zipped)} zipped, built in ${r.buildMs.toFixed(0)} ms`);
      console.log(`  cold import ${r.importMs.toFixed(0)} ms${verdict}; whole process ${r.processMs.toFixed(0)} ms  [imports: ${r.importRuns.join(', ')}]`);
      console.log(`  largest: ${r.largest.map(([k, n]) => `${k} ${(n / 1024).toFixed(0)} KB`).join(', ')}`);
    }
    if (smokeRuns.length) {
      console.log('\ningest bundle on real events (local stack, fresh process each: start + import + one upload)');
      for (const r of smokeRuns) console.log(`  ${r.case}: ${r.status} (expected ${r.expected}) in ${r.firstInvocationMs.toFixed(0)} ms`);
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

await main();
