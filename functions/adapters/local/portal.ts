/**
 * The portal on one machine: one HTTP server that serves the page (functions/portal/web) and the
 * same API core as the Lambda (functions/portal/api.ts), over the local stack's S3, DynamoDB, SNS and
 * user pool (the stand-in, functions/adapters/local/idp.ts, through the same Cognito adapter).
 *
 * The browser uploads straight to the local S3 with the presigned POST, as it would to S3: the uploads
 * bucket gets a CORS rule for the portal's origin (in AWS the CDK stack sets the same rule).
 *
 * A user pool without anyone in it gets one administrator (also reviewer) per county of the
 * definitions, each with a temporary password: <dataDir>/portal-users.txt lists them; the first
 * sign-in sets a password of one's own, and 用户管理 adds everyone else.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { PutBucketCorsCommand } from '@aws-sdk/client-s3';
import { DEFAULT_MAX_UPLOAD_BYTES } from '../../config.ts';
import { makeClients } from '../aws/clients.ts';
import { DynamoSubmissionStore } from '../dynamo/store.ts';
import { DynamoAuditLog } from '../dynamo/audit.ts';
import { CognitoIdentity } from '../cognito/identity.ts';
import { SnsAlerter } from '../sns/alerter.ts';
import { S3ObjectLinks } from '../s3/links.ts';
import { S3ObjectStore } from '../s3/objects.ts';
import { publishConsolidated } from '../../core/consolidate/publish.ts';
import { bodyTooLarge, createPortalApi, errorResponse, MAX_API_BODY_BYTES, type ApiRequest, type ApiResponse, type PortalApi } from '../../portal/api.ts';
import type { Definitions } from '../../core/definitions/definitions.ts';
import { e164, ROLE_LABELS, temporaryPassword, type Person } from '../../core/people.ts';
import type { IdentityProvider } from '../../ports/index.ts';
import { StoredDefinitions } from '../../core/definitions/source.ts';
import { localDefinitionsStore } from './definitions.ts';
import type { StackEndpoints } from './stack.ts';
import { portalCsp } from '../../portal/csp.ts';
import { closeServer } from './listen.ts';

export const WEB_DIR = fileURLToPath(new URL('../../portal/web/', import.meta.url));
export const PORTAL_DEFAULT_PORT = 8080;

export interface StartPortalOptions {
  /** the local stack (started here or found running): its endpoints */
  stack: { endpoints: StackEndpoints };
  /** <dataDir>/portal-users.txt gets the first administrators (a new user pool) */
  dataDir: string;
  /** 0 = a free port; default 8080 */
  port?: number;
  /** default 127.0.0.1; 0.0.0.0 to reach it from other machines of the LAN */
  host?: string;
  maxUploadBytes?: number;
  now?: () => Date;
  log?: (line: string) => void;
}

/** A county administrator created for a new user pool, with the temporary password to sign in with first. */
export interface DemoUser extends Person {
  countyName: string;
  temporaryPassword: string;
}

export interface LocalPortal {
  url: string;
  port: number;
  /** the administrators created when the user pool was empty (none when it had people already) */
  users: DemoUser[];
  /** <dataDir>/portal-users.txt: the administrators created first and their temporary passwords */
  usersFile: string;
  api: PortalApi;
  /** the user pool, as the portal uses it (tests, `hmis users`) */
  identity: IdentityProvider;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
};

interface StaticFile {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  etag: string;
}

async function loadWeb(dir: string): Promise<Map<string, StaticFile>> {
  const files = new Map<string, StaticFile>();
  for (const name of ['index.html', 'app.js', 'staff.js', 'style.css', 'favicon.svg']) {
    const body = await readFile(join(dir, name)).catch(() => null);
    if (!body) continue;
    const type = TYPES[extname(name)] ?? 'application/octet-stream';
    files.set(`/${name}`, { body, gzip: /^text\//.test(type) ? gzipSync(body, { level: 9 }) : null, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  if (!files.has('/index.html')) throw new Error(`portal page not found in ${dir}`);
  return files;
}

/**
 * The body as text, or null as soon as it is larger than `limit` (declared or counted). The caller
 * then answers 413 at once; Node reads the rest of the body and drops it, so the client gets that
 * answer rather than a reset connection.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  if (Number(req.headers['content-length']) > limit) return Promise.resolve(null);
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.off('data', onData);
        resolveBody(null);
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, response: ApiResponse): void {
  res.writeHead(response.status, { ...response.headers, ...(response.cookies.length ? { 'set-cookie': response.cookies } : {}) });
  res.end(response.body);
}

/** Starts the page and the API on `port`; the API talks to the stack's S3 and DynamoDB. */
export async function startPortal(options: StartPortalOptions): Promise<LocalPortal> {
  const log = options.log ?? ((line: string) => console.error(line));
  const endpoints = options.stack.endpoints;
  const clients = makeClients(endpoints);
  const objects = new S3ObjectStore(clients.s3);
  const store = new DynamoSubmissionStore(clients.dynamodb, endpoints.table);
  const reportsBucket = endpoints.buckets.reports;
  if (!endpoints.cognito || !clients.cognito) throw new Error('the local stack has no user pool (endpoints.json from an older version: restart it)');
  const identity = new CognitoIdentity({ client: clients.cognito, ...endpoints.cognito });


  const definitionsStore = localDefinitionsStore(endpoints, clients);
  const definitions = new StoredDefinitions(definitionsStore);
  // the API needs the portal's own address (links in alerts): built once the server listens
  let api: PortalApi | undefined;
  const web = await loadWeb(WEB_DIR);
  const s3Origin = new URL(endpoints.s3).origin;
  const csp = portalCsp(s3Origin);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith('/api/')) {
      const body = req.method === 'POST' ? await readBody(req, MAX_API_BODY_BYTES) : undefined;
      if (body === null) return send(res, errorResponse(413, bodyTooLarge(MAX_API_BODY_BYTES)));
      const headers: ApiRequest['headers'] = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      send(res, await api!({ method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), headers, body: body ?? null, ip: req.socket.remoteAddress }));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    // deep links (the alert's /submissions/<institution>/<template>/<period>/<versionId>) open the page
    const file = web.get(url.pathname) ?? (url.pathname === '/' || url.pathname.startsWith('/submissions/') ? web.get('/index.html') : undefined);
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('未找到 not found');
      return;
    }
    const headers: Record<string, string> = {
      'content-type': file.type,
      etag: file.etag,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      vary: 'Accept-Encoding',
    };
    if (file.type.startsWith('text/html')) headers['content-security-policy'] = csp;
    if (req.headers['if-none-match'] === file.etag) {
      res.writeHead(304, headers).end();
      return;
    }
    const gzip = file.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    if (gzip) headers['content-encoding'] = 'gzip';
    const body = gzip ? file.gzip! : file.body;
    headers['content-length'] = String(body.length);
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      log(`[portal] ${req.method} ${req.url}: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: '服务暂时不可用' }));
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (err: Error & { code?: string }) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`portal: port ${options.port ?? PORTAL_DEFAULT_PORT} is in use (choose another with --portal-port, or 0 for a free one)`) : err),
    );
    server.listen(options.port ?? PORTAL_DEFAULT_PORT, options.host ?? '127.0.0.1', () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  // the page (another origin) posts to S3 and reads the answer: CORS for the portal's own origin only,
  // as the CDK stack sets on the uploads bucket (the S3 front echoes the matched origin, never *)
  const origins = [...new Set([options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1', 'localhost', '127.0.0.1'])].map((h) => `http://${h}:${port}`);
  try {
    await clients.s3.send(
      new PutBucketCorsCommand({
        Bucket: endpoints.buckets.uploads,
        CORSConfiguration: { CORSRules: [{ AllowedOrigins: origins, AllowedMethods: ['POST'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 3000 }] },
      }),
    );
  } catch (err) {
    server.close();
    clients.destroy();
    throw err;
  }
  const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';
  const url = `http://${host}:${port}`;
  api = createPortalApi({
    identity,
    definitions,
    definitionsStore,
    store,
    audit: new DynamoAuditLog(clients.dynamodb, endpoints.table),
    objects,
    links: new S3ObjectLinks(clients.s3),
    publish: (request) => publishConsolidated({ definitions, objects, store, reportsBucket }, request),
    alerter: new SnsAlerter(clients.sns, endpoints.topics.alerts),
    portalBaseUrl: url,
    uploadsBucket: endpoints.buckets.uploads,
    reportsBucket,
    maxUploadBytes: options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
    secureCookie: false,
    log: (entry) => log(JSON.stringify(entry)),
    ...(options.now ? { now: options.now } : {}),
  });
  const usersFile = join(resolve(options.dataDir), 'portal-users.txt');
  const users = await seedAdministrators(identity, await definitions.latest(), usersFile);
  return {
    url,
    port,
    users,
    usersFile,
    api,
    identity,
    async close() {
      try {
        await closeServer(server);
      } finally {
        clients.destroy();
      }
    },
  };
}

/** The demo administrator of a county: 139 + the county code + 00 (an 11-digit number no one has). */
export const demoAdministrator = (county: string): string => `139${county}00`;

/**
 * An empty user pool gets one administrator and reviewer per county (their temporary passwords in
 * `file`, mode 600); a pool with people is left alone.
 */
async function seedAdministrators(identity: IdentityProvider, defs: Definitions, file: string): Promise<DemoUser[]> {
  if ((await identity.listUsers()).length) return [];
  const users: DemoUser[] = [];
  for (const county of defs.counties) {
    const username = demoAdministrator(county.code);
    const user: DemoUser = { username, name: `${county.name}管理员`, phone: e164(username), roles: ['admin', 'reviewer'], unit: `${county.code}-000`, countyName: county.name, temporaryPassword: temporaryPassword() };
    const { countyName: _c, temporaryPassword: password, ...person } = user;
    await identity.createUser(person, password);
    users.push(user);
  }
  const lines = users.map((u) => `${u.username}\t${u.temporaryPassword}\t${u.roles.map((r) => ROLE_LABELS[r]).join('、')}\t${u.countyName}\t${u.name}`);
  await writeFile(file, `# 首次启动时创建的管理员（临时密码首次登录后须修改；其他账号请在「用户管理」中创建）\n手机号\t临时密码\t角色\t旗县\t姓名\n${lines.join('\n')}\n`, { mode: 0o600 });
  return users;
}
