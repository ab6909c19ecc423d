/**
 * The commission's commands against a local stack on a fresh data dir (s3rver and dynalite over HTTP,
 * started by each command as a user's would be): `hmis lake` writes the county's year to lake/,
 * `hmis query --json` answers with an array of row objects, `hmis export` writes CSV, `hmis trend --json`
 * the series, `hmis report` the Word draft.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeEntry } from '../../functions/core/consolidate/build.ts';
import { main } from '../../functions/cli/main.ts';
import { openLocal } from '../../functions/cli/local.ts';

let dir: string;
/** JC28 (门急诊人次) of three institutions in 2025-02 and 2025-03 */
const JC28: Record<string, [number, number]> = { '150525-101': [1200, 1500], '150525-102': [800, 900], '150525-103': [400, 0] };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hmis-commission-cli-'));
  const local = await openLocal(dir);
  try {
    for (const [institution, [feb, mar]] of Object.entries(JC28)) {
      for (const [period, v] of [['2025-02', feb], ['2025-03', mar]] as const) {
        await local.store.makeCurrent(makeEntry({ institution, template: 'T-JC', period, values: { JC06: 100, JC07: 80, JC28: v } }).current!);
      }
    }
  } finally {
    await local.close();
  }
}, 120_000);

afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

/** runs `hmis …`, returning its exit code and what it printed */
async function hmis(...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  const err = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    const code = await main([...args, '--data-dir', dir]);
    return { code, out: lines.join('\n') };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

describe('hmis lake, query, export, trend, report', { timeout: 120_000 }, () => {
  it('lake writes the county’s year; query --json answers an array of row objects over the view values', async () => {
    const lake = await hmis('lake', '--county', '150525', '--year', '2025');
    expect(lake.code).toBe(0);
    expect(lake.out).toContain('lake/year=2025/county=150525/values.parquet：6 份报表，18 个数值');
    const q = await hmis('query', "select period, sum(value) as total, count(*) as n from values where element = 'JC28' group by period order by period", '--json');
    expect(q.code).toBe(0);
    expect(JSON.parse(q.out)).toEqual([
      { period: '2025-02', total: 2400, n: 3 },
      { period: '2025-03', total: 2400, n: 3 },
    ]);
    const bad = await hmis('query', 'select nothing from nowhere');
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('hmis query:');
  });

  it('export writes the county’s values of the range as CSV', async () => {
    const file = join(dir, 'values.csv');
    const r = await hmis('export', '--county', '150525', '--from', '2025-03', '--to', '2025-03', '--format', 'csv', '--out', file);
    expect(r.code).toBe(0);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('county,institution,institution_name,institution_type,template,template_version,period,period_type,element,element_name,value,unit,review_state,version_id,city,year');
    expect(lines).toHaveLength(1 + 9);
    expect(lines.filter((l) => l.includes(',JC28,'))).toHaveLength(3);
  });

  it('trend --json: the county’s months, the institutions ranked; report writes the Word draft', async () => {
    const t = await hmis('trend', '--county', '150525', '--element', 'JC28', '--months', '2', '--to', '2025-03', '--json');
    expect(t.code).toBe(0);
    const s = JSON.parse(t.out) as { points: Array<{ period: string; value: number; covered: number }>; ranking: Array<{ code: string; value: number | null }> };
    expect(s.points.map((p) => [p.period, p.value, p.covered])).toEqual([
      ['2025-02', 2400, 3],
      ['2025-03', 2400, 3],
    ]);
    expect(s.ranking.slice(0, 3).map((r) => [r.code, r.value])).toEqual([
      ['150525-101', 1500],
      ['150525-102', 900],
      ['150525-103', 0],
    ]);
    const out = join(dir, '数据稿.docx');
    const r = await hmis('report', '--county', '150525', '--period', '2025-03', '--out', out);
    expect(r.code).toBe(0);
    expect(r.out).toContain('奈曼旗2025年3月卫生健康工作总结数据稿');
    expect((await readFile(out)).subarray(0, 2).toString()).toBe('PK');
    expect((await hmis('trend', '--county', '150525', '--element', 'JC99')).code).toBe(1);
  });
});
