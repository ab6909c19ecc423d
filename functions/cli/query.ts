/**
 * `hmis query "SQL" [--json] [--data-dir D]`: SQL over every value in the lake (DuckDB), the view
 * `values` holding one row per value: county, city, institution, institution_name, institution_type,
 * template, template_version, period, period_type, element, element_name, value, unit, review_state,
 * version_id, year. `--json` prints an array of row objects.
 *
 *   hmis query "select sum(value) from values where element = 'JC28' and period = '2025-03'"
 */
import { parseArgs, stringFlag, UsageError } from './args.ts';
import { DEFAULT_DATA_DIR } from './local.ts';
import { plainRows, withLake } from './lake.ts';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { json: 'boolean', 'data-dir': 'string' });
  if (args.positionals.length !== 1) throw new UsageError('give one SQL statement, in quotes: hmis query "select … from values"');
  const sql = args.positionals[0]!;
  try {
    const { columns, rows } = await withLake(stringFlag(args, 'data-dir') ?? DEFAULT_DATA_DIR, async (connection) => {
      const reader = await connection.runAndReadAll(sql);
      return { columns: reader.columnNames(), rows: plainRows(reader.getRowObjectsJS() as Record<string, unknown>[]) };
    });
    console.log(args.flags.json ? JSON.stringify(rows, null, 2) : table(columns, rows));
    return 0;
  } catch (err) {
    // a DuckDB error (syntax, unknown column) is the user's to fix: say it, exit 1
    if (err instanceof Error && /Error:|error/i.test(err.message) && !(err instanceof UsageError)) {
      console.error(`hmis query: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

function table(columns: string[], rows: Record<string, unknown>[]): string {
  const cell = (v: unknown) => (v === null ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => width(cell(r[c])))));
  const line = (cells: string[]) => cells.map((c, i) => c + ' '.repeat(Math.max(0, widths[i]! - width(c)))).join('  ');
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(r[c])))), `(${rows.length} 行)`].join('\n');
}

/** display width: CJK characters take two columns */
const width = (s: string): number => [...s].reduce((n, ch) => n + (/[\u2e80-\uffef]/.test(ch) ? 2 : 1), 0);
