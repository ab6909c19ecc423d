/**
 * The local portal server (functions/adapters/local/portal.ts) over real HTTP, on the run-wide stack:
 * an oversized body is answered 413 (declared or streamed, not a reset connection), logout refuses
 * another site, periods are bounded, the regenerate cooldown holds in DynamoDB (dynalite's
 * conditional put, not a fake); people sign in at the stack's user pool, logout revokes the session
 * there, and the audit trail is in the table.
 */
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPortal, type LocalPortal } from '../../functions/adapters/local/portal.ts';
import { MAX_API_BODY_BYTES, MAX_BODY_BYTES, REGENERATE_COOLDOWN_SECONDS } from '../../functions/portal/api.ts';
import { makeClients } from '../../functions/adapters/aws/clients.ts';
import { DynamoAuditLog } from '../../functions/adapters/dynamo/audit.ts';
import { addPeople, TEST_PASSWORD } from '../support/people.ts';

const stack = inject('stack');
/** this file's people (the run's user pool: numbers differ per file) */
const REPORTER = '13600000201';
const ADMIN = '13600822000';
// a fixed clock: the cooldown window is deterministic (12 s into a minute)
const NOW = new Date('2025-04-10T02:00:12Z');
// a county and period no other test consolidates
const COMMISSION = '150822-000';
const PERIOD = '2003-07';

let portal: LocalPortal;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'hmis-portal-server-'));
  await addPeople(stack, [
    { username: REPORTER, name: '服务测试', roles: ['reporter'], unit: '150525-101' },
    { username: ADMIN, name: '磴口管理', roles: ['admin'], unit: COMMISSION },
  ]);
  portal = await startPortal({ stack: { endpoints: stack }, dataDir, port: 0, now: () => NOW, log: () => undefined });
});

afterAll(async () => {
  await portal?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** POSTs `body` in chunks (no Content-Length unless given) and resolves with the answer, or rejects on a reset. */
function postRaw(path: string, body: Buffer, headers: Record<string, string | number> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${portal.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    for (let at = 0; at < body.length; at += 16 * 1024) req.write(body.subarray(at, at + 16 * 1024));
    req.end();
  });
}

/** the session and refresh cookies, as `name=value; name=value` */
async function signIn(username: string): Promise<string> {
  const r = await fetch(`${portal.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: TEST_PASSWORD }) });
  expect(r.status).toBe(200);
  return r.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
}

describe('local portal server', () => {
  it('answers 413 in Chinese to an oversized body, declared or streamed, and keeps serving', async () => {
    // over what any route takes: answered before the body is read to its end
    const big = Buffer.alloc(MAX_API_BODY_BYTES + 1024 * 1024, 0x20);
    const framings: Array<Record<string, string | number>> = [{ 'content-length': big.length }, { 'transfer-encoding': 'chunked' }];
    for (const headers of framings) {
      const r = await postRaw('/api/login', big, headers);
      expect(r.status, JSON.stringify(headers)).toBe(413);
      expect((JSON.parse(r.text) as { error: string }).error).toMatch(/请求过大/);
    }
    // a sign-in just over its own limit, and at the limit (an ordinary 401 for a wrong password)
    expect((await postRaw('/api/login', Buffer.alloc(MAX_BODY_BYTES + 1, 0x20))).status).toBe(413);
    const atLimit = JSON.stringify({ username: REPORTER, password: 'x' });
    expect((await postRaw('/api/login', Buffer.from(atLimit.padEnd(MAX_BODY_BYTES, ' ')))).status).toBe(401);
  });

  it('logout from another site, or as a form, is refused and clears nothing; from the page it revokes the session at the user pool', async () => {
    const cookie = await signIn(REPORTER);
    const logout = (headers: Record<string, string>, body = '{}') => fetch(`${portal.url}/api/logout`, { method: 'POST', headers: { cookie, ...headers }, body });
    for (const [headers, status] of [
      [{ 'content-type': 'application/x-www-form-urlencoded' }, 415],
      [{ 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, 403],
      [{ 'content-type': 'application/json', origin: 'https://evil.example' }, 403],
    ] as const) {
      const r = await logout(headers);
      expect(r.status, JSON.stringify(headers)).toBe(status);
      expect(r.headers.getSetCookie()).toEqual([]);
    }
    expect((await fetch(`${portal.url}/api/me`, { headers: { cookie } })).status).toBe(200);
    const ok = await logout({ 'content-type': 'application/json', 'sec-fetch-site': 'same-origin', origin: portal.url });
    expect(ok.status).toBe(200);
    expect(ok.headers.getSetCookie()[0]).toMatch(/^hmis_session=; Path=\/; Max-Age=0/);
    // the cookies kept from before: revoked, not just cleared
    expect((await fetch(`${portal.url}/api/me`, { headers: { cookie } })).status).toBe(401);
  });

  it('every sign-in, failed or not, is in the table’s audit trail with the address', async () => {
    await fetch(`${portal.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: ADMIN, password: 'Wrong-pass-1' }) });
    await signIn(ADMIN);
    const clients = makeClients(stack);
    try {
      // audit times are the portal's calendar: NOW's month
      const events = await new DynamoAuditLog(clients.dynamodb, stack.table).list('150822', '2025-04', '2025-04');
      const mine = events.filter((e) => e.action === 'sign-in' && e.actor.username === ADMIN);
      // both may carry the same millisecond: compared as a set
      expect(mine.map((e) => [e.outcome, e.ip]).sort()).toEqual([
        ['ok', '127.0.0.1'],
        ['refused', '127.0.0.1'],
      ]);
    } finally {
      clients.destroy();
    }
  });

  it('bounds periods: 0001-01 and 1990-12 are a 400, not a 500', async () => {
    const cookie = await signIn(REPORTER);
    for (const period of ['0001-01', '1990-12']) {
      const r = await fetch(`${portal.url}/api/submissions?period=${period}`, { headers: { cookie } });
      expect(r.status, period).toBe(400);
      const upload = await fetch(`${portal.url}/api/uploads`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ template: 'T-JC', period, fileName: 'a.xlsx', size: 100 }) });
      expect(upload.status, period).toBe(400);
    }
  });

  it('regenerate: once per county, period and minute, claimed in DynamoDB; then 429 with Retry-After', async () => {
    const cookie = await signIn(ADMIN);
    const regenerate = () => fetch(`${portal.url}/api/regenerate`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ period: PERIOD }) });
    const first = await regenerate();
    expect(first.status).toBe(200);
    expect(((await first.json()) as { key: string }).key).toMatch(new RegExp(`^consolidated/150822/${PERIOD}/`));
    const second = await regenerate();
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe(String(REGENERATE_COOLDOWN_SECONDS - 12));
    expect(((await second.json()) as { error: string }).error).toMatch(/刚刚生成过，请 48 秒后再试/);
  });
});
