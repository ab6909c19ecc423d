/**
 * Consolidation: the commission's monthly workbook (汇总表) of a county or a city and a period.
 *
 *   const input = await loadConsolidationInput(store, '150525', '2025-03', new Date());
 *   const result = consolidate(input);              // pure
 *   const bytes = await renderConsolidated(result); // or writeConsolidated(result, stream)
 */
export { consolidate, rate, change } from './compute.ts';
export { loadConsolidationInput, loadCityConsolidationInput, periodsNeeded, type LoadOptions } from './load.ts';
export { parsePeriod, previousPeriod, PeriodError, type PeriodSpec, type PeriodKind } from './period.ts';
export type * from './types.ts';
export { renderConsolidated, writeConsolidated, detailSheetName, SHEET, type RenderStats } from '../render/consolidated.ts';
export { safeText } from '../render/consolidated-format.ts';

import type { SubmissionStore } from '../../ports/index.ts';
import type { DefinitionsPort } from '../definitions/source.ts';
import { consolidate } from './compute.ts';
import { loadCityConsolidationInput, loadConsolidationInput } from './load.ts';
import { renderConsolidated } from '../render/consolidated.ts';
import { consolidationTrends } from '../trend/index.ts';

export interface ConsolidatedWorkbook {
  /** 奈曼旗卫生健康统计月报汇总（2025年3月）.xlsx */
  fileName: string;
  bytes: Buffer;
  title: string;
  stats: { periodReads: number; entries: number; ledgerReads: number; loadMs: number; computeMs: number; renderMs: number };
}

/** Load, consolidate and render in one call: what a handler or the CLI needs. */
export async function buildConsolidatedWorkbook(
  store: SubmissionStore,
  definitions: DefinitionsPort,
  target: { level: 'county' | 'city'; code: string },
  period: string,
  now: Date,
  options: { approvedOnly?: boolean } = {},
): Promise<ConsolidatedWorkbook> {
  const defs = await definitions.at(period);
  const input = target.level === 'city' ? await loadCityConsolidationInput(store, defs, target.code, period, now) : await loadConsolidationInput(store, defs, target.code, period, now, options);
  const t0 = performance.now();
  const result = consolidate(input);
  const trends = await consolidationTrends(store, definitions, input, result);
  const t1 = performance.now();
  const bytes = await renderConsolidated(result, trends);
  const t2 = performance.now();
  return {
    fileName: `${result.title}.xlsx`,
    bytes,
    title: result.title,
    stats: {
      periodReads: input.stats?.periodReads ?? 0,
      entries: input.stats?.entries ?? 0,
      ledgerReads: input.stats?.ledgerReads ?? 0,
      loadMs: input.stats?.ms ?? 0,
      computeMs: Math.round(t1 - t0),
      renderMs: Math.round(t2 - t1),
    },
  };
}
