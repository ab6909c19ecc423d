/**
 * `npm start` = `hmis demo [--data-dir .hmis/demo]`: the whole story on the bundled sample data, no
 * set-up. Writes 奈曼旗's sample submissions 2024-01 … 2025-03 (monthly returns; the quarterly T-QY of
 * 2024-Q1 … 2025-Q1 and the annual T-ND of 2024; deliberately wrong ones included, and a re-upload that
 * fixes a rejected one), starts the local stack, and uploads every file as the institutions would, each
 * at its time (manifest.json `uploadedAt`: most before its deadline, a few after it). A simulated clock
 * carries that time: the local S3 stamps each upload event with it, so ingest records the upload time,
 * on time or late, as it would have in AWS. Then it checks every outcome against the manifest, and on the
 * first working morning after the last upload and the March and first-quarter deadlines runs the
 * scheduled function's after-deadline task (the workbooks of 2025-03, 2025-Q1 and 2024, and their
 * deadline digests), prints who has reported and says where everything is. The data dir is emptied first
 * so every run tells the same story.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { makeClients } from '../adapters/aws/clients.ts';
import { DynamoSubmissionStore } from '../adapters/dynamo/store.ts';
import { lazyUploadHandler } from '../adapters/local/handler.ts';
import { PORTAL_DEFAULT_PORT } from '../adapters/local/portal.ts';
import { startLocalStack } from '../adapters/local/stack.ts';
import { writeFixtures } from '../../fixtures/sample/write.ts';
import { shanghaiTime } from '../core/consolidate/period.ts';
import { deadlinesOf } from '../core/alert/digest.ts';
import { nextRun, runTask, SCHEDULES } from '../core/schedule.ts';
import { bundledDefinitions } from '../../schemas/index.ts';
import { ENV } from '../config.ts';
import { readAlerts } from './alerts.ts';
import { parseArgs, stringFlag } from './args.ts';
import { localDeps } from './local.ts';
import { renderStatus, statusRows } from './status.ts';

const COUNTY = '150525';
const PERIOD = '2025-03';
/** the quarter March ends: its quarterly returns are due April 15 */
const QUARTER = '2025-Q1';
/** where `hmis serve --data-dir <demo>/stack` serves the portal: the alerts link to its pages */
const PORTAL = `http://127.0.0.1:${PORTAL_DEFAULT_PORT}`;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { 'data-dir': 'string' });
  const dataDir = resolve(stringFlag(args, 'data-dir') ?? '.hmis/demo');
  const started = performance.now();
  const step = (text: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${text}`);

  await rm(dataDir, { recursive: true, force: true });
  step('生成样例报表 writing the sample submissions of 奈曼旗 2024-01 … 2025-03 …');
  const fixturesDir = join(dataDir, 'fixtures');
  const { manifest } = await writeFixtures(fixturesDir);
  step(`  ${manifest.files.length} files in ${fixturesDir}`);

  // the simulated clock: set to each file's upload time just before it is uploaded
  let simulated = new Date(manifest.files[0]!.uploadedAt);
  let env: Record<string, string> = {};
  const stack = await startLocalStack({ dataDir: join(dataDir, 'stack'), onUpload: lazyUploadHandler(() => env), clock: () => simulated });
  env = { ...stack.env, [ENV.portalBaseUrl]: PORTAL };
  const endpoints = { ...stack.endpoints, portal: PORTAL };
  const clients = makeClients(stack.endpoints);
  try {
    step(`本地环境已启动 local stack up: S3 ${stack.endpoints.s3}, DynamoDB ${stack.endpoints.dynamodb}, SNS ${stack.endpoints.sns}`);
    const keyOf = (f: (typeof manifest.files)[number]) => `uploads/${f.county}/${f.institution}/${f.template}/${f.period}/${f.file.split('/').pop()}`;
    const files = [...manifest.files].sort((a, b) => a.uploadOrder - b.uploadOrder);
    for (const [i, f] of files.entries()) {
      simulated = new Date(f.uploadedAt);
      await clients.s3.send(new PutObjectCommand({ Bucket: stack.endpoints.buckets.uploads, Key: keyOf(f), Body: await readFile(join(fixturesDir, f.file)) }));
      // keep the trigger's queue short, so progress means something
      if ((i + 1) % 25 === 0 || i === files.length - 1) {
        await stack.idle();
        step(`上传并处理 uploaded and ingested ${i + 1}/${files.length}  (模拟时间 simulated time ${shanghaiTime(simulated)})`);
      }
    }
    await stack.idle();
    const stats = stack.stats();
    step(`ingestion done: ${stats.succeeded} handled, ${stats.deadLettered} dead-lettered`);

    // every outcome (the version of each upload, as stored) against what the manifest says it should be
    const store = new DynamoSubmissionStore(clients.dynamodb, stack.endpoints.table);
    const outcomes = new Map<string, string>();
    for (const f of files) {
      for (const v of await store.versions({ institution: f.institution, template: f.template, period: f.period })) outcomes.set(v.objectKey, v.status);
    }
    const mismatches = files.filter((f) => outcomes.get(keyOf(f)) !== f.expect).map((f) => `${f.file}: ${outcomes.get(keyOf(f)) ?? '未处理 not handled'} ≠ ${f.expect}`);
    const count = (expect: string) => files.filter((f) => f.expect === expect).length;
    step(
      mismatches.length
        ? `与清单不符 NOT as manifest.json expects: ${mismatches.length} of ${files.length}\n  ${mismatches.join('\n  ')}`
        : `全部与清单一致 all ${files.length} outcomes as manifest.json expects: ${count('accepted')} accepted, ${count('accepted_with_warnings')} with warnings, ${count('rejected')} rejected (see its notes)`,
    );

    // the first working morning after the last upload and the March and first-quarter deadlines: the scheduled function's after-deadline run
    const defs = bundledDefinitions();
    const county = defs.county(COUNTY)!;
    const lastUpload = Math.max(...files.map((f) => Date.parse(f.uploadedAt)), ...[PERIOD, QUARTER].flatMap((p) => deadlinesOf(defs, county, p).map((d) => d.at.getTime())));
    const afterDeadline = SCHEDULES.find((s) => s.name === 'after-deadline')!;
    simulated = nextRun(afterDeadline, new Date(lastUpload));
    step(`模拟时间 simulated time ${shanghaiTime(simulated)}（北京时间）：截止后的定时任务 the after-deadline run`);

    const deps = { ...localDeps(endpoints, clients, store), counties: [COUNTY] };
    for (const period of [PERIOD, QUARTER]) {
      const at = await deps.definitions.at(period);
      const rows = statusRows(at, COUNTY, period, await store.listPeriod(COUNTY, period), simulated);
      console.log(`\n${renderStatus(at.county(COUNTY)!.name, period, rows)}`);
    }
    console.log('');

    // the commission's workbooks and the deadline digests, as the scheduled function makes them that morning:
    // March, the first quarter (monthly returns and the quarterly T-QY), and 2024 (its annual T-ND was due March 31)
    const reports = stack.endpoints.buckets.reports;
    const outcome = await runTask({ task: 'after-deadline' }, deps, simulated);
    const workbooks: string[] = [];
    for (const published of outcome.published) {
      const workbook = join(dataDir, published.fileName);
      await writeFile(workbook, (await deps.objects.get(reports, published.key, 100 * 1024 * 1024))!);
      workbooks.push(workbook);
      const digest = outcome.digests.find((d) => d.period === published.period);
      step(`汇总表 consolidated workbook ${published.period}: ${workbook} (s3://${reports}/${published.key}); 催报 deadline digest: ${digest?.sent ? 'sent (see alerts below)' : 'nothing outstanding'}`);
    }

    // the alerts the commission received, and the marked-up workbooks the institutions get back
    const alerts = await readAlerts(join(dataDir, 'stack'));
    const feedbackDir = join(dataDir, 'feedback');
    await mkdir(feedbackDir, { recursive: true });
    console.log(`\n告警 alerts received by the alerts topic: ${alerts.length}`);
    // every marked-up workbook of the county; an alert names its version (in the portal link)
    const feedbackKeys = (await deps.objects.list(reports, `feedback/${COUNTY}/`)).map((o) => o.key);
    for (const a of alerts) {
      const where = feedbackKeys.find((k) => a.message.includes(k.split('/').pop()!.replace(/\.xlsx$/, '')));
      let local = '';
      if (where) {
        const bytes = await deps.objects.get(reports, where, 100 * 1024 * 1024);
        const file = join(feedbackDir, where.split('/').slice(2).join('_'));
        if (bytes) await writeFile(file, bytes);
        local = `\n      标注后的工作簿 marked-up workbook: ${relative(process.cwd(), file)}`;
      }
      console.log(`  · ${a.subject ?? ''}  (${Object.entries(a.attributes).map(([k, v]) => `${k}=${v}`).join(' ')})\n      短信 sms: ${a.deliveries.sms}${local}`);
    }
    const stackDir = relative(process.cwd(), join(dataDir, 'stack'));
    console.log(`\n数据目录 data dir: ${dataDir}
  样例文件 fixtures: ${fixturesDir} (manifest.json)
  汇总表 consolidated workbooks: ${workbooks.join('\n                               ')}
  标注后的工作簿 marked-up workbooks: ${feedbackDir}
  本地 S3 / DynamoDB 数据: ${join(dataDir, 'stack')}
  告警 alerts: ${stack.files.alerts}  (npx hmis alerts --data-dir ${stackDir})

在门户中查看 open it in the portal, on the same simulated morning (then ${PORTAL}/):
  npx hmis serve --data-dir ${stackDir} --clock ${new Date(simulated.getTime() + 8 * 3_600_000).toISOString().slice(0, 19)}+08:00`);
    return stats.deadLettered === 0 && mismatches.length === 0 ? 0 : 1;
  } finally {
    clients.destroy();
    await stack.stop();
  }
}
