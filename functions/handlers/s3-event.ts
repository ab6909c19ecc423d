/**
 * The S3 event notification, as S3 sends it to the ingest queue (SQS message body) and the handlers read it,
 * and the conversions between it and the core's UploadEventRecord.
 */
import type { UploadEventRecord } from '../ports/index.ts';

export interface S3EventRecord {
  eventName: string;
  eventTime: string;
  userIdentity?: { principalId?: string };
  s3: { bucket: { name: string }; object: { key: string; size: number; eTag?: string; sequencer?: string; versionId?: string } };
}

/** The part of an S3 event notification the handlers read (the shape AWS and the local stack deliver). */
export interface S3Event {
  Records: S3EventRecord[];
}

/** What the ingest function receives from its event source mapping (the aws-lambda SQSEvent, the fields read). */
export interface SqsEvent {
  Records: Array<{ messageId: string; body: string; eventSource?: string; attributes?: Record<string, string> }>;
}

/** Partial batch response: the messages to deliver again (ReportBatchItemFailures). */
export interface SqsBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

/** S3 URL-encodes keys in events, with `+` for a space. */
export const decodeKey = (key: string): string => decodeURIComponent(key.replace(/\+/g, ' '));

/**
 * S3's key encoding in notifications: form-style, space → '+', '/' kept. encodeURIComponent leaves
 * `!'()*` alone; S3 (like Java's URLEncoder) encodes `!'()` too, so they are encoded here as well.
 */
export function encodeKey(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment)
        .replace(/%20/g, '+')
        .replace(/[!'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');
}

/** The S3 records of one queue message (none for S3's s3:TestEvent, sent when the notification is saved). */
export function s3RecordsOf(body: string): S3EventRecord[] {
  const parsed = JSON.parse(body) as Partial<S3Event>;
  return Array.isArray(parsed.Records) ? parsed.Records.filter((r) => r.eventName?.startsWith('ObjectCreated:')) : [];
}

export function uploadEventOf(record: S3EventRecord): UploadEventRecord {
  const o = record.s3.object;
  const principal = record.userIdentity?.principalId;
  return {
    bucket: record.s3.bucket.name,
    key: decodeKey(o.key),
    size: o.size,
    sequencer: o.sequencer ?? '',
    ...(o.eTag ? { eTag: o.eTag } : {}),
    eventTime: record.eventTime,
    ...(o.versionId ? { objectVersionId: o.versionId } : {}),
    ...(principal && principal !== 'ANONYMOUS' ? { principal } : {}),
  };
}

/** The S3 notification of one upload, as S3 would write it (key encoded): what the ingest queue carries. */
export function s3EventOf(event: UploadEventRecord, eventName = 'ObjectCreated:Put', region = 'us-east-1'): S3Event & { Records: Array<S3EventRecord & Record<string, unknown>> } {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: event.eventTime,
        eventName,
        ...(event.principal ? { userIdentity: { principalId: event.principal } } : {}),
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: event.bucket, arn: `arn:aws:s3:::${event.bucket}` },
          object: {
            key: encodeKey(event.key),
            size: event.size,
            ...(event.eTag ? { eTag: event.eTag } : {}),
            ...(event.objectVersionId ? { versionId: event.objectVersionId } : {}),
            sequencer: event.sequencer,
          },
        },
      },
    ],
  };
}

/** One JSON line per event, for CloudWatch Logs Insights (and readable locally). */
export function log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === 'error') console.error(line);
  else console.log(line);
}
