/**
 * `npm start` = `hmis demo [--data-dir .hmis/demo] [--keep]`: the whole story on the bundled sample data,
 * no set-up. Writes 奈曼旗's sample submissions 2024-01 … 2025-03 (deliberately wrong ones included, and a
 * late re-upload that fixes a rejected one), starts the local stack, uploads every file in order as the
 * institutions would, waits for ingestion, prints the 2025-03 status, consolidates 2025-03, and says where
 * everything is. The data dir is emptied first so every run tells the same story.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { makeClients } from '../adapters/aws/clients.ts';
import { DynamoSubmissionStore } from '../adapters/dynamo/store.ts';
import { lazyUploadHandler } from '../adapters/local/handler.ts';
import { startLocalStack } from '../adapters/local/stack.ts';
import { writeFixtures } from '../../fixtures/sample/write.ts';
import { runTask } from '../core/schedule.ts';
import { readAlerts } from './alerts.ts';
import { parseArgs, stringFlag } from './args.ts';
import { localDeps } from './local.ts';
import { renderStatus, statusRows } from './status.ts';

const COUNTY = '150525';
const PERIOD = '2025-03';

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

  let env: Record<string, string> = {};
  const stack = await startLocalStack({ dataDir: join(dataDir, 'stack'), onUpload: lazyUploadHandler(() => env) });
  env = stack.env;
  const clients = makeClients(stack.endpoints);
  try {
    step(`本地环境已启动 local stack up: S3 ${stack.endpoints.s3}, DynamoDB ${stack.endpoints.dynamodb}, SNS ${stack.endpoints.sns}`);
    const files = [...manifest.files].sort((a, b) => a.uploadOrder - b.uploadOrder);
    for (const [i, f] of files.entries()) {
      const name = f.file.split('/').pop()!;
      const key = `uploads/${f.county}/${f.institution}/${f.template}/${f.period}/${name}`;
      await clients.s3.send(new PutObjectCommand({ Bucket: stack.endpoints.buckets.uploads, Key: key, Body: await readFile(join(fixturesDir, f.file)) }));
      // keep the trigger's queue short, so progress means something
      if ((i + 1) % 25 === 0 || i === files.length - 1) {
        await stack.idle();
        step(`上传并处理 uploaded and ingested ${i + 1}/${files.length}`);
      }
    }
    await stack.idle();
    const stats = stack.stats();
    step(`ingestion done: ${stats.succeeded} handled, ${stats.deadLettered} dead-lettered`);

    const store = new DynamoSubmissionStore(clients.dynamodb, stack.endpoints.table);
    const deps = localDeps(stack.endpoints, clients, store);
    const defs = await deps.definitions.at(PERIOD);
    const rows = statusRows(defs, COUNTY, PERIOD, await store.listPeriod(COUNTY, PERIOD));
    console.log(`\n${renderStatus(defs.county(COUNTY)!.name, PERIOD, rows)}\n`);

    const expected = manifest.files.filter((f) => f.expect === 'rejected').length;
    step(`${expected} uploads were wrong on purpose (see manifest.json notes); each has its report in s3://${stack.endpoints.buckets.reports}/reports/…`);

    // the commission's workbook, as the scheduled function writes it, and the deadline digest
    const reports = stack.endpoints.buckets.reports;
    const published = (await runTask({ task: 'consolidate', level: 'county', code: COUNTY, period: PERIOD }, deps, new Date())).published[0]!;
    const workbook = join(dataDir, published.fileName);
    await writeFile(workbook, (await deps.objects.get(reports, published.key, 100 * 1024 * 1024))!);
    step(`汇总表 consolidated workbook ${PERIOD}: ${workbook} (s3://${reports}/${published.key})`);
    const digest = (await runTask({ task: 'digest', county: COUNTY, period: PERIOD }, deps, new Date())).digests[0]!;
    step(`催报 deadline digest ${PERIOD}: ${digest.sent ? 'sent (see alerts below)' : 'nothing outstanding'}`);

    // the alerts the commission received, and the marked-up workbooks the institutions get back
    const alerts = await readAlerts(join(dataDir, 'stack'));
    const feedbackDir = join(dataDir, 'feedback');
    await mkdir(feedbackDir, { recursive: true });
    console.log(`\n告警 alerts received by the alerts topic: ${alerts.length}`);
    // every marked-up workbook of the county; an alert names its version (in the S3 key or the portal link)
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
      console.log(`  · ${a.subject ?? ''}  (${Object.entries(a.attributes).map(([k, v]) => `${k}=${v}`).join(' ')})${local}`);
    }
    console.log(`\n数据目录 data dir: ${dataDir}
  样例文件 fixtures: ${fixturesDir} (manifest.json)
  汇总表 consolidated workbook: ${workbook}
  标注后的工作簿 marked-up workbooks: ${feedbackDir}
  本地 S3 / DynamoDB 数据: ${join(dataDir, 'stack')}
  告警 alerts: ${stack.files.alerts}  (npx hmis alerts --data-dir ${relative(process.cwd(), join(dataDir, 'stack'))})

在门户中查看 open it in the portal:  npx hmis serve --data-dir ${relative(process.cwd(), join(dataDir, 'stack'))}   (then http://127.0.0.1:8080/)`);
    return stats.deadLettered === 0 ? 0 : 1;
  } finally {
    clients.destroy();
    await stack.stop();
  }
}
