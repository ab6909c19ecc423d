/**
 * `npm run bench:readme`: rewrites the README's performance table (between its bench-table markers)
 * from bench-results.json, which `npm run bench` writes. A figure not measured yet shows as "—".
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readResults, RESULTS_FILE, type BenchResults } from './results.ts';

export const README = fileURLToPath(new URL('../README.md', import.meta.url));
export const START = '<!-- bench-table:start (npm run bench:readme writes this table from bench-results.json) -->';
export const END = '<!-- bench-table:end -->';

type Figures = (name: string) => number | undefined;

interface Row {
  what: string;
  goal: string;
  /** the cell, or null when a figure it needs is missing */
  measured: (f: Figures) => string | null;
  /** whether the goal is met; absent for figures only reported */
  met?: (f: Figures) => boolean | null;
}

const ms = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${n.toFixed(n < 10 ? 1 : 0)} ms`);
const need = (f: Figures, ...names: string[]) => names.map(f).every((v) => v !== undefined);
const ratioCell = (f: Figures, ratio: string, ours: string, floor: string) => (need(f, ratio, ours, floor) ? `${f(ratio)!.toFixed(2)} (${ms(f(ours)!)} / ${ms(f(floor)!)})` : null);

export const ROWS: Row[] = [
  { what: 'cold import of the ingest bundle (`node -e "import(…)"` of its index.mjs, median of 15)', goal: '< 150 ms', measured: (f) => (need(f, 'coldImportMs') ? ms(f('coldImportMs')!) : null), met: (f) => (need(f, 'coldImportMs') ? f('coldImportMs')! < 150 : null) },
  {
    what: 'the same, in the same rounds, for the AWS SDK clients ingest builds at start bundled alone (the floor of the line above), and the ratio of the two; node starting with nothing to import',
    goal: 'reported',
    measured: (f) =>
      need(f, 'coldImportMs', 'sdkFloorImportMs', 'nodeStartMs') ? `${ms(f('sdkFloorImportMs')!)} (${(f('coldImportMs')! / f('sdkFloorImportMs')!).toFixed(2)}); ${ms(f('nodeStartMs')!)}` : null,
  },
  {
    what: 'ingest Lambda bundle: index.mjs; all files with the late modules (zipped)',
    goal: 'reported',
    measured: (f) => (need(f, 'ingestBundleMiB', 'ingestBundleAllMiB', 'ingestBundleZippedMiB') ? `${f('ingestBundleMiB')!.toFixed(2)} MiB; ${f('ingestBundleAllMiB')!.toFixed(1)} MiB (${f('ingestBundleZippedMiB')!.toFixed(1)} MiB)` : null),
  },
  { what: 'a 30-row return: PutObject → current in DynamoDB, local stack', goal: '< 1 s', measured: (f) => (need(f, 'putToCurrentMs') ? ms(f('putToCurrentMs')!) : null), met: (f) => (need(f, 'putToCurrentMs') ? f('putToCurrentMs')! < 1000 : null) },
  { what: '(parse + validate + store) / exceljs streaming read alone, 30-row return', goal: 'reported', measured: (f) => ratioCell(f, 'ingestReturnRatio', 'ingestReturnMs', 'ingestReturnFloorMs') },
  { what: 'the same, 10,000-row ledger', goal: '≤ 1.8', measured: (f) => ratioCell(f, 'ingestLedgerRatio', 'ingestLedgerMs', 'ingestLedgerFloorMs'), met: (f) => (need(f, 'ingestLedgerRatio') ? f('ingestLedgerRatio')! <= 1.8 : null) },
  { what: 'storing a 10,000-row ledger (BatchWriteItem, retries)', goal: '< 10 s', measured: (f) => (need(f, 'storeLedgerMs') ? ms(f('storeLedgerMs')!) : null), met: (f) => (need(f, 'storeLedgerMs') ? f('storeLedgerMs')! < 10_000 : null) },
  {
    what: 'peak RSS of one ingest of the largest accepted file',
    goal: '< 256 MB',
    measured: (f) => (need(f, 'ingestPeakRssMb', 'ingestImportedRssMb') ? `${f('ingestPeakRssMb')!.toFixed(0)} MB (${f('ingestImportedRssMb')!.toFixed(0)} MB of it the process after imports)` : null),
    met: (f) => (need(f, 'ingestPeakRssMb') ? f('ingestPeakRssMb')! < 256 : null),
  },
  { what: 'a 10,000-row ledger with 2,500 warnings, marked-up workbook included', goal: 'reported', measured: (f) => (need(f, 'ledgerWithFeedbackMs') ? ms(f('ledgerWithFeedbackMs')!) : null) },
  {
    what: 'hostile files (fixtures/hostile), each inside the validator: slowest; largest peak RSS of its process',
    goal: '< 1 s; < 200 MB',
    measured: (f) => (need(f, 'hostileMaxMs', 'hostileMaxRssMb', 'hostileFiles') ? `${ms(f('hostileMaxMs')!)}; ${f('hostileMaxRssMb')!.toFixed(0)} MB (${f('hostileFiles')} files)` : null),
    met: (f) => (need(f, 'hostileMaxMs', 'hostileMaxRssMb') ? f('hostileMaxMs')! < 1000 && f('hostileMaxRssMb')! < 200 : null),
  },
  {
    what: 'county month consolidation from dynalite (25 institutions × 5 templates)',
    goal: '< 3 s',
    measured: (f) => (need(f, 'countyMonthMs', 'countyMonthReadUnits') ? `${ms(f('countyMonthMs')!)} (${f('countyMonthReadUnits')} read units)` : null),
    met: (f) => (need(f, 'countyMonthMs') ? f('countyMonthMs')! < 3000 : null),
  },
  { what: 'province month (3,000 institutions × 100 elements × 12 months) / exceljs streaming writer alone', goal: '≤ 1.5', measured: (f) => ratioCell(f, 'provinceRatio', 'provinceMs', 'provinceWriterMs'), met: (f) => (need(f, 'provinceRatio') ? f('provinceRatio')! <= 1.5 : null) },
  {
    what: 'peak RSS of the province month',
    goal: '< 512 MB',
    measured: (f) => (need(f, 'provincePeakRssMb', 'provinceInputRssMb') ? `${f('provincePeakRssMb')!.toFixed(0)} MB (${f('provinceInputRssMb')!.toFixed(0)} MB with the input held)` : null),
    met: (f) => (need(f, 'provincePeakRssMb') ? f('provincePeakRssMb')! < 512 : null),
  },
  { what: 'reconcile 15,000 upload versions (100 counties, one month) with the table, local stack, 16 prefixes at once', goal: 'reported', measured: (f) => (need(f, 'reconcileMs15k') ? ms(f('reconcileMs15k')!) : null) },
  {
    what: 'a county trend: 36 months of an indicator from the store in one call (dynalite, 21 institutions)',
    goal: '< 300 ms',
    measured: (f) => (need(f, 'trendCountyMs') ? ms(f('trendCountyMs')!) : null),
    met: (f) => (need(f, 'trendCountyMs') ? f('trendCountyMs')! < 300 : null),
  },
  {
    what: 'lake write per return: a county\'s year rewritten from the store to Parquet on S3, divided by its returns',
    goal: '< 50 ms',
    measured: (f) => (need(f, 'lakePerReturnMs', 'lakeCountyYearMs', 'lakeReturns') ? `${ms(f('lakePerReturnMs')!)} (${ms(f('lakeCountyYearMs')!)} for ${f('lakeReturns')} returns)` : null),
    met: (f) => (need(f, 'lakePerReturnMs') ? f('lakePerReturnMs')! < 50 : null),
  },
  {
    what: 'DuckDB over 3 years of a 3,000-institution province (`values` view opened, one aggregate query)',
    goal: '< 2 s',
    measured: (f) => (need(f, 'lakeProvinceQueryMs', 'lakeProvinceRowsM') ? `${ms(f('lakeProvinceQueryMs')!)} (${f('lakeProvinceRowsM')} M rows, 300 files)` : null),
    met: (f) => (need(f, 'lakeProvinceQueryMs') ? f('lakeProvinceQueryMs')! < 2000 : null),
  },
];

export function benchTable(results: BenchResults): string {
  const f: Figures = (name) => (typeof results[name] === 'number' ? (results[name] as number) : undefined);
  const verdict = (row: Row) => {
    const met = row.met?.(f);
    return met === undefined || met === null ? '' : met ? 'yes' : '**no**';
  };
  const dates = Object.values(results.measuredAt).sort();
  const when = dates.length ? `${dates[0]!.slice(0, 10)}${dates[dates.length - 1]!.slice(0, 10) !== dates[0]!.slice(0, 10) ? ` … ${dates[dates.length - 1]!.slice(0, 10)}` : ''}` : 'never';
  return [
    `Measured ${when} on node ${results.node}, ${results.cpus} cores.`,
    '',
    '| what | goal | measured | met |',
    '| --- | --- | --- | --- |',
    ...ROWS.map((row) => `| ${row.what} | ${row.goal} | ${row.measured(f) ?? '—'} | ${verdict(row)} |`),
  ].join('\n');
}

/** The README with its table replaced; throws when the markers are missing. */
export function withBenchTable(readme: string, results: BenchResults): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} … ${END} markers`);
  return `${readme.slice(0, start + START.length)}\n${benchTable(results)}\n${readme.slice(end)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = readResults();
  if (!Object.keys(results.measuredAt).length) throw new Error(`${RESULTS_FILE} has no figures yet: run npm run bench first`);
  writeFileSync(README, withBenchTable(readFileSync(README, 'utf8'), results));
  console.log(`README.md: performance table rewritten from ${RESULTS_FILE}`);
}
