/**
 * `hmis trend --county C [--institution I] --element JC-I03 [--months 24] [--to P] [--json] [--data-dir D]`
 *
 * A data element's or indicator's series from the store (functions/core/trend), in its template's 周期:
 * per month, or per quarter (T-QY) or year (T-ND) over the same span. The county's total per period as
 * that period's workbook shows it, or one institution's (with the institutions merged into it), the
 * target of each period's year with its 序时目标, and the institutions missing. `--json` prints the series
 * (points, and for a county the ranking of its institutions in the last period).
 */
import { listNames } from '../core/consolidate/compute.ts';
import { isPeriodId } from '../core/consolidate/period.ts';
import { periodLabel } from '../core/layout.ts';
import { MAX_TREND_MONTHS, trend, type TrendSeries } from '../core/trend/index.ts';
import { formatValue } from '../core/draft/format.ts';
import { parseArgs, requireFlag, stringFlag, UsageError } from './args.ts';
import { DEFAULT_DATA_DIR, openLocal } from './local.ts';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { county: 'string', institution: 'string', element: 'string', months: 'string', to: 'string', json: 'boolean', 'data-dir': 'string' });
  if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
  const county = requireFlag(args, 'county');
  const code = requireFlag(args, 'element');
  const months = Number(stringFlag(args, 'months') ?? '12');
  if (!Number.isInteger(months) || months < 1 || months > MAX_TREND_MONTHS) throw new UsageError(`--months must be 1–${MAX_TREND_MONTHS}`);
  const to = stringFlag(args, 'to');
  if (to !== undefined && !isPeriodId(to)) throw new UsageError(`--to must be YYYY-MM, YYYY-Qn or YYYY, got ${to}`);
  const institution = stringFlag(args, 'institution');

  const local = await openLocal(stringFlag(args, 'data-dir') ?? DEFAULT_DATA_DIR);
  try {
    const [series] = await trend(local.store, local.deps.definitions, { county, codes: [code], months, ...(to ? { to } : {}), ...(institution ? { institution } : {}) }, new Date());
    console.log(args.flags.json ? JSON.stringify(series, null, 2) : renderTrend(series!));
    return 0;
  } finally {
    await local.close();
  }
}

export function renderTrend(s: TrendSeries): string {
  const who = s.institution ? `${s.institution.name}（${s.institution.code}）` : `${s.county.name}合计`;
  const last = s.periods[s.periods.length - 1]!;
  const lines = [`${who} ${s.code} ${s.name}（${s.unit}）${periodLabel(s.periods[0]!)} — ${periodLabel(last)}`, '', '统计期          数值  实报/应报  目标      序时目标  缺报'];
  const target = (v: number | null | undefined, d = '') => (v === null || v === undefined ? '' : `${d}${formatValue(v, s.unit)}`);
  for (const p of s.points) {
    const missing = p.covered === 0 && p.owed > 0 ? `应报 ${p.owed} 家均无数据` : listNames(p.missing.map((m) => `${m.name}（${m.reason}）`));
    const t = p.target;
    lines.push(`${p.period.padEnd(8)}  ${(p.value === null ? '—' : formatValue(p.value, s.unit)).padStart(12)}  ${`${p.covered}/${p.owed}`.padStart(9)}  ${target(t?.value, t?.direction === '<=' ? '≤' : '≥').padEnd(8)}  ${target(t?.paced).padEnd(8)}  ${missing}`);
  }
  const verdict = s.points.at(-1)?.target?.verdict;
  if (verdict) lines.push('', `${periodLabel(last)}：${verdict}`);
  if (s.ranking?.length) {
    lines.push('', `${periodLabel(last)} 各机构：`);
    s.ranking.forEach((r, i) => lines.push(`  ${String(i + 1).padStart(2)}. ${r.name.padEnd(14, '　')} ${r.value === null ? `— ${r.status}` : formatValue(r.value, s.unit)}`));
  }
  return lines.join('\n');
}
