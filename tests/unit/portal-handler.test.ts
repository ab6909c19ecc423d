/**
 * The portal's Lambda entry point translates API Gateway HTTP API (payload 2.0) events: base64
 * bodies, cookies in event.cookies, Set-Cookie in result.cookies (Secure), binary bodies base64.
 * Sign-in reads the definitions (who exists): the handler talks to the run's local stack, through
 * the same environment variables as in AWS.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { accessCode } from '../../functions/portal/auth.ts';
import type { HttpApiEvent, HttpApiResult } from '../../functions/handlers/portal-api.ts';

const SECRET = 'handler-test-secret-handler-test-secret-0123';
const ENV = { ...inject('stack').env, PORTAL_SECRET: SECRET };
let handler: (event: HttpApiEvent) => Promise<HttpApiResult>;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  for (const [k, v] of Object.entries(ENV)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  const { resetConfig } = await import('../../functions/config.ts');
  resetConfig();
  ({ handler } = await import('../../functions/handlers/portal-api.ts'));
});

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  (await import('../../functions/config.ts')).resetConfig();
});

const event = (method: string, rawPath: string, extra: Partial<HttpApiEvent> = {}): HttpApiEvent => ({ rawPath, requestContext: { http: { method } }, headers: {}, ...extra });

describe('portal-api handler', () => {
  it('signs in from a base64 body and returns the session in result.cookies, Secure', async () => {
    const body = Buffer.from(JSON.stringify({ code: '150525-101', accessCode: accessCode(SECRET, '150525-101') })).toString('base64');
    const res = await handler(event('POST', '/api/login', { headers: { 'Content-Type': 'application/json' }, body, isBase64Encoded: true }));
    expect(res.statusCode).toBe(200);
    expect(res.isBase64Encoded).toBe(false);
    expect(res.cookies).toHaveLength(1);
    expect(res.cookies![0]).toMatch(/^hmis_session=[^;]+; Max-Age=43200; Path=\/; HttpOnly; SameSite=Strict; Secure$/);
    expect(JSON.parse(res.body)).toMatchObject({ code: '150525-101', role: 'institution' });

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
});
