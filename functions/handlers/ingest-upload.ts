/**
 * Lambda entry point for S3 ObjectCreated events on the uploads bucket (prefix uploads/, any file name).
 * Only translates: decode each record, run the ingest pipeline, log the outcome. A rejected upload
 * is a normal outcome (report stored, success returned); only transient faults throw, so Lambda
 * retries them and finally sends the event to the dead-letter queue.
 */
import { ingestUpload, type IngestDeps } from '../core/ingest.ts';
import { awsDeps } from './deps.ts';
import { decodeKey, log, type S3Event } from './s3-event.ts';

const deps: IngestDeps = awsDeps();

/** Returns a summary per record (Lambda ignores it for S3 events; the local stack prints it). */
export async function handler(event: S3Event): Promise<Array<{ key: string; status: string; errors?: number; warnings?: number; current?: boolean; feedback?: string; alerted?: boolean }>> {
  const results = [];
  for (const record of event.Records) {
    const key = decodeKey(record.s3.object.key);
    const outcome = await ingestUpload(
      {
        bucket: record.s3.bucket.name,
        key,
        size: record.s3.object.size,
        sequencer: record.s3.object.sequencer ?? '0',
        eTag: record.s3.object.eTag,
        eventTime: record.eventTime,
        ...(record.s3.object.versionId ? { objectVersionId: record.s3.object.versionId } : {}),
        ...(record.userIdentity?.principalId ? { principalId: record.userIdentity.principalId } : {}),
      },
      deps,
    );
    if (outcome.kind === 'ignored') {
      log('warn', 'upload ignored', { key, reason: outcome.reason });
      results.push({ key, status: 'ignored' });
      continue;
    }
    const { errors, warnings } = outcome.report.stats;
    const { versionId, status, becameCurrent, reportKey, feedbackKey, alerted } = outcome;
    log('info', 'upload processed', { key, versionId, status, becameCurrent, errors, warnings, reportKey, feedbackKey, alerted });
    results.push({ key, status, errors, warnings, current: becameCurrent, ...(feedbackKey ? { feedback: feedbackKey } : {}), ...(alerted ? { alerted } : {}) });
  }
  return results;
}
