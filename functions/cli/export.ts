/**
 * `hmis export --county C --from P --to P --format csv|parquet|xlsx --out F [--data-dir D]`: the lake's
 * values of a county for the periods within [from, to] (months; a quarter or a year counts when all its
 * months are inside), sorted by period, template, institution and element.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import ExcelJS from 'exceljs';
import { parsePeriod, isPeriodId } from '../core/consolidate/period.ts';
import { periodsOfYear } from '../core/lake/index.ts';
import { writeWorkbookBuffer } from '../core/render/deterministic.ts';
import { safeValue } from '../core/render/consolidated-format.ts';
import { parseArgs, requireFlag, stringFlag, UsageError } from './args.ts';
import { DEFAULT_DATA_DIR } from './local.ts';
import { plainRows, shown, withLake } from './lake.ts';
import { writeFile } from 'node:fs/promises';

const FORMATS = ['csv', 'parquet', 'xlsx'] as const;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { county: 'string', from: 'string', to: 'string', format: 'string', out: 'string', 'data-dir': 'string' });
  const county = requireFlag(args, 'county');
  if (!/^\d{6}$/.test(county)) throw new UsageError(`--county must be a 6-digit county code, got ${county}`);
  const [from, to] = [requireFlag(args, 'from'), requireFlag(args, 'to')];
  for (const p of [from, to]) if (!isPeriodId(p)) throw new UsageError(`--from/--to must be YYYY-MM, YYYY-Qn or YYYY, got ${p}`);
  const format = stringFlag(args, 'format') ?? 'csv';
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be ${FORMATS.join(', ')}`);
  const out = resolve(requireFlag(args, 'out'));
  const periods = periodsWithin(from, to);
  if (!periods.length) throw new UsageError(`--from ${from} is after --to ${to}`);

  // county and periods are checked ids: safe as SQL literals
  const select = `SELECT * FROM values WHERE county = '${county}' AND period IN (${periods.map((p) => `'${p}'`).join(', ')}) ORDER BY period, template, institution, element`;
  await mkdir(dirname(out), { recursive: true });
  const count = await withLake(stringFlag(args, 'data-dir') ?? DEFAULT_DATA_DIR, async (connection) => {
    if (format === 'xlsx') {
      const reader = await connection.runAndReadAll(select);
      await writeFile(out, await valuesWorkbook(reader.columnNames(), plainRows(reader.getRowObjectsJS() as Record<string, unknown>[])));
      return reader.currentRowCount;
    }
    const n = await connection.runAndReadAll(`SELECT count(*) AS n FROM (${select})`);
    await connection.run(`COPY (${select}) TO '${out.replace(/'/g, "''")}' (FORMAT ${format}${format === 'csv' ? ', HEADER true' : ''})`);
    return Number(n.getRowsJS()[0]![0]);
  });
  console.log(`${shown(out)}：${count} 个数值（${county}，${from} — ${to}）`);
  return 0;
}

/** Period ids whose months all lie within [from's first month, to's last month]. */
export function periodsWithin(from: string, to: string): string[] {
  const first = parsePeriod(from).months[0]!;
  const last = parsePeriod(to).months.at(-1)!;
  const out: string[] = [];
  for (let y = Number(first.slice(0, 4)); y <= Number(last.slice(0, 4)); y++) {
    for (const p of periodsOfYear(y)) {
      const months = parsePeriod(p).months;
      if (months[0]! >= first && months.at(-1)! <= last) out.push(p);
    }
  }
  return out;
}

async function valuesWorkbook(columns: string[], rows: Record<string, unknown>[]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.created = wb.modified = new Date();
  const ws = wb.addWorksheet('values', { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.addRow(columns).font = { bold: true };
  for (const r of rows) ws.addRow(columns.map((c) => safeValue(r[c] as string | number | null)));
  columns.forEach((c, i) => (ws.getColumn(i + 1).width = Math.max(10, c.length + 2)));
  return writeWorkbookBuffer(wb);
}
