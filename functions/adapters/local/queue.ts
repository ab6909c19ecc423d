/**
 * The ingest queue on one machine: what SQS and the Lambda event source mapping do in AWS.
 *
 *  - Messages (S3 notifications, from the S3 front or from SendMessageBatch) are handed to the handler
 *    in SQS events of up to `batchSize`, `concurrency` batches at once; a message whose upload is
 *    running is not handed out again meanwhile (one key at a time, in arrival order).
 *  - The handler answers with `batchItemFailures` (ReportBatchItemFailures); those messages, or all
 *    of a batch whose handler threw, come back after `retryDelaysMs` (the visibility timeout), and
 *    after their last receive go to the dead-letter file, one JSON line each (the DLQ).
 *  - StartMessageMoveTask moves the dead letters back to the queue (SQS's DLQ redrive): `hmis replay`.
 *
 * The queue itself is in memory: a kill loses what it held. Nothing is lost by that: every upload it
 * was told of is a version on disk (functions/adapters/local/versions.ts), and the stack reconciles
 * at start (functions/adapters/local/stack.ts).
 *
 * The HTTP endpoint speaks SQS's JSON protocol for SendMessage, SendMessageBatch, GetQueueUrl,
 * GetQueueAttributes and StartMessageMoveTask, so the reconcile and replay code uses the real SQS client.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { closeServer, listen } from './listen.ts';
import { dirname } from 'node:path';

/** The part of the Lambda context a handler may read. */
export interface LocalLambdaContext {
  awsRequestId: string;
  functionName: string;
  invokedFunctionArn: string;
  getRemainingTimeInMillis(): number;
}

/** One message as the event source mapping hands it to the function (the aws-lambda SQSRecord). */
export interface SqsRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: { ApproximateReceiveCount: string; SentTimestamp: string; ApproximateFirstReceiveTimestamp: string; SenderId: string };
  messageAttributes: Record<string, never>;
  md5OfBody: string;
  eventSource: 'aws:sqs';
  eventSourceARN: string;
  awsRegion: string;
}

export type UploadHandler = (event: { Records: SqsRecord[] }, context: LocalLambdaContext) => unknown | Promise<unknown>;

/** A dead letter: the message as the DLQ holds it, and why its last receive failed. */
export interface DeadLetter {
  messageId: string;
  body: string;
  sentAt: string;
  deadLetteredAt: string;
  receiveCount: number;
  sourceQueueArn: string;
  lastError: string;
}

export interface QueueStats {
  /** messages sent to the queue */
  received: number;
  /** deliveries to the handler (a message delivered again counts again) */
  delivered: number;
  /** messages the handler finished */
  succeeded: number;
  failedAttempts: number;
  deadLettered: number;
}

export interface LocalQueueOptions {
  handler: UploadHandler;
  queueArn: string;
  deadLetterFile?: string;
  /** the wait before each receive after the first (the visibility timeout); their number + 1 = maxReceiveCount. Default 1 s, 2 s */
  retryDelaysMs?: number[];
  /** batches handled at once (default 2) */
  concurrency?: number;
  /** messages per batch (default 5, as the CDK event source mapping) */
  batchSize?: number;
  functionName?: string;
  timeoutMs?: number;
  log?: (line: string) => void;
}

interface Queued {
  id: string;
  body: string;
  /** what must not run twice at once (the object key) */
  key: string;
  sentAt: number;
  receives: number;
  notBefore: number;
}

export interface LocalQueue {
  /** enqueues a message body; returns its message id */
  send(body: string): string;
  /** resolves when nothing is queued, waiting for a retry, or running */
  idle(): Promise<void>;
  stats(): QueueStats;
  /** dead letters back to the queue (SQS's StartMessageMoveTask); the number moved */
  redrive(): Promise<number>;
  /** visible + waiting, running, dead letters */
  counts(): Promise<{ queued: number; running: number; deadLetters: number }>;
  /** stop taking messages; resolves when what runs is done */
  close(): Promise<void>;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** The object key of an S3 notification body (the unit that runs one at a time), or the body. */
function keyOf(body: string): string {
  try {
    const r = (JSON.parse(body) as { Records?: Array<{ s3?: { bucket?: { name?: string }; object?: { key?: string } } }> }).Records?.[0];
    return r?.s3 ? `${r.s3.bucket?.name}/${r.s3.object?.key}` : body;
  } catch {
    return body;
  }
}

export function createLocalQueue(options: LocalQueueOptions): LocalQueue {
  const delays = options.retryDelaysMs ?? [1_000, 2_000];
  const maxReceives = delays.length + 1;
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const batchSize = Math.max(1, options.batchSize ?? 5);
  const functionName = options.functionName ?? 'hmis-ingest-upload';
  const region = options.queueArn.split(':')[3] ?? 'us-east-1';
  const functionArn = `arn:aws:lambda:${region}:000000000000:function:${functionName}`;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const log = options.log ?? ((line: string) => console.error(line));
  const stats: QueueStats = { received: 0, delivered: 0, succeeded: 0, failedAttempts: 0, deadLettered: 0 };
  const queue: Queued[] = [];
  const runningKeys = new Set<string>();
  let batches = 0;
  let waiters: (() => void)[] = [];
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let deadLetterWrites = Promise.resolve();

  const isIdle = () => queue.length === 0 && batches === 0;
  const settle = () => {
    if (!isIdle()) return;
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve();
  };

  async function deadLetter(m: Queued, error: string): Promise<void> {
    stats.deadLettered++;
    const record: DeadLetter = { messageId: m.id, body: m.body, sentAt: new Date(m.sentAt).toISOString(), deadLetteredAt: new Date().toISOString(), receiveCount: m.receives, sourceQueueArn: options.queueArn, lastError: error };
    const file = options.deadLetterFile;
    if (!file) return log(`[local queue] dead letter (no file): ${JSON.stringify(record)}`);
    deadLetterWrites = deadLetterWrites.then(async () => {
      try {
        await mkdir(dirname(file), { recursive: true });
        await appendFile(file, `${JSON.stringify(record)}\n`, 'utf8');
        log(`[local queue] ${m.receives} receives failed: message ${m.id} (${keyOf(m.body)}) written to ${file}`);
      } catch (err) {
        log(`[local queue] cannot write ${file}: ${String(err)}\n${JSON.stringify(record)}`);
      }
    });
    await deadLetterWrites;
  }

  async function deliver(batch: Queued[]): Promise<void> {
    const started = Date.now();
    const records: SqsRecord[] = batch.map((m) => ({
      messageId: m.id,
      receiptHandle: randomUUID(),
      body: m.body,
      attributes: { ApproximateReceiveCount: String(m.receives), SentTimestamp: String(m.sentAt), ApproximateFirstReceiveTimestamp: String(started), SenderId: 'AIDAIENQZJOLO23YVJ4VO' },
      messageAttributes: {},
      md5OfBody: md5(m.body),
      eventSource: 'aws:sqs',
      eventSourceARN: options.queueArn,
      awsRegion: region,
    }));
    const context: LocalLambdaContext = { awsRequestId: randomUUID(), functionName, invokedFunctionArn: functionArn, getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)) };
    let failed: Set<string>;
    let error = '';
    try {
      const result = (await options.handler({ Records: records }, context)) as { batchItemFailures?: Array<{ itemIdentifier: string }> } | undefined;
      failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      if (failed.size) error = 'reported as a batch item failure (see the function log)';
    } catch (err) {
      failed = new Set(batch.map((m) => m.id));
      error = err instanceof Error ? err.message : String(err);
      log(`[local lambda] ${functionName} failed for a batch of ${batch.length}: ${error}`);
    }
    for (const m of batch) {
      if (!failed.has(m.id)) {
        stats.succeeded++;
        continue;
      }
      stats.failedAttempts++;
      if (m.receives >= maxReceives) await deadLetter(m, error);
      else queue.push({ ...m, notBefore: Date.now() + delays[m.receives - 1]! });
    }
  }

  function pump(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const now = Date.now();
    while (batches < concurrency) {
      const batch: Queued[] = [];
      const taken = new Set<string>();
      for (let i = 0; i < queue.length && batch.length < batchSize; i++) {
        const m = queue[i]!;
        if (m.notBefore > now || runningKeys.has(m.key) || taken.has(m.key)) continue;
        batch.push(m);
        taken.add(m.key);
      }
      if (!batch.length) break;
      for (const m of batch) {
        queue.splice(queue.indexOf(m), 1);
        runningKeys.add(m.key);
        m.receives++;
        stats.delivered++;
      }
      batches++;
      void deliver(batch)
        .catch((err) => log(`[local queue] error: ${String(err)}`))
        .finally(() => {
          batches--;
          for (const m of batch) runningKeys.delete(m.key);
          pump();
          settle();
        });
    }
    const next = Math.min(...queue.map((m) => m.notBefore));
    if (Number.isFinite(next) && next > now) timer = setTimeout(pump, next - now);
  }

  return {
    send(body) {
      const id = randomUUID();
      if (closed) throw new Error('the local queue is closed');
      stats.received++;
      queue.push({ id, body, key: keyOf(body), sentAt: Date.now(), receives: 0, notBefore: 0 });
      pump();
      return id;
    },
    idle() {
      if (isIdle()) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    stats: () => ({ ...stats }),
    async redrive() {
      const file = options.deadLetterFile;
      if (!file || !existsSync(file)) return 0;
      let moved = 0;
      deadLetterWrites = deadLetterWrites.then(async () => {
        const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
        // emptied before the messages go back: a message failing again is appended anew
        await writeFile(file, '');
        for (const line of lines) {
          const d = JSON.parse(line) as DeadLetter;
          stats.received++;
          queue.push({ id: d.messageId, body: d.body, key: keyOf(d.body), sentAt: Date.parse(d.sentAt) || Date.now(), receives: 0, notBefore: 0 });
          moved++;
        }
      });
      await deadLetterWrites;
      pump();
      return moved;
    },
    async counts() {
      const file = options.deadLetterFile;
      const deadLetters = file && existsSync(file) ? (await readFile(file, 'utf8')).split('\n').filter(Boolean).length : 0;
      return { queued: queue.length, running: [...runningKeys].length, deadLetters };
    },
    async close() {
      closed = true;
      if (!isIdle()) await new Promise<void>((resolve) => waiters.push(resolve));
      if (timer) clearTimeout(timer);
      await deadLetterWrites;
    },
  };
}

class SqsFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface LocalSqs {
  url: string;
  port: number;
  queueUrl: string;
  close(): Promise<void>;
}

/**
 * The queue's HTTP endpoint (SQS JSON protocol: POST /, X-Amz-Target AmazonSQS.<Action>).
 * Without a queue (no handler wired) messages are accepted and dropped, as the stack does with uploads.
 */
export async function startSqs(options: { port?: number; queueName: string; deadLetterQueueName: string; region: string; accountId: string; queue?: LocalQueue }): Promise<LocalSqs> {
  const server = http.createServer();
  const port = await listen(server, options.port ?? 0);
  const url = `http://127.0.0.1:${port}`;
  const queueUrl = `${url}/${options.accountId}/${options.queueName}`;
  const arn = (name: string) => `arn:aws:sqs:${options.region}:${options.accountId}:${name}`;
  const known = (q: unknown) => {
    if (typeof q !== 'string' || !(q === queueUrl || q.endsWith(`/${options.accountId}/${options.queueName}`))) throw new SqsFailure('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
  };
  const send = (body: unknown) => {
    if (typeof body !== 'string' || !body.length || Buffer.byteLength(body) > 262_144) throw new SqsFailure('InvalidParameterValue', 'MessageBody must be 1 byte … 256 KiB.');
    return options.queue ? options.queue.send(body) : randomUUID();
  };
  const actions: Record<string, (input: Record<string, any>) => Promise<unknown>> = {
    async SendMessage(input) {
      known(input.QueueUrl);
      return { MessageId: send(input.MessageBody), MD5OfMessageBody: md5(input.MessageBody) };
    },
    async SendMessageBatch(input) {
      known(input.QueueUrl);
      const entries = (input.Entries ?? []) as Array<{ Id: string; MessageBody: string }>;
      if (!entries.length || entries.length > 10) throw new SqsFailure('AWS.SimpleQueueService.TooManyEntriesInBatchRequest', 'A batch holds 1 … 10 entries.');
      return { Successful: entries.map((e) => ({ Id: e.Id, MessageId: send(e.MessageBody), MD5OfMessageBody: md5(e.MessageBody) })), Failed: [] };
    },
    async GetQueueUrl(input) {
      if (input.QueueName !== options.queueName) throw new SqsFailure('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
      return { QueueUrl: queueUrl };
    },
    async GetQueueAttributes(input) {
      known(input.QueueUrl);
      const c = (await options.queue?.counts()) ?? { queued: 0, running: 0, deadLetters: 0 };
      return { Attributes: { QueueArn: arn(options.queueName), ApproximateNumberOfMessages: String(c.queued), ApproximateNumberOfMessagesNotVisible: String(c.running), RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn(options.deadLetterQueueName), maxReceiveCount: 3 }) } };
    },
    async StartMessageMoveTask(input) {
      if (input.SourceArn !== arn(options.deadLetterQueueName)) throw new SqsFailure('ResourceNotFoundException', `No dead-letter queue ${String(input.SourceArn)} here (it is ${arn(options.deadLetterQueueName)}).`);
      const moved = (await options.queue?.redrive()) ?? 0;
      return { TaskHandle: Buffer.from(JSON.stringify({ moved })).toString('base64') };
    },
  };
  server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const reply = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID(), 'content-length': Buffer.byteLength(text) });
        res.end(text);
      };
      try {
        const action = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonSQS\./, '');
        const run = actions[action];
        if (req.method !== 'POST' || !run) throw new SqsFailure('InvalidAction', `local SQS answers ${Object.keys(actions).join(', ')} (JSON protocol); got ${action || '(none)'}`);
        reply(200, await run(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')));
      } catch (err) {
        const e = err instanceof SqsFailure ? err : new SqsFailure('InternalError', String(err), 500);
        reply(e.status, { __type: `com.amazonaws.sqs#${e.code}`, message: e.message });
      }
    });
  });
  return {
    url,
    port,
    queueUrl,
    close: () => closeServer(server),
  };
}
