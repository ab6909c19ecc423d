/**
 * Publishing a consolidated workbook: build it, write a new object, then the "latest" copy.
 *
 *   consolidated/<code>/<period>/<title>_<yyyyMMdd-HHmmss>.xlsx   every run, never overwritten
 *   consolidated/<code>/latest/<period>.xlsx                      the newest run of that period
 *
 * Writing the new object first means a failure in between leaves the previous latest in place
 * (and the new run findable under its period); nothing earlier is ever replaced.
 */
import type { ObjectStore, SubmissionStore } from '../../ports/index.ts';
import { buildConsolidatedWorkbook, type ConsolidatedWorkbook } from './index.ts';
import { parsePeriod, SHANGHAI_OFFSET_MS } from './period.ts';
import { XLSX_TYPE } from '../render/deterministic.ts';
import type { DefinitionsPort } from '../definitions/source.ts';

export interface PublishDeps {
  definitions: DefinitionsPort;
  objects: ObjectStore;
  store: SubmissionStore;
  reportsBucket: string;
}

export interface PublishRequest {
  level: 'county' | 'city';
  /** county code (150525) or city code (1505) */
  code: string;
  /** 2025-03, 2025-Q1 or 2025 */
  period: string;
  now?: Date;
}

export interface Published {
  /** the run's own object */
  key: string;
  /** the period's latest copy */
  latestKey: string;
  /** the name a reader should save it under */
  fileName: string;
  bytes: number;
  stats: ConsolidatedWorkbook['stats'];
}

/** 20250406-060000, Beijing time: sorts, and reads as the local time the commission knows. */
export function runStamp(now: Date): string {
  const t = new Date(now.getTime() + SHANGHAI_OFFSET_MS).toISOString();
  return `${t.slice(0, 10).replace(/-/g, '')}-${t.slice(11, 19).replace(/:/g, '')}`;
}

export const consolidatedPrefix = (code: string): string => `consolidated/${code}/`;
export const latestKeyOf = (code: string, period: string): string => `consolidated/${code}/latest/${period}.xlsx`;

export async function publishConsolidated(deps: PublishDeps, request: PublishRequest): Promise<Published> {
  parsePeriod(request.period); // PeriodError before any read
  const now = request.now ?? new Date();
  const workbook = await buildConsolidatedWorkbook(deps.store, deps.definitions, { level: request.level, code: request.code }, request.period, now);
  const key = `consolidated/${request.code}/${request.period}/${workbook.title}_${runStamp(now)}.xlsx`;
  const latestKey = latestKeyOf(request.code, request.period);
  await deps.objects.put(deps.reportsBucket, key, workbook.bytes, XLSX_TYPE);
  await deps.objects.put(deps.reportsBucket, latestKey, workbook.bytes, XLSX_TYPE);
  return { key, latestKey, fileName: workbook.fileName, bytes: workbook.bytes.length, stats: workbook.stats };
}
