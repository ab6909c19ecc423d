/**
 * `hmis lake --county C [--year Y] [--data-dir D]`: rewrite a county's year of the lake now (the
 * scheduled function does it nightly), and what `hmis query` and `hmis export` read it with: DuckDB
 * (@duckdb/node-api, a native module: CLI only, never in a Lambda bundle) over a mirror of the stack's
 * `lake/` objects on disk, with the view `values`.
 */
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { LAKE_COLUMNS, LAKE_PARTITIONS, LAKE_PREFIX } from '../core/lake/index.ts';
import { runTask } from '../core/schedule.ts';
import { shanghaiMonth } from '../core/consolidate/period.ts';
import { parseArgs, requireFlag, stringFlag, UsageError } from './args.ts';
import { DEFAULT_DATA_DIR, openLocal, type Local } from './local.ts';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { county: 'string', year: 'string', 'data-dir': 'string' });
  const county = requireFlag(args, 'county');
  const year = Number(stringFlag(args, 'year') ?? shanghaiMonth(new Date()).slice(0, 4));
  if (!/^\d{6}$/.test(county)) throw new UsageError(`--county must be a 6-digit county code, got ${county}`);
  if (!Number.isInteger(year) || year < 2000 || year > 2100) throw new UsageError('--year must be a year such as 2025');
  const local = await openLocal(stringFlag(args, 'data-dir') ?? DEFAULT_DATA_DIR);
  try {
    const outcome = await runTask({ task: 'lake', county, year }, local.deps, new Date());
    for (const w of outcome.lake) console.log(`s3://${local.stack.endpoints.buckets.reports}/${w.key}：${w.returns} 份报表，${w.rows} 个数值`);
    return 0;
  } finally {
    await local.close();
  }
}

/** Where the mirror of lake/ lives for a data dir. */
export const lakeMirrorOf = (dataDir: string): string => resolve(dataDir, 'lake-mirror');

/**
 * Copies the stack's lake/ objects to `dir` (same keys), fetching only what changed (size or time)
 * and removing files the stack no longer has.
 */
export async function mirrorLake(local: Local, dir: string): Promise<number> {
  const bucket = local.stack.endpoints.buckets.reports;
  const objects = (await local.deps.objects.list(bucket, LAKE_PREFIX)).filter((o) => o.key.endsWith('.parquet') && !o.key.split('/').includes('..'));
  const wanted = new Set<string>();
  for (const o of objects) {
    const file = join(dir, o.key);
    wanted.add(file);
    const seen = await stat(file).catch(() => null);
    if (seen && seen.size === o.size && seen.mtimeMs >= Date.parse(o.lastModified)) continue;
    const bytes = await local.deps.objects.get(bucket, o.key, 1024 * 1024 * 1024);
    if (!bytes) continue;
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, bytes);
  }
  for (const file of await listFiles(join(dir, LAKE_PREFIX))) if (!wanted.has(file)) await rm(file);
  return objects.length;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out;
}

const VIEW_COLUMNS = ['county', ...LAKE_COLUMNS.map((c) => c.name).filter((n) => n !== 'city'), 'city', 'year'];
const DUCK_TYPE = { STRING: 'VARCHAR', DOUBLE: 'DOUBLE', INT32: 'INTEGER' } as const;

/**
 * A DuckDB connection with the view `values` over the Parquet files under `root` (lake/year=…/county=…/),
 * partition columns typed as in Glue (year INTEGER, county VARCHAR). With no file yet, the view exists
 * and is empty.
 */
export async function lakeConnection(root: string): Promise<{ connection: DuckDBConnection; close(): void }> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const files = await listFiles(join(root, LAKE_PREFIX));
  const hiveTypes = LAKE_PARTITIONS.map((p) => `'${p.name}': ${p.glueType === 'int' ? 'INTEGER' : 'VARCHAR'}`).join(', ');
  const glob = `${join(root, LAKE_PREFIX).split(sep).join('/')}/**/*.parquet`.replace(/'/g, "''");
  const source = files.some((f) => f.endsWith('.parquet'))
    ? `SELECT ${VIEW_COLUMNS.join(', ')} FROM read_parquet('${glob}', hive_partitioning = true, hive_types = {${hiveTypes}}, union_by_name = true)`
    : `SELECT ${VIEW_COLUMNS.map((n) => `NULL::${n === 'year' ? 'INTEGER' : (DUCK_TYPE[LAKE_COLUMNS.find((c) => c.name === n)?.type ?? 'STRING'])} AS ${n}`).join(', ')} WHERE false`;
  await connection.run(`CREATE VIEW "values" AS ${source}`);
  return {
    connection,
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** Rows as plain JSON values: BIGINT and HUGEINT as numbers when exact, else as text; dates as ISO text. */
export function plainRows(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) out[k] = plainValue(v);
    return out;
  });
}

function plainValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(plainValue);
  if (typeof v === 'object') {
    const o = v as { toDouble?: () => number };
    if (typeof o.toDouble === 'function') return o.toDouble();
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, plainValue(x)]));
  }
  return String(v);
}

/** Opens the stack on the data dir, mirrors its lake and hands a connection to `fn`. */
export async function withLake<T>(dataDir: string, fn: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
  const mirror = lakeMirrorOf(dataDir);
  const local = await openLocal(dataDir);
  try {
    await mirrorLake(local, mirror);
  } finally {
    await local.close();
  }
  const db = await lakeConnection(mirror);
  try {
    return await fn(db.connection);
  } finally {
    db.close();
  }
}

export const shown = (path: string): string => relative(process.cwd(), path) || path;
