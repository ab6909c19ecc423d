/**
 * The lake: every value of every current accepted indicator return as tidy rows in Parquet, under
 * `lake/` in the reports bucket, one object per county and year, partitioned Hive-style so that Athena
 * (a Glue table, infra/constructs/lake.ts) and DuckDB (`hmis query`) read the same files:
 *
 *   lake/year=2025/county=150525/values.parquet
 *
 * A county's year is rewritten whole from the store by the scheduled function (nightly, and with the
 * workbook after the deadline; on demand: the `lake` task): one writer per county at a time, no
 * read-modify-write, the same data gives the same bytes. Ledgers (台账) hold rows, not values: they
 * are not in the lake.
 *
 * One definition drives both readers: LAKE_COLUMNS are the file's columns and the Glue table's; year and
 * county are the partition columns (in the path, not in the file).
 */
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { CurrentSubmission, ObjectStore, SubmissionStore } from '../../ports/index.ts';
import { pool } from '../consolidate/load.ts';
import { monthId } from '../consolidate/period.ts';
import { periodKind } from '../layout.ts';
import type { Definitions } from '../definitions/definitions.ts';
import type { DefinitionsPort } from '../definitions/source.ts';
import { reviewOf } from '../review.ts';

export const LAKE_PREFIX = 'lake/';
export const LAKE_FILE = 'values.parquet';

/** Parquet type of a column, and the Glue/Athena type it is declared with. */
type ColumnType = 'STRING' | 'DOUBLE' | 'INT32';
export const GLUE_TYPE: Record<ColumnType, string> = { STRING: 'string', DOUBLE: 'double', INT32: 'int' };

/** The file's columns, in order (the partition columns year and county come from the path). */
export const LAKE_COLUMNS = [
  { name: 'city', type: 'STRING', comment: '市级代码 (1505)' },
  { name: 'institution', type: 'STRING', comment: '机构代码 (150525-101)' },
  { name: 'institution_name', type: 'STRING', comment: '机构名称' },
  { name: 'institution_type', type: 'STRING', comment: '机构类型代码 (township_hc)' },
  { name: 'template', type: 'STRING', comment: '报表 (T-JC)' },
  { name: 'template_version', type: 'INT32', comment: '报表版本' },
  { name: 'period', type: 'STRING', comment: '统计期 (2025-03, 2025-Q1, 2025)' },
  { name: 'period_type', type: 'STRING', comment: 'month | quarter | year' },
  { name: 'element', type: 'STRING', comment: '数据项代码 (JC28)' },
  { name: 'element_name', type: 'STRING', comment: '数据项名称' },
  { name: 'value', type: 'DOUBLE', comment: '上报数值 (累计数为截至当期的累计值)' },
  { name: 'unit', type: 'STRING', comment: '单位' },
  { name: 'review_state', type: 'STRING', comment: 'pending | approved | returned (审核; a return accepted before review existed counts as approved)' },
  { name: 'version_id', type: 'STRING', comment: '上报版本 (reports/…/<version_id>.json)' },
] as const satisfies ReadonlyArray<{ name: string; type: ColumnType; comment: string }>;

/** The partition columns, in path order. */
export const LAKE_PARTITIONS = [
  { name: 'year', glueType: 'int' },
  { name: 'county', glueType: 'string' },
] as const;

export type LakeRow = { [C in (typeof LAKE_COLUMNS)[number] as C['name']]: C['type'] extends 'STRING' ? string | null : number | null };

export const lakeKeyOf = (year: number, county: string): string => `${LAKE_PREFIX}year=${year}/county=${county}/${LAKE_FILE}`;

/** Every period id of a year a return can be for: its months, its quarters, the year itself. */
export function periodsOfYear(year: number): string[] {
  return [...Array.from({ length: 12 }, (_, i) => monthId(year, i + 1)), ...[1, 2, 3, 4].map((q) => `${year}-Q${q}`), String(year)];
}

/** The review state a current return carries, when the store records one (review, issue 12). */
/** The tidy rows of one current accepted return: one per value present, in template order. */
export function lakeRowsOf(defs: Definitions, current: CurrentSubmission): LakeRow[] {
  const s = current.submission;
  if (s.kind !== 'indicator') return [];
  const located = defs.institution(current.institution);
  const template = defs.template(current.template);
  const elements = template?.kind === 'indicator' ? template.elements : [];
  const known = new Set(elements.map((e) => e.code));
  // the template's elements in order, then anything stored that the definitions no longer name
  const codes = [...elements.map((e) => e.code), ...Object.keys(s.values).filter((c) => !known.has(c)).sort()];
  const rows: LakeRow[] = [];
  for (const code of codes) {
    if (!Object.hasOwn(s.values, code)) continue;
    const value = s.values[code];
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    const el = elements.find((e) => e.code === code);
    rows.push({
      city: located?.county.city.code ?? null,
      institution: current.institution,
      institution_name: located?.institution.name ?? null,
      institution_type: located?.institution.type ?? null,
      template: current.template,
      template_version: current.templateVersion,
      period: current.period,
      period_type: periodKind(current.period),
      element: code,
      element_name: el?.name ?? null,
      value,
      unit: el?.unit ?? null,
      review_state: reviewOf(current),
      version_id: current.versionId,
    });
  }
  return rows;
}

/** Rows as a Parquet file (snappy pages); the same rows give the same bytes. */
export function lakeParquet(rows: readonly LakeRow[]): Uint8Array {
  const buffer = parquetWriteBuffer({
    columnData: LAKE_COLUMNS.map((c) => ({ name: c.name, type: c.type, data: rows.map((r) => r[c.name]) })),
  });
  return new Uint8Array(buffer);
}

export interface LakeDeps {
  definitions: DefinitionsPort;
  objects: ObjectStore;
  store: SubmissionStore;
  reportsBucket: string;
}

export interface LakeWritten {
  key: string;
  county: string;
  year: number;
  /** current accepted returns written, and their values */
  returns: number;
  rows: number;
  bytes: number;
  /** reading the store / building and writing the file */
  readMs: number;
  writeMs: number;
}

/**
 * Rewrites one county's year from the store: every period of the year (listPeriod, a few at a time),
 * the current accepted indicator returns, sorted by period, template and institution. A year with no
 * return writes an empty file (a reader sees the year exists and holds nothing).
 */
export async function writeLake(deps: LakeDeps, county: string, year: number): Promise<LakeWritten> {
  const started = performance.now();
  const periods = periodsOfYear(year);
  const lists = await pool(periods, 4, (p) => deps.store.listPeriod(county, p));
  const currents = lists
    .flat()
    .flatMap((e) => (e.current ? [e.current] : []))
    .sort((a, b) => cmp(a.period, b.period) || cmp(a.template, b.template) || cmp(a.institution, b.institution));
  const readMs = performance.now() - started;
  const rows: LakeRow[] = [];
  for (const c of currents) rows.push(...lakeRowsOf(await deps.definitions.at(c.period), c));
  const bytes = lakeParquet(rows);
  const key = lakeKeyOf(year, county);
  await deps.objects.put(deps.reportsBucket, key, bytes, 'application/vnd.apache.parquet');
  return { key, county, year, returns: currents.filter((c) => c.submission.kind === 'indicator').length, rows: rows.length, bytes: bytes.length, readMs: Math.round(readMs), writeMs: Math.round(performance.now() - started - readMs) };
}

/**
 * The years a scheduled run refreshes for the periods it consolidated (the reporting month first, then
 * the quarter and year in window): their years, and in January–March the year before the reporting
 * month's (late corrections of December). None when no period was consolidated.
 */
export function lakeYears(periods: readonly string[]): number[] {
  const years = new Set(periods.map((p) => Number(p.slice(0, 4))));
  const month = periods.find((p) => periodKind(p) === 'month');
  if (month && Number(month.slice(5, 7)) <= 3) years.add(Number(month.slice(0, 4)) - 1);
  return [...years].sort((a, b) => a - b);
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
