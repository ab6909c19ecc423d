import { describe, expect, it } from 'vitest';
import { checkHistory, median, shiftPeriod, type HistoryPoint, type Located } from '../../functions/core/validate/history.ts';
import { type IndicatorTemplate, bundledDefinitions } from '../../schemas/index.ts';

const def = bundledDefinitions().template('T-JC')! as IndicatorTemplate;
const el = (code: string) => def.elements.find((e) => e.code === code)!;
const cell = (code: string, value: number): Located => ({ element: el(code), ref: 'D99', row: 99, col: 4, value });
const months = (from: string, n: number, values: Record<string, number>): HistoryPoint[] =>
  Array.from({ length: n }, (_, i) => ({ period: shiftPeriod(from, i), values }));

describe('history checks', () => {
  it('ytd lower than last month in the same year warns; January starts again', () => {
    const history = months('2025-01', 2, { JC05: 900 });
    expect(checkHistory('2025-03', [cell('JC05', 850)], history, 's').map((i) => i.code)).toEqual(['history-ytd-decrease']);
    expect(checkHistory('2025-03', [cell('JC05', 950)], history, 's')).toEqual([]);
    expect(checkHistory('2025-01', [cell('JC05', 100)], months('2024-11', 2, { JC05: 30000 }), 's')).toEqual([]);
  });

  it('a flow far outside the last six months warns (3× or ⅓ of the median)', () => {
    const history = months('2024-09', 6, { JC28: 2000 });
    expect(checkHistory('2025-03', [cell('JC28', 6100)], history, 's').map((i) => i.code)).toEqual(['history-outlier']);
    expect(checkHistory('2025-03', [cell('JC28', 600)], history, 's').map((i) => i.code)).toEqual(['history-outlier']);
    expect(checkHistory('2025-03', [cell('JC28', 5900)], history, 's')).toEqual([]);
  });

  it('a new institution (fewer than three months) and tiny counts are exempt', () => {
    expect(checkHistory('2025-03', [cell('JC28', 9000)], months('2025-01', 2, { JC28: 2000 }), 's')).toEqual([]);
    expect(checkHistory('2025-03', [cell('JC27', 3)], months('2024-09', 6, { JC27: 0 }), 's')).toEqual([]);
    // episodic work (义诊 a few months a year): a zero median gives no ratio to judge by
    expect(checkHistory('2025-03', [cell('JC29', 200)], months('2024-09', 6, { JC29: 0 }), 's')).toEqual([]);
  });

  it('a stock that jumps by more than half from last month warns', () => {
    const history = months('2025-02', 1, { JC06: 1500 });
    expect(checkHistory('2025-03', [cell('JC06', 2400)], history, 's').map((i) => i.code)).toEqual(['history-stock-jump']);
    expect(checkHistory('2025-03', [cell('JC06', 1600)], history, 's')).toEqual([]);
    expect(checkHistory('2025-03', [cell('JC06', 2400)], [], 's')).toEqual([]);
  });

  it('messages name the cell, the element and the value', () => {
    const [issue] = checkHistory('2025-03', [cell('JC05', 850)], months('2025-02', 1, { JC05: 900 }), 's');
    expect(issue!.message).toBe('D99「65岁及以上老年人健康管理人数」为 850，小于上月累计数 900。本年累计数不应减少，请核实');
  });

  it('helpers', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(shiftPeriod('2025-01', -1)).toBe('2024-12');
    expect(shiftPeriod('2024-12', 3)).toBe('2025-03');
  });
});
