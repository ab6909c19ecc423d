/**
 * Alerts and the scheduled function over the real local stack: the ingest and consolidate handlers
 * as deployed, the SDK's SNS client publishing to the local SNS endpoint (alerts.jsonl), s3rver and
 * dynalite. Nothing is stubbed: the alerts counted are the ones the endpoint received.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeClients, type Clients } from '../../functions/adapters/aws/clients.ts';
import { DynamoSubmissionStore } from '../../functions/adapters/dynamo/store.ts';
import { readAlerts } from '../../functions/cli/alerts.ts';
import { makeEntry } from '../../functions/core/consolidate/build.ts';
import type { S3Event, SqsBatchResponse, SqsEvent } from '../../functions/handlers/s3-event.ts';
import { CASES } from '../../fixtures/workbooks/cases.ts';
import { caseFile } from '../../fixtures/workbooks/make.ts';
import { bundledDefinitions } from '../../schemas/index.ts';

const run = promisify(execFile);
const stack = inject('stack');
let clients: Clients;
let store: DynamoSubmissionStore;
let ingest: (event: SqsEvent) => Promise<SqsBatchResponse>;
let scheduled: (event: unknown) => Promise<unknown>;
let dir: string;

const fixture = (name: string) => readFile(caseFile(CASES.find((c) => c.name === name)!));

async function body(bucket: string, key: string): Promise<Buffer> {
  const out = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

async function keysUnder(bucket: string, prefix: string): Promise<string[]> {
  const out = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

/** What the local SNS endpoint received (it writes alerts.jsonl before Publish answers). */
async function alertsWhere(match: (a: Awaited<ReturnType<typeof readAlerts>>[number]) => boolean) {
  return (await readAlerts(stack.dataDir)).filter(match);
}

beforeAll(async () => {
  clients = makeClients(stack);
  store = new DynamoSubmissionStore(clients.dynamodb, stack.table);
  dir = await mkdtemp(join(tmpdir(), 'hmis-alerts-'));
  Object.assign(process.env, stack.env);
  ({ handler: ingest } = await import('../../functions/handlers/ingest-upload.ts'));
  ({ handler: scheduled } = await import('../../functions/handlers/consolidate.ts'));
});
afterAll(async () => {
  clients.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('a rejected upload', () => {
  it('gives exactly one alert and one marked-up workbook when its event is delivered twice', async () => {
    // 150525-101's workbook with JC-R03 broken, uploaded under 150525-108 (a submission no other test
    // touches); stored where the trigger does not fire, so only these two direct deliveries process it
    const key = 'uploads/150525/150525-108/T-JC/2025-03/两次.xlsx';
    const bytes = await fixture('rule-JC-R03');
    await clients.s3.send(new PutObjectCommand({ Bucket: stack.buckets.reports, Key: key, Body: bytes }));
    const s3: S3Event = {
      Records: [{ eventName: 'ObjectCreated:Put', eventTime: '2025-04-03T01:00:00.000Z', userIdentity: { principalId: 'AWS:AIDAEXAMPLE' }, s3: { bucket: { name: stack.buckets.reports }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size: bytes.length, sequencer: '0000000000000000C1' } } }],
    };
    const event: SqsEvent = { Records: [{ messageId: 'm1', body: JSON.stringify(s3) }] };
    expect(await ingest(event)).toEqual({ batchItemFailures: [] });
    expect(await ingest(event)).toEqual({ batchItemFailures: [] });
    const versions = await store.versions({ institution: '150525-108', template: 'T-JC', period: '2025-03' });
    expect(versions).toHaveLength(1);
    const first = { feedback: versions[0]!.feedbackKey };
    expect(first.feedback).toMatch(/^feedback\/150525\/150525-108\/T-JC\/2025-03\/[0-9a-f]{20}\.xlsx$/);
    const versionId = versions[0]!.versionId;

    const alerts = await alertsWhere((a) => a.message.includes(versionId));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.topicArn).toBe(stack.topics.alerts);
    expect(alerts[0]!.attributes).toMatchObject({ county: '150525', institution: '150525-108', template: 'T-JC', period: '2025-03', severity: 'error', kind: 'rejection' });
    expect(alerts[0]!.message).toContain(`s3://${stack.buckets.reports}/${first!.feedback}`);
    expect((await keysUnder(stack.buckets.reports, 'feedback/150525/150525-108/T-JC/2025-03/')).filter((k) => k.includes(versionId))).toEqual([first!.feedback]);

    // read back by openpyxl: 校验结果 first, a link to the problem cell, which has a note and a red fill
    const report = JSON.parse((await body(stack.buckets.reports, `reports/150525/150525-108/T-JC/2025-03/${versionId}.json`)).toString('utf8'));
    const problem = report.issues.find((i: { severity: string }) => i.severity === 'error');
    const file = join(dir, 'feedback.xlsx');
    await writeFile(file, await body(stack.buckets.reports, first!.feedback!));
    const script = `
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb[sys.argv[2]]
c = ws[sys.argv[3]]
links = [x.hyperlink.location for row in wb.worksheets[0].iter_rows() for x in row if x.hyperlink is not None]
print(json.dumps({"first": wb.sheetnames[0], "links": links, "comment": c.comment.text if c.comment else None, "fill": c.fill.fgColor.rgb if c.fill.fill_type == "solid" else None}, ensure_ascii=False))
`;
    const { stdout } = await run('/usr/bin/python3', ['-c', script, file, problem.sheet, problem.cell]);
    const read = JSON.parse(stdout);
    expect(read.first).toBe('校验结果');
    expect(read.links.some((l: string) => l.endsWith(`!${problem.cell}`) || l.endsWith(`!$${problem.cell.replace(/(\d)/, '$$$1')}`))).toBe(true);
    expect(read.comment).toContain('【校验】');
    expect(read.fill).toBe('FFFFC7CE');
  });
});

describe('the scheduled function', () => {
  // 150425 (克什克腾旗) 2024-06 belongs to this file alone
  const COUNTY = '150425';
  const PERIOD = '2024-06';

  beforeAll(async () => {
    const county = bundledDefinitions().county(COUNTY)!;
    const accepted = county.institutions[1]!; // 人民医院: accepted
    const rejected = county.institutions[4]!; // a township centre: only a rejected upload
    const entries = [
      makeEntry({ institution: accepted.code, template: bundledDefinitions().owed(accepted, PERIOD)[0]!, period: PERIOD, values: {} }),
      makeEntry({ institution: rejected.code, template: bundledDefinitions().owed(rejected, PERIOD)[0]!, period: PERIOD, rejected: [] }),
    ];
    for (const e of entries) {
      if (e.current) {
        await store.putVersion(e.current, e.current.submission);
        await store.makeCurrent(e.current);
        await store.recordAttempt(e.current);
      } else await store.recordAttempt(e.latest!);
    }
  });

  it('digest: one message for the county naming exactly the missing and the rejected', async () => {
    const out = await scheduled({ task: 'digest', county: COUNTY, period: PERIOD });
    expect(out).toMatchObject({ digests: [{ county: COUNTY, period: PERIOD, sent: true }] });
    const [digest, ...more] = await alertsWhere((a) => a.attributes.kind === 'digest' && a.attributes.county === COUNTY && a.attributes.period === PERIOD);
    expect(more).toHaveLength(0);
    const county = bundledDefinitions().county(COUNTY)!;
    const [acceptedInst, rejectedInst] = [county.institutions[1]!, county.institutions[4]!];
    const [acceptedTpl, rejectedTpl] = [bundledDefinitions().owed(acceptedInst, PERIOD)[0]!, bundledDefinitions().owed(rejectedInst, PERIOD)[0]!];
    // expected from the registry alone: every pair owed for the month (no quarterly or annual return) but the accepted one (missing) and the rejected one
    const missing = county.institutions.flatMap((i) => bundledDefinitions().owed(i, PERIOD).map((t) => [i.code, t] as const)).filter(([i, t]) => !(i === acceptedInst.code && t === acceptedTpl) && !(i === rejectedInst.code && t === rejectedTpl));
    const [missingPart, rejectedPart] = digest!.message.split('二、');
    const listed = (part: string) => [...part.matchAll(/（(\d{6}-\d{3})）：([^\n]*)/g)].flatMap((m) => [...m[2]!.matchAll(/（(T-[A-Z]{2})）/g)].map((t) => `${m[1]}#${t[1]}`)).sort();
    expect(listed(missingPart!)).toEqual(missing.map(([i, t]) => `${i}#${t}`).sort());
    expect(listed(rejectedPart!)).toEqual([`${rejectedInst.code}#${rejectedTpl}`]);
    expect(digest!.message).toMatch(/未通过\s*1\s*份/);
  });

  it('consolidate on demand: a new object and the latest copy, the workbook sheets in order', async () => {
    const out = (await scheduled({ task: 'consolidate', level: 'county', code: COUNTY, period: PERIOD })) as { published: Array<{ key: string; latestKey: string }> };
    const { key, latestKey } = out.published[0]!;
    expect(latestKey).toBe(`consolidated/${COUNTY}/latest/${PERIOD}.xlsx`);
    expect(await keysUnder(stack.buckets.reports, `consolidated/${COUNTY}/`)).toEqual(expect.arrayContaining([key, latestKey]));
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await body(stack.buckets.reports, latestKey)) as unknown as ArrayBuffer);
    const names = wb.worksheets.map((w) => w.name);
    expect(names.slice(0, 3)).toEqual(['说明', '上报情况', '指标汇总']);
    expect(names.slice(-2)).toEqual(['任务台账', '校验问题']);
    expect(Buffer.compare(await body(stack.buckets.reports, key), await body(stack.buckets.reports, latestKey))).toBe(0);
  });

  it('a scheduled task is claimed once in DynamoDB, and can be given back', async () => {
    const id = `digest#${COUNTY}#${PERIOD}#2024-07-08`;
    const now = new Date();
    expect(await store.claimTask(id, now)).toBe(true);
    expect(await store.claimTask(id, now)).toBe(false);
    await store.releaseTask(id);
    expect(await Promise.all([store.claimTask(id, now), store.claimTask(id, now)])).toEqual(expect.arrayContaining([true, false]));
  });

  it('a malformed task is refused with a reason, not thrown (a retry would fail the same way)', async () => {
    expect(await scheduled({ task: 'consolidate', code: COUNTY, period: '2024-13' })).toMatchObject({ error: expect.stringContaining('period') });
    expect(await scheduled({ task: 'consolidate', code: '999999', period: PERIOD })).toMatchObject({ error: expect.stringContaining('999999') });
  });
});
