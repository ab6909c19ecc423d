/**
 * The portal's 定义管理 routes: only the county's administrator reaches them; check stores nothing;
 * import stores a version scoped to the administrator's own county, recorded with who imported it (in
 * the audit trail too), and is seen at once.
 */
import ExcelJS from 'exceljs';
import { beforeEach, describe, expect, it } from 'vitest';
import { StoredDefinitions } from '../../functions/core/definitions/source.ts';
import { createPortalApi, SESSION_COOKIE, type ApiResponse, type PortalApi } from '../../functions/portal/api.ts';
import { bundledLog } from '../../schemas/index.ts';
import { MemoryAudit, MemoryDefinitions, MemoryIdentity, MemoryObjects, MemoryStore } from '../fakes/memory.ts';

const NOW = new Date('2025-04-10T10:00:00+08:00');
const PASSWORD = 'Right-pass-1';
let api: PortalApi;
let store: MemoryDefinitions;
let audit: MemoryAudit;

beforeEach(() => {
  store = new MemoryDefinitions(bundledLog());
  audit = new MemoryAudit();
  const identity = new MemoryIdentity();
  identity.add({ username: '13800000101', name: '张填报', phone: '+8613800000101', roles: ['reporter'], unit: '150525-101' }, PASSWORD);
  identity.add({ username: '13800000001', name: '王审核', phone: '+8613800000001', roles: ['reviewer'], unit: '150525-000' }, PASSWORD);
  identity.add({ username: '13800000002', name: '赵管理', phone: '+8613800000002', roles: ['admin'], unit: '150525-000' }, PASSWORD);
  api = createPortalApi({
    identity,
    audit,
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

async function login(username: string): Promise<string> {
  const res = await api({ method: 'POST', path: '/api/login', query: {}, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORD }) });
  return res.cookies[0]!.split(';')[0]!.slice(SESSION_COOKIE.length + 1);
}
const ADMIN = '13800000002';

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
  it('is for the administrator only: not a reporter, not a reviewer', async () => {
    for (const user of ['13800000101', '13800000001']) {
      const token = await login(user);
      for (const [method, path] of [['GET', '/api/definitions'], ['GET', '/api/definitions/workbook'], ['POST', '/api/definitions/check'], ['POST', '/api/definitions/import']] as const) {
        expect((await call(method, path, token, method === 'POST' ? { effective: '2025-05', data: 'AA==' } : undefined)).status, `${user} ${path}`).toBe(403);
      }
    }
  });

  it('check answers with the change in words and stores nothing; import stores it, with who, and it is seen at once', async () => {
    const token = await login(ADMIN);
    const edited = await workbook(token, targetValue('150525', 'JC-I02', 65));
    const checked = data(await call('POST', '/api/definitions/check', token, { effective: '2025-05', data: edited }));
    expect(checked).toMatchObject({ status: 'accepted', dryRun: true, summary: ['目标 JC-I02（奈曼旗 2025 年）由 62 改为 65'] });
    expect((await store.read()).versions).toHaveLength(1);
    const imported = data(await call('POST', '/api/definitions/import', token, { effective: '2025-05', data: edited }));
    expect(imported).toMatchObject({ status: 'accepted', dryRun: false, version: 2 });
    const history = data(await call('GET', '/api/definitions', token));
    expect(history.version).toBe(2);
    expect(history.versions[0]).toMatchObject({ version: 2, effective: '2025-05', by: '赵管理（奈曼旗卫生健康委员会）', summary: ['目标 JC-I02（奈曼旗 2025 年）由 62 改为 65'] });
    // the download and the import are in the audit trail; the check is not a change
    expect(audit.events.map((e) => [e.action, e.detail])).toEqual([
      ['sign-in', '登录'],
      ['download', '定义工作簿：报表定义_第1版.xlsx'],
      ['definitions', '导入定义第 2 版，自 2025年5月 起执行：目标 JC-I02（奈曼旗 2025 年）由 62 改为 65'],
    ]);
  });

  it('an administrator cannot change another county’s institutions or targets', async () => {
    const token = await login(ADMIN);
    const edited = await workbook(token, targetValue('150822', 'JC-I11', 99));
    const report = data(await call('POST', '/api/definitions/check', token, { effective: '2025-05', data: edited }));
    expect(report.status).toBe('rejected');
    expect(report.issues[0]).toMatchObject({ code: 'definitions-scope', message: expect.stringContaining('只能修改本旗县（150525）的机构和目标') });
  });

  it('refuses a body that is not a workbook in base64, and one too large', async () => {
    const token = await login(ADMIN);
    expect((await call('POST', '/api/definitions/check', token, { effective: '2025-05', data: '<html>' })).status).toBe(400);
    expect((await call('POST', '/api/definitions/check', token, { effective: '2025-05', data: 'A'.repeat(5 * 1024 * 1024) })).status).toBe(413);
  });
});
