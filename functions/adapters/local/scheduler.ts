/**
 * EventBridge Scheduler on one machine: fires the scheduled function's SCHEDULES (Asia/Shanghai) in
 * this process while `hmis serve` runs. A run that fails is logged; the next one comes as usual
 * (in AWS: retries, then the dead-letter queue).
 */
import { nextRun, SCHEDULES, type ScheduledTask } from '../../core/schedule.ts';

export interface LocalScheduler {
  /** the next firing of each schedule */
  next(): Array<{ name: string; at: Date }>;
  stop(): void;
}

/** `run` gets the schedule's own time (what Scheduler passes as <aws.scheduler.scheduled-time>), not the clock's. */
export function startScheduler(run: (task: ScheduledTask, name: string, at: Date) => Promise<void>, now: () => Date = () => new Date()): LocalScheduler {
  const timers = new Map<string, NodeJS.Timeout>();
  const nextAt = new Map<string, Date>();
  let stopped = false;
  const arm = (schedule: (typeof SCHEDULES)[number]) => {
    if (stopped) return;
    const at = nextRun(schedule, now());
    nextAt.set(schedule.name, at);
    // setTimeout holds at most ~24.8 days; re-arm in steps of at most a day
    const wait = Math.min(at.getTime() - now().getTime(), 86_400_000);
    const timer = setTimeout(async () => {
      if (now().getTime() >= at.getTime() - 1_000) await run(schedule.task, schedule.name, at).catch(() => {});
      arm(schedule);
    }, Math.max(wait, 0));
    timer.unref();
    timers.set(schedule.name, timer);
  };
  for (const s of SCHEDULES) arm(s);
  return {
    next: () => SCHEDULES.map((s) => ({ name: s.name, at: nextAt.get(s.name)! })),
    stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
    },
  };
}
