/**
 * Lambda entry point for S3 ObjectCreated events on the uploads bucket (prefix uploads/, suffix .xlsx).
 * Only translates: decode each record, run the ingest pipeline, log the outcome. A rejected upload
 * is a normal outcome (report stored, success returned); only transient faults throw, so Lambda
 * retries them and finally sends the event to the dead-letter queue.
 */
import { config } from '../config.ts';
import { dynamoClient, s3Client } from '../adapters/aws/clients.ts';
import { DynamoSubmissionStore } from '../adapters/dynamo/store.ts';
import { S3ObjectStore } from '../adapters/s3/objects.ts';
import { ingestUpload, type IngestDeps } from '../core/ingest.ts';
import { decodeKey, log, type S3Event } from './s3-event.ts';

const cfg = config();
const deps: IngestDeps = {
  objects: new S3ObjectStore(s3Client()),
  store: new DynamoSubmissionStore(dynamoClient(), cfg.tableName),
  reportsBucket: cfg.reportsBucket,
  maxUploadBytes: cfg.maxUploadBytes,
};

/** Returns a summary per record (Lambda ignores it for S3 events; the local stack prints it). */
export async function handler(event: S3Event): Promise<Array<{ key: string; status: string; errors?: number; warnings?: number; current?: boolean }>> {
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
      },
      deps,
    );
    if (outcome.kind === 'ignored') {
      log('warn', 'upload ignored', { key, reason: outcome.reason });
      results.push({ key, status: 'ignored' });
      continue;
    }
    const { errors, warnings } = outcome.report.stats;
    log('info', 'upload processed', { key, versionId: outcome.versionId, status: outcome.status, becameCurrent: outcome.becameCurrent, errors, warnings, reportKey: outcome.reportKey });
    results.push({ key, status: outcome.status, errors, warnings, current: outcome.becameCurrent });
  }
  return results;
}
