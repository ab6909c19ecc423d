/**
 * `hmis definitions export|import|history|show`: the commission's definitions (institutions, types,
 * templates, data elements, rules, indicators, targets) as a workbook to edit, and back.
 *
 *   hmis definitions export --out F.xlsx [--period P] [--data-dir D]
 *   hmis definitions import F.xlsx --effective 2025-04 [--dry-run] [--json] [--by NAME] [--data-dir D]
 *   hmis definitions history [--json] [--data-dir D]
 *   hmis definitions show --period P [--json] [--data-dir D]
 *
 * Import exits 0 when the workbook is accepted (or unchanged), 1 when refused, 2 on a usage error,
 * as `hmis validate` does.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { MONTH_ID } from '../../schemas/model.ts';
import { shanghaiMonth } from '../core/consolidate/period.ts';
import { importDefinitions } from '../core/definitions/import.ts';
import type { DefinitionsReport } from '../core/definitions/report.ts';
import { writeDefinitionsWorkbook } from '../core/definitions/workbook.ts';
import { parseArgs, requireFlag, stringFlag, UsageError } from './args.ts';
import { DEFAULT_DATA_DIR, openLocal } from './local.ts';

const USAGE = 'hmis definitions export|import|history|show (hmis definitions --help)';

export async function run(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  switch (verb) {
    case 'export':
      return exportCommand(rest);
    case 'import':
      return importCommand(rest);
    case 'history':
      return historyCommand(rest);
    case 'show':
      return showCommand(rest);
    default:
      throw new UsageError(verb ? `unknown subcommand ${verb}; ${USAGE}` : USAGE);
  }
}

function month(args: ReturnType<typeof parseArgs>, name: string): string | undefined {
  const value = stringFlag(args, name);
  if (value !== undefined && !MONTH_ID.test(value)) throw new UsageError(`--${name} must be YYYY-MM, got ${value}`);
  return value;
}

async function exportCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { out: 'string', period: 'string', 'data-dir': 'string' });
  const out = resolve(requireFlag(args, 'out'));
  const period = month(args, 'period') ?? null;
  const local = await openLocal(stringFlag(args, 'data-dir') ?? DEFAULT_DATA_DIR);
  try {
    const source = local.deps.definitions;
    const defs = period ? await source.at(period) : await source.latest();
    const bytes = await writeDefinitionsWorkbook(defs.content, { version: defs.version, period }, new Date());
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, bytes);
    console.log(`${out}\n定义第 ${defs.version} 版${period ? `（${period} 执行的定义）` : '（含已设定的以后生效的修改）'}：在 Excel 或 WPS 中修改后用 hmis definitions import 导入。`);
    return 0;
  } finally {
    await local.close();
  }
}

async function importCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { effective: 'string', 'dry-run': 'boolean', json: 'boolean', by: 'string', 'data-dir': 'string' });
  if (args.positionals.length !== 1) throw new UsageError('give exactly one FILE');
  const effective = requireFlag(args, 'effective');
  const file = args.positionals[0]!;
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${file}: ${err.code ?? err.message}`);
  });
  const local = await openLocal(stringFlag(args, 'data-dir') ?? DEFAULT_DATA_DIR);
  try {
    const by = stringFlag(args, 'by') ?? process.env.USER ?? 'hmis';
    const { report } = await importDefinitions(local.definitionsStore, bytes, { effective, by, now: new Date(), dryRun: args.flags['dry-run'] === true });
    console.log(args.flags.json ? JSON.stringify(report, null, 2) : renderReport(file, report));
    return report.status === 'rejected' ? 1 : 0;
  } finally {
    await local.close();
  }
}

/** The import's answer for a terminal, in Chinese. */
export function renderReport(file: string, r: DefinitionsReport): string {
  const status = r.status === 'rejected' ? '未导入（有错误，定义未作任何修改）' : r.status === 'unchanged' ? '与现行定义相同，无需导入' : r.dryRun ? '检查通过（预览，未保存）' : `已导入，定义第 ${r.version} 版自 ${r.effective} 起生效`;
  const lines = [`文件：${file}`, `结果：${status}`];
  if (r.summary.length) lines.push('', '修改内容：', ...r.summary.map((s) => `  · ${s}`));
  const errors = r.issues.filter((i) => i.severity === 'error');
  const warnings = r.issues.filter((i) => i.severity === 'warning');
  if (errors.length) lines.push('', `错误 ${errors.length} 个：`, ...errors.map((i) => `  ${i.message}`));
  if (warnings.length) lines.push('', `提示 ${warnings.length} 个：`, ...warnings.map((i) => `  ${i.message}`));
  return lines.join('\n');
}

async function historyCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { json: 'boolean', 'data-dir': 'string' });
  const local = await openLocal(stringFlag(args, 'data-dir') ?? DEFAULT_DATA_DIR);
  try {
    const log = await local.deps.definitions.log();
    const history = log.versions.map((v) => ({ version: v.version, effective: v.effective, createdAt: v.createdAt, by: v.by, summary: v.summary, changes: v.changes.length }));
    if (args.flags.json) {
      console.log(JSON.stringify(history, null, 2));
      return 0;
    }
    for (const v of [...history].reverse()) {
      console.log(`第 ${v.version} 版  ${v.effective ? `自 ${v.effective} 起生效` : '初始定义'}  ${v.createdAt}  ${v.by}`);
      for (const s of v.summary) console.log(`    · ${s}`);
    }
    return 0;
  } finally {
    await local.close();
  }
}

async function showCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { period: 'string', json: 'boolean', 'data-dir': 'string' });
  const period = month(args, 'period') ?? shanghaiMonth(new Date());
  const local = await openLocal(stringFlag(args, 'data-dir') ?? DEFAULT_DATA_DIR);
  try {
    const defs = await local.deps.definitions.at(period);
    if (args.flags.json) {
      console.log(JSON.stringify({ period, version: defs.version, ...defs.content }, null, 2));
      return 0;
    }
    const institutions = defs.counties.flatMap((c) => defs.activeIn(c, period));
    console.log(`${period} 执行定义第 ${defs.version} 版：旗县 ${defs.counties.length} 个，应报机构 ${institutions.length} 家，报表 ${defs.templates.length} 张（${defs.templates.map((t) => `${t.id} 第${t.version}版`).join('、')}），目标 ${defs.counties.reduce((n, c) => n + c.targets.length, 0)} 项`);
    return 0;
  } finally {
    await local.close();
  }
}
