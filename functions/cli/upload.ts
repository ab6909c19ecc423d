import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PERIOD_PATTERN } from '../core/layout.ts';
import { parseArgs, requireFlag, stringFlag, UsageError } from './args.ts';
import { DEFAULT_DATA_DIR, openLocal } from './local.ts';

/**
 * `hmis upload FILE --institution CODE --template ID --period YYYY-MM [--name NAME] [--data-dir .hmis]`:
 * a plain S3 PutObject to uploads/<county>/<institution>/<template>/<period>/<name>, as an institution's
 * browser or script would; then waits for ingestion and prints the outcome.
 */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { institution: 'string', template: 'string', period: 'string', name: 'string', 'data-dir': 'string', json: 'boolean' });
  if (args.positionals.length !== 1) throw new UsageError('give exactly one FILE');
  const institution = requireFlag(args, 'institution');
  const template = requireFlag(args, 'template');
  const period = requireFlag(args, 'period');
  if (!PERIOD_PATTERN.test(period)) throw new UsageError(`--period must be YYYY-MM, got ${period}`);
  const file = args.positionals[0]!;
  const body = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${file}: ${err.code ?? err.message}`);
  });
  const local = await openLocal(stringFlag(args, 'data-dir') ?? DEFAULT_DATA_DIR);
  try {
    const found = (await local.deps.definitions.latest()).institution(institution);
    if (!found) throw new UsageError(`unknown institution ${institution}`);
    const key = `uploads/${found.county.code}/${institution}/${template}/${period}/${stringFlag(args, 'name') ?? basename(file)}`;
    await local.clients.s3.send(new PutObjectCommand({ Bucket: local.stack.endpoints.buckets.uploads, Key: key, Body: body }));
    await local.stack.idle();
    const entry = (await local.store.listPeriod(found.county.code, period)).find((e) => e.institution === institution && e.template === template);
    const latest = entry?.latest;
    if (args.flags.json) console.log(JSON.stringify({ key, latest, current: entry?.current ? { versionId: entry.current.versionId, status: entry.current.status } : null }, null, 2));
    else console.log(`已上传 s3://${local.stack.endpoints.buckets.uploads}/${key}\n结果：${latest ? `${STATUS[latest.status]}（错误 ${latest.errors}，警告 ${latest.warnings}）报告 s3://${local.stack.endpoints.buckets.reports}/${latest.reportKey}${latest.feedbackKey ? `\n标注后的工作簿 marked-up workbook: s3://${local.stack.endpoints.buckets.reports}/${latest.feedbackKey}` : ''}` : '未处理（键不符合 uploads/<旗县>/<机构>/<模板>/<统计期>/<文件名>？）'}`);
    return latest?.status === 'rejected' ? 1 : 0;
  } finally {
    await local.close();
  }
}

export const STATUS: Record<string, string> = { accepted: '已通过', accepted_with_warnings: '有警告', rejected: '未通过', missing: '未上报' };
