/** bench-results.json and the README table made from it (bench/results.ts, bench/readme.ts). */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { benchTable, END, ROWS, START, withBenchTable } from '../../bench/readme.ts';
import { readResults, recordFigures } from '../../bench/results.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hmis-bench-results-'));
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

describe('bench-results.json', () => {
  it('merges each bench’s figures, rounded, with when it measured them', async () => {
    const file = join(dir, 'bench-results.json');
    recordFigures('bundle', { coldImportMs: 212.4, ingestBundleMiB: 2.21934 }, file);
    recordFigures('hostile', { hostileMaxMs: 81.56, hostileMaxRssMb: 65.2, hostileFiles: 61 }, file);
    recordFigures('bundle', { coldImportMs: 148.6, ingestBundleMiB: 2.1 }, file);
    const results = JSON.parse(await readFile(file, 'utf8'));
    expect(results).toMatchObject({ coldImportMs: 149, ingestBundleMiB: 2.1, hostileMaxMs: 81.6, hostileMaxRssMb: 65.2, hostileFiles: 61, node: process.version });
    expect(Object.keys(results.measuredAt).sort()).toEqual(['bundle', 'hostile']);
    expect(() => recordFigures('x', { nope: Number.NaN }, file)).toThrow(/nope is NaN/);
    expect(readResults(join(dir, 'absent.json')).measuredAt).toEqual({});
  });
});

describe('the README table', () => {
  const results = { node: 'v20.20.2', cpus: 2, measuredAt: { bundle: '2026-12-06T01:00:00.000Z' }, coldImportMs: 212, ingestBundleMiB: 2.2, ingestBundleZippedMiB: 0.6, hostileMaxMs: 82, hostileMaxRssMb: 65, hostileFiles: 61 };

  it('has a row per figure, goal and verdict; what was not measured shows as —', () => {
    const lines = benchTable(results).split('\n');
    expect(lines[0]).toBe('Measured 2026-12-06 on node v20.20.2, 2 cores.');
    expect(lines.slice(2, 4)).toEqual(['| what | goal | measured | met |', '| --- | --- | --- | --- |']);
    expect(lines).toHaveLength(4 + ROWS.length);
    expect(lines.find((l) => l.includes('cold import'))).toMatch(/\| < 150 ms \| 212 ms \| \*\*no\*\* \|$/);
    expect(lines.find((l) => l.includes('hostile'))).toMatch(/\| 82 ms; 65 MB \(61 files\) \| yes \|$/);
    expect(lines.find((l) => l.includes('province month ('))).toMatch(/\| ≤ 1\.5 \| — \|  \|$/);
  });

  it('replaces only what is between the markers', () => {
    const readme = `# x\n\nbefore\n${START}\nold table\n${END}\nafter\n`;
    const out = withBenchTable(readme, results);
    expect(out.startsWith(`# x\n\nbefore\n${START}\nMeasured`)).toBe(true);
    expect(out.endsWith(`|\n${END}\nafter\n`)).toBe(true);
    expect(out).not.toContain('old table');
    expect(withBenchTable(out, results)).toBe(out);
    expect(() => withBenchTable('# no markers', results)).toThrow(/markers/);
  });
});
