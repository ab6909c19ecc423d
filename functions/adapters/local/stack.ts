/**
 * The whole AWS side on one machine, in-process: S3 (s3rver behind the S3 front, with object
 * versions in the uploads bucket), dynalite (DynamoDB), a query-protocol SNS endpoint, and the
 * S3 → SQS → ingest path (a local queue with SQS's redelivery and dead letters). The handlers run
 * unchanged with the real AWS SDK clients: only the environment (`stack.env`) differs from AWS.
 *
 * It survives a kill -9: an upload is answered only once its version is on disk; at start, what a
 * kill left half-written in S3 is mended (s3.ts repairS3) and every upload version is reconciled
 * with the table (core/reconcile.ts): what the queue held when the process died is ingested then.
 *
 * <dataDir>/
 *   s3/                 s3rver's objects (the current object of each key)
 *   s3-versions/        every version of every upload (versions.ts)
 *   dynamodb/           dynalite's LevelDB (unless dynamodbInMemory)
 *   alerts.jsonl        every SNS Publish, one JSON line each
 *   dead-letter.jsonl   queue messages whose last receive failed (the DLQ; `hmis replay` moves them back)
 *   idp.json, idp-key.pem   the user pool stand-in's users and signing key (functions/adapters/local/idp.ts)
 *   endpoints.json      written once everything answers (the portal too, when there is one), removed by stop()
 *   stack.lock          pid of the process using the data dir (LevelDB allows one), removed by stop()
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { makeClients, type ClientEndpoints } from '../aws/clients.ts';
import { DynamoSubmissionStore } from '../dynamo/store.ts';
import { S3ObjectStore } from '../s3/objects.ts';
import { AWS_ENV, ENV, UPLOAD_PREFIX } from '../../config.ts';
import { reconcile, type ReconcileReport } from '../../core/reconcile.ts';
import { s3EventOf } from '../../handlers/s3-event.ts';
import { seedLocalDefinitions } from './definitions.ts';
import { startLocalIdp, type LocalIdp } from './idp.ts';
import { startDynamo, type LocalDynamo } from './dynamo.ts';
import { createLocalQueue, startSqs, type LocalQueue, type LocalSqs, type QueueStats, type UploadHandler } from './queue.ts';
import { startS3, type LocalS3 } from './s3.ts';
import { startSns, type LocalSns, type SnsMessage } from './sns.ts';
import type { VersionMeta } from './versions.ts';

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
/** s3rver accepts only these; dynalite and the local SNS accept anything, so they get the same */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const LOCAL_NAMES = {
  uploadsBucket: 'hmis-uploads',
  reportsBucket: 'hmis-reports',
  table: 'hmis-sheets',
  alertsTopic: 'hmis-alerts',
  opsTopic: 'hmis-ops',
  uploadQueue: 'hmis-ingest-queue',
  deadLetterQueue: 'hmis-ingest-dead-letters',
} as const;

/** The content of <dataDir>/endpoints.json. */
export interface StackEndpoints extends ClientEndpoints {
  buckets: { uploads: string; reports: string };
  table: string;
  topics: { alerts: string; ops: string };
  /** the ingest queue (URL) and its dead-letter queue (ARN, for StartMessageMoveTask) */
  queues: { uploads: string; deadLetters: string };
  /** the portal's address, when one runs on this stack (`hmis serve`); alerts link to its pages */
  portal?: string;
  /** the process hosting the servers */
  pid: number;
}

export interface StartLocalStackOptions {
  dataDir: string;
  /** 0 (default) = a free port */
  s3Port?: number;
  dynamodbPort?: number;
  snsPort?: number;
  sqsPort?: number;
  /** the ingest function the queue calls; none: uploads are stored, nothing runs */
  onUpload?: UploadHandler;
  /** every SNS message, as it arrives (also in alerts.jsonl) */
  onAlert?: (message: SnsMessage) => void;
  /** DynamoDB in memory instead of <dataDir>/dynamodb (faster; lost at stop) */
  dynamodbInMemory?: boolean;
  /** the queue's waits before receives 2 and 3 (default 1 s, 2 s); then the dead-letter file */
  retryDelaysMs?: number[];
  /** batches handled at once (a key is never handled twice at once); default 2 */
  concurrency?: number;
  /** how long stop() waits for running handlers (default 30 s) */
  drainTimeoutMs?: number;
  /** the time S3 events and SNS messages carry (a simulated month: the demo, `hmis serve --clock`); default the real clock */
  clock?: () => Date;
  /** starts the portal once S3, DynamoDB and SNS answer; its address goes into endpoints.json and the handlers' PORTAL_BASE_URL */
  portal?: (endpoints: StackEndpoints) => Promise<string>;
  log?: (line: string) => void;
}

/** A stack found running (another process) or started here. */
export interface RunningStack {
  endpoints: StackEndpoints;
  /** the environment a handler process needs: UPLOADS_BUCKET…, AWS_ENDPOINT_URL_*…, credentials */
  env: Record<string, string>;
  dataDir: string;
  /** whether this process started it (false: found running, stop() does nothing) */
  started: boolean;
  /** resolves when the start-up reconciliation is done and no upload event is queued, waiting for a retry, or running */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export interface LocalStack extends RunningStack {
  started: true;
  files: { endpoints: string; alerts: string; deadLetter: string };
  stats(): QueueStats;
  /** the reconciliation at start (null without a handler): what the previous run left unprocessed */
  startup: Promise<ReconcileReport | null>;
  /** what the start mended in S3 */
  repaired: LocalS3['repaired'];
}

export const stackFiles = (dataDir: string) => ({
  endpoints: join(dataDir, 'endpoints.json'),
  alerts: join(dataDir, 'alerts.jsonl'),
  deadLetter: join(dataDir, 'dead-letter.jsonl'),
  s3: join(dataDir, 's3'),
  s3Versions: join(dataDir, 's3-versions'),
  dynamodb: join(dataDir, 'dynamodb'),
  lock: join(dataDir, 'stack.lock'),
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/** One stack per data dir (dynalite would crash on LevelDB's lock). A lock left by a dead process is taken over. */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const file = stackFiles(dataDir).lock;
  for (let tries = 0; ; tries++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx' });
      return async () => {
        const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
        if (owner === process.pid) await rm(file, { force: true });
      };
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST' || tries > 0) throw err;
      const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) {
        throw new Error(`data dir ${dataDir} is in use by process ${owner} (${file}; delete it if that process is not a local stack)`);
      }
      await rm(file, { force: true });
    }
  }
}

/** The environment of a handler process pointed at `endpoints` (same variable names as the CDK stack sets). */
export function envFor(endpoints: StackEndpoints): Record<string, string> {
  const env: Record<string, string> = {
    [ENV.uploadsBucket]: endpoints.buckets.uploads,
    [ENV.reportsBucket]: endpoints.buckets.reports,
    [ENV.tableName]: endpoints.table,
    [ENV.alertsTopicArn]: endpoints.topics.alerts,
    [ENV.opsTopicArn]: endpoints.topics.ops,
    [ENV.s3ForcePathStyle]: 'true',
    [AWS_ENV.endpointS3]: endpoints.s3,
    [AWS_ENV.endpointDynamoDb]: endpoints.dynamodb,
    [AWS_ENV.endpointSns]: endpoints.sns,
    [AWS_ENV.endpointSqs]: endpoints.sqs,
    [ENV.uploadQueueUrl]: endpoints.queues.uploads,
    [AWS_ENV.region]: endpoints.region,
    [AWS_ENV.accessKeyId]: endpoints.credentials.accessKeyId,
    [AWS_ENV.secretAccessKey]: endpoints.credentials.secretAccessKey,
    [AWS_ENV.requestChecksumCalculation]: 'WHEN_REQUIRED',
    [AWS_ENV.responseChecksumValidation]: 'WHEN_REQUIRED',
    ...(endpoints.portal ? { [ENV.portalBaseUrl]: endpoints.portal } : {}),
    ...(endpoints.cognito
      ? {
          [ENV.userPoolId]: endpoints.cognito.userPoolId,
          [ENV.userPoolClientId]: endpoints.cognito.clientId,
          [ENV.userPoolJwksUrl]: endpoints.cognito.jwksUrl,
          [AWS_ENV.endpointCognito]: endpoints.cognito.url,
        }
      : {}),
  };
  return env;
}

const portInUse = (err: unknown) => (err as { code?: string } | null)?.code === 'EADDRINUSE';

/** Starts everything; endpoints.json is written only once all three answer. */
export async function startLocalStack(options: StartLocalStackOptions): Promise<LocalStack> {
  const dataDir = resolve(options.dataDir);
  const files = stackFiles(dataDir);
  const log = options.log ?? ((line: string) => console.error(line));
  await mkdir(dataDir, { recursive: true });

  const previous = await readEndpoints(dataDir);
  if (previous) {
    if (await probe(previous)) {
      throw new Error(`a local stack already runs on ${dataDir} (pid ${previous.pid}, S3 ${previous.s3}); use findOrStartStack, or stop it first`);
    }
    await rm(files.endpoints, { force: true }); // left by a process that died
  }
  const unlock = await lockDataDir(dataDir);

  let sns: LocalSns | undefined;
  let dynamo: LocalDynamo | undefined;
  let s3: LocalS3 | undefined;
  let sqs: LocalSqs | undefined;
  let idp: LocalIdp | undefined;
  const closeAll = async () => {
    await Promise.allSettled([s3?.close(), dynamo?.close(), sns?.close(), sqs?.close(), idp?.close()]);
    await unlock();
  };
  const arn = (name: string) => `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${name}`;
  const queue: LocalQueue | undefined = options.onUpload
    ? createLocalQueue({
        handler: options.onUpload,
        queueArn: arn(LOCAL_NAMES.uploadQueue),
        deadLetterFile: files.deadLetter,
        log,
        ...(options.retryDelaysMs ? { retryDelaysMs: options.retryDelaysMs } : {}),
        ...(options.concurrency ? { concurrency: options.concurrency } : {}),
      })
    : undefined;
  // the bucket notification: ObjectCreated under uploads/ of the uploads bucket → the ingest queue
  const notify = (v: VersionMeta) => {
    if (!queue || v.bucket !== LOCAL_NAMES.uploadsBucket || !v.key.startsWith(UPLOAD_PREFIX) || !v.eventName.startsWith('ObjectCreated:')) return;
    const event = { bucket: v.bucket, key: v.key, size: v.size, sequencer: v.sequencer, eTag: v.etag, eventTime: v.lastModified, objectVersionId: v.versionId, ...(v.principal ? { principal: v.principal } : {}) };
    queue.send(JSON.stringify(s3EventOf(event, v.eventName, LOCAL_REGION)));
  };
  let startup: Promise<ReconcileReport | null> = Promise.resolve(null);
  const idle = async () => {
    await startup;
    await queue?.idle();
  };

  const started = await Promise.allSettled([
    startSns({
      port: options.snsPort ?? 0,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      topics: [LOCAL_NAMES.alertsTopic, LOCAL_NAMES.opsTopic],
      alertsFile: files.alerts,
      ...(options.onAlert ? { onMessage: options.onAlert } : {}),
      ...(options.clock ? { now: options.clock } : {}),
      health: () => ({ dataDir }),
      idle: async () => {
        await idle();
        return { idle: true, ...queue?.stats() };
      },
    }).then((x) => (sns = x)),
    startDynamo({
      port: options.dynamodbPort ?? 0,
      tables: [LOCAL_NAMES.table],
      region: LOCAL_REGION,
      ...(options.dynamodbInMemory ? {} : { directory: files.dynamodb }),
    }).then((x) => (dynamo = x)),
    startS3({
      directory: files.s3,
      versionsDirectory: files.s3Versions,
      port: options.s3Port ?? 0,
      buckets: [LOCAL_NAMES.uploadsBucket, LOCAL_NAMES.reportsBucket],
      versioned: [LOCAL_NAMES.uploadsBucket],
      credentials: LOCAL_CREDENTIALS,
      region: LOCAL_REGION,
      onObjectCreated: notify,
      ...(options.clock ? { clock: options.clock } : {}),
      log,
    }).then((x) => (s3 = x)),
    startSqs({
      port: options.sqsPort ?? 0,
      queueName: LOCAL_NAMES.uploadQueue,
      deadLetterQueueName: LOCAL_NAMES.deadLetterQueue,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      ...(queue ? { queue } : {}),
    }).then((x) => (sqs = x)),
    startLocalIdp({ dataDir, region: LOCAL_REGION, accessKeyId: LOCAL_CREDENTIALS.accessKeyId }).then((x) => (idp = x)),
  ]);
  const names = ['SNS', 'DynamoDB', 'S3', 'SQS', 'user pool'] as const;
  const failures = started.flatMap((r, i) => (r.status === 'rejected' ? [[names[i]!, r.reason] as const] : []));
  if (failures.length) {
    await closeAll();
    const ports: Record<string, number | undefined> = { SNS: options.snsPort, DynamoDB: options.dynamodbPort, S3: options.s3Port, SQS: options.sqsPort, 'user pool': 0 };
    const lines = failures.map(([service, err]) => {
      if (portInUse(err)) return `${service}: port ${ports[service]} is in use (another hmis serve? choose another port, or 0 for a free one)`;
      const message = err instanceof Error ? err.message : String(err);
      if (service === 'DynamoDB' && /LOCK|lock/.test(message)) return `DynamoDB: ${files.dynamodb} is in use by another process (${message})`;
      return `${service}: ${message}`;
    });
    throw new Error(`local stack did not start:\n  ${lines.join('\n  ')}`);
  }
  const { removed, restored, adopted } = s3!.repaired;
  if (removed.length + restored.length + adopted.length) {
    log(`[local stack] mended after an unclean stop: ${removed.length} half-written objects removed, ${restored.length} current objects restored from their versions, ${adopted.length} unversioned objects kept as versions`);
  }

  const endpoints: StackEndpoints = {
    s3: s3!.url,
    dynamodb: dynamo!.url,
    sns: sns!.url,
    sqs: sqs!.url,
    region: LOCAL_REGION,
    credentials: { ...LOCAL_CREDENTIALS },
    buckets: { uploads: LOCAL_NAMES.uploadsBucket, reports: LOCAL_NAMES.reportsBucket },
    table: LOCAL_NAMES.table,
    topics: { alerts: sns!.topicArn(LOCAL_NAMES.alertsTopic), ops: sns!.topicArn(LOCAL_NAMES.opsTopic) },
    queues: { uploads: sqs!.queueUrl, deadLetters: arn(LOCAL_NAMES.deadLetterQueue) },
    cognito: { url: idp!.url, userPoolId: idp!.userPoolId, clientId: idp!.clientId, jwksUrl: idp!.jwksUrl },
    pid: process.pid,
  };
  try {
    await seedLocalDefinitions(endpoints);
    if (options.portal) endpoints.portal = await options.portal(endpoints);
  } catch (err) {
    await closeAll();
    throw err;
  }
  const tmp = `${files.endpoints}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(endpoints, null, 2)}\n`, 'utf8');
  await rename(tmp, files.endpoints);
  if (queue) startup = reconcileAtStart(endpoints, queue, log);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // first: nobody should find a stack that is going away
      const current = await readEndpoints(dataDir);
      if (current?.pid === process.pid) await rm(files.endpoints, { force: true });
      if (queue) {
        await startup;
        const drained = await Promise.race([
          queue.close().then(() => true),
          new Promise<false>((r) => setTimeout(() => r(false), options.drainTimeoutMs ?? 30_000).unref()),
        ]);
        if (!drained) log('[local stack] stopping with upload handlers still running');
      }
      await closeAll();
    })());

  return {
    endpoints,
    env: envFor(endpoints),
    dataDir,
    started: true,
    files: { endpoints: files.endpoints, alerts: files.alerts, deadLetter: files.deadLetter },
    idle,
    stats: () => queue?.stats() ?? { received: 0, delivered: 0, succeeded: 0, failedAttempts: 0, deadLettered: 0 },
    startup,
    repaired: s3!.repaired,
    stop,
  };
}

/** Every upload version against the table: what the queue held when the last run died is ingested now. */
async function reconcileAtStart(endpoints: StackEndpoints, queue: LocalQueue, log: (line: string) => void): Promise<ReconcileReport | null> {
  const clients = makeClients(endpoints);
  try {
    const report = await reconcile(
      { now: new Date() },
      {
        listing: new S3ObjectStore(clients.s3),
        store: new DynamoSubmissionStore(clients.dynamodb, endpoints.table),
        queue: { send: async (events) => void events.forEach((e) => queue.send(JSON.stringify(s3EventOf(e, 'ObjectCreated:Put', endpoints.region)))) },
        uploadsBucket: endpoints.buckets.uploads,
      },
    );
    if (report.found) log(`[local stack] start-up reconciliation: ${report.missing.length} uploads not ingested, ${report.halfDone.length} half-processed (sent to ingest), ${report.orphans.length} versions without their object`);
    return report;
  } catch (err) {
    log(`[local stack] start-up reconciliation failed: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  } finally {
    clients.destroy();
  }
}

/** <dataDir>/endpoints.json, or null when absent or unreadable. */
export async function readEndpoints(dataDir: string): Promise<StackEndpoints | null> {
  const file = stackFiles(resolve(dataDir)).endpoints;
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(await readFile(file, 'utf8')) as StackEndpoints;
  } catch {
    return null;
  }
}

async function answers(url: string, timeoutMs: number): Promise<Response | null> {
  try {
    return await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    return null;
  }
}

/** Whether the stack of `endpoints` is up: its process lives and all three servers answer. */
export async function probe(endpoints: StackEndpoints, timeoutMs = 1_000): Promise<boolean> {
  if (!alive(endpoints.pid)) return false;
  const [health, s3, dynamo] = await Promise.all([
    answers(`${endpoints.sns}/_hmis/health`, timeoutMs),
    answers(endpoints.s3, timeoutMs),
    answers(endpoints.dynamodb, timeoutMs),
  ]);
  await Promise.all([s3?.body?.cancel(), dynamo?.body?.cancel()]);
  if (!health?.ok || !s3 || !dynamo) return false;
  const body = (await health.json().catch(() => null)) as { service?: string; pid?: number } | null;
  return body?.service === 'hmis-local' && body.pid === endpoints.pid;
}

/** Waits until the stack of `endpoints` (any process) has no upload event queued or running. */
export async function waitIdle(endpoints: Pick<StackEndpoints, 'sns'>): Promise<void> {
  const res = await fetch(`${endpoints.sns}/_hmis/idle`);
  if (!res.ok) throw new Error(`local stack idle: HTTP ${res.status}`);
  await res.body?.cancel();
}

/**
 * The stack of `dataDir`: the one already running there (endpoints.json and its servers answer;
 * its stop() does nothing), or a new one started in this process.
 */
export async function findOrStartStack(dataDir: string, options: Omit<StartLocalStackOptions, 'dataDir'> = {}): Promise<RunningStack> {
  const existing = await readEndpoints(dataDir);
  if (existing && (await probe(existing))) {
    return {
      endpoints: existing,
      env: envFor(existing),
      dataDir: resolve(dataDir),
      started: false,
      idle: () => waitIdle(existing),
      stop: async () => {},
    };
  }
  return startLocalStack({ ...options, dataDir });
}
