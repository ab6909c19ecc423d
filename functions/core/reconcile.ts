/**
 * Reconciliation: every object version under uploads/ against the versions the table says were
 * processed (the attempt items' sets of version ids). Pure over ports.
 *
 *   an object version without a processed version   → sent to the ingest queue now: `missing` when
 *                                                      nothing was stored, `halfDone` when the version
 *                                                      item exists but the slot was not finished
 *   a processed version without its object           → reported (`orphans`)
 *   a key ingest does not take                       → counted (`ignored`)
 *
 * The event path should leave nothing to find: `found` above 0 means it lost something, and the
 * scheduled function's metric raises an alarm. Listing runs per institution prefix, `concurrency`
 * at once (a province month is about 15,000 objects under 3,000 prefixes).
 */
import { pool } from './consolidate/load.ts';
import { parseUploadKey, RECONCILE_PRINCIPAL, versionOf } from './ingest.ts';
import type { ObjectVersionSummary, SubmissionStore, UploadEventRecord, UploadListing, UploadQueue } from '../ports/index.ts';
import { UPLOAD_PREFIX } from '../config.ts';

export interface ReconcileDeps {
  listing: UploadListing;
  store: SubmissionStore;
  queue: UploadQueue;
  uploadsBucket: string;
  /** the counties served (default: every county prefix found under uploads/) */
  counties?: readonly string[];
}

export interface ReconcileRequest {
  county?: string;
  /** one period (YYYY-MM); else every period from `since` on, else every period */
  period?: string;
  since?: string;
  /** object versions younger than this are left to the event path (it may be processing them now) */
  minAgeMs?: number;
  /** prefixes listed, and county-periods queried, at once (default 16) */
  concurrency?: number;
  now: Date;
}

export interface ReconcileReport {
  /** object versions compared */
  objects: number;
  /** of them, processed */
  processed: number;
  missing: Array<{ key: string; objectVersionId: string }>;
  halfDone: Array<{ key: string; objectVersionId: string; versionId: string }>;
  orphans: Array<{ institution: string; template: string; period: string; versionId: string }>;
  ignored: string[];
  /** younger than minAgeMs: not judged */
  young: number;
  /** missing + halfDone + orphans: what the event path lost */
  found: number;
  durationMs: number;
}

export async function reconcile(request: ReconcileRequest, deps: ReconcileDeps): Promise<ReconcileReport> {
  const started = performance.now();
  const limit = request.concurrency ?? 16;
  const bucket = deps.uploadsBucket;
  const counties = request.county
    ? [request.county]
    : (deps.counties ?? (await deps.listing.listPrefixes(bucket, UPLOAD_PREFIX)).map((p) => p.slice(UPLOAD_PREFIX.length, -1)));
  const institutionPrefixes = (await pool(counties, limit, (c) => deps.listing.listPrefixes(bucket, `${UPLOAD_PREFIX}${c}/`))).flat();
  const periodOf = (key: string) => key.split('/')[4] ?? '';
  const wanted = (key: string) => (request.period ? periodOf(key) === request.period : !request.since || periodOf(key) >= request.since);
  const listed = (await pool(institutionPrefixes, limit, (p) => deps.listing.listVersions(bucket, p))).flat().filter((v) => wanted(v.key));

  const report: ReconcileReport = { objects: 0, processed: 0, missing: [], halfDone: [], orphans: [], ignored: [], young: 0, found: 0, durationMs: 0 };
  // per county and period: the objects' version ids, by submission
  const groups = new Map<string, { county: string; period: string; objects: Array<{ v: ObjectVersionSummary; versionId: string; slot: string }> }>();
  for (const v of listed) {
    const key = parseUploadKey(v.key);
    if (!key) {
      report.ignored.push(v.key);
      continue;
    }
    const id = `${key.county}#${key.period}`;
    const group = groups.get(id) ?? { county: key.county, period: key.period, objects: [] };
    group.objects.push({ v, versionId: versionOf({ bucket, key: v.key, size: v.size, sequencer: '', eventTime: v.lastModified, objectVersionId: v.versionId }).versionId, slot: `${key.institution}#${key.template}` });
    groups.set(id, group);
  }
  if (request.period) for (const c of counties) if (!groups.has(`${c}#${request.period}`)) groups.set(`${c}#${request.period}`, { county: c, period: request.period, objects: [] });

  const oldest = request.now.getTime() - (request.minAgeMs ?? 0);
  const toSend: UploadEventRecord[] = [];
  await pool([...groups.values()], limit, async (group) => {
    const processed = new Map((await deps.store.processedVersions(group.county, group.period)).map((s) => [`${s.institution}#${s.template}`, new Set(s.versionIds)]));
    const expected = new Map<string, Set<string>>();
    for (const { v, versionId, slot } of group.objects) {
      expected.set(slot, (expected.get(slot) ?? new Set()).add(versionId));
      if (Date.parse(v.lastModified) > oldest) {
        report.young++;
        continue;
      }
      report.objects++;
      if (processed.get(slot)?.has(versionId)) {
        report.processed++;
        continue;
      }
      const [institution, template] = slot.split('#') as [string, string];
      const stored = await deps.store.findVersion({ institution, template, period: group.period }, versionId);
      if (stored) report.halfDone.push({ key: v.key, objectVersionId: v.versionId, versionId });
      else report.missing.push({ key: v.key, objectVersionId: v.versionId });
      toSend.push({ bucket, key: v.key, size: v.size, sequencer: '', ...(v.eTag ? { eTag: v.eTag } : {}), eventTime: v.lastModified, objectVersionId: v.versionId, principal: RECONCILE_PRINCIPAL });
    }
    for (const [slot, ids] of processed) {
      const [institution, template] = slot.split('#') as [string, string];
      for (const versionId of ids) if (!expected.get(slot)?.has(versionId)) report.orphans.push({ institution, template, period: group.period, versionId });
    }
  });
  if (toSend.length) await deps.queue.send(toSend);
  report.found = report.missing.length + report.halfDone.length + report.orphans.length;
  report.durationMs = Math.round(performance.now() - started);
  return report;
}

/** The counts as CloudWatch embedded metric format: one log line becomes metrics (namespace hmis, by function). */
export function reconcileMetrics(report: ReconcileReport, functionName: string, now: Date): Record<string, unknown> {
  const metrics = { ReconcileObjects: report.objects, ReconcileMissing: report.missing.length, ReconcileHalfDone: report.halfDone.length, ReconcileOrphans: report.orphans.length, ReconcileFound: report.found };
  return {
    _aws: { Timestamp: now.getTime(), CloudWatchMetrics: [{ Namespace: RECONCILE_METRICS_NAMESPACE, Dimensions: [['FunctionName']], Metrics: Object.keys(metrics).map((Name) => ({ Name, Unit: 'Count' })) }] },
    FunctionName: functionName,
    ...metrics,
  };
}

export const RECONCILE_METRICS_NAMESPACE = 'hmis';
