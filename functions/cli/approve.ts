/**
 * `hmis approve --institution I --template T --period P --by USER [--return REASON] [--data-dir D]`:
 * the county reviewer's decision (审核) on what is to review in that slot: a closed month's held
 * correction (补报) first, else the current accepted return. The same core as the portal
 * (functions/core/review.ts): approving a correction makes it current; a return needs a reason and
 * alerts the institution. Exits 0 when done, 1 when there is nothing to review, 2 on a usage error.
 */
import { PERIOD_PATTERN } from '../core/layout.ts';
import { decide, REVIEW_LABELS } from '../core/review.ts';
import { cliActor, parseArgs, requireFlag, stringFlag, UsageError } from './args.ts';
import { DEFAULT_DATA_DIR, openLocal } from './local.ts';
import { personOf } from './users.ts';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { institution: 'string', template: 'string', period: 'string', by: 'string', return: 'string', 'data-dir': 'string' });
  const institution = requireFlag(args, 'institution');
  const template = requireFlag(args, 'template');
  const period = requireFlag(args, 'period');
  const by = requireFlag(args, 'by');
  const reason = stringFlag(args, 'return');
  if (!PERIOD_PATTERN.test(period)) throw new UsageError(`--period must be YYYY-MM, got ${period}`);
  if (args.flags.return !== undefined && !reason?.trim()) throw new UsageError('--return needs the reason');
  const local = await openLocal(stringFlag(args, 'data-dir') ?? DEFAULT_DATA_DIR);
  try {
    const found = (await local.deps.definitions.at(period)).institution(institution);
    if (!found) throw new UsageError(`unknown institution ${institution}`);
    // a person of the user pool is named by their record; anyone else as given
    const person = await personOf(local, by);
    const outcome = await decide(
      { store: local.store, audit: local.deps.audit, definitions: local.deps.definitions, reportsBucket: local.deps.reportsBucket, ...(local.deps.alerter ? { alerter: local.deps.alerter } : {}), ...(local.deps.portalBaseUrl ? { portalBaseUrl: local.deps.portalBaseUrl } : {}) },
      { county: found.county.code, institution, template, period, decision: reason === undefined ? 'approve' : 'return', ...(reason !== undefined ? { reason } : {}), by: { ...(person ? { username: person.username, name: person.name } : cliActor(args)), ip: null } },
      new Date(),
    );
    console.log(`${institution} ${template} ${period}${outcome.held ? ' 补报' : ''}：${REVIEW_LABELS[outcome.state]}${outcome.held && outcome.state === 'approved' ? '（已替换原报表）' : ''}（版本 ${outcome.versionId}）`);
    return 0;
  } finally {
    await local.close();
  }
}
