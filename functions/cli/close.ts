/**
 * `hmis close --county C --period P --by USER [--data-dir D]`: 关账, as the portal's administrator
 * does it: from now on an accepted upload of that month is a correction (补报) that replaces the
 * current return only once a reviewer approves it.
 */
import { PERIOD_PATTERN } from '../core/layout.ts';
import { closeMonth } from '../core/review.ts';
import { cliActor, parseArgs, requireFlag, stringFlag, UsageError } from './args.ts';
import { DEFAULT_DATA_DIR, openLocal } from './local.ts';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { county: 'string', period: 'string', by: 'string', 'data-dir': 'string' });
  const county = requireFlag(args, 'county');
  const period = requireFlag(args, 'period');
  requireFlag(args, 'by');
  if (!PERIOD_PATTERN.test(period)) throw new UsageError(`--period must be YYYY-MM, got ${period}`);
  const local = await openLocal(stringFlag(args, 'data-dir') ?? DEFAULT_DATA_DIR);
  try {
    if (!(await local.deps.definitions.latest()).county(county)) throw new UsageError(`unknown county ${county}`);
    await closeMonth({ store: local.store, audit: local.deps.audit, definitions: local.deps.definitions, reportsBucket: local.deps.reportsBucket }, { county, period, by: { ...cliActor(args), ip: null } }, new Date());
    console.log(`${county} ${period} 已关账 closed`);
    return 0;
  } finally {
    await local.close();
  }
}
