/**
 * The whole AWS side on one machine, in-process: s3rver (S3), dynalite (DynamoDB), a query-protocol
 * SNS endpoint, and the S3 → Lambda trigger. The handlers run unchanged with the real AWS SDK
 * clients: only the environment (`stack.env`) differs from AWS.
 *
 * <dataDir>/
 *   s3/                 s3rver's objects
 *   dynamodb/           dynalite's LevelDB (unless dynamodbInMemory)
 *   alerts.jsonl        every SNS Publish, one JSON line each
 *   dead-letter.jsonl   upload events whose handler failed 3 times (Lambda's on-failure record)
 *   idp.json, idp-key.pem   the user pool stand-in's users and signing key (functions/adapters/local/idp.ts)
 *   endpoints.json      written once everything answers (the portal too, when there is one), removed by stop()
 *   stack.lock          pid of the process using the data dir (LevelDB allows one), removed by stop()
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ClientEndpoints } from '../aws/clients.ts';
import { AWS_ENV, ENV } from '../../config.ts';
import { seedLocalDefinitions } from './definitions.ts';
import { startLocalIdp, type LocalIdp } from './idp.ts';
import { startDynamo, type LocalDynamo } from './dynamo.ts';
import { createUploadBridge, type BridgeStats, type UploadHandler } from './events.ts';
import { startS3, type LocalS3 } from './s3.ts';
import { startSns, type LocalSns, type SnsMessage } from './sns.ts';

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
} as const;

/** The content of <dataDir>/endpoints.json. */
export interface StackEndpoints extends ClientEndpoints {
  buckets: { uploads: string; reports: string };
  table: string;
  topics: { alerts: string; ops: string };
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
  /** the S3 → Lambda trigger's target; none: uploads are stored, nothing runs */
  onUpload?: UploadHandler;
  /** every SNS message, as it arrives (also in alerts.jsonl) */
  onAlert?: (message: SnsMessage) => void;
  /** DynamoDB in memory instead of <dataDir>/dynamodb (faster; lost at stop) */
  dynamodbInMemory?: boolean;
  /** the trigger's waits before retries 1 and 2 (default 1 s, 2 s) */
  retryDelaysMs?: number[];
  /** uploads handled at once (different keys; the same key is always sequential); default 2 */
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
  /** resolves when no upload event is queued, waiting for a retry, or running */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export interface LocalStack extends RunningStack {
  started: true;
  files: { endpoints: string; alerts: string; deadLetter: string };
  stats(): BridgeStats;
}

export const stackFiles = (dataDir: string) => ({
  endpoints: join(dataDir, 'endpoints.json'),
  alerts: join(dataDir, 'alerts.jsonl'),
  deadLetter: join(dataDir, 'dead-letter.jsonl'),
  s3: join(dataDir, 's3'),
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
  let idp: LocalIdp | undefined;
  const closeAll = async () => {
    await Promise.allSettled([s3?.close(), dynamo?.close(), sns?.close(), idp?.close()]);
    await unlock();
  };
  const bridge = options.onUpload
    ? createUploadBridge({
        handler: options.onUpload,
        bucket: LOCAL_NAMES.uploadsBucket,
        region: LOCAL_REGION,
        deadLetterFile: files.deadLetter,
        log,
        ...(options.retryDelaysMs ? { retryDelaysMs: options.retryDelaysMs } : {}),
        ...(options.concurrency ? { concurrency: options.concurrency } : {}),
        ...(options.clock ? { clock: options.clock } : {}),
      })
    : undefined;
  const idle = () => bridge?.idle() ?? Promise.resolve();

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
        return { idle: true, ...bridge?.stats() };
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
      port: options.s3Port ?? 0,
      buckets: [LOCAL_NAMES.uploadsBucket, LOCAL_NAMES.reportsBucket],
    }).then((x) => (s3 = x)),
    startLocalIdp({ dataDir, region: LOCAL_REGION, accessKeyId: LOCAL_CREDENTIALS.accessKeyId }).then((x) => (idp = x)),
  ]);
  const failures = started.flatMap((r, i) => (r.status === 'rejected' ? [[['SNS', 'DynamoDB', 'S3', 'user pool'][i]!, r.reason] as const] : []));
  if (failures.length) {
    await closeAll();
    const ports = { SNS: options.snsPort, DynamoDB: options.dynamodbPort, S3: options.s3Port };
    const lines = failures.map(([service, err]) => {
      if (portInUse(err)) return `${service}: port ${ports[service as keyof typeof ports]} is in use (another hmis serve? choose another port, or 0 for a free one)`;
      const message = err instanceof Error ? err.message : String(err);
      if (service === 'DynamoDB' && /LOCK|lock/.test(message)) return `DynamoDB: ${files.dynamodb} is in use by another process (${message})`;
      return `${service}: ${message}`;
    });
    throw new Error(`local stack did not start:\n  ${lines.join('\n  ')}`);
  }

  if (bridge) s3!.server.on('event', bridge.onS3Event);

  const endpoints: StackEndpoints = {
    s3: s3!.url,
    dynamodb: dynamo!.url,
    sns: sns!.url,
    region: LOCAL_REGION,
    credentials: { ...LOCAL_CREDENTIALS },
    buckets: { uploads: LOCAL_NAMES.uploadsBucket, reports: LOCAL_NAMES.reportsBucket },
    table: LOCAL_NAMES.table,
    topics: { alerts: sns!.topicArn(LOCAL_NAMES.alertsTopic), ops: sns!.topicArn(LOCAL_NAMES.opsTopic) },
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

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // first: nobody should find a stack that is going away
      const current = await readEndpoints(dataDir);
      if (current?.pid === process.pid) await rm(files.endpoints, { force: true });
      if (bridge) {
        s3!.server.off('event', bridge.onS3Event);
        const drained = await Promise.race([
          bridge.close().then(() => true),
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
    stats: () => bridge?.stats() ?? { received: 0, delivered: 0, succeeded: 0, failedAttempts: 0, deadLettered: 0 },
    stop,
  };
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
