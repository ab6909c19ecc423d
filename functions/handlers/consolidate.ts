/**
 * Lambda entry point of the scheduled function: EventBridge Scheduler sends `{"task":"nightly"}`,
 * `{"task":"after-deadline"}` and `{"task":"reconcile"}`, each with `"scheduledTime"` (the run's own
 * time, <aws.scheduler.scheduled-time>: the workbook stamps it, not the clock); on demand (console, CLI, portal) `{"task":"consolidate",
 * "level":"county","code":"150525","period":"2025-03"}` or `{"task":"digest","county":"150525",
 * "period":"2025-03"}`. Only translates: the work is functions/core/schedule.ts.
 *
 * A malformed event is a deterministic failure: logged and returned, not thrown (a retry would fail
 * the same way). Store, S3 and SNS faults throw, so Lambda retries and finally dead-letters.
 */
import { PeriodError } from '../core/consolidate/period.ts';
import { reconcileMetrics } from '../core/reconcile.ts';
import { runTask, runTime, ScheduledTask, type TaskOutcome } from '../core/schedule.ts';
import { awsDeps } from './deps.ts';
import { log } from './s3-event.ts';

const deps = awsDeps();

export async function handler(event: unknown): Promise<TaskOutcome | { error: string }> {
  const parsed = ScheduledTask.safeParse(event);
  if (!parsed.success) {
    const error = `invalid task: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`).join('; ')}`;
    log('error', 'scheduled task refused', { error, event: JSON.stringify(event)?.slice(0, 500) });
    return { error };
  }
  try {
    const now = runTime(parsed.data, new Date());
    const outcome = await runTask(parsed.data, deps, now);
    log('info', 'scheduled task done', { ...outcome });
    // the counts as metrics (embedded metric format): the reconcile alarm watches ReconcileFound
    if (outcome.reconciled) console.log(JSON.stringify(reconcileMetrics(outcome.reconciled, process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local', new Date())));
    return outcome;
  } catch (err) {
    if (err instanceof PeriodError) {
      log('error', 'scheduled task refused', { error: err.message });
      return { error: err.message };
    }
    throw err;
  }
}
