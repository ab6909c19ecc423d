/**
 * What the scheduled function does, as tasks. Pure over ports (no AWS SDK): the Lambda handler
 * (functions/handlers/consolidate.ts) and the local scheduler (`hmis serve`) run the same code.
 *
 *   nightly          every night: consolidate each county's reporting month (today's picture), and
 *                    export yesterday's audit trail (操作记录) as JSON lines to the reports bucket
 *   after-deadline   working days, morning: for each county whose deadline for the reporting month
 *                    has passed, consolidate it and send the deadline digest if anything is outstanding
 *   consolidate      on demand: one county or city and one period (month, quarter or year)
 *   digest           on demand: one county's digest for a period
 *   audit-export     on demand: one Beijing day's audit trail again (the nightly run writes yesterday's)
 *
 * The reporting month is the calendar month before today in Beijing: in April institutions report
 * March (deadline: the county's deadline day of April). Its consolidation runs nightly through April,
 * so late and corrected returns appear the next morning.
 */
import { z } from 'zod';
import { deadlineDigest, isDigestDay } from './alert/digest.ts';
import { isPeriodId, SHANGHAI_OFFSET_MS, shanghaiMonth, shanghaiTime } from './consolidate/period.ts';
import { PERIOD_PATTERN } from './layout.ts';
import { publishConsolidated, type PublishDeps, type Published } from './consolidate/publish.ts';
import { shiftPeriod } from './validate/history.ts';
import type { Alerter, AuditLog } from '../ports/index.ts';
import { beijingDay, exportAuditDay } from './audit.ts';
import type { Definitions } from './definitions/definitions.ts';

const month = z.string().regex(PERIOD_PATTERN, 'YYYY-MM');
const anyPeriod = z.string().refine(isPeriodId, 'YYYY-MM, YYYY-Qn or YYYY');
const countyCode = z.string().regex(/^\d{6}$/);

export const ScheduledTask = z.discriminatedUnion('task', [
  z.object({ task: z.literal('nightly') }).strict(),
  z.object({ task: z.literal('after-deadline') }).strict(),
  z
    .object({
      task: z.literal('consolidate'),
      level: z.enum(['county', 'city']).default('county'),
      /** county code (6 digits) or, for level city, city code (4 digits) */
      code: z.string().regex(/^\d{4}(\d{2})?$/),
      period: anyPeriod,
    })
    .strict()
    .refine((t) => (t.level === 'city' ? t.code.length === 4 : t.code.length === 6), { message: 'code: a 6-digit county for level county, a 4-digit city for level city' }),
  z.object({ task: z.literal('digest'), county: countyCode, period: month }).strict(),
  z.object({ task: z.literal('audit-export'), day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD') }).strict(),
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
}

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
}

/**
 * When the tasks run, in Asia/Shanghai. The CDK stack turns these into EventBridge Scheduler
 * schedules (`cron`, with scheduleExpressionTimezone Asia/Shanghai); `hmis serve` runs them itself.
 */
export const SCHEDULES = [
  { name: 'nightly', task: { task: 'nightly' }, hour: 2, minute: 0, workingDaysOnly: false, cron: 'cron(0 2 * * ? *)' },
  { name: 'after-deadline', task: { task: 'after-deadline' }, hour: 9, minute: 0, workingDaysOnly: true, cron: 'cron(0 9 ? * MON-FRI *)' },
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

export async function runTask(task: ScheduledTask, deps: ScheduleDeps, now: Date): Promise<TaskOutcome> {
  const outcome: TaskOutcome = { task: task.task, published: [], digests: [], audit: [] };
  /** every county served, their cities (viewers' events), and '-' (sign-ins nobody could be placed for) */
  const exportAudit = async (day: string) => {
    if (!deps.audit) return;
    const defs = await deps.definitions.latest();
    const counties = servedCounties(defs, deps.counties);
    const scopes = [...new Set([...counties, ...counties.map((c) => defs.county(c)!.city.code), '-'])];
    outcome.audit.push(...(await exportAuditDay({ audit: deps.audit, objects: deps.objects, reportsBucket: deps.reportsBucket }, scopes, day)));
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
      const period = reportingMonth(now);
      for (const county of servedCounties(await deps.definitions.at(period), deps.counties)) await publish('county', county, period);
      await exportAudit(beijingDay(new Date(now.getTime() - 86_400_000)));
      break;
    }
    case 'after-deadline': {
      const period = reportingMonth(now);
      const defs = await deps.definitions.at(period);
      for (const county of servedCounties(defs, deps.counties)) {
        if (!isDigestDay(now, defs.county(county)!, period)) continue;
        await publish('county', county, period);
        await digest(county, period, true);
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
  }
  return outcome;
}
