/**
 * `hmis serve [--data-dir .hmis] [--s3-port 4569] [--dynamodb-port 4567] [--sns-port 4575] [--sqs-port 4576] [--portal-port 8080] [--clock ISO]`
 *
 * The AWS side on this machine, no account needed: S3 (s3rver behind its check, uploads versioned),
 * DynamoDB (dynalite, on disk under the data dir), SNS (alerts appended to <data-dir>/alerts.jsonl and
 * printed), the S3 → SQS → ingest path calling the ingest handler (functions/handlers/ingest-upload.ts) exactly as deployed
 * (same code, same SDK clients, only the environment differs), the schedules and the portal.
 * Port 0 = a free port. Runs until SIGINT/SIGTERM; <data-dir>/endpoints.json says where everything
 * is (the portal included) while it runs.
 */
import { relative, resolve } from 'node:path';
import { resetClients } from '../adapters/aws/clients.ts';
import type { LocalLambdaContext, SqsRecord, UploadHandler } from '../adapters/local/queue.ts';
import { decodeKey, s3RecordsOf } from '../handlers/s3-event.ts';
import { applyEnv, loadUploadHandler, type LoadedHandler } from '../adapters/local/handler.ts';
import { startScheduler, type LocalScheduler } from '../adapters/local/scheduler.ts';
import { startLocalStack, type LocalStack } from '../adapters/local/stack.ts';
import { PORTAL_DEFAULT_PORT, startPortal, type LocalPortal } from '../adapters/local/portal.ts';
import { makeClients } from '../adapters/aws/clients.ts';
import { runTask } from '../core/schedule.ts';
import { shanghaiTime } from '../core/consolidate/period.ts';
import { renderAlert } from './alerts.ts';
import { localDeps } from './local.ts';
import { parseArgs, stringFlag, UsageError } from './args.ts';

export const SERVE_DEFAULTS = { dataDir: '.hmis', s3Port: 4569, dynamodbPort: 4567, snsPort: 4575, sqsPort: 4576 } as const;

export interface ServeOptions {
  dataDir?: string;
  s3Port?: number;
  dynamodbPort?: number;
  snsPort?: number;
  sqsPort?: number;
  /** the upload handler; default: the ingest handler module, imported once the environment is set */
  handler?: UploadHandler;
  /** the portal (page and API, functions/adapters/local/portal.ts): default 8080, 0 = a free port, null = none */
  portalPort?: number | null;
  /** a simulated clock for upload times, the portal and the schedules (`--clock`); default the real one */
  clock?: () => Date;
  out?: (line: string) => void;
}

export interface Serving {
  stack: LocalStack;
  /** the scheduled function's schedules, fired in this process */
  scheduler: LocalScheduler;
  /** where the upload handler came from ('log' when there is none yet) */
  handlerSource: string;
  /** the portal, unless portalPort was null */
  portal: LocalPortal | null;
}

/** Starts the stack, sets process.env from it, loads the handler, prints how to use it. */
export async function serve(options: ServeOptions = {}): Promise<Serving> {
  const out = options.out ?? ((line: string) => console.log(line));
  let resolveHandler!: (h: UploadHandler) => void;
  const ready = new Promise<UploadHandler>((r) => (resolveHandler = r));

  const onUpload: UploadHandler = async (event: { Records: SqsRecord[] }, context: LocalLambdaContext) => {
    const handler = await ready;
    const started = performance.now();
    const result = (await handler(event, context)) as { batchItemFailures?: Array<{ itemIdentifier: string }> } | undefined;
    const failed = new Set(result?.batchItemFailures?.map((f) => f.itemIdentifier));
    for (const m of event.Records) {
      for (const r of s3RecordsOf(m.body)) {
        out(`[上传 upload] s3://${r.s3.bucket.name}/${decodeKey(r.s3.object.key)} → ${failed.has(m.messageId) ? '失败，稍后重试 failed, will be retried' : '处理完成 handled'} (${Math.round(performance.now() - started)} ms)`);
      }
    }
    return result;
  };

  const dataDir = resolve(options.dataDir ?? SERVE_DEFAULTS.dataDir);
  const now = options.clock ?? (() => new Date());
  // the portal starts with the stack, so that endpoints.json and the handlers' PORTAL_BASE_URL name it
  const started: { portal?: LocalPortal } = {};
  const portalPort = options.portalPort;
  const stack = await startLocalStack({
    dataDir,
    s3Port: options.s3Port ?? SERVE_DEFAULTS.s3Port,
    dynamodbPort: options.dynamodbPort ?? SERVE_DEFAULTS.dynamodbPort,
    snsPort: options.snsPort ?? SERVE_DEFAULTS.snsPort,
    sqsPort: options.sqsPort ?? SERVE_DEFAULTS.sqsPort,
    onUpload,
    onAlert: (m) => out(`[告警 alert] ${renderAlert(m)}`),
    log: (line) => out(line),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(portalPort !== null
      ? { portal: async (endpoints) => (started.portal = await startPortal({ stack: { endpoints }, dataDir, port: portalPort ?? PORTAL_DEFAULT_PORT, log: out, now })).url }
      : {}),
  });

  let loaded: LoadedHandler;
  try {
    if (options.handler) {
      applyEnv(stack.env);
      loaded = { handler: options.handler, source: 'injected' };
    } else {
      // handlers read their configuration once, at import (cold start): environment first
      loaded = await loadUploadHandler(stack.env, { log: out });
    }
  } catch (err) {
    resolveHandler(() => {
      throw err;
    });
    await started.portal?.close();
    await stack.stop();
    throw err;
  }
  resolveHandler(loaded.handler);
  const scheduler = startLocalSchedule(stack, out, now);
  const portal = started.portal ?? null;
  out(banner(stack, loaded.source, scheduler));
  if (portal) out(portalBanner(portal));
  return { stack, scheduler, handlerSource: loaded.source, portal };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { 'data-dir': 'string', 's3-port': 'string', 'dynamodb-port': 'string', 'sns-port': 'string', 'sqs-port': 'string', 'portal-port': 'string', clock: 'string', help: 'boolean' });
  if (args.flags.help) {
    console.log(USAGE);
    return 0;
  }
  if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
  const port = (name: string, fallback: number) => {
    const text = stringFlag(args, name);
    if (text === undefined) return fallback;
    if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new UsageError(`--${name} must be a port number 0…65535 (0 = any free port), got ${text}`);
    return Number(text);
  };
  const options: ServeOptions = {
    dataDir: stringFlag(args, 'data-dir') ?? SERVE_DEFAULTS.dataDir,
    s3Port: port('s3-port', SERVE_DEFAULTS.s3Port),
    dynamodbPort: port('dynamodb-port', SERVE_DEFAULTS.dynamodbPort),
    snsPort: port('sns-port', SERVE_DEFAULTS.snsPort),
    sqsPort: port('sqs-port', SERVE_DEFAULTS.sqsPort),
    portalPort: port('portal-port', PORTAL_DEFAULT_PORT),
  };
  const clockText = stringFlag(args, 'clock');
  if (clockText !== undefined) {
    const start = Date.parse(clockText);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(clockText) || Number.isNaN(start)) throw new UsageError(`--clock must be an ISO time such as 2025-04-08T09:00:00+08:00, got ${clockText}`);
    options.clock = runningFrom(new Date(start));
  }

  let serving: Serving;
  try {
    serving = await serve(options);
  } catch (err) {
    console.error(`hmis serve: 无法启动 cannot start: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  console.log(`\n${signal}: 正在停止 stopping (等待处理中的上传 waiting for running uploads; 再按一次 Ctrl-C 强制退出 press again to force)…`);
  const force = () => {
    console.error('hmis serve: 强制退出 forced exit');
    process.exit(130);
  };
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  serving.scheduler.stop();
  await serving.portal?.close();
  await serving.stack.stop();
  resetClients();
  process.off('SIGINT', force);
  process.off('SIGTERM', force);
  console.log('已停止 stopped; 数据保留在 data kept in ' + serving.stack.dataDir);
  return 0;
}

const USAGE = `usage: hmis serve [--data-dir ${SERVE_DEFAULTS.dataDir}] [--s3-port ${SERVE_DEFAULTS.s3Port}] [--dynamodb-port ${SERVE_DEFAULTS.dynamodbPort}] [--sns-port ${SERVE_DEFAULTS.snsPort}] [--sqs-port ${SERVE_DEFAULTS.sqsPort}] [--portal-port ${PORTAL_DEFAULT_PORT}] [--clock 2025-04-08T09:00:00+08:00]
  本机运行 S3、DynamoDB、SNS、SQS、上传触发和报表平台（无需 AWS 账号）；端口 0 = 任一空闲端口；
  --clock：模拟时钟从该时刻起走（上传时间、门户、定时任务），用于查看演示数据。
  Runs S3, DynamoDB, SNS, SQS, the upload trigger and the portal on this machine (no AWS account); port 0 = any
  free port; --clock: a simulated clock running from that instant (upload times, portal, schedules).`;

/** A clock that starts at \`start\` and runs at real speed. */
export function runningFrom(start: Date, real: () => number = Date.now): () => Date {
  const offset = start.getTime() - real();
  return () => new Date(real() + offset);
}

/** The scheduled function (functions/core/schedule.ts) on its schedules, against this stack. */
function startLocalSchedule(stack: LocalStack, out: (line: string) => void, now: () => Date): LocalScheduler {
  const clients = makeClients(stack.endpoints);
  const deps = localDeps(stack.endpoints, clients);
  const scheduler = startScheduler(async (task, name, at) => {
    try {
      // the schedule's own time, as Scheduler's <aws.scheduler.scheduled-time> (on a simulated clock too)
      const outcome = await runTask(task, deps, at);
      const done = outcome.published.map((p) => `s3://${stack.endpoints.buckets.reports}/${p.key}`);
      const digests = outcome.digests.filter((d) => d.sent).map((d) => `${d.county} ${d.period}`);
      const found = outcome.reconciled ? `; 对账 reconciled: ${outcome.reconciled.objects} objects, ${outcome.reconciled.found} found` : '';
      out(`[定时任务 schedule ${name}] 汇总表 consolidated: ${done.join(', ') || '—'}; 催报 digests: ${digests.join(', ') || '—'}${found}`);
    } catch (err) {
      out(`[定时任务 schedule ${name}] 失败 failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }, now);
  const stop = scheduler.stop;
  return { ...scheduler, stop: () => (stop(), clients.destroy()) };
}

function banner(stack: LocalStack, handlerSource: string, scheduler: LocalScheduler): string {
  const e = stack.endpoints;
  const dir = relative(process.cwd(), stack.dataDir) || '.';
  const key = 'uploads/150525/150525-101/T-JC/2025-03/报表.xlsx';
  const handler = handlerSource === 'log' ? '（尚无 ingest 处理程序：只记录事件 no ingest handler yet: events are only logged）' : relative(process.cwd(), handlerSource) || handlerSource;
  const creds = `AWS_ACCESS_KEY_ID=${e.credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${e.credentials.secretAccessKey}`;
  // newer AWS CLIs and boto3 (botocore ≥ 1.36) send aws-chunked bodies with trailing checksums by
  // default, which s3rver stores framing and all: "when_required" keeps the object intact
  const checksums = 'AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required';
  return `
本地 AWS 环境已启动 · local AWS stack running (pid ${e.pid})
  S3        ${e.s3}   存储桶 buckets: ${e.buckets.uploads} (上传 uploads), ${e.buckets.reports} (报告 reports)
  DynamoDB  ${e.dynamodb}   表 table: ${e.table}
  SNS       ${e.sns}   主题 topics: ${e.topics.alerts}, ${e.topics.ops}
  SQS       ${e.sqs}   上传队列 ingest queue: ${e.queues.uploads}
  凭证 credentials: ${e.credentials.accessKeyId} / ${e.credentials.secretAccessKey}   区域 region: ${e.region}
  数据目录 data dir: ${dir}  (endpoints.json, alerts.jsonl, dead-letter.jsonl, s3/, s3-versions/, dynamodb/)
  上传触发 upload trigger: s3://${e.buckets.uploads}/uploads/… → SQS → ${handler}

上传一份报表 · upload a return (AWS CLI):
  ${creds} ${checksums} \\
    aws --endpoint-url ${e.s3} --region ${e.region} s3 cp 报表.xlsx s3://${e.buckets.uploads}/${key}

Python (boto3; 先设置上面的两个 checksum 环境变量 export the two checksum variables above first):
  import boto3
  from botocore.config import Config
  s3 = boto3.client('s3', endpoint_url='${e.s3}', region_name='${e.region}',
                    aws_access_key_id='${e.credentials.accessKeyId}', aws_secret_access_key='${e.credentials.secretAccessKey}',
                    config=Config(s3={'addressing_style': 'path'}))
  s3.upload_file('报表.xlsx', '${e.buckets.uploads}', '${key}')

任何 SDK 或脚本的环境变量 · environment for any SDK, script or handler process:
${Object.entries(stack.env)
  .map(([k, v]) => `  export ${k}=${v}`)
  .join('\n')}

定时任务 schedules (北京时间 Asia/Shanghai): ${scheduler
    .next()
    .map((n) => `${n.name} 下次 next ${shanghaiTime(n.at)}`)
    .join('；')}
  立即汇总 consolidate now: npx hmis consolidate --county 150525 --period 2025-03 --data-dir ${dir}

告警会显示在下方并写入 ${dir}/alerts.jsonl · alerts are printed below and appended to ${dir}/alerts.jsonl
按 Ctrl-C 停止 · Ctrl-C to stop
`;
}

/** Where the portal is and who signs in first (the administrators created for an empty user pool, in <data-dir>/portal-users.txt). */
function portalBanner(portal: LocalPortal): string {
  const rel = relative(process.cwd(), portal.usersFile);
  const file = rel && !rel.startsWith('..') ? rel : portal.usersFile;
  const first = portal.users.length
    ? `  首次登录 first sign-in (手机号 mobile / 临时密码 temporary password, 登录后须修改 change it at first sign-in):
${portal.users.map((u) => `    ${u.username}  ${u.temporaryPassword}  管理员、审核员  ${u.countyName}`).join('\n')}
  其他账号请在「用户管理」中创建 · add everyone else on the 用户管理 page, or: npx hmis users add … --data-dir …
  (also in ${file})`
    : `  账号 users: npx hmis users list --county 150525 --data-dir … (首次创建的管理员 first administrators: ${file})`;
  return `报表平台 portal: ${portal.url}/
${first}
`;
}
