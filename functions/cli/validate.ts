import { readFile } from 'node:fs/promises';
import { PERIOD_PATTERN } from '../core/layout.ts';
import type { Report } from '../core/report.ts';
import { validateUpload } from '../core/validate/index.ts';
import { parseArgs, stringFlag, UsageError } from './args.ts';
import { commandDefinitions } from './local.ts';

const STATUS = { accepted: '通过', accepted_with_warnings: '通过（有警告）', rejected: '未通过' } as const;
const SEVERITY = { error: '错误', warning: '警告', info: '提示' } as const;

/**
 * `hmis validate FILE [--institution C] [--period YYYY-MM] [--template T-XX] [--json] [--data-dir D]`:
 * exit 0 accepted (with or without warnings), 1 rejected, 2 usage error. Checked against the definitions
 * stored in the stack on D, else the bundled initial ones.
 */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { institution: 'string', period: 'string', template: 'string', json: 'boolean', 'data-dir': 'string' });
  if (args.positionals.length !== 1) throw new UsageError('give exactly one FILE');
  const period = stringFlag(args, 'period');
  if (period && !PERIOD_PATTERN.test(period)) throw new UsageError(`--period must be YYYY-MM, got ${period}`);
  const file = args.positionals[0]!;
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${file}: ${err.code ?? err.message}`);
  });
  const source = await commandDefinitions(stringFlag(args, 'data-dir'));
  const { report } = await validateUpload(bytes, { institution: stringFlag(args, 'institution'), period, template: stringFlag(args, 'template'), definitions: source.definitions }).finally(() => source.close());
  console.log(args.flags.json ? JSON.stringify(report, null, 2) : renderTable(file, report));
  return report.status === 'rejected' ? 1 : 0;
}

/** A readable Chinese report for a terminal. */
export function renderTable(file: string, report: Report): string {
  const lines = [
    `文件：${file}`,
    `结果：${STATUS[report.status]}    模板：${report.template ? `${report.template.id} 第${report.template.version}版` : '—'}    机构：${report.institution ?? '—'}    统计期：${report.period ?? '—'}`,
    `错误 ${report.stats.errors} 个，警告 ${report.stats.warnings} 个，提示 ${report.stats.infos} 个`,
  ];
  if (report.issues.length) {
    lines.push('', '级别  单元格  指标    问题代码                  说明');
    for (const i of report.issues) {
      lines.push(`${SEVERITY[i.severity]}  ${(i.cell ?? '—').padEnd(6)}  ${(i.element ?? '—').padEnd(6)}  ${i.code.padEnd(24)}  ${i.message}`);
    }
  }
  return lines.join('\n');
}
