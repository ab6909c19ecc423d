/**
 * Lambda entry point of ingest: S3 ObjectCreated notifications under uploads/, delivered through the
 * ingest queue (SQS event source mapping, ReportBatchItemFailures). Only translates: decode each
 * message's S3 records, run the ingest pipeline, log the outcome. A rejected upload is a normal
 * outcome (report stored, success); a message whose upload hit a transient fault is reported as a
 * batch item failure: SQS delivers it again, and after its receives it waits in the dead-letter queue.
 */
import { ingestUpload, type IngestDeps } from '../core/ingest.ts';
import { ingestDeps } from './deps.ts';
import { log, s3RecordsOf, uploadEventOf, type SqsBatchResponse, type SqsEvent } from './s3-event.ts';

const deps: IngestDeps = ingestDeps();

export async function handler(event: SqsEvent): Promise<SqsBatchResponse> {
  const batchItemFailures: SqsBatchResponse['batchItemFailures'] = [];
  for (const message of event.Records) {
    try {
      for (const record of s3RecordsOf(message.body)) {
        const upload = uploadEventOf(record);
        const outcome = await ingestUpload(upload, deps);
        if (outcome.kind === 'ignored') {
          log('warn', 'upload ignored', { key: upload.key, reason: outcome.reason });
          continue;
        }
        const { errors, warnings } = outcome.report.stats;
        const { versionId, status, becameCurrent, reportKey, feedbackKey, alerted, resumed } = outcome;
        log('info', 'upload processed', { key: upload.key, objectVersionId: upload.objectVersionId, versionId, status, becameCurrent, errors, warnings, reportKey, feedbackKey, alerted, resumed });
      }
    } catch (err) {
      log('error', 'upload failed', { messageId: message.messageId, receiveCount: message.attributes?.ApproximateReceiveCount, error: err instanceof Error ? err.message : String(err) });
      batchItemFailures.push({ itemIdentifier: message.messageId });
    }
  }
  return { batchItemFailures };
}
