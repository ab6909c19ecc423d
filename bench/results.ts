/**
 * bench-results.json at the project root (git-ignored): the figures `npm run bench` measures. Each
 * bench merges its own figures into the file when it finishes (flat, by name, e.g. `coldImportMs`)
 * and notes when it measured them; `npm run bench:readme` writes the README's table from the file.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

export const RESULTS_FILE = fileURLToPath(new URL('../bench-results.json', import.meta.url));

export interface BenchResults {
  /** when each bench last wrote its figures (ISO), by bench name */
  measuredAt: Record<string, string>;
  node: string;
  cpus: number;
  [figure: string]: number | string | Record<string, string>;
}

export function readResults(file = RESULTS_FILE): BenchResults {
  const empty: BenchResults = { measuredAt: {}, node: process.version, cpus: cpus().length };
  if (!existsSync(file)) return empty;
  return { ...empty, ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<BenchResults>) } as BenchResults;
}

/** Merges one bench's figures (rounded to 3 significant digits past the integer part) into the file. */
export function recordFigures(bench: string, figures: Record<string, number>, file = RESULTS_FILE): void {
  for (const [name, value] of Object.entries(figures)) if (!Number.isFinite(value)) throw new Error(`${bench}: figure ${name} is ${value}`);
  const current = readResults(file);
  const rounded = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Math.abs(v) >= 100 ? Math.round(v) : Number(v.toPrecision(3))]));
  const next: BenchResults = { ...current, ...rounded, measuredAt: { ...current.measuredAt, [bench]: new Date().toISOString() }, node: process.version, cpus: cpus().length };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`);
  renameSync(tmp, file);
  console.log(`→ ${Object.keys(figures).join(', ')} written to ${file}`);
}
