/**
 * The portal API core's authorization, over the memory fakes: named people signing in (a temporary
 * password changed at the first sign-in), sessions revoked at logout and by disabling, the server's
 * bound on a session, and who may read, upload, review, manage people and read the audit trail:
 * a reporter its own institution, the county's reviewers and administrators their county, a city
 * viewer its counties' approved data, and nothing beyond.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import {
  createPortalApi,
  FIRST_PERIOD,
  MAX_BODY_BYTES,
  REGENERATE_COOLDOWN_SECONDS,
  SESSION_COOKIE,
  SIGN_IN_FAILED_EVENT,
  uploadKeyFor,
  type ApiResponse,
  type ObjectLinks,
  type PortalApi,
} from '../../functions/portal/api.ts';
import { MAX_SESSION_SECONDS, principalOf } from '../../functions/portal/auth.ts';
import type { Person } from '../../functions/core/people.ts';
import type { CurrentSubmission, SubmissionVersion } from '../../functions/ports/index.ts';
import { MemoryAlerter, MemoryAudit, MemoryDefinitions, MemoryIdentity, MemoryObjects, MemoryStore } from '../fakes/memory.ts';
import { bundledDefinitions, bundledLog, bundledSource } from '../../schemas/index.ts';

const NOW = new Date('2025-04-10T02:00:00Z');
const INST = '150525-101';
const OTHER = '150525-102';
const COMMISSION = '150525-000';
const FOREIGN = '150425-001'; // another county
const PASSWORD = 'Right-pass-1';

/** the people of the tests: a reporter of 101 and of 102, the commission's reviewer and administrator (the administrator also reports T-FY), another county's administrator, the city viewer */
const PEOPLE: Record<string, Person> = {
  reporter: { username: '13800000101', name: '张填报', phone: '+8613800000101', roles: ['reporter'], unit: INST },
  other: { username: '13800000102', name: '李填报', phone: '+8613800000102', roles: ['reporter'], unit: OTHER },
  reviewer: { username: '13800000001', name: '王审核', phone: '+8613800000001', roles: ['reviewer'], unit: COMMISSION },
  admin: { username: '13800000002', name: '赵管理', phone: '+8613800000002', roles: ['admin', 'reporter'], unit: COMMISSION },
  foreign: { username: '13900000002', name: '外旗管理', phone: '+8613900000002', roles: ['admin', 'reviewer'], unit: '150425-000' },
  viewer: { username: '13700000001', name: '市查看', phone: '+8613700000001', roles: ['viewer'], unit: '1505' },
};

class FakeLinks implements ObjectLinks {
  posts: Array<Parameters<ObjectLinks['presignPost']>[0]> = [];
  async presignPost(request: Parameters<ObjectLinks['presignPost']>[0]) {
    this.posts.push(request);
    return { url: `https://s3.example/${request.bucket}`, fields: { key: request.key, 'x-amz-meta-uploader': request.metadata.uploader! } };
  }
  async presignGet(request: Parameters<ObjectLinks['presignGet']>[0]) {
    return `https://s3.example/${request.bucket}/${request.key}?expires=${request.expiresSeconds}`;
  }
}

function version(institution: string, versionId: string, overrides: Partial<SubmissionVersion> = {}): SubmissionVersion {
  const county = institution.slice(0, 6);
  return {
    versionId,
    order: `2025-04-03T02:15:07.000Z#${versionId}`,
    uploadedAt: '2025-04-03T02:15:07.000Z',
    objectKey: `uploads/${county}/${institution}/T-JC/2025-03/20250403-101507_abcdef_报表.xlsx`,
    county,
    institution,
    template: 'T-JC',
    period: '2025-03',
    templateVersion: 1,
    status: 'rejected',
    errors: 1,
    warnings: 0,
    reportKey: `reports/${county}/${institution}/T-JC/2025-03/${versionId}.json`,
    firstIssues: [],
    feedbackKey: `feedback/${county}/${institution}/T-JC/2025-03/${versionId}.xlsx`,
    ...overrides,
  };
}

/** an accepted version with one warning, current in the store */
async function accepted(institution: string, versionId: string, at = '2025-04-04T02:00:00.000Z'): Promise<CurrentSubmission> {
  const warning = { severity: 'warning' as const, code: 'history-outlier' as const, sheet: '基层月报', cell: 'D35', row: 35, column: 'D', element: 'JC28', value: 9000, message: 'D35「门急诊人次」9000 与本机构近 6 个月中位数相差过大' };
  const v: CurrentSubmission = {
    ...version(institution, versionId, { order: `${at}#${versionId}`, uploadedAt: at, status: 'accepted_with_warnings', errors: 0, warnings: 1, firstIssues: [warning] }),
    status: 'accepted_with_warnings',
    submission: { kind: 'indicator', institution, template: 'T-JC', period: '2025-03', templateVersion: 1, values: { JC02: 100, JC03: 90, JC28: 9000 }, remarks: { JC28: '本月集中义诊' } } as never,
  };
  await store.putVersion(v, v.submission);
  await store.makeCurrent(v);
  await store.recordAttempt(v);
  await objects.put('rep', v.reportKey, JSON.stringify({ status: v.status, issues: [warning] }), 'application/json');
  return v;
}

let api: PortalApi;
let links: FakeLinks;
let store: MemoryStore;
let objects: MemoryObjects;
let identity: MemoryIdentity;
let audit: MemoryAudit;
let alerter: MemoryAlerter;
let now: Date;
let published: unknown[];
let logged: Array<Record<string, unknown>>;
let failPublish: boolean;

beforeEach(async () => {
  now = NOW;
  links = new FakeLinks();
  store = new MemoryStore();
  objects = new MemoryObjects();
  identity = new MemoryIdentity();
  audit = new MemoryAudit();
  alerter = new MemoryAlerter();
  published = [];
  logged = [];
  failPublish = false;
  for (const p of Object.values(PEOPLE)) identity.add(p, PASSWORD);
  api = createPortalApi({
    identity,
    audit,
    alerter,
    portalBaseUrl: 'https://portal.example',
    definitions: bundledSource(),
    definitionsStore: new MemoryDefinitions(bundledLog()),
    store,
    objects,
    links,
    publish: async (request) => {
      if (failPublish) throw new Error('S3 unavailable');
      published.push(request);
      return { key: `consolidated/${request.code}/${request.period}/x.xlsx`, latestKey: `consolidated/${request.code}/latest/${request.period}.xlsx`, fileName: 'x.xlsx' };
    },
    uploadsBucket: 'up',
    reportsBucket: 'rep',
    maxUploadBytes: 10 * 1024 * 1024,
    now: () => now,
    origins: ['https://portal.example'],
    log: (entry) => logged.push(entry),
  });
  for (const [inst, id] of [
    [INST, 'aaaaaaaaaaaaaaaaaaaa'],
    [OTHER, 'bbbbbbbbbbbbbbbbbbbb'],
  ] as const) {
    const v = version(inst, id);
    await store.putVersion(v, null);
    await store.recordAttempt(v);
    await objects.put('rep', v.reportKey, JSON.stringify({ status: 'rejected', issues: [{ severity: 'error', code: 'rule-violation', sheet: '基层月报', cell: 'D10', element: 'JC03', value: 1, message: `${inst} 的问题` }] }), 'application/json');
    await objects.put('rep', v.feedbackKey!, 'xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
  }
  await objects.put('rep', 'consolidated/150525/latest/2025-03.xlsx', 'x', 'x');
  await objects.put('rep', 'consolidated/150425/latest/2025-03.xlsx', 'x', 'x');
});

const get = (path: string, token?: string, headers: Record<string, string> = {}): Promise<ApiResponse> => {
  const url = new URL(path, 'http://portal');
  return api({ method: 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: { ...(token ? { cookie: `${SESSION_COOKIE}=${token}` } : {}), ...headers } });
};
const post = (path: string, body: unknown, token?: string, contentType = 'application/json', headers: Record<string, string> = {}, ip?: string): Promise<ApiResponse> =>
  api({ method: 'POST', path, query: {}, headers: { 'content-type': contentType, ...(token ? { cookie: `${SESSION_COOKIE}=${token}` } : {}), ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body), ...(ip ? { ip } : {}) });
const data = (r: ApiResponse) => JSON.parse(r.body as string) as Record<string, unknown> & { error?: string };
const cookie = (r: ApiResponse, name: string) => r.cookies.find((c) => c.startsWith(`${name}=`)) ?? '';

/** signs a person in; the session token */
async function login(who: keyof typeof PEOPLE): Promise<string> {
  const r = await post('/api/login', { username: PEOPLE[who]!.username, password: PASSWORD });
  expect(r.status, JSON.stringify(data(r))).toBe(200);
  return /^hmis_session=([^;]+)/.exec(cookie(r, 'hmis_session'))![1]!;
}

describe('sign-in with a mobile number and a password', () => {
  it('sets the access token and, for logout only, the refresh token: HttpOnly, SameSite=Strict', async () => {
    const r = await post('/api/login', { username: ' 138-0000-0101 ', password: PASSWORD }, undefined, 'application/json', {}, '203.0.113.9');
    expect(r.status).toBe(200);
    expect(data(r)).toMatchObject({ username: PEOPLE.reporter!.username, name: '张填报', roles: ['reporter'], roleLabels: ['填报员'], institution: INST, county: '150525', unitName: '八仙筒镇中心卫生院' });
    expect(cookie(r, 'hmis_session')).toMatch(/^hmis_session=at-[0-9a-f]+; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/);
    expect(cookie(r, 'hmis_refresh')).toMatch(/^hmis_refresh=rt-[0-9a-f]+; Path=\/api\/logout; Max-Age=43200; HttpOnly; SameSite=Strict$/);
    expect(audit.events.map((e) => [e.scope, e.action, e.outcome, e.actor.username, e.ip])).toEqual([['150525', 'sign-in', 'ok', PEOPLE.reporter!.username, '203.0.113.9']]);
  });

  it('one answer for a wrong password, an unknown number, a non-number; a disabled person is told so; non-JSON is a 415', async () => {
    for (const body of [{ username: PEOPLE.reporter!.username, password: 'Wrong-pass-1' }, { username: '13811112222', password: PASSWORD }, { username: 'admin', password: PASSWORD }, { username: PEOPLE.reporter!.username }]) {
      const r = await post('/api/login', body);
      expect([r.status, data(r).error], JSON.stringify(body)).toEqual([401, '手机号或密码不正确']);
      expect(r.cookies).toEqual([]);
    }
    await identity.setEnabled(PEOPLE.other!.username, false);
    const disabled = await post('/api/login', { username: PEOPLE.other!.username, password: PASSWORD });
    expect([disabled.status, data(disabled).error]).toEqual([401, '账号已停用，请联系本旗县卫健委的管理员']);
    expect((await post('/api/login', { username: PEOPLE.reporter!.username, password: PASSWORD }, undefined, 'text/plain')).status).toBe(415);
    // every refusal is in the audit trail, under the county when the person is known
    expect(audit.events.map((e) => [e.scope, e.outcome, e.actor.username])).toEqual([
      ['150525', 'refused', PEOPLE.reporter!.username],
      ['-', 'refused', '13811112222'],
      ['-', 'refused', 'admin'],
      ['150525', 'refused', PEOPLE.reporter!.username],
      ['150525', 'refused', PEOPLE.other!.username],
    ]);
  });

  it('a temporary password signs in only to set a new one: weak ones refused in Chinese, then the new one works and the temporary one not', async () => {
    identity.users.get(PEOPLE.reporter!.username)!.status = 'FORCE_CHANGE_PASSWORD';
    const first = await post('/api/login', { username: PEOPLE.reporter!.username, password: PASSWORD });
    expect(first.status).toBe(200);
    expect(first.cookies).toEqual([]);
    const { session } = data(first) as { challenge: string; session: string };
    expect(data(first).challenge).toBe('new-password');
    for (const [weak, why] of [['short1!A', null], ['alllower-1', '大写字母'], ['NoDigits-here', '数字'], ['NoSymbol123', '符号']] as const) {
      const r = await post('/api/login/new-password', { username: PEOPLE.reporter!.username, session, newPassword: weak });
      if (why) expect([r.status, data(r).error]).toEqual([400, expect.stringContaining(why)]);
      else expect(r.status).toBe(200); // 8 characters with all four kinds is enough
      if (r.status === 200) break;
    }
    expect((await post('/api/login', { username: PEOPLE.reporter!.username, password: PASSWORD })).status).toBe(401);
    expect((await post('/api/login', { username: PEOPLE.reporter!.username, password: 'short1!A' })).status).toBe(200);
    expect((await post('/api/login/new-password', { username: PEOPLE.reporter!.username, session: 'stale', newPassword: 'Another-pass-2' })).status).toBe(401);
  });

  it('a person whose unit is not where the roles need it cannot act: told why, no session kept', async () => {
    identity.add({ username: '13800000999', name: '错配', phone: '+8613800000999', roles: ['reviewer'], unit: INST }, PASSWORD);
    const r = await post('/api/login', { username: '13800000999', password: PASSWORD });
    expect(r.status).toBe(403);
    expect(data(r).error).toContain('审核员和管理员的单位应为旗县卫健委');
  });
});

describe('sessions', () => {
  it('garbage is a 401; the token works as a Bearer header too (scripts)', async () => {
    const token = await login('reporter');
    expect((await get('/api/me', token)).status).toBe(200);
    expect((await get('/api/me', undefined, { authorization: `Bearer ${token}` })).status).toBe(200);
    for (const junk of ['', '.', 'a.b.c', 'x'.repeat(5000), `${token}x`]) expect((await get('/api/me', junk)).status).toBe(401);
    expect((await get('/api/me')).status).toBe(401);
  });

  it('logout revokes the session: the token copied before it no longer works', async () => {
    const r = await post('/api/login', { username: PEOPLE.reporter!.username, password: PASSWORD });
    const token = /^hmis_session=([^;]+)/.exec(cookie(r, 'hmis_session'))![1]!;
    const refresh = /^hmis_refresh=([^;]+)/.exec(cookie(r, 'hmis_refresh'))![1]!;
    const out = await api({ method: 'POST', path: '/api/logout', query: {}, headers: { 'content-type': 'application/json', cookie: `${SESSION_COOKIE}=${token}; hmis_refresh=${refresh}` }, body: '{}' });
    expect(out.status).toBe(200);
    expect(out.cookies).toEqual([expect.stringMatching(/^hmis_session=; Path=\/; Max-Age=0/), expect.stringMatching(/^hmis_refresh=; Path=\/api\/logout; Max-Age=0/)]);
    expect((await get('/api/me', token)).status).toBe(401);
    expect(audit.events.map((e) => e.action)).toEqual(['sign-in', 'sign-out']);
  });

  it('disabling a person ends their session at once; a reset too', async () => {
    const reporter = await login('reporter');
    const other = await login('other');
    const admin = await login('admin');
    expect((await post('/api/users/disable', { username: PEOPLE.reporter!.username }, admin)).status).toBe(200);
    expect((await get('/api/me', reporter)).status).toBe(401);
    expect((await post('/api/users/reset', { username: PEOPLE.other!.username }, admin)).status).toBe(200);
    expect((await get('/api/me', other)).status).toBe(401);
    expect((await get('/api/me', admin)).status).toBe(200);
  });

  it(`the server ends a session ${MAX_SESSION_SECONDS / 3600} hours after its sign-in, whatever the token says`, async () => {
    const defs = bundledDefinitions();
    const t = Math.floor(NOW.getTime() / 1000);
    const session = { person: PEOPLE.reporter!, tokenId: 'x', issuedAt: t, authTime: t, expiresAt: t + 30 * 86400 };
    expect(principalOf(defs, session, t + MAX_SESSION_SECONDS - 60)).toMatchObject({ institution: INST, expiresAt: t + MAX_SESSION_SECONDS });
    expect(principalOf(defs, session, t + MAX_SESSION_SECONDS + 1)).toBe('登录已超过 12 小时，请重新登录');
    // a sign-in "in the future" beyond a minute of skew: refused
    expect(principalOf(defs, { ...session, authTime: t + 3600 }, t)).toMatch(/登录/);
    // through the API (token times are real time): a session signed in 13 hours ago
    const old = new MemoryIdentity(() => Date.now() - 13 * 3600_000);
    old.add(PEOPLE.reporter!, PASSWORD);
    const stale = await old.signIn(PEOPLE.reporter!.username, PASSWORD);
    const oldApi = createPortalApi({ identity: old, audit, definitions: bundledSource(), definitionsStore: new MemoryDefinitions(bundledLog()), store, objects, links, publish: async () => ({ key: '', latestKey: '', fileName: '' }), uploadsBucket: 'up', reportsBucket: 'rep', maxUploadBytes: 1 });
    const r = await oldApi({ method: 'GET', path: '/api/me', query: {}, headers: { cookie: `${SESSION_COOKIE}=${(stale as { tokens: { accessToken: string } }).tokens.accessToken}` } });
    expect([r.status, data(r).error]).toEqual([401, '登录已超过 12 小时，请重新登录']);
  });

  it('the definitions place the person: an institution deactivated takes its people’s access with it', () => {
    const defs = bundledDefinitions();
    const t = Math.floor(NOW.getTime() / 1000);
    const session = (person: Person) => ({ person, tokenId: 'x', issuedAt: t, authTime: t, expiresAt: t + 3600 });
    expect(principalOf(defs, session({ ...PEOPLE.reporter!, unit: '150525-999' }), t)).toMatch(/不在机构名录中/);
    expect(principalOf(defs, session({ ...PEOPLE.viewer!, roles: ['viewer', 'reviewer'] }), t)).toMatch(/查看账号不能兼任/);
    expect(principalOf(defs, session(PEOPLE.viewer!), t)).toMatchObject({ city: '1505', county: null, institution: null, audit: '1505' });
    expect(principalOf(defs, session(PEOPLE.admin!), t)).toMatchObject({ county: '150525', institution: COMMISSION, audit: '150525' });
  });
});

describe('no other site can post for the user', () => {
  const cleared = (r: ApiResponse) => r.cookies.some((c) => /^hmis_session=;/.test(c));

  it('logout: only JSON from the page itself; a form, another site, an opaque origin are refused and clear nothing', async () => {
    const token = await login('reporter');
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x']) {
      const r = await post('/api/logout', '', token, type);
      expect([r.status, cleared(r)], type).toEqual([415, false]);
    }
    const refused: Array<Record<string, string>> = [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'https://evil.example' }, { origin: 'null' }, { origin: 'http://127.0.0.1:9', host: '127.0.0.1:8080' }];
    for (const headers of refused) {
      const r = await post('/api/logout', {}, token, 'application/json', headers);
      expect([r.status, cleared(r)], JSON.stringify(headers)).toEqual([403, false]);
      expect(data(r).error).toMatch(/报表平台/);
    }
    // the page (Sec-Fetch-Site same-origin; an older browser's Origin: the request's Host or the configured origin); a script (neither)
    const allowed: Array<Record<string, string>> = [{ 'sec-fetch-site': 'same-origin' }, { origin: 'http://127.0.0.1:8080', host: '127.0.0.1:8080' }, { origin: 'https://portal.example' }, {}];
    for (const headers of allowed) {
      const r = await post('/api/logout', {}, await login('reporter'), 'application/json', headers);
      expect([r.status, cleared(r)], JSON.stringify(headers)).toEqual([200, true]);
    }
  });

  it('the same holds for every POST: sign-in, uploads, regenerate, review, users, close', async () => {
    const cross = { 'sec-fetch-site': 'cross-site' };
    expect((await post('/api/login', { username: PEOPLE.reporter!.username, password: PASSWORD }, undefined, 'application/json', cross)).status).toBe(403);
    const token = await login('reporter');
    expect((await post('/api/uploads', { template: 'T-JC', period: '2025-03', fileName: 'a.xlsx', size: 1 }, token, 'application/json', cross)).status).toBe(403);
    const admin = await login('admin');
    const reviewer = await login('reviewer');
    expect((await post('/api/regenerate', { period: '2025-03' }, admin, 'application/json', cross)).status).toBe(403);
    expect((await post('/api/users', { name: 'x', phone: '13800001234', roles: ['reporter'], institution: INST }, admin, 'application/json', cross)).status).toBe(403);
    expect((await post('/api/close', { period: '2025-03' }, admin, 'application/json', cross)).status).toBe(403);
    expect((await post('/api/review', { institution: INST, template: 'T-JC', period: '2025-03', decision: 'approve' }, reviewer, 'application/json', cross)).status).toBe(403);
    expect([links.posts, published, identity.users.has('13800001234'), store.closures.size]).toEqual([[], [], false, 0]);
  });
});

describe('bounded input', () => {
  it(`periods from ${FIRST_PERIOD} to this month on every route: 1990-12 and 0001-01 are a 400 in Chinese, never a 500 or a signed upload`, async () => {
    const inst = await login('reporter');
    const commission = await login('admin');
    const v = 'template=T-JC&versionId=aaaaaaaaaaaaaaaaaaaa';
    const routes = (p: string) => [
      [`/api/template?template=T-JC&period=${p}`, inst],
      [`/api/submissions?period=${p}`, inst],
      [`/api/history?to=${p}`, inst],
      [`/api/report?institution=${INST}&period=${p}&${v}`, inst],
      [`/api/download/feedback?institution=${INST}&period=${p}&${v}`, inst],
      [`/api/upload-status?key=${encodeURIComponent(`uploads/150525/${INST}/T-JC/${p}/x.xlsx`)}`, inst],
      [`/api/county?period=${p}`, commission],
      [`/api/indicators?period=${p}`, commission],
    ] as const;
    for (const p of ['1990-12', '0001-01', '1999-12', '2025-05', '9999-12']) {
      for (const [path, token] of routes(p)) {
        const r = await get(path, token);
        expect(r.status, path).toBe(400);
        expect(data(r).error, path).toMatch(/统计期/);
      }
      const upload = await post('/api/uploads', { template: 'T-JC', period: p, fileName: 'a.xlsx', size: 100 }, inst);
      expect(upload.status, p).toBe(400);
      expect((await post('/api/regenerate', { period: p }, commission)).status, p).toBe(400);
    }
    expect([links.posts, published]).toEqual([[], []]);
    // the bounds themselves are open
    expect((await get(`/api/submissions?period=${FIRST_PERIOD}`, inst)).status).toBe(200);
    expect((await get('/api/submissions?period=2025-04', inst)).status).toBe(200);
    expect((await get(`/api/history?to=${FIRST_PERIOD}`, inst)).status).toBe(200);
    // (whether T-JC was owed in 2000-01 is the definitions' business: not a period error)
    const first = await post('/api/uploads', { template: 'T-JC', period: FIRST_PERIOD, fileName: 'a.xlsx', size: 100 }, inst);
    expect(first.status).not.toBe(400);
    expect(data(first).error ?? '').not.toMatch(/统计期/);
  });

  it(`a body over ${MAX_BODY_BYTES} bytes is a 413`, async () => {
    const r = await post('/api/login', JSON.stringify({ username: PEOPLE.reporter!.username, password: 'x'.repeat(MAX_BODY_BYTES) }));
    expect(r.status).toBe(413);
    expect(data(r).error).toMatch(/请求过大/);
    // counted in bytes: 6,000 Chinese characters are 18,000 bytes
    expect((await post('/api/login', JSON.stringify({ username: '机'.repeat(6000) }))).status).toBe(413);
  });
});

describe('failed sign-ins are logged for the alarm', () => {
  it('one structured line per failure, with the number tried and the address; none for a success', async () => {
    await api({ method: 'POST', path: '/api/login', query: {}, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: PEOPLE.reporter!.username, password: 'Wrong-pass-1' }), ip: '203.0.113.7' });
    await post('/api/login', { username: '机'.repeat(100), password: 'x' });
    await login('reporter');
    expect(logged).toEqual([
      { level: 'warn', event: SIGN_IN_FAILED_EVENT, username: PEOPLE.reporter!.username, reason: 'credentials', ip: '203.0.113.7' },
      { level: 'warn', event: SIGN_IN_FAILED_EVENT, username: '机'.repeat(20), reason: 'credentials', ip: null },
    ]);
  });
});

describe('用户管理: the administrator manages the people of its county', () => {
  it('creates a reporter with a temporary password to hand over; refuses a duplicate, a bad number, a city viewer, another county’s institution', async () => {
    const admin = await login('admin');
    const r = await post('/api/users', { name: '孙新', phone: '138 0000 1234', roles: ['填报员'], institution: OTHER }, admin, 'application/json', {}, '198.51.100.4');
    expect(r.status).toBe(200);
    const { username, temporaryPassword } = data(r) as { username: string; temporaryPassword: string };
    expect(username).toBe('13800001234');
    expect(temporaryPassword).toMatch(/^[A-Z][a-z]{3}-\d{4}-[A-Z][a-z]$/);
    expect(identity.users.get(username)).toMatchObject({ name: '孙新', phone: '+8613800001234', roles: ['reporter'], unit: OTHER, status: 'FORCE_CHANGE_PASSWORD' });
    expect(audit.events.at(-1)).toMatchObject({ scope: '150525', action: 'user', actor: { username: PEOPLE.admin!.username, name: '赵管理' }, ip: '198.51.100.4', detail: '新增用户：孙新（13800001234），填报员，青龙山镇中心卫生院' });
    const refused: Array<[Record<string, unknown>, number, RegExp]> = [
      [{ name: '孙新', phone: '13800001234', roles: ['reporter'], institution: OTHER }, 409, /已有账号/],
      [{ name: '孙新', phone: '1234', roles: ['reporter'], institution: OTHER }, 400, /11 位/],
      [{ name: '', phone: '13800001235', roles: ['reporter'], institution: OTHER }, 400, /姓名/],
      [{ name: '孙新', phone: '13800001235', roles: [], institution: OTHER }, 400, /至少选择一个角色/],
      [{ name: '孙新', phone: '13800001235', roles: ['reviewer'], institution: OTHER }, 400, /审核员和管理员的单位/],
      [{ name: '孙新', phone: '13800001235', roles: ['viewer'], institution: OTHER }, 403, /查看账号/],
      [{ name: '孙新', phone: '13800001235', roles: ['superuser'], institution: OTHER }, 400, /角色/],
      [{ name: '孙新', phone: '13800001235', roles: ['reporter'], institution: FOREIGN }, 403, /本旗县/],
    ];
    for (const [body, status, message] of refused) {
      const x = await post('/api/users', body, admin);
      expect([x.status, data(x).error], JSON.stringify(body)).toEqual([status, expect.stringMatching(message)]);
    }
    // the commission's own people: reviewer and administrator in one
    const both = await post('/api/users', { name: '周审', phone: '13800001236', roles: ['reviewer', 'admin'] }, admin);
    expect(identity.users.get((data(both) as { username: string }).username)).toMatchObject({ roles: ['reviewer', 'admin'], unit: COMMISSION });
  });

  it('lists its county only; disables, enables and resets its people, never itself nor another county’s', async () => {
    const admin = await login('admin');
    const list = data(await get('/api/users', admin)) as { users: Array<{ username: string; statusLabel: string; unitName: string }>; institutions: Array<{ code: string }> };
    expect(list.users.map((u) => u.username).sort()).toEqual([PEOPLE.reviewer!.username, PEOPLE.admin!.username, PEOPLE.reporter!.username, PEOPLE.other!.username].sort());
    expect(list.institutions.map((i) => i.code)).toContain(INST);
    expect((await post('/api/users/disable', { username: PEOPLE.reporter!.username }, admin)).status).toBe(200);
    expect(identity.users.get(PEOPLE.reporter!.username)!.enabled).toBe(false);
    expect((data(await get('/api/users', admin)) as typeof list).users.find((u) => u.username === PEOPLE.reporter!.username)!.statusLabel).toBe('已停用');
    expect((await post('/api/users/enable', { username: PEOPLE.reporter!.username }, admin)).status).toBe(200);
    const reset = await post('/api/users/reset', { username: PEOPLE.reporter!.username }, admin);
    expect(identity.users.get(PEOPLE.reporter!.username)).toMatchObject({ status: 'FORCE_CHANGE_PASSWORD', password: (data(reset) as { temporaryPassword: string }).temporaryPassword });
    expect((await post('/api/users/disable', { username: PEOPLE.admin!.username }, admin)).status).toBe(400);
    expect((await post('/api/users/disable', { username: PEOPLE.foreign!.username }, admin)).status).toBe(404);
    expect((await post('/api/users/reset', { username: PEOPLE.viewer!.username }, admin)).status).toBe(404);
    expect(audit.events.filter((e) => e.action === 'user').map((e) => e.detail.split('：')[0])).toEqual(['停用用户', '启用用户', '重置密码']);
  });
});

describe('审核: review of accepted returns', () => {
  it('pending until approved; a return needs a reason, alerts the institution, and shows in its view; a re-upload is pending again', async () => {
    const v1 = await accepted(INST, 'cccccccccccccccccccc');
    const reviewer = await login('reviewer');
    const reporter = await login('reporter');
    const view = data(await get(`/api/review?institution=${INST}&template=T-JC&period=2025-03`, reviewer)) as { target: { versionId: string; review: { state: string }; warnings: Array<{ key: string; message: string; check: unknown }>; remarks: unknown[] }; canReview: boolean };
    expect(view.canReview).toBe(true);
    expect(view.target).toMatchObject({ versionId: v1.versionId, review: { state: 'pending' }, remarks: [{ element: 'JC28', remark: '本月集中义诊' }] });
    expect(view.target.warnings).toEqual([{ key: 'history-outlier|基层月报|D35|JC28', code: 'history-outlier', sheet: '基层月报', cell: 'D35', element: 'JC28', message: expect.stringContaining('门急诊人次'), check: null }]);
    const slot = { institution: INST, template: 'T-JC', period: '2025-03', versionId: v1.versionId };

    expect((await post('/api/review', { ...slot, decision: 'return' }, reviewer)).status).toBe(400);
    expect((await post('/api/review', { ...slot, decision: 'return', reason: 'JC28 与上月相差过大，请核实后重报' }, reviewer)).status).toBe(200);
    expect(alerter.sent).toHaveLength(1);
    expect(alerter.sent[0]!.attributes).toEqual({ county: '150525', institution: INST, template: 'T-JC', period: '2025-03', severity: 'error', kind: 'returned' });
    expect(alerter.sent[0]!.message).toContain('退回原因：JC28 与上月相差过大，请核实后重报');
    expect(alerter.sent[0]!.message).toContain(`https://portal.example/submissions/${INST}/T-JC/2025-03/${v1.versionId}`);
    expect(alerter.sent[0]!.sms).toBe('【卫健统计】八仙筒镇中心卫生院 2025年3月基层月报被退回，请登录报送平台查看');
    const own = data(await get('/api/submissions?period=2025-03', reporter)) as { rows: Array<{ template: string; review: { state: string; reason: string; by: string } }> };
    expect(own.rows.find((r) => r.template === 'T-JC')!.review).toMatchObject({ state: 'returned', reason: 'JC28 与上月相差过大，请核实后重报', by: '王审核' });
    const county = data(await get('/api/county?period=2025-03', reviewer)) as { rows: Array<{ code: string; cells: Record<string, { review: string } | null> }>; totals: { approved: number; returned: number; unreviewed: number } };
    expect(county.rows.find((r) => r.code === INST)!.cells['T-JC']!.review).toBe('returned');
    expect(county.totals).toMatchObject({ approved: 0, returned: 1, unreviewed: 1 });

    // the institution re-uploads: a new version, pending
    const v2 = await accepted(INST, 'dddddddddddddddddddd', '2025-04-05T02:00:00.000Z');
    expect((await post('/api/review', { ...slot, decision: 'approve' }, reviewer)).status).toBe(409);
    expect((await post('/api/review', { ...slot, versionId: v2.versionId, decision: 'approve' }, reviewer)).status).toBe(200);
    expect(store.currents.get(`150525|2025-03|T-JC|${INST}`)!.review).toMatchObject({ state: 'approved', by: PEOPLE.reviewer!.username, byName: '王审核' });
    expect((data(await get('/api/county?period=2025-03', reviewer)) as typeof county).totals).toMatchObject({ approved: 1, unreviewed: 0 });
    expect(audit.events.filter((e) => e.action === 'review').map((e) => e.detail)).toEqual(['退回：八仙筒镇中心卫生院 基层医疗卫生机构月报 2025年3月。原因：JC28 与上月相差过大，请核实后重报', '审核通过：八仙筒镇中心卫生院 基层医疗卫生机构月报 2025年3月']);
  });

  it('the reviewer marks a warning 已核实 with a note; the institution explains it (说明)', async () => {
    const v = await accepted(INST, 'cccccccccccccccccccc');
    const reviewer = await login('reviewer');
    const reporter = await login('reporter');
    const key = 'history-outlier|基层月报|D35|JC28';
    expect((await post('/api/explain', { template: 'T-JC', period: '2025-03', versionId: v.versionId, text: '本月开展集中义诊，门急诊人次增加' }, reporter)).status).toBe(200);
    expect((await post('/api/review/check', { institution: INST, template: 'T-JC', period: '2025-03', versionId: v.versionId, key, note: '电话核实属实' }, reviewer)).status).toBe(200);
    const view = data(await get(`/api/review?institution=${INST}&template=T-JC&period=2025-03`, reviewer)) as { target: { explanation: { text: string; byName: string }; warnings: Array<{ check: { note: string; byName: string } }> } };
    expect(view.target.explanation).toMatchObject({ text: '本月开展集中义诊，门急诊人次增加', byName: '张填报' });
    expect(view.target.warnings[0]!.check).toMatchObject({ note: '电话核实属实', byName: '王审核' });
    // another institution's person cannot explain it; a stale version is a conflict
    const other = await login('other');
    expect((await post('/api/explain', { template: 'T-JC', period: '2025-03', versionId: v.versionId, text: 'x' }, other)).status).toBe(404);
    expect((await post('/api/review/check', { institution: INST, template: 'T-JC', period: '2025-03', versionId: 'eeeeeeeeeeeeeeeeeeee', key, note: '' }, reviewer)).status).toBe(409);
  });

  it('only a reviewer of the county reviews: not a reporter, not an administrator without the role, not another county', async () => {
    const v = await accepted(INST, 'cccccccccccccccccccc');
    const body = { institution: INST, template: 'T-JC', period: '2025-03', versionId: v.versionId, decision: 'approve' };
    for (const who of ['reporter', 'admin', 'viewer'] as const) expect((await post('/api/review', body, await login(who))).status, who).toBe(403);
    expect((await post('/api/review', body, await login('foreign'))).status).toBe(403);
    expect((await get(`/api/review?institution=${INST}&template=T-JC&period=2025-03`, await login('reporter'))).status).toBe(403);
    expect(store.currents.get(`150525|2025-03|T-JC|${INST}`)!.review).toEqual({ state: 'pending' });
  });

  it('关账: only the administrator closes a finished month, once; then an accepted upload is a correction held until approved', async () => {
    const v1 = await accepted(INST, 'cccccccccccccccccccc');
    const admin = await login('admin');
    const reviewer = await login('reviewer');
    expect((await post('/api/close', { period: '2025-04' }, admin)).status).toBe(400);
    expect((await post('/api/close', { period: '2025-03' }, reviewer)).status).toBe(403);
    const closed = await post('/api/close', { period: '2025-03' }, admin);
    expect(data(closed)).toMatchObject({ county: '150525', period: '2025-03', by: PEOPLE.admin!.username, byName: '赵管理' });
    expect((await post('/api/close', { period: '2025-03' }, admin)).status).toBe(409);
    // what ingest does after the close: the new upload waits as a correction
    const v2: CurrentSubmission = { ...v1, versionId: 'ffffffffffffffffffff', order: '2025-04-12T00:00:00.000Z#f', uploadedAt: '2025-04-12T00:00:00.000Z', reportKey: v1.reportKey };
    expect(await store.holdCorrection(v2)).toBe(true);
    const view = data(await get(`/api/review?institution=${INST}&template=T-JC&period=2025-03`, reviewer)) as { target: { versionId: string; held: boolean }; current: { versionId: string } };
    expect([view.target.versionId, view.target.held, view.current.versionId]).toEqual([v2.versionId, true, v1.versionId]);
    expect((data(await get('/api/county?period=2025-03', reviewer)) as { closed: unknown; rows: Array<{ code: string; cells: Record<string, { correction: unknown } | null> }> }).rows.find((r) => r.code === INST)!.cells['T-JC']!.correction).toEqual({ uploadedAt: v2.uploadedAt, review: 'pending' });
    expect((await post('/api/review', { institution: INST, template: 'T-JC', period: '2025-03', versionId: v2.versionId, decision: 'approve' }, reviewer)).status).toBe(200);
    expect(store.currents.get(`150525|2025-03|T-JC|${INST}`)).toMatchObject({ versionId: v2.versionId, review: { state: 'approved' } });
    expect(store.corrections.size).toBe(0);
    expect(audit.events.map((e) => e.detail).filter((d) => /关账|补报/.test(d))).toEqual(['关账：2025年3月', '审核通过：八仙筒镇中心卫生院 基层医疗卫生机构月报 2025年3月补报（替换原报表）']);
  });
});

describe('操作记录: the administrator reads its county’s audit trail', () => {
  it('lists, filters and exports what happened, itself recorded; nobody else reads it', async () => {
    const reporter = await login('reporter');
    now = new Date(NOW.getTime() + 1000);
    await get('/api/template?template=T-JC&period=2025-03', reporter);
    now = new Date(NOW.getTime() + 2000);
    await post('/api/login', { username: PEOPLE.other!.username, password: 'Wrong-pass-1' }, undefined, 'application/json', {}, '192.0.2.1');
    now = new Date(NOW.getTime() + 3000);
    const admin = await login('admin');
    const all = data(await get('/api/audit?from=2025-04&to=2025-04', admin)) as { total: number; events: Array<{ action: string; outcome: string; actor: { username: string }; ip: string | null; detail: string }> };
    expect(all.events.map((e) => [e.action, e.outcome, e.actor.username])).toEqual([
      ['sign-in', 'ok', PEOPLE.admin!.username],
      ['sign-in', 'refused', PEOPLE.other!.username],
      ['download', 'ok', PEOPLE.reporter!.username],
      ['sign-in', 'ok', PEOPLE.reporter!.username],
    ]);
    expect(all.events[1]!.ip).toBe('192.0.2.1');
    expect(all.events[2]!.detail).toBe('空白报表：基层医疗卫生机构月报_八仙筒镇中心卫生院_2025-03.xlsx');
    const refused = data(await get('/api/audit?from=2025-04&to=2025-04&outcome=refused', admin)) as typeof all;
    expect(refused.events.map((e) => e.actor.username)).toEqual([PEOPLE.other!.username]);
    const byActor = data(await get(`/api/audit?action=download&actor=${PEOPLE.reporter!.username}`, admin)) as typeof all;
    expect(byActor.total).toBe(1);
    expect((await get('/api/audit?from=2024-01&to=2025-04', admin)).status).toBe(400);
    expect((await get('/api/audit?action=hack', admin)).status).toBe(400);

    const wb = await get('/api/audit/workbook?from=2025-04&to=2025-04', admin);
    expect(wb.status).toBe(200);
    expect(wb.headers['content-disposition']).toContain(encodeURIComponent('奈曼旗操作记录_2025-04.xlsx'));
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(Buffer.from(wb.body as Uint8Array) as unknown as ExcelJS.Buffer);
    const sheet = book.getWorksheet('操作记录')!;
    expect(sheet.getRow(2).values).toContain('IP 地址');
    expect(sheet.rowCount).toBe(2 + all.total);
    expect(audit.events.at(-1)).toMatchObject({ action: 'download', detail: '操作记录：奈曼旗操作记录_2025-04.xlsx' });
    for (const who of ['reporter', 'reviewer', 'viewer', 'foreign'] as const) {
      const r = await get('/api/audit', await login(who));
      // another county's administrator reads its own county, never this one's
      if (who === 'foreign') expect((data(r) as typeof all).events.every((e) => e.actor.username === PEOPLE.foreign!.username)).toBe(true);
      else expect(r.status, who).toBe(403);
    }
  });
});

describe('the city viewer', () => {
  it('reads its counties’ approved returns only, and nothing of a county’s own views', async () => {
    const v = await accepted(INST, 'cccccccccccccccccccc');
    const viewer = await login('viewer');
    const city = async () => data(await get('/api/city?period=2025-03', viewer)) as { cityName: string; counties: Array<{ key: string; submitted: number; approved: number }>; rows: Array<{ code: string; covered: number }> };
    const before = await city();
    expect(before.cityName).toBe('通辽市');
    expect(before.counties).toEqual([expect.objectContaining({ key: '150525', submitted: 1, approved: 0 })]);
    expect(before.rows.every((r) => r.covered === 0)).toBe(true);
    await post('/api/review', { institution: INST, template: 'T-JC', period: '2025-03', versionId: v.versionId, decision: 'approve' }, await login('reviewer'));
    const after = await city();
    expect(after.counties[0]).toMatchObject({ submitted: 1, approved: 1 });
    expect(after.rows.some((r) => r.covered === 1)).toBe(true);
    for (const path of ['/api/county?period=2025-03', '/api/indicators?period=2025-03', '/api/consolidated', `/api/submissions?period=2025-03&institution=${INST}`]) expect((await get(path, viewer)).status, path).toBe(403);
    expect((await get('/api/city?period=2025-03', await login('admin'))).status).toBe(403);
  });
});

describe('regenerate cooldown', () => {
  it('once per county, period and minute: then a 429 in Chinese with Retry-After; other periods and the next minute go ahead', async () => {
    const token = await login('admin');
    now = new Date('2025-04-10T02:00:15Z');
    expect((await post('/api/regenerate', { period: '2025-03' }, token)).status).toBe(200);
    now = new Date('2025-04-10T02:00:40Z');
    const again = await post('/api/regenerate', { period: '2025-03' }, token);
    expect(again.status).toBe(429);
    expect(again.headers['retry-after']).toBe('20');
    expect(data(again).error).toBe('2025年3月的汇总表刚刚生成过，请 20 秒后再试');
    expect((await post('/api/regenerate', { period: '2025-02' }, token)).status).toBe(200);
    now = new Date(`2025-04-10T02:0${REGENERATE_COOLDOWN_SECONDS / 60}:00Z`);
    expect((await post('/api/regenerate', { period: '2025-03' }, token)).status).toBe(200);
    expect(published.map((p) => (p as { period: string }).period)).toEqual(['2025-03', '2025-02', '2025-03']);
  });

  it('a run that failed does not count', async () => {
    const token = await login('admin');
    failPublish = true;
    expect((await post('/api/regenerate', { period: '2025-03' }, token)).status).toBe(500);
    expect(logged).toEqual([expect.objectContaining({ level: 'error', path: '/api/regenerate', error: expect.stringContaining('S3 unavailable') })]);
    failPublish = false;
    expect((await post('/api/regenerate', { period: '2025-03' }, token)).status).toBe(200);
  });
});

describe('an institution reads and writes only its own data', () => {
  it('reads its own submissions, report and feedback', async () => {
    const token = await login('reporter');
    const subs = data(await get(`/api/submissions?period=2025-03`, token)) as { rows: Array<{ template: string; period: string; versions: unknown[] }> };
    // March's reporting window: the month's returns and the first quarter's
    expect(subs.rows.map((r) => [r.template, r.period])).toEqual([['T-JC', '2025-03'], ['T-TZ', '2025-03'], ['T-QY', '2025-Q1']]);
    expect(subs.rows[0]!.versions).toHaveLength(1);
    const report = data(await get(`/api/report?institution=${INST}&template=T-JC&period=2025-03&versionId=aaaaaaaaaaaaaaaaaaaa`, token)) as { issues: Array<{ message: string }>; feedback: boolean };
    expect(report.issues[0]!.message).toBe(`${INST} 的问题`);
    expect(report.feedback).toBe(true);
    const fb = await get(`/api/download/feedback?institution=${INST}&template=T-JC&period=2025-03&versionId=aaaaaaaaaaaaaaaaaaaa`, token);
    expect(fb.status).toBe(302);
    expect(fb.headers.location).toBe(`https://s3.example/rep/feedback/150525/${INST}/T-JC/2025-03/aaaaaaaaaaaaaaaaaaaa.xlsx?expires=60`);
    const tpl = await get(`/api/template?template=T-JC&period=2025-03`, token);
    expect(tpl.status).toBe(200);
    expect(Buffer.from(tpl.body as Uint8Array).subarray(0, 2).toString()).toBe('PK');
  });

  it('cannot read another institution’s (403), nor the commission’s views', async () => {
    const token = await login('reporter');
    const other = `institution=${OTHER}&template=T-JC&period=2025-03&versionId=bbbbbbbbbbbbbbbbbbbb`;
    for (const path of [
      `/api/submissions?period=2025-03&institution=${OTHER}`,
      `/api/report?${other}`,
      `/api/download/feedback?${other}`,
      `/api/template?template=T-JC&period=2025-03&institution=${OTHER}`,
      `/api/upload-status?key=${encodeURIComponent(`uploads/150525/${OTHER}/T-JC/2025-03/x.xlsx`)}`,
      `/api/submissions?period=2025-03&institution=${FOREIGN}`,
      `/api/history?to=2025-03&institution=${OTHER}`,
      '/api/county?period=2025-03',
      '/api/indicators?period=2025-03',
      '/api/consolidated',
      `/api/download/consolidated?key=${encodeURIComponent('consolidated/150525/latest/2025-03.xlsx')}`,
    ]) {
      const r = await get(path, token);
      expect(r.status, path).toBe(403);
      expect(JSON.stringify(data(r))).not.toContain(`${OTHER} 的问题`);
    }
    expect((await post('/api/regenerate', { period: '2025-03' }, token)).status).toBe(403);
    expect(published).toEqual([]);
  });

  it('a version id of another institution under its own name is not found', async () => {
    const token = await login('reporter');
    const r = await get(`/api/report?institution=${INST}&template=T-JC&period=2025-03&versionId=bbbbbbbbbbbbbbbbbbbb`, token);
    expect(r.status).toBe(404);
  });

  it('signs one exact key under its own prefix, with itself as uploader, whatever the file name says', async () => {
    const token = await login('reporter');
    const r = await post('/api/uploads', { template: 'T-JC', period: '2025-03', fileName: `../../${OTHER}/T-JC/2025-03/x.xlsx`, size: 1234 }, token);
    expect(r.status).toBe(200);
    const body = data(r) as { key: string };
    expect(body.key).toMatch(new RegExp(`^uploads/150525/${INST}/T-JC/2025-03/\\d{8}-\\d{6}_[0-9a-f]{6}_x\\.xlsx$`));
    expect(links.posts).toEqual([
      {
        bucket: 'up',
        key: body.key,
        contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        maxBytes: 10 * 1024 * 1024,
        metadata: { uploader: INST, 'uploader-user': PEOPLE.reporter!.username },
        expiresSeconds: 900,
      },
    ]);
  });

  it('refuses to sign for another institution, a template it does not owe, a future period, a non-xlsx or too large file', async () => {
    const token = await login('reporter');
    const ok = { template: 'T-JC', period: '2025-03', fileName: 'a.xlsx', size: 100 };
    expect((await post('/api/uploads', { ...ok, institution: OTHER }, token)).status).toBe(403);
    expect((await post('/api/uploads', { ...ok, template: 'T-YY' }, token)).status).toBe(403);
    expect((await post('/api/uploads', { ...ok, period: '2025-05' }, token)).status).toBe(400);
    expect((await post('/api/uploads', { ...ok, period: '2025-3' }, token)).status).toBe(400);
    expect((await post('/api/uploads', { ...ok, fileName: 'a.xls' }, token)).status).toBe(400);
    expect((await post('/api/uploads', { ...ok, size: 10 * 1024 * 1024 + 1 }, token)).status).toBe(413);
    expect((await post('/api/uploads', ok, token, 'text/plain')).status).toBe(415);
    expect((await post('/api/uploads', ok)).status).toBe(401);
    expect(links.posts).toEqual([]);
  });
});

describe('the county’s reviewers and administrators read their county, and only it', () => {
  it('reads any institution of its county and the county views', async () => {
    const token = await login('admin');
    expect((await get(`/api/report?institution=${OTHER}&template=T-JC&period=2025-03&versionId=bbbbbbbbbbbbbbbbbbbb`, token)).status).toBe(200);
    const county = data(await get('/api/county?period=2025-03', token)) as { rows: Array<{ code: string; cells: Record<string, { status: string } | null> }>; totals: { owed: number } };
    expect(county.rows.find((r) => r.code === INST)!.cells['T-JC']!.status).toBe('rejected');
    expect(county.rows.find((r) => r.code === INST)!.cells['T-YY']).toBeNull();
    expect(county.totals.owed).toBeGreaterThan(40);
    const list = data(await get('/api/consolidated', token)) as { latest: Array<{ key: string }> };
    expect(list.latest.map((l) => l.key)).toEqual(['consolidated/150525/latest/2025-03.xlsx']);
    const dl = await get(`/api/download/consolidated?key=${encodeURIComponent('consolidated/150525/latest/2025-03.xlsx')}`, token);
    expect(dl.status).toBe(302);
    expect((await post('/api/regenerate', { period: '2025-03' }, token)).status).toBe(200);
    expect(published).toEqual([{ level: 'county', code: '150525', period: '2025-03', now: NOW }]);
  });

  it('a reviewer reads the county but cannot regenerate, manage people or definitions, close a month, or upload', async () => {
    const token = await login('reviewer');
    expect((await get('/api/county?period=2025-03', token)).status).toBe(200);
    expect((await get(`/api/report?institution=${OTHER}&template=T-JC&period=2025-03&versionId=bbbbbbbbbbbbbbbbbbbb`, token)).status).toBe(200);
    for (const path of ['/api/users', '/api/definitions', '/api/definitions/workbook', '/api/audit?from=2025-04&to=2025-04']) expect((await get(path, token)).status, path).toBe(403);
    for (const [path, body] of [
      ['/api/regenerate', { period: '2025-03' }],
      ['/api/close', { period: '2025-03' }],
      ['/api/users', { name: '新人', phone: '13800001234', roles: ['reporter'], institution: INST }],
      ['/api/uploads', { template: 'T-FY', period: '2025-03', fileName: 'a.xlsx', size: 1 }],
    ] as const) expect((await post(path, body, token)).status, path).toBe(403);
    expect([published, links.posts]).toEqual([[], []]);
  });

  it('cannot read another county, download its workbooks, or sign uploads for its institutions', async () => {
    const token = await login('admin');
    expect((await get(`/api/submissions?period=2025-03&institution=${FOREIGN}`, token)).status).toBe(403);
    for (const key of ['consolidated/150425/latest/2025-03.xlsx', 'consolidated/150525/../150425/latest/2025-03.xlsx', 'feedback/150525/150525-101/T-JC/2025-03/aaaaaaaaaaaaaaaaaaaa.xlsx']) {
      expect((await get(`/api/download/consolidated?key=${encodeURIComponent(key)}`, token)).status, key).toBe(403);
    }
    expect((await post('/api/uploads', { institution: INST, template: 'T-JC', period: '2025-03', fileName: 'a.xlsx', size: 1 }, token)).status).toBe(403);
    // its own returns (it reports T-FY for the county) it signs like any institution
    const own = await post('/api/uploads', { template: 'T-FY', period: '2025-03', fileName: 'a.xlsx', size: 1 }, token);
    expect((data(own) as { key: string }).key).toMatch(/^uploads\/150525\/150525-000\/T-FY\/2025-03\//);
  });
});

describe('upload keys', () => {
  it('keep Chinese names, drop paths and odd characters, always end .xlsx under the given prefix', () => {
    const at = new Date('2025-04-03T02:15:07Z');
    expect(uploadKeyFor('150525', INST, 'T-JC', '2025-03', '八仙筒 3月报表.XLSX', at)).toMatch(/^uploads\/150525\/150525-101\/T-JC\/2025-03\/20250403-101507_[0-9a-f]{6}_八仙筒_3月报表\.xlsx$/);
    expect(uploadKeyFor('150525', INST, 'T-JC', '2025-03', 'C:\\Users\\x\\..\\a/b?.xlsx', at)).toMatch(/_b\.xlsx$/);
    expect(uploadKeyFor('150525', INST, 'T-JC', '2025-03', '\u0000\u0001.xlsx', at)).toMatch(/_报表\.xlsx$/);
  });
});
