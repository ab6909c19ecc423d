/**
 * `hmis reconcile [--county C] [--period P] [--json] [--data-dir .hmis]`
 *
 * Every object version under uploads/ against the versions the table says were processed
 * (functions/core/reconcile.ts), on the local stack (the one `hmis serve` runs on the data dir, or
 * one started here): uploads without a processed version are sent to the ingest queue now, versions
 * without their object are reported. Waits until what it sent is ingested. Exit 0 when nothing was
 * found, 1 when something was (it was sent for ingestion: run it again to see 0), 2 on a usage error.
 */
import { PERIOD_PATTERN } from '../core/layout.ts';
import { reconcile, reconcileMetrics, type ReconcileReport } from '../core/reconcile.ts';
import { parseArgs, stringFlag, UsageError } from './args.ts';
import { DEFAULT_DATA_DIR, openLocal } from './local.ts';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { county: 'string', period: 'string', json: 'boolean', 'data-dir': 'string' });
  if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
  const county = stringFlag(args, 'county');
  const period = stringFlag(args, 'period');
  if (county !== undefined && !/^\d{6}$/.test(county)) throw new UsageError(`--county must be a 6-digit county code, got ${county}`);
  if (period !== undefined && !PERIOD_PATTERN.test(period)) throw new UsageError(`--period must be YYYY-MM, got ${period}`);
  const local = await openLocal(stringFlag(args, 'data-dir') ?? DEFAULT_DATA_DIR);
  try {
    await local.stack.idle();
    const report = await reconcile({ ...(county ? { county } : {}), ...(period ? { period } : {}), now: new Date() }, { ...local.deps.reconcile!, store: local.store });
    await local.stack.idle();
    console.log(args.flags.json ? JSON.stringify(report, null, 2) : renderReconcile(report));
    // the same counts the scheduled function turns into metrics
    if (!args.flags.json) console.error(JSON.stringify(reconcileMetrics(report, 'hmis-reconcile', new Date())));
    return report.found ? 1 : 0;
  } finally {
    await local.close();
  }
}

export function renderReconcile(r: ReconcileReport): string {
  const lines = [
    `对账 reconciled ${r.objects} upload versions in ${r.durationMs} ms: ${r.processed} processed; found ${r.found}`,
    `  未处理 not ingested (sent to ingest now): ${r.missing.length}`,
    ...r.missing.slice(0, 20).map((m) => `    ${m.key} (version ${m.objectVersionId})`),
    `  处理未完成 half-processed (sent to finish): ${r.halfDone.length}`,
    ...r.halfDone.slice(0, 20).map((m) => `    ${m.key} (version ${m.objectVersionId})`),
    `  无对应文件 versions without their object: ${r.orphans.length}`,
    ...r.orphans.slice(0, 20).map((o) => `    ${o.institution} ${o.template} ${o.period} ${o.versionId}`),
  ];
  if (r.ignored.length) lines.push(`  不处理的键 keys ingest does not take: ${r.ignored.length}`, ...r.ignored.slice(0, 20).map((k) => `    ${k}`));
  return lines.join('\n');
}
