/** The scheduled function's tasks over in-memory ports: when they run, what they publish, who gets the digest. */
import { describe, expect, it } from 'vitest';
import { makeEntry } from '../../functions/core/consolidate/build.ts';
import { nextRun, reportingMonth, runTask, ScheduledTask, SCHEDULES, servedCounties } from '../../functions/core/schedule.ts';
import { bundledDefinitions, bundledSource } from '../../schemas/index.ts';
import { MemoryAlerter, MemoryObjects, MemoryStore } from '../fakes/memory.ts';

const REPORTS = 'hmis-reports';
const nightly = SCHEDULES.find((s) => s.name === 'nightly')!;
const afterDeadline = SCHEDULES.find((s) => s.name === 'after-deadline')!;
const beijing = (iso: string) => new Date(`${iso}+08:00`);

async function setup(counties = ['150525']) {
  const objects = new MemoryObjects();
  const store = new MemoryStore();
  const alerter = new MemoryAlerter();
  // 2025-03 of 奈曼旗: 150525-101 accepted T-JC, 150525-102 only a rejected T-JC, everyone else nothing
  for (const e of [
    makeEntry({ institution: '150525-101', template: 'T-JC', period: '2025-03', values: { JC01: 10000 } }),
    makeEntry({ institution: '150525-102', template: 'T-JC', period: '2025-03', rejected: [] }),
  ]) {
    if (e.current) {
      await store.putVersion(e.current, e.current.submission);
      await store.makeCurrent(e.current);
      await store.recordAttempt(e.current);
    }
    else if (e.latest) await store.recordAttempt(e.latest);
  }
  const keys = () => [...objects.objects.keys()].filter((k) => k.startsWith(`${REPORTS}/consolidated/`)).map((k) => k.slice(REPORTS.length + 1)).sort();
  return { deps: { definitions: bundledSource(), objects, store, alerter, reportsBucket: REPORTS, counties }, alerter, keys };
}

describe('schedules (Asia/Shanghai)', () => {
  it('nightly fires at 02:00 Beijing time, the next day once past', () => {
    expect(nextRun(nightly, beijing('2025-04-03T01:59:00')).toISOString()).toBe('2025-04-02T18:00:00.000Z');
    expect(nextRun(nightly, beijing('2025-04-03T02:00:00')).toISOString()).toBe('2025-04-03T18:00:00.000Z');
  });

  it('after-deadline fires at 09:00 on working days only', () => {
    // Friday 2025-04-04 10:00 → Monday 2025-04-07 09:00
    expect(nextRun(afterDeadline, beijing('2025-04-04T10:00:00'))).toEqual(beijing('2025-04-07T09:00:00'));
    expect(nextRun(afterDeadline, beijing('2025-04-07T08:59:59'))).toEqual(beijing('2025-04-07T09:00:00'));
  });

  it('the reporting month is the calendar month before today in Beijing (the 1st at 00:30 Beijing is still the previous day in UTC)', () => {
    expect(reportingMonth(beijing('2025-04-01T00:30:00'))).toBe('2025-03');
    expect(reportingMonth(beijing('2025-01-15T12:00:00'))).toBe('2024-12');
  });

  it('served counties default to the registry and refuse unknown codes', () => {
    expect(servedCounties(bundledDefinitions())).toEqual(bundledDefinitions().counties.map((c) => c.code));
    expect(() => servedCounties(bundledDefinitions(), ['999999'])).toThrow(/999999/);
  });
});

describe('runTask', () => {
  it('nightly writes a new workbook per run and the latest copy of each period in window; nothing is overwritten but latest', async () => {
    const { deps, keys, alerter } = await setup();
    const first = await runTask({ task: 'nightly' }, deps, beijing('2025-04-03T02:00:00'));
    await runTask({ task: 'nightly' }, deps, beijing('2025-04-04T02:00:00'));
    // in April: March, the first quarter (T-QY due April 15) and 2024 (T-ND was due March 31: a month of grace)
    expect(first.published.map((p) => p.period)).toEqual(['2025-03', '2025-Q1', '2024']);
    expect(first.published[0]).toMatchObject({ code: '150525', period: '2025-03', latestKey: 'consolidated/150525/latest/2025-03.xlsx' });
    expect(keys().filter((k) => k.includes('/2025-03/') || k.includes('/latest/'))).toEqual([
      'consolidated/150525/2025-03/奈曼旗卫生健康统计月报汇总（2025年3月）_20250403-020000.xlsx',
      'consolidated/150525/2025-03/奈曼旗卫生健康统计月报汇总（2025年3月）_20250404-020000.xlsx',
      'consolidated/150525/latest/2024.xlsx',
      'consolidated/150525/latest/2025-03.xlsx',
      'consolidated/150525/latest/2025-Q1.xlsx',
    ]);
    expect(keys()).toHaveLength(3 * 2 + 3);
    expect(alerter.sent).toHaveLength(0);
    // May: April; the first quarter until May 15; 2024 no more (its last deadline was more than a month ago)
    expect((await runTask({ task: 'nightly' }, deps, beijing('2025-05-10T02:00:00'))).published.map((p) => p.period)).toEqual(['2025-04', '2025-Q1']);
    expect((await runTask({ task: 'nightly' }, deps, beijing('2025-05-16T02:00:00'))).published.map((p) => p.period)).toEqual(['2025-04']);
    // February: January, and last year (annual returns due by March 31); the fourth quarter was due January 15
    expect((await runTask({ task: 'nightly' }, deps, beijing('2025-02-10T02:00:00'))).published.map((p) => p.period)).toEqual(['2025-01', '2024-Q4', '2024']);
  });

  it('after-deadline does nothing before a deadline, nor on a weekend after it; each period by its own deadline', async () => {
    const { deps, keys, alerter } = await setup();
    // Thursday 2025-04-03: March's returns are due April 5, the first quarter's April 15; 2024's annual ones were due March 31
    const thursday = await runTask({ task: 'after-deadline' }, deps, beijing('2025-04-03T09:00:00'));
    expect(thursday.digests).toEqual([{ county: '150525', period: '2024', sent: true }]);
    expect(keys().filter((k) => k.includes('/latest/'))).toEqual(['consolidated/150525/latest/2024.xlsx']);
    expect(alerter.sent[0]!.message).toContain('150525-000'); // the commission owes T-ND
    expect(alerter.sent[0]!.message).toContain('卫生资源与健康素养年报（T-ND）');
    expect(alerter.sent[0]!.message).toContain('截止时间 2025年3月31日23:59 已过');
    // Saturday 2025-04-12
    expect(await runTask({ task: 'after-deadline' }, deps, beijing('2025-04-12T09:00:00'))).toMatchObject({ published: [], digests: [] });
    // Wednesday 2025-04-16: all three
    expect((await runTask({ task: 'after-deadline' }, deps, beijing('2025-04-16T09:00:00'))).digests.map((d) => d.period)).toEqual(['2025-03', '2025-Q1', '2024']);
    // Friday 2025-05-02: April's not due yet (May 5), 2024 past its month, the first quarter still owed
    expect((await runTask({ task: 'after-deadline' }, deps, beijing('2025-05-02T09:00:00'))).digests.map((d) => d.period)).toEqual(['2025-Q1']);
    const quarterly = alerter.sent.at(-1)!;
    expect(quarterly.subject).toBe('【逾期提醒】奈曼旗 2025年第1季度：未上报21份，未通过0份');
    expect(quarterly.message).toContain('截止时间 2025年4月15日23:59 已过');
    expect(quarterly.message).toContain('家庭医生签约服务季报（T-QY）');
    expect(quarterly.message).not.toContain('（T-JC）');
  });

  it('after the deadline, on a working day: consolidates and sends one digest naming the missing and the rejected', async () => {
    const { deps, keys, alerter } = await setup();
    const out = await runTask({ task: 'after-deadline' }, deps, beijing('2025-04-07T09:00:00'));
    expect(out.digests).toEqual([
      { county: '150525', period: '2025-03', sent: true },
      { county: '150525', period: '2024', sent: true },
    ]);
    expect(keys()).toContain('consolidated/150525/latest/2025-03.xlsx');
    expect(alerter.sent).toHaveLength(2);
    const digest = alerter.sent[0]!;
    expect(digest.message).not.toContain('T-QY'); // not due yet
    expect(digest.message).not.toContain('T-ND'); // another period's
    expect(digest.attributes).toMatchObject({ county: '150525', kind: 'digest', period: '2025-03' });
    expect(digest.message).toContain('150525-102'); // rejected, nothing accepted
    expect(digest.message).toContain('150525-103'); // missing
    expect(digest.message).not.toMatch(/150525-101[^\n]*T-JC/); // accepted
  });

  it('the schedule delivered twice on a day sends one digest; the next working day sends again; a failed publish is retried', async () => {
    const { deps, alerter } = await setup();
    const monthly = (d: { attributes: { period?: string } }) => d.attributes.period === '2025-03';
    await runTask({ task: 'after-deadline' }, deps, beijing('2025-04-07T09:00:00'));
    const again = await runTask({ task: 'after-deadline' }, deps, beijing('2025-04-07T09:00:30'));
    expect(again.digests.filter((d) => d.period === '2025-03')).toEqual([{ county: '150525', period: '2025-03', sent: false }]);
    expect(alerter.sent.filter(monthly)).toHaveLength(1);
    await runTask({ task: 'after-deadline' }, deps, beijing('2025-04-08T09:00:00'));
    expect(alerter.sent.filter(monthly)).toHaveLength(2);

    const publish = alerter.publish.bind(alerter);
    alerter.publish = async () => {
      throw new Error('SNS unavailable');
    };
    await expect(runTask({ task: 'after-deadline' }, deps, beijing('2025-04-09T09:00:00'))).rejects.toThrow('SNS unavailable');
    alerter.publish = publish;
    expect((await runTask({ task: 'after-deadline' }, deps, beijing('2025-04-09T09:02:00'))).digests[0]!.sent).toBe(true);
    expect(alerter.sent.filter(monthly)).toHaveLength(3);
    // on demand it always goes out
    await runTask({ task: 'digest', county: '150525', period: '2025-03' }, deps, beijing('2025-04-09T10:00:00'));
    expect(alerter.sent.filter(monthly)).toHaveLength(4);
  });

  it('on demand: a county quarter, a city year, a digest; refused tasks are schema errors', async () => {
    const { deps, keys } = await setup();
    await runTask({ task: 'consolidate', level: 'county', code: '150525', period: '2025-Q1' }, deps, beijing('2025-04-10T12:00:00'));
    await runTask({ task: 'consolidate', level: 'city', code: '1505', period: '2025' }, deps, beijing('2025-04-10T12:00:00'));
    expect(keys().filter((k) => k.includes('/latest/'))).toEqual(['consolidated/1505/latest/2025.xlsx', 'consolidated/150525/latest/2025-Q1.xlsx']);
    for (const bad of [{}, { task: 'nightly', extra: 1 }, { task: 'consolidate', code: '150525', period: '2025-13' }, { task: 'consolidate', level: 'city', code: '150525', period: '2025' }, { task: 'digest', county: '150525', period: '2025-3' }]) {
      expect(ScheduledTask.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(ScheduledTask.parse({ task: 'consolidate', code: '150525', period: '2025-03' })).toMatchObject({ level: 'county' });
  });
});
