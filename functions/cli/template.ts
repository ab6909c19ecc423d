import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs, requireFlag, stringFlag, UsageError } from './args.ts';
import { findInstitution, templates, templatesOwed } from '../../schemas/index.ts';
import { PERIOD_PATTERN } from '../core/layout.ts';
import { writeTemplate } from '../core/render/template.ts';

/** `hmis template --template T-JC --institution 150525-101 --period 2025-03 [--out FILE]`: the blank template. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { template: 'string', institution: 'string', period: 'string', out: 'string' });
  if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
  const id = requireFlag(args, 'template');
  const code = requireFlag(args, 'institution');
  const period = requireFlag(args, 'period');

  const versions = templates.filter((t) => t.id === id);
  if (!versions.length) throw new UsageError(`未知的报表模板 ${id}（可选：${[...new Set(templates.map((t) => t.id))].sort().join('、')}）`);
  const def = versions.filter((t) => t.accepting).sort((a, b) => b.version - a.version)[0];
  if (!def) throw new UsageError(`报表模板 ${id} 没有仍在使用的版本`);
  const found = findInstitution(code);
  if (!found) throw new UsageError(`机构代码 ${code} 不在名录中`);
  const owed = templatesOwed(found.institution);
  if (!owed.includes(id)) throw new UsageError(`${found.institution.name}（${code}）无需报送 ${id}，应报模板：${owed.join('、') || '无'}`);
  if (!PERIOD_PATTERN.test(period)) throw new UsageError(`统计期 ${period} 格式错误，应为 YYYY-MM，如 2025-03`);

  const out = resolve(stringFlag(args, 'out') ?? `${id}_${code}_${period}.xlsx`);
  const bytes = await writeTemplate(def, found.county, found.institution, period);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, bytes);
  console.log(out);
  return 0;
}
