/**
 * What the scheduled function does, as tasks. Pure over ports (no AWS SDK): the Lambda handler
 * (functions/handlers/consolidate.ts) and the local scheduler (`hmis serve`) run the same code.
 *
 *   nightly          every night: consolidate each county's reporting month (today's picture)
 *   after-deadline   working days, morning: for each county whose deadline for the reporting month
 *                    has passed, consolidate it and send the deadline digest if anything is outstanding
 *   consolidate      on demand: one county or city and one period (month, quarter or year)
 *   digest           on demand: one county's digest for a period
 *   lake             on demand: rewrite one county's year of the lake (lake/year=…/county=…/values.parquet)
 *
 * nightly and after-deadline also rewrite the lake of each county they consolidate, for the reporting
 * month's year (and in January–March the year before): the lake is at most a night behind the store.
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
import type { Alerter } from '../ports/index.ts';
import type { Definitions } from './definitions/definitions.ts';
import { lakeYears, writeLake, type LakeWritten } from './lake/index.ts';

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
  z.object({ task: z.literal('lake'), county: countyCode, year: z.number().int().min(2000).max(2100) }).strict(),
]);
export type ScheduledTask = z.infer<typeof ScheduledTask>;

export interface ScheduleDeps extends PublishDeps {
  alerter?: Alerter;
  /** the portal, for the digest's link */
  portalBaseUrl?: string;
  /** the counties served; default every county in the definitions */
  counties?: readonly string[];
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
  lake: Array<Pick<LakeWritten, 'key' | 'county' | 'year' | 'returns' | 'rows'>>;
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
  const outcome: TaskOutcome = { task: task.task, published: [], digests: [], lake: [] };
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
      const period = reportingMonth(now);
      for (const county of servedCounties(await deps.definitions.at(period), deps.counties)) {
        await publish('county', county, period);
        for (const year of lakeYears(period)) await lake(county, year);
      }
      break;
    }
    case 'after-deadline': {
      const period = reportingMonth(now);
      const defs = await deps.definitions.at(period);
      for (const county of servedCounties(defs, deps.counties)) {
        if (!isDigestDay(now, defs.county(county)!, period)) continue;
        await publish('county', county, period);
        for (const year of lakeYears(period)) await lake(county, year);
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
    case 'lake':
      await lake(task.county, task.year);
      break;
  }
  return outcome;
}
