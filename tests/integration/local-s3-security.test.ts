/**
 * The local stack's S3 is not open (issue 12's findings, one test each): unsigned or foreign-key
 * requests, expired links, `..` keys, POST policies, CORS beyond the portal's origin, and ingest's
 * refusal of an upload nobody can be named for. Real HTTP against the local stack; nothing stubbed.
 */
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeClients, type Clients } from '../../functions/adapters/aws/clients.ts';
import { DynamoSubmissionStore } from '../../functions/adapters/dynamo/store.ts';
import { startPortal, type LocalPortal } from '../../functions/adapters/local/portal.ts';
import { startLocalStack, waitIdle, type LocalStack } from '../../functions/adapters/local/stack.ts';
import { S3ObjectLinks } from '../../functions/adapters/s3/links.ts';
import { XLSX_TYPE } from '../../functions/core/render/deterministic.ts';

const KEY = 'uploads/150525/150525-101/T-JC/2025-03/表.xlsx';
let dataDir: string;
let stack: LocalStack;
let clients: Clients;
let links: S3ObjectLinks;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'hmis-s3-security-'));
  // no handler: uploads are stored and versioned, nothing is ingested
  stack = await startLocalStack({ dataDir, dynamodbInMemory: true, log: () => {} });
  clients = makeClients(stack.endpoints);
  links = new S3ObjectLinks(clients.s3);
});
afterAll(async () => {
  clients?.destroy();
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const url = (path: string) => `${stack.endpoints.s3}${path}`;
const uploadsPath = (key: string) => `/hmis-uploads/${key.split('/').map(encodeURIComponent).join('/')}`;
async function code(res: Response): Promise<string> {
  return /<Code>([^<]+)<\/Code>/.exec(await res.text())?.[1] ?? '';
}
async function exists(key: string): Promise<boolean> {
  return clients.s3.send(new GetObjectCommand({ Bucket: 'hmis-uploads', Key: key })).then(
    () => true,
    () => false,
  );
}

describe('credentials', () => {
  it('refuses an unsigned PUT: nothing stored', async () => {
    const res = await fetch(url(uploadsPath(KEY)), { method: 'PUT', body: 'x' });
    expect([res.status, await code(res)]).toEqual([403, 'AccessDenied']);
    expect(await exists(KEY)).toBe(false);
  });

  it('refuses an unsigned GET of an object that exists', async () => {
    await clients.s3.send(new PutObjectCommand({ Bucket: 'hmis-reports', Key: 'reports/secret.json', Body: '{}' }));
    const res = await fetch(url('/hmis-reports/reports/secret.json'));
    expect([res.status, await code(res)]).toEqual([403, 'AccessDenied']);
  });

  it('refuses a request signed with another access key', async () => {
    const foreign = new S3Client({ endpoint: stack.endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'INTRUDER', secretAccessKey: 'x' } });
    try {
      await expect(foreign.send(new PutObjectCommand({ Bucket: 'hmis-uploads', Key: KEY, Body: 'x' }))).rejects.toMatchObject({ name: 'InvalidAccessKeyId' });
    } finally {
      foreign.destroy();
    }
  });

  it('refuses an expired presigned link', async () => {
    await clients.s3.send(new PutObjectCommand({ Bucket: 'hmis-reports', Key: 'reports/link.json', Body: '{}' }));
    const fresh = await getSignedUrl(clients.s3, new GetObjectCommand({ Bucket: 'hmis-reports', Key: 'reports/link.json' }), { expiresIn: 60 });
    expect((await fetch(fresh)).status).toBe(200);
    const old = await getSignedUrl(clients.s3, new GetObjectCommand({ Bucket: 'hmis-reports', Key: 'reports/link.json' }), { expiresIn: 1, signingDate: new Date(Date.now() - 3_600_000) });
    const res = await fetch(old);
    expect([res.status, await code(res)]).toEqual([403, 'AccessDenied']);
  });
});

describe('keys', () => {
  it('refuses . and .. path segments, raw or encoded, in the path, a copy source and a POST key: nothing written outside the data dir', async () => {
    const before = await readdir(dirname(dataDir));
    const signed = clients.s3;
    for (const path of ['/hmis-uploads/uploads/../../../escape.txt', '/hmis-uploads/uploads/%2E%2E/%2e%2e/escape.txt', '/hmis-uploads/./x']) {
      // sent as written (fetch would resolve the dots itself; a hostile client does not)
      const res = await rawPut(path);
      expect([path, res.status, /<Code>([^<]+)/.exec(res.body)?.[1]]).toEqual([path, 400, 'InvalidArgument']);
    }
    const copy = await fetch(url(uploadsPath(KEY)), { method: 'PUT', headers: { 'x-amz-copy-source': '/hmis-reports/../../etc/passwd', authorization: 'AWS4-HMAC-SHA256 Credential=S3RVER/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0' } });
    expect(copy.status).toBe(400);
    const post = await links.presignPost({ bucket: 'hmis-uploads', key: 'uploads/../../escape.xlsx', contentType: XLSX_TYPE, maxBytes: 1000, metadata: { uploader: '150525-101' }, expiresSeconds: 60 });
    expect((await postForm(post, 'x')).status).toBe(400);
    expect(existsSync(join(dataDir, 'escape.txt'))).toBe(false);
    expect(await readdir(dirname(dataDir))).toEqual(expect.arrayContaining(before));
    expect((await readdir(dirname(dataDir))).filter((n) => n.startsWith('escape'))).toEqual([]);
    await signed.send(new PutObjectCommand({ Bucket: 'hmis-uploads', Key: 'uploads/150525/a..b.xlsx', Body: 'dots inside a name are fine' }));
  });
});

function rawPut(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(stack.endpoints.s3);
    const req = request({ host: '127.0.0.1', port, path, method: 'PUT', headers: { authorization: 'AWS4-HMAC-SHA256 Credential=S3RVER/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0', 'content-length': '1' } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end('x');
  });
}

/** A browser's form POST of a presigned POST (fields first, the file last). */
function postForm(post: { url: string; fields: Record<string, string> }, body: string | Buffer, change: Record<string, string | null> = {}): Promise<Response> {
  const form = new FormData();
  for (const [k, v] of Object.entries({ ...post.fields, ...change })) if (v !== null) form.append(k, v);
  form.append('file', new Blob([typeof body === 'string' ? body : new Uint8Array(body)]), 'upload.xlsx');
  return fetch(post.url, { method: 'POST', body: form });
}

describe('the presigned POST policy', () => {
  const sign = (over: Partial<Parameters<S3ObjectLinks['presignPost']>[0]> = {}) =>
    links.presignPost({ bucket: 'hmis-uploads', key: 'uploads/150525/150525-101/T-JC/2025-03/门户.xlsx', contentType: XLSX_TYPE, maxBytes: 100, metadata: { uploader: '150525-101' }, expiresSeconds: 60, ...over });

  it('takes a POST that keeps to its policy, and keeps it as a version', async () => {
    const res = await postForm(await sign(), 'ok');
    expect(res.status).toBe(204);
    expect(res.headers.get('x-amz-version-id')).toMatch(/^[0-9A-F]{24}$/);
    const out = await clients.s3.send(new GetObjectCommand({ Bucket: 'hmis-uploads', Key: 'uploads/150525/150525-101/T-JC/2025-03/门户.xlsx' }));
    expect([await out.Body!.transformToString(), out.Metadata?.uploader, out.ContentType]).toEqual(['ok', '150525-101', XLSX_TYPE]);
  });

  it.each([
    ['a POST without a policy (anonymous)', { policy: null, 'X-Amz-Signature': null, Policy: null }, 'ok', 403],
    ['a forged signature', { 'X-Amz-Signature': '0'.repeat(64) }, 'ok', 403],
    ['another key than the one signed', { key: 'uploads/150525/150525-102/T-JC/2025-03/别人.xlsx' }, 'ok', 403],
    ['a file over content-length-range', {}, 'x'.repeat(101), 403],
    ['an empty file (under the range)', {}, '', 403],
    ['another Content-Type', { 'Content-Type': 'text/csv' }, 'ok', 403],
    ['another uploader', { 'x-amz-meta-uploader': '150525-102' }, 'ok', 403],
    ['no uploader', { 'x-amz-meta-uploader': null }, 'ok', 403],
    ['a field the policy does not name', { 'x-amz-meta-extra': 'smuggled' }, 'ok', 403],
  ] as const)('refuses %s', async (_name, change, body, status) => {
    const post = await sign();
    const res = await postForm(post, body, change as Record<string, string | null>);
    expect(res.status).toBe(status);
    expect(await exists((change as Record<string, string>).key ?? 'uploads/150525/150525-101/T-JC/2025-03/never.xlsx')).toBe(false);
  });

  it('refuses an expired policy', async () => {
    const post = await sign({ key: 'uploads/150525/150525-101/T-JC/2025-03/late.xlsx', expiresSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1_100));
    const res = await postForm(post, 'ok');
    expect([res.status, await res.text()]).toEqual([403, expect.stringContaining('Policy expired')]);
    expect(await exists('uploads/150525/150525-101/T-JC/2025-03/late.xlsx')).toBe(false);
  });
});

describe('CORS', () => {
  let portal: LocalPortal;
  beforeAll(async () => {
    portal = await startPortal({ stack, dataDir, port: 0, log: () => {} });
  });
  afterAll(() => portal?.close());

  it("answers a preflight from the portal's origin with that origin, and refuses any other origin", async () => {
    const preflight = (origin: string) => fetch(url('/hmis-uploads'), { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    const ok = await preflight(portal.url);
    expect([ok.status, ok.headers.get('access-control-allow-origin')]).toEqual([200, portal.url]);
    const evil = await preflight('https://evil.example');
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('ingest and the uploader', () => {
  const shared = inject('stack');
  it('an upload signed with IAM credentials and no uploader metadata is accepted and names the principal; one nobody can be named for is refused (unit: tests/unit/ingest-alerts.test.ts)', async () => {
    const c = makeClients(shared);
    try {
      const { readFile } = await import('node:fs/promises');
      const { CASES } = await import('../../fixtures/workbooks/cases.ts');
      const { caseFile } = await import('../../fixtures/workbooks/make.ts');
      const body = await readFile(caseFile(CASES.find((x) => x.name === 'valid-T-JC')!));
      const put = await c.s3.send(new PutObjectCommand({ Bucket: shared.buckets.uploads, Key: 'uploads/150525/150525-101/T-JC/2025-01/iam.xlsx', Body: body }));
      await waitIdle(shared);
      const versions = await new DynamoSubmissionStore(c.dynamodb, shared.table).versions({ institution: '150525-101', template: 'T-JC', period: '2025-01' });
      const mine = versions.find((v) => v.objectVersionId === put.VersionId);
      // (the workbook says 2025-03: rejected for its period; what matters is who it names)
      expect(mine).toMatchObject({ uploader: 'iam:AWS:S3RVER', objectKey: 'uploads/150525/150525-101/T-JC/2025-01/iam.xlsx' });
    } finally {
      c.destroy();
    }
  });
});
