/**
 * Definitions the commission manages, over a local stack of its own (s3rver + dynalite, the real SDK):
 * seeded once and never overwritten; a new institution and a new data element added through the
 * definitions workbook reach the blank template, the validator, the portal grid and the consolidated
 * workbook from the effective period, with no code change; earlier periods stay byte-identical.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_VALUES } from '../../fixtures/workbooks/cases.ts';
import { makeClients, type Clients } from '../../functions/adapters/aws/clients.ts';
import { seedDefinitions, type StoredDefinitionsStore } from '../../functions/adapters/dynamo/definitions.ts';
import { DynamoSubmissionStore } from '../../functions/adapters/dynamo/store.ts';
import { localDefinitionsStore } from '../../functions/adapters/local/definitions.ts';
import { startLocalStack, type LocalStack } from '../../functions/adapters/local/stack.ts';
import { S3ObjectStore } from '../../functions/adapters/s3/objects.ts';
import { buildConsolidatedWorkbook, detailSheetName } from '../../functions/core/consolidate/index.ts';
import { importDefinitions } from '../../functions/core/definitions/import.ts';
import { StoredDefinitions } from '../../functions/core/definitions/source.ts';
import { writeDefinitionsWorkbook } from '../../functions/core/definitions/workbook.ts';
import { ingestUpload, type IngestDeps } from '../../functions/core/ingest.ts';
import { writeWorkbookBuffer } from '../../functions/core/render/deterministic.ts';
import { buildTemplateWorkbook, elementCells, writeTemplate } from '../../functions/core/render/template.ts';
import type { Report } from '../../functions/core/report.ts';
import { validateUpload } from '../../functions/core/validate/index.ts';
import { createPortalApi } from '../../functions/portal/api.ts';
import { MemoryAudit, MemoryIdentity } from '../fakes/memory.ts';
import { bundledLog, type IndicatorTemplate } from '../../schemas/index.ts';

const GENERATED = new Date('2025-05-08T02:00:00Z');
const NOW = new Date('2025-05-08T10:00:00+08:00');
const NEW = '150525-122';
let dir: string;
let stack: LocalStack;
let clients: Clients;
let defStore: StoredDefinitionsStore;
let deps: IngestDeps & { definitions: StoredDefinitions; store: DynamoSubmissionStore };
let sequence = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hmis-definitions-'));
  stack = await startLocalStack({ dataDir: dir, dynamodbInMemory: true, log: () => {} });
  clients = makeClients(stack.endpoints);
  defStore = localDefinitionsStore(stack.endpoints, clients);
  const objects = new S3ObjectStore(clients.s3);
  // no cache: this test wants to see each version at once (functions wait at most DEFINITIONS_MAX_AGE_MS)
  const definitions = new StoredDefinitions(defStore, { maxAgeMs: 0 });
  deps = { definitions, objects, store: new DynamoSubmissionStore(clients.dynamodb, stack.endpoints.table), reportsBucket: stack.endpoints.buckets.reports, maxUploadBytes: 10 * 1024 * 1024, now: () => NOW };
});

afterAll(async () => {
  clients?.destroy();
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** the institution's blank template of the period, as the definitions in force then define it, filled */
async function filled(institution: string, period: string, extra: Record<string, number> = {}): Promise<Buffer> {
  const defs = await deps.definitions.at(period);
  const def = defs.template('T-JC') as IndicatorTemplate;
  const found = defs.institution(institution)!;
  const wb = buildTemplateWorkbook(def, found.county, found.institution, period);
  const cells = elementCells(def);
  const ws = wb.getWorksheet(def.sheetName)!;
  for (const [code, v] of Object.entries({ ...BASE_VALUES['T-JC']!, ...extra })) if (cells.has(code)) ws.getCell(cells.get(code)!).value = v;
  return writeWorkbookBuffer(wb);
}

async function upload(institution: string, period: string, bytes: Buffer) {
  const key = `uploads/${institution.slice(0, 6)}/${institution}/T-JC/${period}/${institution}-${period}.xlsx`;
  await clients.s3.send(new PutObjectCommand({ Bucket: stack.endpoints.buckets.uploads, Key: key, Body: bytes }));
  sequence++;
  // an upload signed with IAM credentials (no uploader metadata): the principal names the uploader
  const outcome = await ingestUpload({ bucket: stack.endpoints.buckets.uploads, key, size: bytes.length, sequencer: String(sequence), eventTime: new Date(Date.parse('2025-05-02T02:00:00Z') + sequence * 1000).toISOString(), principal: 'AWS:AIDAEXAMPLE' }, deps);
  if (outcome.kind !== 'processed') throw new Error(`ignored: ${outcome.reason}`);
  return outcome;
}

const stripTime = (r: Report) => ({ ...r, stats: { ...r.stats, durationMs: 0 } });

describe('definitions in the store', () => {
  it('a new stack starts with the bundled definitions; seeding again never replaces them', async () => {
    expect(await defStore.head()).toMatchObject({ version: 1, key: expect.stringMatching(/^definitions\/v1-[0-9a-f]{12}\.json$/) });
    expect(await defStore.read((await defStore.head())!)).toEqual(bundledLog());
    expect(await seedDefinitions(defStore, bundledLog())).toBe(false);
  });

  it('two writers of the same version: exactly one moves the head', async () => {
    const log = await defStore.read((await defStore.head())!);
    const next = { versions: [...log.versions, { ...log.versions[0]!, version: 2, effective: '2030-01', summary: ['测试'], changes: [] }] };
    const results = await Promise.all([defStore.write(next, 1), defStore.write(next, 1)]);
    expect(results.sort()).toEqual([false, true]);
    // put the head back where the rest of this file expects it (a test-only move)
    expect(await defStore.write(log, 2)).toBe(true);
  });
});

describe('a new institution and a new data element, in force from 2025-04', () => {
  let before: { template: Buffer; report: Report; workbook: Buffer };
  const marchUpload = () => filled('150525-101', '2025-03');

  beforeAll(async () => {
    for (const inst of ['150525-101', '150525-102']) await upload(inst, '2025-03', await filled(inst, '2025-03'));
    const defs = await deps.definitions.at('2025-03');
    const found = defs.institution('150525-101')!;
    before = {
      template: await writeTemplate(defs.template('T-JC')!, found.county, found.institution, '2025-03'),
      report: stripTime((await validateUpload(await marchUpload(), { definitions: deps.definitions, institution: '150525-101', period: '2025-03', template: 'T-JC', now: NOW })).report),
      workbook: (await buildConsolidatedWorkbook(deps.store, deps.definitions, { level: 'county', code: '150525' }, '2025-03', GENERATED)).bytes,
    };

    // the commission exports, edits in Excel, imports
    const latest = await deps.definitions.latest();
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await writeDefinitionsWorkbook(latest.content, { version: latest.version, period: null }, NOW)) as unknown as ExcelJS.Buffer);
    const add = (sheet: string, values: Array<string | number | null>) => wb.getWorksheet(sheet)!.addRow(values);
    add('机构', ['150525', NEW, '新建社区卫生服务站', '社区卫生服务中心', null, '王五', '0475-4200099']);
    add('数据项', ['T-JC', 'JC30', '家庭医生签约服务人次', '人次', '整数', '否', '本期数', '是']);
    const { report } = await importDefinitions(defStore, Buffer.from(await wb.xlsx.writeBuffer()), { effective: '2025-04', by: '统计科 张某', now: NOW });
    expect(report).toMatchObject({ status: 'accepted', version: 2 });
  });

  it('reaches the blank template of 2025-04 (a new version with JC30) and the validator', async () => {
    const defs = await deps.definitions.at('2025-04');
    expect(defs.template('T-JC')).toMatchObject({ version: 2, from: '2025-04' });
    const found = defs.institution(NEW)!;
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await writeTemplate(defs.template('T-JC')!, found.county, found.institution, '2025-04')) as unknown as ExcelJS.Buffer);
    const codes: string[] = [];
    wb.getWorksheet('基层月报')!.getColumn(1).eachCell((c) => codes.push(String(c.value)));
    expect(codes).toContain('JC30');
    const outcome = await upload(NEW, '2025-04', await filled(NEW, '2025-04', { JC30: 7 }));
    expect(outcome).toMatchObject({ status: 'accepted', becameCurrent: true });
    expect((await deps.store.listPeriod('150525', '2025-04')).find((e) => e.institution === NEW)!.current!.submission).toMatchObject({ values: { JC30: 7 } });
    // last month's layout (version 1) is not this month's
    const v1 = (await deps.definitions.at('2025-03')).template('T-JC')!;
    const old = await upload('150525-101', '2025-04', await writeWorkbookBuffer(buildTemplateWorkbook(v1, found.county, defs.institution('150525-101')!.institution, '2025-04')));
    expect(old.report.issues[0]).toMatchObject({ code: 'template-version-retired', message: expect.stringContaining('应使用第2版') });
  });

  it('reaches the portal grid of 2025-04, and not the one of 2025-03', async () => {
    // the user pool is not what this test is about: people in memory, storage the real one
    const identity = new MemoryIdentity();
    identity.add({ username: '13800000001', name: '王审核', phone: '+8613800000001', roles: ['reviewer'], unit: '150525-000' }, 'Right-pass-1');
    const api = createPortalApi({
      identity,
      audit: new MemoryAudit(),
      definitions: deps.definitions,
      definitionsStore: defStore,
      store: deps.store,
      objects: deps.objects,
      links: { presignPost: async () => ({ url: '', fields: {} }), presignGet: async () => '' },
      publish: async () => ({ key: '', latestKey: '', fileName: '' }),
      uploadsBucket: stack.endpoints.buckets.uploads,
      reportsBucket: stack.endpoints.buckets.reports,
      maxUploadBytes: 10 * 1024 * 1024,
      now: () => NOW,
    });
    const login = await api({ method: 'POST', path: '/api/login', query: {}, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: '13800000001', password: 'Right-pass-1' }) });
    const cookie = login.cookies[0]!.split(';')[0]!;
    const grid = async (period: string) => JSON.parse(String((await api({ method: 'GET', path: '/api/county', query: { period }, headers: { cookie } })).body)) as { rows: Array<{ code: string; cells: Record<string, { status: string } | null> }> };
    expect((await grid('2025-04')).rows.find((r) => r.code === NEW)!.cells['T-JC']).toMatchObject({ status: 'accepted' });
    expect((await grid('2025-03')).rows.some((r) => r.code === NEW)).toBe(false);
  });

  it('reaches the consolidated workbook of 2025-04: a row for the institution, a column for JC30', async () => {
    const { bytes } = await buildConsolidatedWorkbook(deps.store, deps.definitions, { level: 'county', code: '150525' }, '2025-04', GENERATED);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(bytes as unknown as ExcelJS.Buffer);
    const detail = wb.getWorksheet(detailSheetName('基层月报'))!;
    const text: string[] = [];
    detail.eachRow((row) => row.eachCell((c) => text.push(String(c.value))));
    expect(text).toContain('新建社区卫生服务站');
    expect(text.some((t) => t.includes('JC30'))).toBe(true);
  });

  it('leaves 2025-03 exactly as it was: the template, the validation result and the consolidated workbook', async () => {
    const defs = await deps.definitions.at('2025-03');
    const found = defs.institution('150525-101')!;
    expect(await writeTemplate(defs.template('T-JC')!, found.county, found.institution, '2025-03')).toEqual(before.template);
    expect(stripTime((await validateUpload(await marchUpload(), { definitions: deps.definitions, institution: '150525-101', period: '2025-03', template: 'T-JC', now: NOW })).report)).toEqual(before.report);
    expect((await buildConsolidatedWorkbook(deps.store, deps.definitions, { level: 'county', code: '150525' }, '2025-03', GENERATED)).bytes).toEqual(before.workbook);
  });
});
