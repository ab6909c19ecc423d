/**
 * The deployed Lambda bundles, measured locally (issue 6): `npx tsx bench/bundle.ts [--runs 10] [--json]`.
 *
 * Each handler is bundled by the local esbuild with the options the CDK stack hands NodejsFunction
 * (infra/constructs/defaults.ts BUNDLING), into a directory outside the repository (so nothing is
 * rescued by node_modules: what is not in the bundle fails to import). Reported:
 *  - bundle size, and its deflated zip size (what Lambda stores; the limit is 50 MB zipped / 250 MB unzipped),
 *  - the largest packages in it (esbuild metafile),
 *  - cold-start import time: `node -e "import('<bundle>')"` spawned N times (default 10), median —
 *    both the whole process (node start + import) and the import alone, timed inside the child;
 *    node starting with nothing to import is the baseline. Target for ingest: import under 500 ms.
 *
 * The handlers read their environment at import (functions/config.ts): the child gets valid dummy
 * values; building the SDK clients opens no connection.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import JSZip from 'jszip';
import { ENV } from '../functions/config.ts';
import { BUNDLING, handlerEntry } from '../infra/constructs/defaults.ts';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 10;
const asJson = args.includes('--json');
const handlers = ['ingest-upload', 'consolidate'] as const;
const TARGET_MS = 500;

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

/** Bundles one handler as NodejsFunction would (`index.mjs`, ESM). */
async function bundle(handler: string, outdir: string): Promise<{ file: string; metafile: Metafile; ms: number }> {
  const file = join(outdir, handler, 'index.mjs');
  const started = performance.now();
  const result = await build({
    entryPoints: [handlerEntry(handler)],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: BUNDLING.target,
    mainFields: [...BUNDLING.mainFields],
    minify: BUNDLING.minify,
    keepNames: BUNDLING.keepNames,
    sourcemap: BUNDLING.sourceMap,
    external: [...BUNDLING.externalModules],
    banner: { js: BUNDLING.banner },
    metafile: true,
    logLevel: 'error',
  });
  return { file, metafile: result.metafile, ms: performance.now() - started };
}

/** The zip Lambda would store (one file, deflated). */
async function zippedSize(file: string): Promise<number> {
  const zip = new JSZip();
  zip.file('index.mjs', readFileSync(file));
  const bytes = await zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE', compressionOptions: { level: 9 } });
  return bytes.length;
}

/** Bytes in the bundle per package (node_modules/<pkg>) or our own directories. */
function largestInputs(metafile: Metafile, output: string, top = 8): Array<[string, number]> {
  const out = Object.entries(metafile.outputs).find(([name]) => output.endsWith(name.replace(/^.*?\/([^/]+\/index\.mjs)$/, '$1')))?.[1];
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
  bytes: number;
  zipped: number;
  buildMs: number;
  largest: Array<[string, number]>;
  importMs: number;
  processMs: number;
  importRuns: number[];
}

async function main(): Promise<void> {
  const outdir = mkdtempSync(join(tmpdir(), 'hmis-bundle-'));
  try {
    const baselineRuns = Array.from({ length: runs }, () => coldStart(null).processMs);
    const results: Measured[] = [];
    for (const handler of handlers) {
      const { file, metafile, ms } = await bundle(handler, outdir);
      coldStart(file); // warm the disk cache: a Lambda's code is local too
      const samples = Array.from({ length: runs }, () => coldStart(file));
      results.push({
        handler,
        bytes: statSync(file).size,
        zipped: await zippedSize(file),
        buildMs: ms,
        largest: largestInputs(metafile, file),
        importMs: median(samples.map((s) => s.importMs)),
        processMs: median(samples.map((s) => s.processMs)),
        importRuns: samples.map((s) => Math.round(s.importMs)),
      });
    }
    const baselineMs = median(baselineRuns);
    if (asJson) {
      console.log(JSON.stringify({ node: process.version, runs, baselineMs, targetMs: TARGET_MS, results }, null, 2));
      return;
    }
    console.log(`Lambda bundles (esbuild ${BUNDLING.format}, ${BUNDLING.target}, minified, AWS SDK bundled); node ${process.version}, ${runs} runs, medians`);
    console.log(`node start with nothing to import: ${baselineMs.toFixed(0)} ms`);
    for (const r of results) {
      const verdict = r.handler === 'ingest-upload' ? (r.importMs < TARGET_MS ? ` (target < ${TARGET_MS} ms: met)` : ` (target < ${TARGET_MS} ms: MISSED)`) : '';
      console.log(`\n${r.handler}: ${mb(r.bytes)} bundle, ${mb(r.zipped)} zipped, built in ${r.buildMs.toFixed(0)} ms`);
      console.log(`  cold import ${r.importMs.toFixed(0)} ms${verdict}; whole process ${r.processMs.toFixed(0)} ms  [imports: ${r.importRuns.join(', ')}]`);
      console.log(`  largest: ${r.largest.map(([k, n]) => `${k} ${(n / 1024).toFixed(0)} KB`).join(', ')}`);
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

await main();
