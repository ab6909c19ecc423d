/**
 * The portal's 定义管理 routes: only a commission reaches them; check stores nothing; import stores a
 * version scoped to the commission's own county, recorded with who imported it, and is seen at once.
 */
import ExcelJS from 'exceljs';
import { beforeEach, describe, expect, it } from 'vitest';
import { StoredDefinitions } from '../../functions/core/definitions/source.ts';
import { createPortalApi, SESSION_COOKIE, type ApiResponse, type PortalApi } from '../../functions/portal/api.ts';
import { accessCode } from '../../functions/portal/auth.ts';
import { bundledLog } from '../../schemas/index.ts';
import { MemoryDefinitions, MemoryObjects, MemoryStore } from '../fakes/memory.ts';

const SECRET = 'portal-definitions-secret-portal-definitions-secret';
const NOW = new Date('2025-04-10T10:00:00+08:00');
let api: PortalApi;
let store: MemoryDefinitions;

beforeEach(() => {
  store = new MemoryDefinitions(bundledLog());
  api = createPortalApi({
    secret: SECRET,
    definitions: new StoredDefinitions(store),
    definitionsStore: store,
    store: new MemoryStore(),
    objects: new MemoryObjects(),
    links: { presignPost: async () => ({ url: '', fields: {} }), presignGet: async () => '' },
    publish: async () => ({ key: '', latestKey: '', fileName: '' }),
    uploadsBucket: 'u',
    reportsBucket: 'r',
    maxUploadBytes: 10 * 1024 * 1024,
    now: () => NOW,
  });
});

async function login(code: string): Promise<string> {
  const res = await api({ method: 'POST', path: '/api/login', query: {}, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, accessCode: accessCode(SECRET, code) }) });
  return res.cookies[0]!.split(';')[0]!.slice(SESSION_COOKIE.length + 1);
}

const call = (method: string, path: string, token: string, body?: unknown, query: Record<string, string> = {}): Promise<ApiResponse> =>
  api({ method, path, query, headers: { 'content-type': 'application/json', cookie: `${SESSION_COOKIE}=${token}` }, body: body === undefined ? null : JSON.stringify(body) });
const data = (res: ApiResponse) => JSON.parse(String(res.body));

async function workbook(token: string, edit: (wb: ExcelJS.Workbook) => void): Promise<string> {
  const res = await call('GET', '/api/definitions/workbook', token);
  expect(res.headers['content-type']).toMatch(/spreadsheetml/);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(Buffer.from(res.body as Uint8Array) as unknown as ExcelJS.Buffer);
  edit(wb);
  return Buffer.from(await wb.xlsx.writeBuffer()).toString('base64');
}

const targetValue = (county: string, indicator: string, value: number) => (wb: ExcelJS.Workbook) => {
  wb.getWorksheet('目标')!.eachRow((row, n) => {
    if (n > 1 && String(row.getCell(1).value) === county && row.getCell(3).value === indicator) row.getCell(5).value = value;
  });
};

describe('定义管理 in the portal', () => {
  it('is for commissions only', async () => {
    const token = await login('150525-101');
    for (const [method, path] of [['GET', '/api/definitions'], ['GET', '/api/definitions/workbook'], ['POST', '/api/definitions/check'], ['POST', '/api/definitions/import']] as const) {
      expect((await call(method, path, token, method === 'POST' ? { effective: '2025-05', data: 'AA==' } : undefined)).status, path).toBe(403);
    }
  });

  it('check answers with the change in words and stores nothing; import stores it, with who, and it is seen at once', async () => {
    const token = await login('150525-000');
    const edited = await workbook(token, targetValue('150525', 'JC-I02', 65));
    const checked = data(await call('POST', '/api/definitions/check', token, { effective: '2025-05', data: edited }));
    expect(checked).toMatchObject({ status: 'accepted', dryRun: true, summary: ['目标 JC-I02（奈曼旗 2025 年）由 62 改为 65'] });
    expect((await store.read()).versions).toHaveLength(1);
    const imported = data(await call('POST', '/api/definitions/import', token, { effective: '2025-05', data: edited }));
    expect(imported).toMatchObject({ status: 'accepted', dryRun: false, version: 2 });
    const history = data(await call('GET', '/api/definitions', token));
    expect(history.version).toBe(2);
    expect(history.versions[0]).toMatchObject({ version: 2, effective: '2025-05', by: '奈曼旗卫生健康委员会（150525-000）', summary: ['目标 JC-I02（奈曼旗 2025 年）由 62 改为 65'] });
  });

  it('a commission cannot change another county’s institutions or targets', async () => {
    const token = await login('150525-000');
    const edited = await workbook(token, targetValue('150822', 'JC-I11', 99));
    const report = data(await call('POST', '/api/definitions/check', token, { effective: '2025-05', data: edited }));
    expect(report.status).toBe('rejected');
    expect(report.issues[0]).toMatchObject({ code: 'definitions-scope', message: expect.stringContaining('只能修改本旗县（150525）的机构和目标') });
  });

  it('refuses a body that is not a workbook in base64, and one too large', async () => {
    const token = await login('150525-000');
    expect((await call('POST', '/api/definitions/check', token, { effective: '2025-05', data: '<html>' })).status).toBe(400);
    expect((await call('POST', '/api/definitions/check', token, { effective: '2025-05', data: 'A'.repeat(5 * 1024 * 1024) })).status).toBe(413);
  });
});
