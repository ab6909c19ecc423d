/**
 * Hostile files inside the validator (`npx tsx bench/hostile.ts [--json]`; part of `npm run bench`).
 *
 * Goal: each file in fixtures/hostile/ refused (or accepted, for the few that are only unusual) in
 * under 1 s and 200 MB. Measured per file and inside the validator, not per CLI start: the validator
 * is bundled once (esbuild, as a Lambda bundle is), then each file gets a fresh process that imports
 * it, notes its RSS, reads the file and times `validateUpload` alone. The RSS figure is the process's
 * peak (imports included); its growth over the RSS after imports is reported beside it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BUNDLE_OPTIONS } from '../infra/bundle.ts';
import { recordFigures } from './results.ts';

const HOSTILE_DIR = fileURLToPath(new URL('../fixtures/hostile/', import.meta.url));
const TARGET_MS = 1_000;
const TARGET_MB = 200;

export interface HostileRun {
  file: string;
  status: string;
  /** the first issue's code */
  code: string | null;
  /** validateUpload alone */
  ms: number;
  /** the process's peak RSS, and its RSS once the validator was imported */
  peakRssMb: number;
  importedRssMb: number;
}

/** The child: `node <bundle> <file>` prints one HostileRun as JSON. */
const CHILD = `
import { readFileSync } from 'node:fs';
import { resourceUsage } from 'node:process';
import { validateUpload } from ${JSON.stringify(fileURLToPath(new URL('../functions/core/validate/index.ts', import.meta.url)))};
import { bundledSource } from ${JSON.stringify(fileURLToPath(new URL('../schemas/index.ts', import.meta.url)))};
const definitions = bundledSource();
const file = process.argv[2];
const importedRssMb = resourceUsage().maxRSS / 1024;
const bytes = readFileSync(file);
const t0 = performance.now();
const { report } = await validateUpload(bytes, { definitions, institution: '150525-101', template: 'T-JC', period: '2025-03', now: new Date('2025-04-03T10:00:00+08:00') });
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ file: file.split('/').pop(), status: report.status, code: report.issues[0]?.code ?? null, ms, peakRssMb: resourceUsage().maxRSS / 1024, importedRssMb }));
`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hmis-hostile-'));
  try {
    const bundle = join(dir, 'validate.mjs');
    await build({ ...BUNDLE_OPTIONS, stdin: { contents: CHILD, resolveDir: dir, sourcefile: 'hostile-child.ts', loader: 'ts' }, outfile: bundle });
    const files = readdirSync(HOSTILE_DIR).filter((f) => !f.endsWith('.ts')).sort();
    const runs: HostileRun[] = [];
    for (const f of files) {
      const child = spawnSync(process.execPath, [bundle, join(HOSTILE_DIR, f)], { encoding: 'utf8', timeout: 60_000 });
      if (child.status !== 0) throw new Error(`${f}: the validator's process failed (${child.status ?? child.signal}):\n${child.stderr}`);
      runs.push(JSON.parse(child.stdout) as HostileRun);
    }
    const slowest = runs.reduce((a, b) => (b.ms > a.ms ? b : a));
    const largest = runs.reduce((a, b) => (b.peakRssMb > a.peakRssMb ? b : a));
    const growth = runs.reduce((a, b) => (b.peakRssMb - b.importedRssMb > a.peakRssMb - a.importedRssMb ? b : a));
    if (process.argv.includes('--json')) console.log(JSON.stringify(runs, null, 2));
    else {
      console.log(`hostile files inside the validator (${runs.length} files of fixtures/hostile, a fresh process each; node ${process.version})`);
      for (const r of [...runs].sort((a, b) => b.ms - a.ms)) {
        console.log(`  ${r.file.padEnd(34)} ${r.status.padEnd(22)} ${(r.code ?? '—').padEnd(28)} ${r.ms.toFixed(1).padStart(7)} ms  peak RSS ${r.peakRssMb.toFixed(0)} MB (+${(r.peakRssMb - r.importedRssMb).toFixed(0)})`);
      }
    }
    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    console.log(`slowest: ${slowest.file} ${slowest.ms.toFixed(0)} ms (target < ${TARGET_MS} ms: ${verdict(slowest.ms < TARGET_MS)})`);
    console.log(`largest peak RSS: ${largest.file} ${largest.peakRssMb.toFixed(0)} MB (target < ${TARGET_MB} MB: ${verdict(largest.peakRssMb < TARGET_MB)}); largest growth over the imports: ${growth.file} +${(growth.peakRssMb - growth.importedRssMb).toFixed(0)} MB`);
    recordFigures('hostile', {
      hostileFiles: runs.length,
      hostileMaxMs: slowest.ms,
      hostileMaxRssMb: largest.peakRssMb,
      hostileMaxRssGrowthMb: growth.peakRssMb - growth.importedRssMb,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
