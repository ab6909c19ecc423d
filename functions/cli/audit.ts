/**
 * `hmis audit --county C [--from P] [--to P] [--json] [--data-dir D]`: the audit trail (操作记录) of a
 * county (or a city, or '-'), months P (YYYY-MM, Beijing time) from … to (default: this month),
 * oldest first: one tab-separated line per event, or the events as JSON.
 */
import { auditLine } from '../core/audit.ts';
import { shanghaiMonth } from '../core/consolidate/period.ts';
import { PERIOD_PATTERN } from '../core/layout.ts';
import { parseArgs, requireFlag, stringFlag, UsageError } from './args.ts';
import { DEFAULT_DATA_DIR, openLocal } from './local.ts';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { county: 'string', from: 'string', to: 'string', json: 'boolean', 'data-dir': 'string' });
  const scope = requireFlag(args, 'county');
  if (!/^(\d{4}|\d{6}|-)$/.test(scope)) throw new UsageError(`--county must be a county (6 digits), a city (4 digits) or -, got ${scope}`);
  const to = stringFlag(args, 'to') ?? shanghaiMonth(new Date());
  const from = stringFlag(args, 'from') ?? to;
  for (const [name, p] of [['from', from], ['to', to]] as const) if (!PERIOD_PATTERN.test(p)) throw new UsageError(`--${name} must be YYYY-MM, got ${p}`);
  if (from > to) throw new UsageError('--from is after --to');
  const local = await openLocal(stringFlag(args, 'data-dir') ?? DEFAULT_DATA_DIR);
  try {
    const events = await local.deps.audit.list(scope, from, to);
    if (args.flags.json) console.log(JSON.stringify(events, null, 2));
    else {
      console.log(['时间（北京）', '操作', '结果', '操作人', 'IP', '对象', '详情'].join('\t'));
      for (const e of events) console.log(auditLine(e));
      console.log(`共 ${events.length} 条`);
    }
    return 0;
  } finally {
    await local.close();
  }
}
