/**
 * The portal's Lambda entry point translates API Gateway HTTP API (payload 2.0) events: base64
 * bodies, cookies in event.cookies, Set-Cookie in result.cookies (Secure), binary bodies base64;
 * it refuses what did not come through CloudFront (no origin secret) and bodies over the limit
 * before decoding them. Sign-in goes to the user pool and reads the definitions: the handler talks to
 * the run's local stack (its user pool stand-in included), through the same environment variables as
 * in AWS.
 */
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { MAX_API_BODY_BYTES, MAX_BODY_BYTES, SIGN_IN_FAILED_EVENT } from '../../functions/portal/api.ts';
import { clientIp, ORIGIN_VERIFY_HEADER, type HttpApiEvent, type HttpApiResult } from '../../functions/handlers/portal-api.ts';
import { addPeople, TEST_PASSWORD } from '../support/people.ts';

const ORIGIN_SECRET = 'origin-secret-cloudfront-sends-0123456789';
/** this file's reporter of 150525-101 (the user pool is the run's: numbers differ per file) */
const USER = '13600000101';
const SIGN_IN = { username: USER, password: TEST_PASSWORD };
const ENV = {
  ...inject('stack').env,
  PORTAL_ORIGIN_SECRET: ORIGIN_SECRET,
  PORTAL_ORIGINS: 'https://d111111abcdef8.cloudfront.net,https://hmis.example.org',
};
let handler: (event: HttpApiEvent) => Promise<HttpApiResult>;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  for (const [k, v] of Object.entries(ENV)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  const { resetConfig } = await import('../../functions/config.ts');
  resetConfig();
  await addPeople(inject('stack'), [{ username: USER, name: '入口测试', roles: ['reporter'], unit: '150525-101' }]);
  ({ handler } = await import('../../functions/handlers/portal-api.ts'));
});

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  (await import('../../functions/config.ts')).resetConfig();
});

/** An event as CloudFront → API Gateway deliver it: the origin secret header is there unless `extra.headers` replaces the headers. */
const event = (method: string, rawPath: string, extra: Partial<HttpApiEvent> = {}): HttpApiEvent => ({
  rawPath,
  requestContext: { http: { method, sourceIp: '130.176.0.1' } },
  ...extra,
  headers: { [ORIGIN_VERIFY_HEADER]: ORIGIN_SECRET, ...extra.headers },
});
const errorOf = (r: HttpApiResult) => (JSON.parse(r.body) as { error: string }).error;

describe('portal-api handler', () => {
  it('signs in from a base64 body and returns the session in result.cookies, Secure', async () => {
    const body = Buffer.from(JSON.stringify(SIGN_IN)).toString('base64');
    const res = await handler(event('POST', '/api/login', { headers: { 'Content-Type': 'application/json' }, body, isBase64Encoded: true }));
    expect(res.statusCode).toBe(200);
    expect(res.isBase64Encoded).toBe(false);
    expect(res.cookies).toHaveLength(2);
    expect(res.cookies![0]).toMatch(/^hmis_session=[^;]+; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict; Secure$/);
    expect(res.cookies![1]).toMatch(/^hmis_refresh=[^;]+; Path=\/api\/logout; Max-Age=43200; HttpOnly; SameSite=Strict; Secure$/);
    expect(JSON.parse(res.body)).toMatchObject({ username: USER, roles: ['reporter'], institution: '150525-101' });

    const cookie = res.cookies![0]!.split(';')[0]!;
    const tpl = await handler(event('GET', '/api/template', { cookies: [cookie], queryStringParameters: { template: 'T-JC', period: '2025-03' } }));
    expect(tpl.statusCode).toBe(200);
    expect(tpl.isBase64Encoded).toBe(true);
    expect(tpl.headers['content-disposition']).toMatch(/^attachment; filename=".*"; filename\*=UTF-8''/);
    expect(Buffer.from(tpl.body, 'base64').subarray(0, 2).toString()).toBe('PK');
  });

  it('answers 401 without a session and 404 for an unknown route, in Chinese JSON', async () => {
    const me = await handler(event('GET', '/api/me'));
    expect(me.statusCode).toBe(401);
    expect(JSON.parse(me.body).error).toMatch(/登录/);
    expect((await handler(event('GET', '/api/nothing'))).statusCode).toBe(404);
  });

  it('refuses, before anything else, a request without the origin secret CloudFront adds (the API called around the web ACL)', async () => {
    const body = JSON.stringify(SIGN_IN);
    const direct = { requestContext: { http: { method: 'POST' } }, rawPath: '/api/login', body, headers: { 'content-type': 'application/json' } } as HttpApiEvent;
    for (const secret of [undefined, '', 'wrong', `${ORIGIN_SECRET}x`, ORIGIN_SECRET.slice(1)]) {
      const res = await handler({ ...direct, headers: { ...direct.headers, ...(secret === undefined ? {} : { [ORIGIN_VERIFY_HEADER]: secret }) } });
      expect(res.statusCode, String(secret)).toBe(403);
      expect(errorOf(res)).toMatch(/报表平台/);
      expect(res.cookies).toBeUndefined();
    }
    // the header name in any case, as API Gateway may pass it
    const ok = await handler({ ...direct, headers: { ...direct.headers, 'X-Hmis-Origin-Verify': ORIGIN_SECRET } });
    expect(ok.statusCode).toBe(200);
  });

  it(`answers 413 to a body over ${MAX_API_BODY_BYTES} bytes before decoding it, base64 or not; over ${MAX_BODY_BYTES} for a sign-in`, async () => {
    const huge = Buffer.alloc(MAX_API_BODY_BYTES + 1, 0x20).toString('utf8');
    for (const isBase64Encoded of [false, true]) {
      const res = await handler(event('POST', '/api/logout', { headers: { 'content-type': 'application/json' }, body: isBase64Encoded ? Buffer.from(huge).toString('base64') : huge, isBase64Encoded }));
      expect(res.statusCode, String(isBase64Encoded)).toBe(413);
      expect(errorOf(res)).toBe('请求过大（不超过 4 MB）');
    }
    // under that, each route's own limit: a sign-in is at most MAX_BODY_BYTES
    const big = JSON.stringify({ username: USER, password: 'x'.repeat(MAX_BODY_BYTES) });
    const res = await handler(event('POST', '/api/login', { headers: { 'content-type': 'application/json' }, body: Buffer.from(big).toString('base64'), isBase64Encoded: true }));
    expect(res.statusCode).toBe(413);
    expect(errorOf(res)).toBe('请求过大（不超过 16 KB）');
  });

  it("the page's origins from PORTAL_ORIGINS count for browsers that send Origin but not Sec-Fetch-Site", async () => {
    const post = (headers: Record<string, string>) => handler(event('POST', '/api/logout', { headers: { 'content-type': 'application/json', ...headers }, body: '{}' }));
    expect((await post({ origin: 'https://hmis.example.org' })).statusCode).toBe(200);
    expect((await post({ origin: 'https://d111111abcdef8.cloudfront.net' })).statusCode).toBe(200);
    expect((await post({ origin: 'https://evil.example' })).statusCode).toBe(403);
    expect((await post({ 'sec-fetch-site': 'cross-site', origin: 'https://hmis.example.org' })).statusCode).toBe(403);
  });

  it('logs a failed sign-in with the browser’s address (the last X-Forwarded-For hop before CloudFront’s own)', async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    try {
      const res = await handler(
        event('POST', '/api/login', { headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.0.0.1, 198.51.100.23, 130.176.0.1' }, body: JSON.stringify({ username: USER, password: 'Wrong-pass-1' }) }),
      );
      expect(res.statusCode).toBe(401);
    } finally {
      spy.mockRestore();
    }
    expect(lines.map((l) => JSON.parse(l))).toEqual([{ level: 'warn', event: SIGN_IN_FAILED_EVENT, username: USER, reason: 'credentials', ip: '198.51.100.23' }]);
  });
});

describe('clientIp', () => {
  it.each([
    ['198.51.100.23, 130.176.0.1', '130.176.0.1', '198.51.100.23'],
    ['spoofed, 198.51.100.23, 130.176.0.1', '130.176.0.1', '198.51.100.23'],
    ['198.51.100.23', '130.176.0.1', '198.51.100.23'],
    [undefined, '130.176.0.1', '130.176.0.1'],
    ['', undefined, undefined],
  ])('%s (source %s) → %s', (forwardedFor, sourceIp, ip) => expect(clientIp(forwardedFor, sourceIp)).toBe(ip));
});
