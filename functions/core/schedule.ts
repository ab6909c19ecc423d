/**
 * What the scheduled function does, as tasks. Pure over ports (no AWS SDK): the Lambda handler
 * (functions/handlers/consolidate.ts) and the local scheduler (`hmis serve`) run the same code.
 *
 *   nightly          every night: consolidate each county's periods in window (today's picture): the
 *                    reporting month, and the quarter and year it reports on while their returns are due;
 *                    and export yesterday's audit trail (操作记录) as JSON lines to the reports bucket
 *   after-deadline   working days, morning: for each county and period in window whose deadline has
 *                    passed (within DIGEST_MONTHS), consolidate it and send the deadline digest if
 *                    anything is outstanding
 *   consolidate      on demand: one county or city and one period (month, quarter or year)
 *   digest           on demand: one county's digest for a period
 *   lake             on demand: rewrite one county's year of the lake (lake/year=…/county=…/values.parquet)
 *   reconcile        nightly, and working-day mornings before the after-deadline run: every object
 *                    under uploads/ of the last RECONCILE_MONTHS against the table (core/reconcile.ts);
 *                    on demand for one county or period
 *   audit-export     on demand: one Beijing day's audit trail again (the nightly run writes yesterday's)
 *
 * Every task may carry `scheduledTime`: the time the run stands for. EventBridge Scheduler fills it
 * with <aws.scheduler.scheduled-time>, so a late or repeated delivery computes the same reporting
 * month and day, and stamps the same generation time into the workbook (reproducible).
 *
 * nightly and after-deadline also rewrite the lake of each county for the years of the periods they
 * consolidate (and in January–March the year before): the lake is at most a night behind the store.
 *
 * The reporting month is the calendar month before today in Beijing: in April institutions report
 * March (deadline: the county's deadline day of April). Its consolidation runs nightly through April,
 * so late and corrected returns appear the next morning. Quarterly and annual returns (a template's
 * 周期) have their own window: in April also the first quarter (a quarterly return is due e.g. April
 * 15), from January to April also last year (an annual return is due e.g. March 31), each until a
 * month after its last deadline.
 */
import * as z from '../../schemas/zod.ts';
import { deadlineDigest, deadlinesOf, DIGEST_MONTHS, isDigestDay } from './alert/digest.ts';
import { deadlineOf, dueWith, isPeriodId, SHANGHAI_OFFSET_MS, shanghaiMonth, shanghaiTime } from './consolidate/period.ts';
import { PERIOD_PATTERN } from './layout.ts';
import { publishConsolidated, type PublishDeps, type Published } from './consolidate/publish.ts';
import { shiftPeriod } from './validate/history.ts';
import type { Alerter, AuditLog } from '../ports/index.ts';
import { beijingDay, exportAuditDay } from './audit.ts';
import { reconcile, type ReconcileDeps, type ReconcileReport } from './reconcile.ts';
import type { Definitions } from './definitions/definitions.ts';
import { lakeYears, writeLake, type LakeWritten } from './lake/index.ts';

const month = z.string().check(z.regex(PERIOD_PATTERN, 'YYYY-MM'));
const anyPeriod = z.string().check(z.refine(isPeriodId, 'YYYY-MM, YYYY-Qn or YYYY'));
const countyCode = z.string().check(z.regex(/^\d{6}$/));

/** the time a run stands for (Scheduler's <aws.scheduler.scheduled-time>) */
const scheduledTime = z.optional(z.iso.datetime({ offset: true }));

export const ScheduledTask = z.discriminatedUnion('task', [
  z.strictObject({ task: z.literal('nightly'), scheduledTime }),
  z.strictObject({ task: z.literal('after-deadline'), scheduledTime }),
  z.strictObject({ task: z.literal('reconcile'), county: z.optional(countyCode), period: z.optional(month), scheduledTime }),
  z.strictObject({
    task: z.literal('consolidate'),
    level: z._default(z.enum(['county', 'city']), 'county'),
    /** county code (6 digits) or, for level city, city code (4 digits) */
    code: z.string().check(z.regex(/^\d{4}(\d{2})?$/)),
    period: anyPeriod,
    scheduledTime,
  }).check(z.refine((t) => (t.level === 'city' ? t.code.length === 4 : t.code.length === 6), { message: 'code: a 6-digit county for level county, a 4-digit city for level city' })),
  z.strictObject({ task: z.literal('digest'), county: countyCode, period: anyPeriod, scheduledTime }),
  z.strictObject({ task: z.literal('audit-export'), day: z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD')), scheduledTime }),
  z.strictObject({ task: z.literal('lake'), county: countyCode, year: z.number().check(z.int(), z.gte(2000), z.lte(2100)), scheduledTime }),
]);
export type ScheduledTask = z.infer<typeof ScheduledTask>;

export interface ScheduleDeps extends PublishDeps {
  alerter?: Alerter;
  /** the portal, for the digest's link */
  portalBaseUrl?: string;
  /** the counties served; default every county in the definitions */
  counties?: readonly string[];
  /** the audit trail, exported nightly */
  audit?: AuditLog;
  /** what reconciliation needs besides the store (absent: the reconcile task fails) */
  reconcile?: Omit<ReconcileDeps, 'store' | 'counties'>;
}

/** Scheduled reconciliation looks at the periods of the last this many months (older versions may have expired by lifecycle). */
export const RECONCILE_MONTHS = 12;
/** …and leaves uploads younger than this to the event path, which may be processing them now. */
export const RECONCILE_MIN_AGE_MS = 15 * 60_000;

export interface DigestOutcome {
  county: string;
  period: string;
  /** false: deadline not passed, not a working day, or nothing outstanding */
  sent: boolean;
}

export interface TaskOutcome {
  task: ScheduledTask['task'];
  published: Array<Pick<Published, 'key' | 'latestKey' | 'fileName'> & { code: string; period: string }>;
  digests: DigestOutcome[];
  /** audit trail files written (a scope without events that day has none) */
  audit: Array<{ scope: string; key: string; events: number }>;
  lake: Array<Pick<LakeWritten, 'key' | 'county' | 'year' | 'returns' | 'rows'>>;
  reconciled?: ReconcileReport;
}

/**
 * When the tasks run, in Asia/Shanghai. The CDK stack turns these into EventBridge Scheduler
 * schedules (`cron`, with scheduleExpressionTimezone Asia/Shanghai); `hmis serve` runs them itself.
 */
export const SCHEDULES = [
  { name: 'nightly', task: { task: 'nightly' }, hour: 2, minute: 0, workingDaysOnly: false, cron: 'cron(0 2 * * ? *)' },
  { name: 'after-deadline', task: { task: 'after-deadline' }, hour: 9, minute: 0, workingDaysOnly: true, cron: 'cron(0 9 ? * MON-FRI *)' },
  // before the nightly workbook, and before the after-deadline workbook and digest: what reconciliation sends is ingested by then
  { name: 'reconcile-nightly', task: { task: 'reconcile' }, hour: 1, minute: 30, workingDaysOnly: false, cron: 'cron(30 1 * * ? *)' },
  { name: 'reconcile-after-deadline', task: { task: 'reconcile' }, hour: 8, minute: 30, workingDaysOnly: true, cron: 'cron(30 8 ? * MON-FRI *)' },
] as const satisfies ReadonlyArray<{ name: string; task: ScheduledTask; hour: number; minute: number; workingDaysOnly: boolean; cron: string }>;
export const SCHEDULE_TIMEZONE = 'Asia/Shanghai';

/** The next time (after `now`) a schedule fires. */
export function nextRun(schedule: (typeof SCHEDULES)[number], now: Date): Date {
  const beijing = new Date(now.getTime() + SHANGHAI_OFFSET_MS);
  for (let day = 0; day <= 7; day++) {
    const at = Date.UTC(beijing.getUTCFullYear(), beijing.getUTCMonth(), beijing.getUTCDate() + day, schedule.hour, schedule.minute) - SHANGHAI_OFFSET_MS;
    const weekday = new Date(at + SHANGHAI_OFFSET_MS).getUTCDay();
    if (at > now.getTime() && (!schedule.workingDaysOnly || (weekday >= 1 && weekday <= 5))) return new Date(at);
  }
  throw new Error(`no run of ${schedule.name} within a week`);
}

/** The month institutions are reporting on `now` (Beijing time): the previous calendar month. */
export const reportingMonth = (now: Date): string => shiftPeriod(shanghaiMonth(now), -1);

export function servedCounties(defs: Definitions, counties?: readonly string[]): string[] {
  const codes = counties?.length ? [...counties] : defs.counties.map((c) => c.code);
  const unknown = codes.filter((c) => !defs.county(c));
  if (unknown.length) throw new Error(`counties not in the definitions: ${unknown.join(', ')}`);
  return codes;
}

/**
 * The periods of a county a run on `now` looks after: the reporting month; the quarter and the year it
 * reports on (dueWith) until DIGEST_MONTHS after the last deadline of their returns in the county (a
 * county that owes none of that 周期: after its monthly deadline for the period's last month).
 */
export async function periodsInWindow(definitions: ScheduleDeps['definitions'], county: string, now: Date): Promise<string[]> {
  const month = reportingMonth(now);
  const { quarter, year } = dueWith(month);
  const out = [month];
  for (const period of [quarter, year]) {
    const defs = await definitions.at(period);
    const c = defs.county(county);
    if (!c) continue;
    const until = new Date(deadlinesOf(defs, c, period).at(-1)?.at ?? deadlineOf(period, c.deadlineDay));
    until.setUTCMonth(until.getUTCMonth() + DIGEST_MONTHS);
    if (now.getTime() <= until.getTime()) out.push(period);
  }
  return out;
}

/** The time a run stands for: the task's scheduledTime when given, else `clock`. */
export const runTime = (task: ScheduledTask, clock: Date): Date => (task.scheduledTime ? new Date(task.scheduledTime) : clock);

export async function runTask(task: ScheduledTask, deps: ScheduleDeps, now: Date): Promise<TaskOutcome> {
  const outcome: TaskOutcome = { task: task.task, published: [], digests: [], audit: [], lake: [] };
  /** every county served, their cities (viewers' events), and '-' (sign-ins nobody could be placed for) */
  const exportAudit = async (day: string) => {
    if (!deps.audit) return;
    const defs = await deps.definitions.latest();
    const counties = servedCounties(defs, deps.counties);
    const scopes = [...new Set([...counties, ...counties.map((c) => defs.county(c)!.city.code), '-'])];
    outcome.audit.push(...(await exportAuditDay({ audit: deps.audit, objects: deps.objects, reportsBucket: deps.reportsBucket }, scopes, day)));
  };
  const lake = async (county: string, year: number) => {
    const w = await writeLake(deps, county, year);
    outcome.lake.push({ key: w.key, county, year, returns: w.returns, rows: w.rows });
  };
  const publish = async (level: 'county' | 'city', code: string, period: string) => {
    const p = await publishConsolidated(deps, { level, code, period, now });
    outcome.published.push({ code, period, key: p.key, latestKey: p.latestKey, fileName: p.fileName });
  };
  /** scheduled: once a day (a second delivery of the schedule sends nothing); on demand: always */
  const digest = async (county: string, period: string, scheduled: boolean) => {
    let sent = false;
    const alert = deadlineDigest({ defs: await deps.definitions.at(period), county, period, now, entries: await deps.store.listPeriod(county, period), portalBaseUrl: deps.portalBaseUrl ?? null });
    const taskId = `digest#${county}#${period}#${shanghaiTime(now)!.slice(0, 10)}`;
    if (alert && deps.alerter && (!scheduled || (await deps.store.claimTask(taskId, now)))) {
      try {
        await deps.alerter.publish(alert);
      } catch (err) {
        if (scheduled) await deps.store.releaseTask(taskId);
        throw err;
      }
      sent = true;
    }
    outcome.digests.push({ county, period, sent });
  };

  switch (task.task) {
    case 'nightly': {
      for (const county of servedCounties(await deps.definitions.at(reportingMonth(now)), deps.counties)) {
        const periods = await periodsInWindow(deps.definitions, county, now);
        for (const period of periods) await publish('county', county, period);
        for (const year of lakeYears(periods)) await lake(county, year);
      }
      await exportAudit(beijingDay(new Date(now.getTime() - 86_400_000)));
      break;
    }
    case 'after-deadline': {
      for (const county of servedCounties(await deps.definitions.at(reportingMonth(now)), deps.counties)) {
        const due: string[] = [];
        for (const period of await periodsInWindow(deps.definitions, county, now)) {
          const defs = await deps.definitions.at(period);
          if (!isDigestDay(now, defs, defs.county(county)!, period)) continue;
          await publish('county', county, period);
          await digest(county, period, true);
          due.push(period);
        }
        for (const year of lakeYears(due)) await lake(county, year);
      }
      break;
    }
    case 'consolidate':
      await publish(task.level, task.code, task.period);
      break;
    case 'digest':
      await digest(task.county, task.period, false);
      break;
    case 'audit-export':
      await exportAudit(task.day);
      break;
    case 'lake':
      await lake(task.county, task.year);
      break;
    case 'reconcile': {
      if (!deps.reconcile) throw new Error('reconcile: no uploads listing or ingest queue configured (UPLOAD_QUEUE_URL)');
      const scoped = task.county || task.period;
      outcome.reconciled = await reconcile(
        {
          ...(task.county ? { county: task.county } : {}),
          ...(task.period ? { period: task.period } : { since: shiftPeriod(reportingMonth(now), 1 - RECONCILE_MONTHS) }),
          ...(scoped ? {} : { minAgeMs: RECONCILE_MIN_AGE_MS }),
          now,
        },
        { ...deps.reconcile, store: deps.store, counties: servedCounties(await deps.definitions.at(reportingMonth(now)), deps.counties) },
      );
      break;
    }
  }
  return outcome;
}
