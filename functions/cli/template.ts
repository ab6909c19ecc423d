import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs, requireFlag, stringFlag, UsageError } from './args.ts';
import { PERIOD_PATTERN } from '../core/layout.ts';
import { writeTemplate } from '../core/render/template.ts';
import { commandDefinitions } from './local.ts';

/**
 * `hmis template --template T-JC --institution 150525-101 --period 2025-03 [--out FILE] [--data-dir D]`:
 * the blank template, as the definitions in force for the period define it.
 */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { template: 'string', institution: 'string', period: 'string', out: 'string', 'data-dir': 'string' });
  if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
  const id = requireFlag(args, 'template');
  const code = requireFlag(args, 'institution');
  const period = requireFlag(args, 'period');
  if (!PERIOD_PATTERN.test(period)) throw new UsageError(`统计期 ${period} 格式错误，应为 YYYY-MM，如 2025-03`);
  const source = await commandDefinitions(stringFlag(args, 'data-dir'));
  try {
    const defs = await source.definitions.at(period);
    const def = defs.template(id);
    if (!def) throw new UsageError(`未知的报表模板 ${id}（${period} 可选：${defs.templates.map((t) => t.id).join('、')}）`);
    const found = defs.institution(code);
    if (!found) throw new UsageError(`机构代码 ${code} 不在名录中`);
    const owed = defs.owed(found.institution, period);
    if (!owed.includes(id)) throw new UsageError(`${found.institution.name}（${code}）${period} 无需报送 ${id}，应报模板：${owed.join('、') || '无'}`);
    const out = resolve(stringFlag(args, 'out') ?? `${id}_${code}_${period}.xlsx`);
    const bytes = await writeTemplate(def, found.county, found.institution, period);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, bytes);
    console.log(out);
    return 0;
  } finally {
    await source.close();
  }
}
