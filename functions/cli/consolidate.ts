/**
 * `hmis consolidate --county 150525 --period 2025-03 [--out FILE] [--generated-at ISO-TIME] [--data-dir .hmis]`
 * `hmis consolidate --level city --city 1505 --period 2025-Q1 …`
 * `hmis consolidate --county 150525 --period 2025-03 --approved-only [--out FILE]`
 *
 * Runs the scheduled function's on-demand task against the local stack (the one `hmis serve` runs on
 * the data dir, or one started here): the workbook is written to the reports bucket exactly as in AWS
 * (consolidated/<code>/<period>/…, and consolidated/<code>/latest/<period>.xlsx), and saved to FILE
 * (default out/<workbook name>.xlsx) to open at once. `--generated-at` stamps that time instead of
 * the clock's (the scheduled function stamps its schedule's time): the same data and time give the
 * same bytes. The city level counts approved returns only; `--approved-only` does so for a county
 * too, and writes FILE only (the published workbooks count every accepted return and say how many
 * are not yet approved).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { isPeriodId } from '../core/consolidate/period.ts';
import { runTask } from '../core/schedule.ts';
import { buildConsolidatedWorkbook } from '../core/consolidate/index.ts';
import { parseArgs, requireFlag, stringFlag, UsageError } from './args.ts';
import { DEFAULT_DATA_DIR, openLocal } from './local.ts';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { county: 'string', city: 'string', level: 'string', period: 'string', out: 'string', 'generated-at': 'string', 'approved-only': 'boolean', 'data-dir': 'string' });
  if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
  const level = stringFlag(args, 'level') ?? 'county';
  if (level !== 'county' && level !== 'city') throw new UsageError(`--level must be county or city, got ${level}`);
  const code = level === 'city' ? requireFlag(args, 'city') : requireFlag(args, 'county');
  const period = requireFlag(args, 'period');
  if (!isPeriodId(period)) throw new UsageError(`--period must be YYYY-MM, YYYY-Qn or YYYY, got ${period}`);
  const generatedAt = stringFlag(args, 'generated-at');
  if (generatedAt !== undefined && !(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(generatedAt) && Number.isFinite(Date.parse(generatedAt)))) {
    throw new UsageError(`--generated-at must be an ISO time with its offset, e.g. 2025-04-06T02:00:00+08:00, got ${generatedAt}`);
  }

  const local = await openLocal(stringFlag(args, 'data-dir') ?? DEFAULT_DATA_DIR);
  try {
    const defs = await local.deps.definitions.at(period);
    if (level === 'county' && !defs.county(code)) throw new UsageError(`unknown county ${code} (hmis registry lists them)`);
    if (level === 'city' && !defs.countiesOf(code).length) throw new UsageError(`no county of city ${code} in the definitions`);
    const started = performance.now();
    if (args.flags['approved-only']) {
      const workbook = await buildConsolidatedWorkbook(local.store, local.deps.definitions, { level, code }, period, generatedAt ? new Date(generatedAt) : new Date(), { approvedOnly: true });
      const out = stringFlag(args, 'out') ?? join('out', workbook.fileName.replace(/\.xlsx$/, '（仅已审核）.xlsx'));
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, workbook.bytes);
      console.log(`汇总表（仅已审核报表）已生成 consolidated, approved returns only (${Math.round(performance.now() - started)} ms)\n  文件 file: ${relative(process.cwd(), out) || out}`);
      return 0;
    }
    const outcome = await runTask({ task: 'consolidate', level, code, period }, local.deps, generatedAt ? new Date(generatedAt) : new Date());
    const published = outcome.published[0]!;
    const bytes = await local.deps.objects.get(local.stack.endpoints.buckets.reports, published.key, 200 * 1024 * 1024);
    const out = stringFlag(args, 'out') ?? join('out', published.fileName);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, bytes!);
    const bucket = local.stack.endpoints.buckets.reports;
    console.log(`汇总表已生成 consolidated (${Math.round(performance.now() - started)} ms)
  文件 file:   ${relative(process.cwd(), out) || out}
  S3:          s3://${bucket}/${published.key}
  最新 latest: s3://${bucket}/${published.latestKey}`);
    return 0;
  } finally {
    await local.close();
  }
}
