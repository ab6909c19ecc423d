/**
 * The S3 → Lambda trigger, emulated: s3rver's `server.on('event')` → the same filter as the CDK
 * notification (uploads bucket, ObjectCreated:*, prefix UPLOAD_PREFIX; no suffix) → an
 * S3 notification event as AWS delivers it → the handler, with Lambda's asynchronous-invocation
 * retries (2 retries with backoff), then a dead-letter record.
 *
 * Differences from s3rver's own event, fixed here: the key is URL-encoded as S3 does (space → '+',
 * '/' kept), so the handler's `decodeURIComponent(key.replace(/\+/g, ' '))` runs as in AWS; the
 * bucket ARN is `arn:aws:s3:::<name>`; the sequencer is a fixed-width, strictly increasing hex string
 * (s3rver's is the millisecond clock: two uploads in one ms would tie).
 *
 * Ordering: events for the same key run one after the other, in arrival order; different keys run
 * with a small concurrency (Lambda would run them in parallel).
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UPLOAD_PREFIX } from '../../config.ts';

export interface S3EventRecord {
  eventVersion: string;
  eventSource: 'aws:s3';
  awsRegion: string;
  eventTime: string;
  eventName: string;
  userIdentity: { principalId: string };
  requestParameters: { sourceIPAddress: string };
  responseElements: Record<string, string>;
  s3: {
    s3SchemaVersion: '1.0';
    configurationId: string;
    bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
    /** key URL-encoded as S3 sends it */
    object: { key: string; size: number; eTag?: string; sequencer: string };
  };
}

/** What S3 hands a Lambda function (the aws-lambda `S3Event`). */
export interface S3NotificationEvent {
  Records: S3EventRecord[];
}

/** The part of the Lambda context a handler may read. */
export interface LocalLambdaContext {
  awsRequestId: string;
  functionName: string;
  invokedFunctionArn: string;
  getRemainingTimeInMillis(): number;
}

export type UploadHandler = (event: S3NotificationEvent, context: LocalLambdaContext) => unknown | Promise<unknown>;

/** The raw record s3rver emits (key not encoded). */
export interface RawS3Record {
  eventName: string;
  eventTime?: string;
  awsRegion?: string;
  requestParameters?: { sourceIPAddress?: string };
  s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer?: string } };
}

/**
 * S3's key encoding in notifications: form-style, space → '+', '/' kept. encodeURIComponent leaves
 * `!'()*` alone; S3 (like Java's URLEncoder) encodes `!'()` too, so they are encoded here as well.
 * Either way `decodeURIComponent(key.replace(/\+/g, ' '))` gives the key back.
 */
export function encodeS3EventKey(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment)
        .replace(/%20/g, '+')
        .replace(/[!'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');
}

export function decodeS3EventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

export interface UploadFilter {
  bucket: string;
  prefix?: string;
}

/** The CDK notification's filter: the uploads bucket, ObjectCreated:*, the prefix on the raw key (the handler decides by the file name). */
export function matchesUploadFilter(record: RawS3Record, filter: UploadFilter): boolean {
  const key = record.s3.object.key;
  return (
    record.eventName.startsWith('ObjectCreated:') &&
    record.s3.bucket.name === filter.bucket &&
    key.startsWith(filter.prefix ?? UPLOAD_PREFIX)
  );
}

let lastSequencer = 0n;
/** 16 hex digits, strictly increasing within the process, time-based across restarts. */
export function nextSequencer(): string {
  const now = BigInt(Date.now()) << 12n;
  lastSequencer = now > lastSequencer ? now : lastSequencer + 1n;
  return lastSequencer.toString(16).toUpperCase().padStart(16, '0');
}

const hex = (n: number) => randomUUID().replace(/-/g, '').slice(0, n).toUpperCase();

export function toNotificationEvent(raw: RawS3Record, region: string): S3NotificationEvent {
  const { name } = raw.s3.bucket;
  const object = raw.s3.object;
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: raw.eventTime ?? new Date().toISOString(),
        eventName: raw.eventName,
        userIdentity: { principalId: `AWS:${hex(21)}` },
        requestParameters: { sourceIPAddress: raw.requestParameters?.sourceIPAddress ?? '127.0.0.1' },
        responseElements: { 'x-amz-request-id': hex(16), 'x-amz-id-2': hex(32) },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'hmis-local-upload',
          bucket: { name, ownerIdentity: { principalId: hex(14) }, arn: `arn:aws:s3:::${name}` },
          object: {
            key: encodeS3EventKey(object.key),
            size: object.size ?? 0,
            ...(object.eTag ? { eTag: object.eTag } : {}),
            sequencer: nextSequencer(),
          },
        },
      },
    ],
  };
}

export interface UploadBridgeOptions extends UploadFilter {
  handler: UploadHandler;
  region?: string;
  /** where dead letters go (JSON lines); when absent they are only logged */
  deadLetterFile?: string;
  /** waits before retry 1 and 2; Lambda waits about 1 and 2 minutes, locally seconds */
  retryDelaysMs?: number[];
  /** handlers running at once (different keys); default 2 */
  concurrency?: number;
  functionName?: string;
  /** Lambda's timeout, only reported through getRemainingTimeInMillis */
  timeoutMs?: number;
  /** the event time of uploads (a simulated clock); default s3rver's, the real one */
  clock?: () => Date;
  log?: (line: string) => void;
}

export interface BridgeStats {
  received: number;
  delivered: number;
  succeeded: number;
  failedAttempts: number;
  deadLettered: number;
}

export interface UploadBridge {
  /** give it s3rver's events: `server.on('event', bridge.onS3Event)` */
  onS3Event(event: { Records: RawS3Record[] }): void;
  /** resolves when nothing is queued, waiting for a retry, or running */
  idle(): Promise<void>;
  stats(): BridgeStats;
  /** stop taking events; resolves when what was taken is done */
  close(): Promise<void>;
}

/** The record Lambda sends to an on-failure destination after retries are exhausted. */
export interface DeadLetterRecord {
  version: '1.0';
  timestamp: string;
  requestContext: { requestId: string; functionArn: string; condition: 'RetriesExhausted'; approximateInvokeCount: number };
  requestPayload: S3NotificationEvent;
  responseContext: { statusCode: 200; executedVersion: '$LATEST'; functionError: 'Unhandled' };
  responsePayload: { errorType: string; errorMessage: string; trace: string[] };
}

export function createUploadBridge(options: UploadBridgeOptions): UploadBridge {
  const region = options.region ?? 'us-east-1';
  const delays = options.retryDelaysMs ?? [1_000, 2_000];
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const functionName = options.functionName ?? 'hmis-ingest-upload';
  const functionArn = `arn:aws:lambda:${region}:000000000000:function:${functionName}`;
  const timeoutMs = options.timeoutMs ?? 300_000;
  const log = options.log ?? ((line: string) => console.error(line));
  const stats: BridgeStats = { received: 0, delivered: 0, succeeded: 0, failedAttempts: 0, deadLettered: 0 };

  const queue: { key: string; event: S3NotificationEvent }[] = [];
  const runningKeys = new Set<string>();
  let waiters: (() => void)[] = [];
  let closed = false;

  const isIdle = () => queue.length === 0 && runningKeys.size === 0;
  const settle = () => {
    if (!isIdle()) return;
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve();
  };

  async function invoke(event: S3NotificationEvent): Promise<void> {
    const requestId = randomUUID();
    let lastError: unknown;
    for (let attempt = 1; attempt <= delays.length + 1; attempt++) {
      if (attempt > 1) await sleep(delays[attempt - 2]!);
      const started = Date.now();
      const context: LocalLambdaContext = {
        awsRequestId: requestId,
        functionName,
        invokedFunctionArn: functionArn,
        getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
      };
      try {
        await options.handler(event, context);
        stats.succeeded++;
        return;
      } catch (err) {
        lastError = err;
        stats.failedAttempts++;
        const key = event.Records[0]!.s3.object.key;
        log(`[local lambda] ${functionName} attempt ${attempt}/${delays.length + 1} failed for ${decodeS3EventKey(key)}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const e = lastError instanceof Error ? lastError : new Error(String(lastError));
    const record: DeadLetterRecord = {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: { requestId, functionArn: `${functionArn}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: delays.length + 1 },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: e.name, errorMessage: e.message, trace: (e.stack ?? '').split('\n') },
    };
    stats.deadLettered++;
    if (options.deadLetterFile) {
      try {
        await mkdir(dirname(options.deadLetterFile), { recursive: true });
        await appendFile(options.deadLetterFile, `${JSON.stringify(record)}\n`, 'utf8');
        log(`[local lambda] retries exhausted: event written to ${options.deadLetterFile}`);
      } catch (writeErr) {
        log(`[local lambda] retries exhausted; cannot write ${options.deadLetterFile}: ${String(writeErr)}\n${JSON.stringify(record)}`);
      }
    } else {
      log(`[local lambda] retries exhausted (no dead-letter file): ${JSON.stringify(record)}`);
    }
  }

  function pump(): void {
    while (runningKeys.size < concurrency) {
      const index = queue.findIndex((job) => !runningKeys.has(job.key));
      if (index < 0) break;
      const [job] = queue.splice(index, 1);
      runningKeys.add(job!.key);
      stats.delivered++;
      void invoke(job!.event)
        .catch((err) => log(`[local lambda] bridge error: ${String(err)}`))
        .finally(() => {
          runningKeys.delete(job!.key);
          pump();
          settle();
        });
    }
  }

  return {
    onS3Event(event) {
      // called synchronously inside s3rver's request handling: never throw into it
      try {
        if (closed) return;
        for (const raw of event.Records ?? []) {
          if (!matchesUploadFilter(raw, options)) continue;
          stats.received++;
          const timed = options.clock ? { ...raw, eventTime: options.clock().toISOString() } : raw;
          queue.push({ key: `${raw.s3.bucket.name}/${raw.s3.object.key}`, event: toNotificationEvent(timed, region) });
        }
        pump();
      } catch (err) {
        log(`[local lambda] cannot take event: ${String(err)}`);
      }
    },
    idle() {
      if (isIdle()) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    stats: () => ({ ...stats }),
    async close() {
      closed = true;
      if (!isIdle()) await new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}
