/**
 * A quarterly and an annual return through the whole pipeline on the real local stack (s3rver,
 * dynalite, the local SNS endpoint; the deployed handlers): the blank template of a quarter, the upload
 * under a quarter's or a year's key, validation with the history check against earlier quarters, the
 * status of the period, the digest only after the template's own deadline, and the quarter's and the
 * years' consolidated workbooks (a month's has neither return). 伊金霍洛旗 (150627) belongs to this file.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeClients, type Clients } from '../../functions/adapters/aws/clients.ts';
import { DynamoSubmissionStore } from '../../functions/adapters/dynamo/store.ts';
import { waitIdle } from '../../functions/adapters/local/stack.ts';
import { readAlerts } from '../../functions/cli/alerts.ts';
import { statusRows } from '../../functions/cli/status.ts';
import { writeWorkbookBuffer } from '../../functions/core/render/deterministic.ts';
import { buildTemplateWorkbook, elementCells } from '../../functions/core/render/template.ts';
import { type IndicatorTemplate, bundledDefinitions } from '../../schemas/index.ts';

const stack = inject('stack');
const COUNTY = '150627';
const CENTRE = '150627-101';
const COMMISSION = '150627-000';
let clients: Clients;
let store: DynamoSubmissionStore;
let scheduled: (event: unknown) => Promise<unknown>;

/** The blank template of a period, filled in as a statistician would. */
async function filled(template: string, institution: string, period: string, values: Record<string, number>): Promise<Buffer> {
  const defs = bundledDefinitions();
  const found = defs.institution(institution)!;
  const def = defs.template(template) as IndicatorTemplate;
  const wb = buildTemplateWorkbook(def, found.county, found.institution, period);
  const ws = wb.getWorksheet(def.sheetName)!;
  const cells = elementCells(def);
  for (const [code, v] of Object.entries(values)) ws.getCell(cells.get(code)!).value = v;
  ws.getCell('B5').value = '王某';
  ws.getCell('D5').value = '0477-8612345';
  return writeWorkbookBuffer(wb);
}

async function upload(template: string, institution: string, period: string, bytes: Buffer, keyPeriod = period): Promise<void> {
  await clients.s3.send(new PutObjectCommand({ Bucket: stack.buckets.uploads, Key: `uploads/${COUNTY}/${institution}/${template}/${keyPeriod}/${template}_${period}.xlsx`, Body: bytes }));
  await waitIdle(stack);
}

async function workbookAt(key: string): Promise<ExcelJS.Workbook> {
  const out = await clients.s3.send(new GetObjectCommand({ Bucket: stack.buckets.reports, Key: key }));
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load((await out.Body!.transformToByteArray()) as unknown as ArrayBuffer);
  return wb;
}

const consolidated = async (period: string, at: string) => {
  const out = (await scheduled({ task: 'consolidate', level: 'county', code: COUNTY, period, scheduledTime: at })) as { published: Array<{ latestKey: string }> };
  return workbookAt(out.published[0]!.latestKey);
};

/** the rows of a sheet as arrays of cell values */
const rowsOf = (ws: ExcelJS.Worksheet) => {
  const out: unknown[][] = [];
  ws.eachRow((row) => out.push((row.values as unknown[]).slice(1)));
  return out;
};

const QUARTERS = { '2024-Q2': 70, '2024-Q3': 82, '2024-Q4': 90 } as const;
const team = (visits: number) => ({ QY01: 5, QY02: 21, QY03: 8, QY04: visits, QY05: 96 });

beforeAll(async () => {
  clients = makeClients(stack);
  store = new DynamoSubmissionStore(clients.dynamodb, stack.table);
  Object.assign(process.env, stack.env);
  ({ handler: scheduled } = await import('../../functions/handlers/consolidate.ts'));
});
afterAll(() => clients.destroy());

describe('a quarterly return (T-QY 家庭医生签约服务季报)', () => {
  it('has a blank template of its quarter, due on the 15th of the month after it', async () => {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await filled('T-QY', CENTRE, '2025-Q1', {})) as unknown as ArrayBuffer);
    const ws = wb.getWorksheet('家庭医生季报')!;
    expect(ws.getCell('B4').value).toBe('2025-Q1');
    const text = wb.worksheets.flatMap((s) => rowsOf(s).flat()).filter((v): v is string => typeof v === 'string').join('\n');
    expect(text).toContain('2025年第1季度');
    expect(text).toContain('季度终了后次月15日23:59前，即2025年4月15日23:59前');
  });

  it('is validated against the centre’s earlier quarters: a jump in 上门医疗 is a warning, the return accepted', async () => {
    for (const [period, visits] of Object.entries(QUARTERS)) await upload('T-QY', CENTRE, period, await filled('T-QY', CENTRE, period, team(visits)));
    for (const period of Object.keys(QUARTERS)) expect(await store.current(COUNTY, period, 'T-QY', CENTRE), period).toMatchObject({ status: 'accepted' });

    await upload('T-QY', CENTRE, '2025-Q1', await filled('T-QY', CENTRE, '2025-Q1', team(400)));
    const current = await store.current(COUNTY, '2025-Q1', 'T-QY', CENTRE);
    expect(current).toMatchObject({ status: 'accepted_with_warnings', submission: { values: { QY04: 400 } } });
    const outlier = current!.firstIssues.find((i) => i.code === 'history-outlier')!;
    expect(outlier).toMatchObject({ element: 'QY04', cell: elementCells(bundledDefinitions().template('T-QY') as IndicatorTemplate).get('QY04') });
    expect(outlier.message).toContain('季度');
  });

  it('a quarterly workbook under a month’s key is refused, naming the period it needs', async () => {
    await upload('T-QY', '150627-102', '2025-Q1', await filled('T-QY', '150627-102', '2025-Q1', team(50)), '2025-03');
    const [entry] = (await store.listPeriod(COUNTY, '2025-03')).filter((e) => e.institution === '150627-102' && e.template === 'T-QY');
    expect(entry!.current).toBeNull();
    expect(entry!.latest).toMatchObject({ status: 'rejected' });
    expect(entry!.latest!.firstIssues.map((i) => i.message).join('\n')).toMatch(/2025-Q1|季度/);
  });

  it('status: the quarter’s eight centres owe it, one has reported, on time', async () => {
    const defs = bundledDefinitions();
    const rows = statusRows(defs, COUNTY, '2025-Q1', await store.listPeriod(COUNTY, '2025-Q1'), new Date('2025-04-16T09:00:00+08:00'));
    expect(rows.map((r) => r.template)).toEqual(new Array(8).fill('T-QY'));
    expect(rows.filter((r) => r.status !== 'missing').map((r) => [r.institution, r.status])).toEqual([[CENTRE, 'accepted_with_warnings']]);
    expect(rows.filter((r) => r.status === 'missing').every((r) => r.timeliness === '逾期未报')).toBe(true);
    // a month's status owes no quarterly return
    expect(statusRows(defs, COUNTY, '2025-03', [], new Date('2025-04-16T09:00:00+08:00')).some((r) => r.template === 'T-QY')).toBe(false);
  });

  it('the digest of the quarter goes out only after April 15, naming the seven centres that owe it (the one under a month’s key too)', async () => {
    const digestAt = async (at: string) => ((await scheduled({ task: 'digest', county: COUNTY, period: '2025-Q1', scheduledTime: at })) as { digests: Array<{ sent: boolean }> }).digests[0]!.sent;
    expect(await digestAt('2025-04-15T15:00:00Z')).toBe(false); // 23:00 Beijing time on the 15th
    expect(await digestAt('2025-04-16T01:00:00Z')).toBe(true);
    const alerts = (await readAlerts(stack.dataDir)).filter((a) => a.attributes.kind === 'digest' && a.attributes.county === COUNTY && a.attributes.period === '2025-Q1');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.subject).toBe('【逾期提醒】伊金霍洛旗 2025年第1季度：未上报7份，未通过0份');
    expect(alerts[0]!.message).toContain('截止时间 2025年4月15日23:59 已过');
    const listed = [...alerts[0]!.message.matchAll(/（(150627-\d{3})）：/g)].map((m) => m[1]).sort();
    expect(listed).toEqual(['150627-102', '150627-103', '150627-104', '150627-105', '150627-106', '150627-107', '150627-108']);
    expect(alerts[0]!.message).not.toContain('（T-JC）');
  });

  it('counts in the quarter’s workbook, not in the month’s', async () => {
    const quarter = await consolidated('2025-Q1', '2025-04-16T01:00:00Z');
    const detail = quarter.getWorksheet('家庭医生季报明细')!;
    expect(detail).toBeDefined();
    const row = rowsOf(detail).find((r) => r[0] === CENTRE)!;
    expect(row).toEqual(expect.arrayContaining([5, 21, 8, 400, 96]));
    const status = rowsOf(quarter.getWorksheet('上报情况')!);
    expect(status.some((r) => r[0] === CENTRE && r.includes('家庭医生签约服务季报') && r.includes('2025年第1季度'))).toBe(true);
    const month = await consolidated('2025-03', '2025-04-16T01:00:00Z');
    expect(month.worksheets.map((w) => w.name)).not.toContain('家庭医生季报明细');
    expect(rowsOf(month.getWorksheet('上报情况')!).flat()).not.toContain('家庭医生签约服务季报');
  });

  it('a year takes its quarters: a flow needs all four, a quarter missing is named', async () => {
    const year = await consolidated('2024', '2025-04-16T01:00:00Z');
    const summary = rowsOf(year.getWorksheet('指标汇总')!);
    const col = columnOf(summary);
    const visits = summary.find((r) => r[0] === 'QY04')!;
    // the centre reported 2024-Q2 … Q4 but not Q1: no complete year anywhere, so no total, and the note says why
    expect(visits[col('本年')] ?? null).toBeNull();
    expect(String(visits[col('备注')])).toContain('本年无数据');
    expect(String(visits[col('备注')])).toContain('苏布尔嘎中心卫生院（本年第1季度未上报、上年不应报）');
    // a stock takes the year's last quarter
    const teams = summary.find((r) => r[0] === 'QY01')!;
    expect(teams[col('本年')]).toBe(5);
    const detail = rowsOf(year.getWorksheet('家庭医生季报明细')!).find((r) => r[0] === CENTRE)!;
    expect(detail).toContain('已报 3/4 个季度');
  });
});

/** the column of a header of 指标汇总 (the row that starts with 代码) */
function columnOf(rows: unknown[][]): (name: string) => number {
  const heads = rows.find((r) => r[0] === '代码')!;
  return (name: string) => {
    const i = heads.findIndex((h) => typeof h === 'string' && h.startsWith(name));
    if (i < 0) throw new Error(`no column ${name}`);
    return i;
  };
}

describe('an annual return (T-ND 卫生资源与健康素养年报)', () => {
  const values = { ND01: 240_000, ND02: 190, ND03: 102, ND04: 900, ND05: 300, ND06: 81 };

  it('is owed by the commission: the digest after March 31 names it; once uploaded nothing is outstanding', async () => {
    const digestAt = async (at: string) => ((await scheduled({ task: 'digest', county: COUNTY, period: '2024', scheduledTime: at })) as { digests: Array<{ sent: boolean }> }).digests[0]!.sent;
    expect(await digestAt('2025-03-31T15:00:00Z')).toBe(false);
    expect(await digestAt('2025-04-01T01:00:00Z')).toBe(true);
    const alert = (await readAlerts(stack.dataDir)).find((a) => a.attributes.kind === 'digest' && a.attributes.county === COUNTY && a.attributes.period === '2024')!;
    expect(alert.message).toContain(`伊金霍洛旗卫生健康委员会（${COMMISSION}）：卫生资源与健康素养年报（T-ND）`);
    expect(alert.message).toContain('截止时间 2025年3月31日23:59 已过');

    await upload('T-ND', COMMISSION, '2024', await filled('T-ND', COMMISSION, '2024', values));
    await upload('T-ND', COMMISSION, '2025', await filled('T-ND', COMMISSION, '2025', { ...values, ND03: 98 }));
    expect(await store.current(COUNTY, '2024', 'T-ND', COMMISSION)).toMatchObject({ status: 'accepted' });
    expect(await digestAt('2025-04-02T01:00:00Z')).toBe(false);
  });

  it('counts in its year’s workbook only, and is judged there against the annual target (seed 004: 4 per 10,000 by 2025)', async () => {
    const quarter = await consolidated('2025-Q1', '2025-04-16T01:00:00Z');
    expect(quarter.worksheets.map((w) => w.name)).not.toContain('资源年报明细');
    const year = await consolidated('2025', '2026-04-10T01:00:00Z');
    expect(year.worksheets.map((w) => w.name)).toContain('资源年报明细');
    const summary = rowsOf(year.getWorksheet('指标汇总')!);
    const col = columnOf(summary);
    const gp = summary.find((r) => r[0] === 'ND-I02')!;
    expect(gp[col('本年累计')]).toBeCloseTo((98 / 240_000) * 10_000, 10);
    expect(gp[col('年度目标')]).toBe(4);
    expect(gp[col('达标情况')]).toBe('达标');
    // 上年 is 2024's own return
    expect(gp[col('上年')]).toBeCloseTo((102 / 240_000) * 10_000, 10);
  });
});
