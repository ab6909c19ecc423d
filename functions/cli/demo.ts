/**
 * `npm start` = `hmis demo [--data-dir .hmis/demo] [--keep]`: the whole story on the bundled sample data,
 * no set-up. Writes 奈曼旗's sample submissions 2024-01 … 2025-03 (deliberately wrong ones included, and a
 * late re-upload that fixes a rejected one), starts the local stack, uploads every file in order as the
 * institutions would, waits for ingestion, prints the 2025-03 status, consolidates 2025-03, and says where
 * everything is. The data dir is emptied first so every run tells the same story.
 */
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { makeClients } from '../adapters/aws/clients.ts';
import { DynamoSubmissionStore } from '../adapters/dynamo/store.ts';
import { lazyUploadHandler } from '../adapters/local/handler.ts';
import { startLocalStack } from '../adapters/local/stack.ts';
import { writeFixtures } from '../../fixtures/sample/write.ts';
import { parseArgs, stringFlag } from './args.ts';
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
    const rows = statusRows(COUNTY, await store.listPeriod(COUNTY, PERIOD));
    console.log(`\n${renderStatus(COUNTY, PERIOD, rows)}\n`);

    const expected = manifest.files.filter((f) => f.expect === 'rejected').length;
    step(`${expected} uploads were wrong on purpose (see manifest.json notes); each has its report in s3://${stack.endpoints.buckets.reports}/reports/…`);
    console.log(`\n数据目录 data dir: ${dataDir}\n  样例文件 fixtures: ${fixturesDir} (manifest.json)\n  本地 S3 / DynamoDB 数据: ${join(dataDir, 'stack')}\n  告警 alerts: ${stack.files.alerts}`);
    return stats.deadLettered === 0 ? 0 : 1;
  } finally {
    clients.destroy();
    await stack.stop();
  }
}
