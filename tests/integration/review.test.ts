/**
 * Review (审核), 关账 and the audit trail over the real stack: uploads through S3 with the portal's
 * metadata, ingest recording who and from where, review state in dynalite by conditional writes, the
 * CLI (`hmis approve`, `hmis status --json`, `hmis close`, `hmis audit`, `hmis users`) on the run's
 * stack, a return's alert through the local SNS, and the audit trail exported as JSON lines.
 * County 150627 (伊金霍洛旗) and period 2024-11: no other test touches them (periods.test.ts uploads 150627's quarters and years).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { BASE_VALUES } from '../../fixtures/workbooks/cases.ts';
import { makeClients, type Clients } from '../../functions/adapters/aws/clients.ts';
import { DynamoAuditLog } from '../../functions/adapters/dynamo/audit.ts';
import { DynamoSubmissionStore } from '../../functions/adapters/dynamo/store.ts';
import { localDefinitionsStore } from '../../functions/adapters/local/definitions.ts';
import { waitIdle } from '../../functions/adapters/local/stack.ts';
import { S3ObjectStore } from '../../functions/adapters/s3/objects.ts';
import { readAlerts } from '../../functions/cli/alerts.ts';
import { main } from '../../functions/cli/main.ts';
import type { StatusRow } from '../../functions/cli/status.ts';
import { auditExportKey, beijingDay, beijingMonth, type AuditEvent } from '../../functions/core/audit.ts';
import { StoredDefinitions } from '../../functions/core/definitions/source.ts';
import { writeWorkbookBuffer } from '../../functions/core/render/deterministic.ts';
import { buildTemplateWorkbook, elementCells } from '../../functions/core/render/template.ts';
import { runTask } from '../../functions/core/schedule.ts';
import type { IndicatorTemplate } from '../../schemas/index.ts';

const stack = inject('stack');
const COUNTY = '150627';
const INST = '150627-101';
const PERIOD = '2024-11';
let clients: Clients;
let store: DynamoSubmissionStore;
let audit: DynamoAuditLog;
let definitions: StoredDefinitions;
let uploads = 0;

/** a filled T-JC of the institution for PERIOD, JC28 as given (so each upload differs) */
async function workbook(jc28: number): Promise<Buffer> {
  const defs = await definitions.at(PERIOD);
  const def = defs.template('T-JC') as IndicatorTemplate;
  const found = defs.institution(INST)!;
  const wb = buildTemplateWorkbook(def, found.county, found.institution, PERIOD);
  const cells = elementCells(def);
  const ws = wb.getWorksheet(def.sheetName)!;
  for (const [code, v] of Object.entries({ ...BASE_VALUES['T-JC']!, JC28: jc28 })) if (cells.has(code)) ws.getCell(cells.get(code)!).value = v;
  return writeWorkbookBuffer(wb);
}

/** an upload as the portal's presigned POST makes it: the institution, the person and the address in its metadata */
async function upload(jc28: number): Promise<string> {
  const key = `uploads/${COUNTY}/${INST}/T-JC/${PERIOD}/${++uploads}_报表.xlsx`;
  await clients.s3.send(
    new PutObjectCommand({ Bucket: stack.buckets.uploads, Key: key, Body: await workbook(jc28), Metadata: { uploader: INST, 'uploader-user': '13600627101', 'uploader-ip': '203.0.113.50' } }),
  );
  await waitIdle(stack);
  return key;
}

/** runs an `hmis` command on the run's stack; exit code and what it printed */
async function hmis(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await main([...argv, '--data-dir', stack.dataDir]);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const row = async (): Promise<StatusRow> => (JSON.parse((await hmis('status', '--county', COUNTY, '--period', PERIOD, '--json')).out) as StatusRow[]).find((r) => r.institution === INST && r.template === 'T-JC')!;
const entry = async () => (await store.listPeriod(COUNTY, PERIOD)).find((e) => e.institution === INST && e.template === 'T-JC')!;

beforeAll(async () => {
  clients = makeClients(stack);
  store = new DynamoSubmissionStore(clients.dynamodb, stack.table);
  audit = new DynamoAuditLog(clients.dynamodb, stack.table);
  definitions = new StoredDefinitions(localDefinitionsStore(stack, clients));
});
afterAll(() => clients.destroy());

describe('review and 关账 over the stack', () => {
  it('an accepted upload records who and from where, and waits for review (待审核)', async () => {
    const key = await upload(2000);
    const e = await entry();
    expect(e.current).toMatchObject({ objectKey: key, status: expect.stringMatching(/^accepted/), uploadedBy: '13600627101', uploaderIp: '203.0.113.50', review: { state: 'pending' } });
    const version = (await store.versions({ institution: INST, template: 'T-JC', period: PERIOD }))[0]!;
    expect(version).toMatchObject({ uploadedBy: '13600627101', uploaderIp: '203.0.113.50' });
    expect(await row()).toMatchObject({ review: 'pending', correction: null });
    const month = beijingMonth(e.current!.uploadedAt);
    const events = (await audit.list(COUNTY, month, month)).filter((x) => x.action === 'upload' && x.subject.period === PERIOD);
    expect(events).toEqual([
      expect.objectContaining({ actor: { username: '13600627101', name: null }, ip: '203.0.113.50', subject: expect.objectContaining({ institution: INST, key, versionId: e.current!.versionId }), detail: expect.stringMatching(/^苏布尔嘎中心卫生院 基层医疗卫生机构月报 2024年11月：(已通过|有警告)/) }),
    ]);
  });

  it('hmis approve --return: returned with the reason, an alert to the institution; a re-upload is pending again; hmis approve: approved', async () => {
    const returned = await hmis('approve', '--institution', INST, '--template', 'T-JC', '--period', PERIOD, '--by', '审核员甲', '--return', '门急诊人次与上月相差过大，请核实');
    expect(returned).toMatchObject({ code: 0, out: expect.stringContaining('退回') });
    expect(await row()).toMatchObject({ review: 'returned' });
    expect((await entry()).current!.review).toMatchObject({ state: 'returned', by: 'cli:审核员甲', byName: '审核员甲', reason: '门急诊人次与上月相差过大，请核实' });
    const alert = (await readAlerts(stack.dataDir)).find((a) => a.attributes.institution === INST && a.attributes.kind === 'returned')!;
    expect(alert.deliveries.email).toContain('退回原因：门急诊人次与上月相差过大，请核实');
    expect(alert.deliveries.sms).toBe('【卫健统计】苏布尔嘎中心卫生院 2024年11月基层月报被退回，请联系卫健委');

    await upload(2100);
    expect(await row()).toMatchObject({ review: 'pending' });
    expect(await hmis('approve', '--institution', INST, '--template', 'T-JC', '--period', PERIOD, '--by', '审核员甲')).toMatchObject({ code: 0 });
    expect(await row()).toMatchObject({ review: 'approved' });
    expect((await hmis('approve', '--institution', '150627-102', '--template', 'T-JC', '--period', PERIOD, '--by', 'x')).code).toBe(1);
  });

  it('the same version made current again (a repeated S3 event) leaves the approval as it is; a review of a replaced version is refused', async () => {
    const current = (await entry()).current!;
    // what ingest writes for a repeated event of the same upload: the version afresh, review pending
    expect(await store.makeCurrent({ ...current, review: { state: 'pending' } })).toBe(true);
    expect((await entry()).current).toMatchObject({ versionId: current.versionId, review: { state: 'approved' } });
    const slot = { county: COUNTY, institution: INST, template: 'T-JC', period: PERIOD, held: false };
    expect(await store.setReview({ ...slot, versionId: '00000000000000000000' }, { state: 'returned', reason: 'x' })).toBe(false);
    expect(await store.checkWarning({ ...slot, versionId: '00000000000000000000' }, 'k|', { by: 'x', byName: 'x', at: '', note: '' })).toBe(false);
    expect((await entry()).current!.review).toMatchObject({ state: 'approved' });
  });

  it('hmis close: after it an accepted upload is a correction (补报), held until approved; approved, it replaces the return', async () => {
    const approved = (await entry()).current!;
    expect(await hmis('close', '--county', COUNTY, '--period', PERIOD, '--by', '管理员乙')).toMatchObject({ code: 0 });
    expect((await hmis('close', '--county', COUNTY, '--period', PERIOD, '--by', '管理员乙')).code).toBe(1);
    await upload(2200);
    let e = await entry();
    expect(e.current).toMatchObject({ versionId: approved.versionId, review: { state: 'approved' } });
    expect(e.correction).toMatchObject({ review: { state: 'pending' }, submission: { values: { JC28: 2200 } } });
    expect(await row()).toMatchObject({ review: 'approved', correction: { review: 'pending' } });
    // the consolidation counts the approved return, not the correction
    expect((e.current!.submission as { values: Record<string, number> }).values.JC28).toBe(2100);

    // a return of the correction leaves the current return; the re-upload is held again; approved, it replaces it
    expect(await hmis('approve', '--institution', INST, '--template', 'T-JC', '--period', PERIOD, '--by', '审核员甲', '--return', '请附说明')).toMatchObject({ code: 0, out: expect.stringContaining('补报') });
    expect((await entry()).correction!.review).toMatchObject({ state: 'returned' });
    await upload(2300);
    expect(await hmis('approve', '--institution', INST, '--template', 'T-JC', '--period', PERIOD, '--by', '审核员甲')).toMatchObject({ code: 0, out: expect.stringContaining('已替换原报表') });
    e = await entry();
    expect(e.correction).toBeNull();
    expect(e.current).toMatchObject({ review: { state: 'approved' }, submission: { values: { JC28: 2300 } } });
    expect(await row()).toMatchObject({ review: 'approved', correction: null });
  });

  it('hmis audit lists all of it; the nightly export writes each day’s events as JSON lines', async () => {
    const month = beijingMonth(new Date());
    const { code, out } = await hmis('audit', '--county', COUNTY, '--from', month, '--json');
    expect(code).toBe(0);
    // tests/integration/periods.test.ts uploads 150627's quarterly and annual returns on the same stack
    const events = (JSON.parse(out) as AuditEvent[]).filter((e) => e.subject.period === PERIOD);
    expect(events.map((e) => e.action)).toEqual(['upload', 'review', 'upload', 'review', 'close-month', 'upload', 'review', 'upload', 'review']);
    const what = '苏布尔嘎中心卫生院 基层医疗卫生机构月报 2024年11月';
    expect(events.filter((e) => e.action !== 'upload').map((e) => e.detail)).toEqual([
      `退回：${what}。原因：门急诊人次与上月相差过大，请核实`,
      `审核通过：${what}`,
      '关账：2024年11月',
      `退回：${what}补报。原因：请附说明`,
      `审核通过：${what}补报（替换原报表）`,
    ]);
    expect(events.filter((e) => e.action === 'upload').map((e) => e.detail.includes('已关账'))).toEqual([false, false, true, true]);
    expect((await hmis('audit', '--county', COUNTY, '--from', month)).out).toMatch(/关账\t成功\t管理员乙（cli:管理员乙）/);

    const day = beijingDay(events[0]!.at);
    const objects = new S3ObjectStore(clients.s3);
    const outcome = await runTask({ task: 'audit-export', day }, { definitions, objects, store, audit, reportsBucket: stack.buckets.reports, counties: [COUNTY] }, new Date());
    expect(outcome.audit).toContainEqual({ scope: COUNTY, key: auditExportKey(COUNTY, day), events: expect.any(Number) });
    const lines = Buffer.from((await objects.get(stack.buckets.reports, auditExportKey(COUNTY, day), 10_000_000))!).toString('utf8').trim().split('\n');
    const exported = lines.map((l) => JSON.parse(l) as AuditEvent);
    expect(exported.filter((e) => e.action === 'close-month')).toHaveLength(events.filter((e) => e.action === 'close-month' && beijingDay(e.at) === day).length);
    expect(exported.every((e) => beijingDay(e.at) === day && e.scope === COUNTY)).toBe(true);
  });

  it('hmis users: add, list, disable and reset on the stack’s user pool, each recorded', async () => {
    const added = await hmis('users', 'add', '--name', '测试填报', '--phone', '13600627102', '--role', '填报员', '--institution', '150627-102', '--by', '运维');
    expect(added).toMatchObject({ code: 0, out: expect.stringMatching(/临时密码 temporary password: [A-Z][a-z]{3}-\d{4}-[A-Z][a-z]/) });
    expect((await hmis('users', 'add', '--name', '重复', '--phone', '13600627102', '--role', '填报员', '--institution', '150627-102')).code).toBe(1);
    expect((await hmis('users', 'add', '--name', '错配', '--phone', '13600627103', '--role', '审核员', '--institution', '150627-102')).err).toContain('审核员和管理员的单位应为旗县卫健委');
    expect((await hmis('users', 'add', '--name', '市里', '--phone', '13600627104', '--role', '查看', '--city', '1506')).code).toBe(0);
    const listed = JSON.parse((await hmis('users', 'list', '--county', COUNTY, '--json')).out) as Array<{ username: string; status: string; enabled: boolean }>;
    expect(listed.map((u) => u.username)).toEqual(['13600627102']);
    expect(listed[0]).toMatchObject({ status: 'FORCE_CHANGE_PASSWORD', enabled: true });
    expect((await hmis('users', 'disable', '--phone', '13600627102', '--by', '运维')).code).toBe(0);
    expect((await hmis('users', 'reset', '--phone', '13600627102', '--by', '运维')).out).toContain('临时密码');
    expect((await hmis('users', 'disable', '--phone', '13600627199')).code).toBe(1);
    const month = beijingMonth(new Date());
    const userEvents = (await audit.list(COUNTY, month, month)).filter((e) => e.action === 'user');
    expect(userEvents.map((e) => [e.actor.username, e.detail.split('：')[0]])).toEqual([
      ['cli:运维', '新增用户'],
      ['cli:运维', '停用用户'],
      ['cli:运维', '重置密码'],
    ]);
    expect((await audit.list('1506', month, month)).map((e) => e.detail)).toEqual([expect.stringMatching(/^新增用户：市里（13600627104），查看，鄂尔多斯市/)]);
  });
});
