/**
 * The portal API core's authorization, over the memory fakes: sign-in, tokens (tampered, foreign,
 * expired, escalated), and that an institution reads and signs only its own data while the
 * commission reads its county and nothing beyond it.
 */
import { createHmac } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createPortalApi,
  FIRST_PERIOD,
  MAX_BODY_BYTES,
  REGENERATE_COOLDOWN_SECONDS,
  SESSION_COOKIE,
  SIGN_IN_FAILED_EVENT,
  uploadKeyFor,
  type ApiRequest,
  type ApiResponse,
  type ObjectLinks,
  type PortalApi,
} from '../../functions/portal/api.ts';
import { accessCode, issueToken, MAX_SESSION_SECONDS, normalizeAccessCode, verifyToken } from '../../functions/portal/auth.ts';
import type { SubmissionVersion } from '../../functions/ports/index.ts';
import { MemoryDefinitions, MemoryObjects, MemoryStore } from '../fakes/memory.ts';
import { bundledDefinitions, bundledLog, bundledSource } from '../../schemas/index.ts';

const SECRET = 'unit-test-secret-unit-test-secret-0123456789';
const NOW = new Date('2025-04-10T02:00:00Z');
const INST = '150525-101';
const OTHER = '150525-102';
const COMMISSION = '150525-000';
const FOREIGN = '150425-001'; // another county

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

let api: PortalApi;
let links: FakeLinks;
let store: MemoryStore;
let objects: MemoryObjects;
let now: Date;
let published: unknown[];
let logged: Array<Record<string, unknown>>;
let failPublish: boolean;

beforeEach(async () => {
  now = NOW;
  links = new FakeLinks();
  store = new MemoryStore();
  objects = new MemoryObjects();
  published = [];
  logged = [];
  failPublish = false;
  api = createPortalApi({
    secret: SECRET,
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
const post = (path: string, body: unknown, token?: string, contentType = 'application/json', headers: Record<string, string> = {}): Promise<ApiResponse> =>
  api({ method: 'POST', path, query: {}, headers: { 'content-type': contentType, ...(token ? { cookie: `${SESSION_COOKIE}=${token}` } : {}), ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const data = (r: ApiResponse) => JSON.parse(r.body as string) as Record<string, unknown> & { error?: string };

async function login(code: string): Promise<string> {
  const r = await post('/api/login', { code, accessCode: accessCode(SECRET, code) });
  expect(r.status).toBe(200);
  const cookie = r.cookies[0]!;
  expect(cookie).toMatch(/HttpOnly/);
  expect(cookie).toMatch(/SameSite=Strict/);
  return /^hmis_session=([^;]+)/.exec(cookie)![1]!;
}

describe('sign-in', () => {
  it('access codes are per institution and per secret, typed in any case with or without the dash', async () => {
    const code = accessCode(SECRET, INST);
    expect(code).toMatch(/^[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}$/);
    expect(accessCode(SECRET, INST)).toBe(code);
    expect(accessCode(SECRET, OTHER)).not.toBe(code);
    expect(accessCode(`${SECRET}x`, INST)).not.toBe(code);
    expect(normalizeAccessCode(` ${code.toLowerCase().replace('-', ' ')} `)).toBe(code.replace('-', ''));
    const r = await post('/api/login', { code: INST, accessCode: code.toLowerCase().replace('-', '') });
    expect(r.status).toBe(200);
    expect(data(r)).toMatchObject({ code: INST, role: 'institution', county: '150525' });
  });

  it('refuses a wrong access code, another institution’s code, an unknown institution, and a non-JSON post', async () => {
    expect((await post('/api/login', { code: INST, accessCode: 'AAAAA-AAAAA' })).status).toBe(401);
    expect((await post('/api/login', { code: INST, accessCode: accessCode(SECRET, OTHER) })).status).toBe(401);
    expect((await post('/api/login', { code: '150525-999', accessCode: accessCode(SECRET, '150525-999') })).status).toBe(401);
    expect((await post('/api/login', { code: INST, accessCode: accessCode(SECRET, INST) }, undefined, 'text/plain')).status).toBe(415);
  });

  it('the commission signs in as the commission of its county', async () => {
    const r = await post('/api/login', { code: COMMISSION, accessCode: accessCode(SECRET, COMMISSION) });
    expect(data(r)).toMatchObject({ code: COMMISSION, role: 'commission', county: '150525' });
  });
});

describe('session tokens', () => {
  it('a tampered payload, a tampered signature, another secret’s token, garbage: 401', async () => {
    const token = await login(INST);
    expect((await get('/api/me', token)).status).toBe(200);
    const [payload, mac] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, c: OTHER })).toString('base64url');
    expect((await get('/api/me', `${forged}.${mac}`)).status).toBe(401);
    const escalated = Buffer.from(JSON.stringify({ ...claims, r: 'commission' })).toString('base64url');
    expect((await get('/api/me', `${escalated}.${mac}`)).status).toBe(401);
    expect((await get('/api/me', `${payload}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`)).status).toBe(401);
    const foreign = issueToken(`${SECRET}-other`, { code: INST, county: '150525', role: 'institution', iat: claims.i, exp: claims.e });
    expect((await get('/api/me', foreign)).status).toBe(401);
    for (const junk of ['', '.', 'a.b.c', 'x'.repeat(5000), `${payload}.`]) expect((await get('/api/me', junk)).status).toBe(401);
    expect((await get('/api/me')).status).toBe(401);
  });

  it('expires', async () => {
    const token = await login(INST);
    now = new Date(NOW.getTime() + 11 * 3600_000);
    expect((await get('/api/me', token)).status).toBe(200);
    now = new Date(NOW.getTime() + 12 * 3600_000 + 1000);
    expect((await get('/api/me', token)).status).toBe(401);
  });

  it('the registry decides the role: a correctly signed token claiming the commission for an institution is refused', () => {
    const iat = Math.floor(NOW.getTime() / 1000);
    const exp = iat + 60;
    expect(verifyToken(bundledDefinitions(), SECRET, issueToken(SECRET, { code: INST, county: '150525', role: 'commission', iat, exp }), NOW)).toBeNull();
    expect(verifyToken(bundledDefinitions(), SECRET, issueToken(SECRET, { code: INST, county: '150425', role: 'institution', iat, exp }), NOW)).toBeNull();
    expect(verifyToken(bundledDefinitions(), SECRET, issueToken(SECRET, { code: INST, county: '150525', role: 'institution', iat, exp }), NOW)).toMatchObject({ code: INST });
  });

  it('carries its issue time; the server ends it MAX_SESSION_SECONDS after that, whatever its expiry says', async () => {
    const token = await login(INST);
    const claims = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { i: number; e: number };
    expect(claims.i).toBe(NOW.getTime() / 1000);
    expect(claims.e - claims.i).toBe(12 * 3600);
    expect(MAX_SESSION_SECONDS).toBe(12 * 3600);

    // a token that claims a month (a longer sessionTtlSeconds, a bug, a leaked key's forgery with the real iat)
    const iat = NOW.getTime() / 1000;
    const month = issueToken(SECRET, { code: INST, county: '150525', role: 'institution', iat, exp: iat + 30 * 86400 });
    now = new Date(NOW.getTime() + (MAX_SESSION_SECONDS - 60) * 1000);
    expect((await get('/api/me', month)).status).toBe(200);
    expect(data(await get('/api/me', month)).expiresAt).toBe(new Date((iat + MAX_SESSION_SECONDS) * 1000).toISOString());
    now = new Date(NOW.getTime() + (MAX_SESSION_SECONDS + 1) * 1000);
    expect((await get('/api/me', month)).status).toBe(401);

    // issued in the future (beyond a minute of clock skew), or with no issue time at all: refused
    now = NOW;
    const future = issueToken(SECRET, { code: INST, county: '150525', role: 'institution', iat: iat + 3600, exp: iat + 7200 });
    expect((await get('/api/me', future)).status).toBe(401);
    const skewed = issueToken(SECRET, { code: INST, county: '150525', role: 'institution', iat: iat + 30, exp: iat + 7200 });
    expect((await get('/api/me', skewed)).status).toBe(200);
    const payload = Buffer.from(JSON.stringify({ c: INST, k: '150525', r: 'institution', e: iat + 3600 })).toString('base64url');
    const key = createHmac('sha256', SECRET).update('hmis-portal/session').digest();
    const noIat = `${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`;
    expect((await get('/api/me', noIat)).status).toBe(401);
    // (the same construction with an issue time is accepted: the signature above is the real one)
    const withIat = Buffer.from(JSON.stringify({ c: INST, k: '150525', r: 'institution', i: iat, e: iat + 3600 })).toString('base64url');
    expect((await get('/api/me', `${withIat}.${createHmac('sha256', key).update(withIat).digest('base64url')}`)).status).toBe(200);
  });

  it('accepts the token as a Bearer header too (scripts), and logout clears the cookie', async () => {
    const token = await login(INST);
    expect((await get('/api/me', undefined, { authorization: `Bearer ${token}` })).status).toBe(200);
    const out = await post('/api/logout', {}, token);
    expect(out.cookies[0]).toMatch(/^hmis_session=; Max-Age=0/);
  });
});

describe('no other site can post for the user', () => {
  const cleared = (r: ApiResponse) => r.cookies.some((c) => /^hmis_session=;/.test(c));

  it('logout: only JSON from the page itself; a form, another site, an opaque origin are refused and clear nothing', async () => {
    const token = await login(INST);
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
      const r = await post('/api/logout', {}, token, 'application/json', headers);
      expect([r.status, cleared(r)], JSON.stringify(headers)).toEqual([200, true]);
    }
  });

  it('the same holds for every POST: sign-in, uploads, regenerate', async () => {
    const cross = { 'sec-fetch-site': 'cross-site' };
    expect((await post('/api/login', { code: INST, accessCode: accessCode(SECRET, INST) }, undefined, 'application/json', cross)).status).toBe(403);
    const token = await login(INST);
    expect((await post('/api/uploads', { template: 'T-JC', period: '2025-03', fileName: 'a.xlsx', size: 1 }, token, 'application/json', cross)).status).toBe(403);
    const commission = await login(COMMISSION);
    expect((await post('/api/regenerate', { period: '2025-03' }, commission, 'application/json', cross)).status).toBe(403);
    expect([links.posts, published]).toEqual([[], []]);
  });
});

describe('bounded input', () => {
  it(`periods from ${FIRST_PERIOD} to this month on every route: 1990-12 and 0001-01 are a 400 in Chinese, never a 500 or a signed upload`, async () => {
    const inst = await login(INST);
    const commission = await login(COMMISSION);
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
    const r = await post('/api/login', JSON.stringify({ code: INST, accessCode: 'x'.repeat(MAX_BODY_BYTES) }));
    expect(r.status).toBe(413);
    expect(data(r).error).toMatch(/请求过大/);
    // counted in bytes: 6,000 Chinese characters are 18,000 bytes
    expect((await post('/api/login', JSON.stringify({ code: '机'.repeat(6000) }))).status).toBe(413);
  });
});

describe('failed sign-ins are logged for the alarm', () => {
  it('one structured line per failure, with the code tried and the address; none for a success', async () => {
    await api({ method: 'POST', path: '/api/login', query: {}, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: INST, accessCode: 'AAAAA-AAAAA' }), ip: '203.0.113.7' });
    await post('/api/login', { code: '机'.repeat(100), accessCode: 'x' });
    await login(INST);
    expect(logged).toEqual([
      { level: 'warn', event: SIGN_IN_FAILED_EVENT, code: INST, ip: '203.0.113.7' },
      { level: 'warn', event: SIGN_IN_FAILED_EVENT, code: '机'.repeat(20), ip: null },
    ]);
  });
});

describe('regenerate cooldown', () => {
  it('once per county, period and minute: then a 429 in Chinese with Retry-After; other periods and the next minute go ahead', async () => {
    const token = await login(COMMISSION);
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
    const token = await login(COMMISSION);
    failPublish = true;
    expect((await post('/api/regenerate', { period: '2025-03' }, token)).status).toBe(500);
    expect(logged).toEqual([expect.objectContaining({ level: 'error', path: '/api/regenerate', error: expect.stringContaining('S3 unavailable') })]);
    failPublish = false;
    expect((await post('/api/regenerate', { period: '2025-03' }, token)).status).toBe(200);
  });
});

describe('an institution reads and writes only its own data', () => {
  it('reads its own submissions, report and feedback', async () => {
    const token = await login(INST);
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
    const token = await login(INST);
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
    const token = await login(INST);
    const r = await get(`/api/report?institution=${INST}&template=T-JC&period=2025-03&versionId=bbbbbbbbbbbbbbbbbbbb`, token);
    expect(r.status).toBe(404);
  });

  it('signs one exact key under its own prefix, with itself as uploader, whatever the file name says', async () => {
    const token = await login(INST);
    const r = await post('/api/uploads', { template: 'T-JC', period: '2025-03', fileName: `../../${OTHER}/T-JC/2025-03/x.xlsx`, size: 1234 }, token);
    expect(r.status).toBe(200);
    const body = data(r) as { key: string };
    expect(body.key).toMatch(new RegExp(`^uploads/150525/${INST}/T-JC/2025-03/\\d{8}-\\d{6}_[0-9a-f]{6}_x\\.xlsx$`));
    expect(links.posts).toEqual([
      { bucket: 'up', key: body.key, contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', maxBytes: 10 * 1024 * 1024, metadata: { uploader: INST }, expiresSeconds: 900 },
    ]);
  });

  it('refuses to sign for another institution, a template it does not owe, a future period, a non-xlsx or too large file', async () => {
    const token = await login(INST);
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

describe('the commission reads its county, and only its county', () => {
  it('reads any institution of its county and the county views', async () => {
    const token = await login(COMMISSION);
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

  it('cannot read another county, download its workbooks, or sign uploads for its institutions', async () => {
    const token = await login(COMMISSION);
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
