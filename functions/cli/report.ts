/**
 * `hmis report --county C --period P --out F.docx [--data-dir D]`: the work summary's data draft
 * (工作总结数据稿) of a county for a month, a quarter or a year (functions/core/draft): the figures of
 * that period's consolidated workbook in the sentences the definitions keep, and an appendix table.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { consolidate } from '../core/consolidate/compute.ts';
import { loadConsolidationInput } from '../core/consolidate/load.ts';
import { isPeriodId } from '../core/consolidate/period.ts';
import { buildDraft } from '../core/draft/index.ts';
import { renderDraftDocx } from '../core/draft/docx.ts';
import { parseArgs, requireFlag, stringFlag, UsageError } from './args.ts';
import { DEFAULT_DATA_DIR, openLocal } from './local.ts';
import { shown } from './lake.ts';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { county: 'string', period: 'string', out: 'string', 'data-dir': 'string' });
  const county = requireFlag(args, 'county');
  const period = requireFlag(args, 'period');
  if (!isPeriodId(period)) throw new UsageError(`--period must be YYYY-MM, YYYY-Qn or YYYY, got ${period}`);
  const out = resolve(requireFlag(args, 'out'));
  const local = await openLocal(stringFlag(args, 'data-dir') ?? DEFAULT_DATA_DIR);
  try {
    const defs = await local.deps.definitions.at(period);
    const draft = buildDraft(consolidate(await loadConsolidationInput(local.store, defs, county, period, new Date())));
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, await renderDraftDocx(draft));
    console.log(`${shown(out)}\n${draft.title}：${draft.sections.map((s) => `${s.name} ${s.paragraphs.length} 段`).join('，')}；附表 ${draft.appendix.rows.length} 项`);
    return 0;
  } finally {
    await local.close();
  }
}
