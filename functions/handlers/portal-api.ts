/**
 * Lambda entry point of the portal API behind an API Gateway HTTP API (payload format 2.0).
 * Only translates: event → ApiRequest, the portal core (functions/portal/api.ts), ApiResponse → result.
 *
 * Environment: UPLOADS_BUCKET, REPORTS_BUCKET, TABLE_NAME, MAX_UPLOAD_BYTES (optional),
 * ALERTS_TOPIC_ARN (a return alerts the institution), PORTAL_BASE_URL as the other handlers
 * (functions/config.ts), and the user pool: USER_POOL_ID, USER_POOL_CLIENT_ID (USER_POOL_JWKS_URL and
 * AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER only for the local stand-in). Its grants are in
 * infra/constructs/portal.ts (what each is for).
 *
 * Behind CloudFront only: CloudFront sends the origin secret in ORIGIN_VERIFY_HEADER, and a request
 * without it (someone calling the API's own domain, around the web ACL) gets 403 before anything
 * else runs. The secret is PORTAL_ORIGIN_SECRET, or the Secrets Manager secret PORTAL_ORIGIN_SECRET_ARN
 * names; neither set: no check (local runs, tests). PORTAL_ORIGINS: the page's origins, comma-separated.
 */
import { timingSafeEqual } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { config } from '../config.ts';
import { cognitoClient, s3Client } from '../adapters/aws/clients.ts';
import { CognitoIdentity } from '../adapters/cognito/identity.ts';
import { S3ObjectLinks } from '../adapters/s3/links.ts';
import { publishConsolidated } from '../core/consolidate/publish.ts';
import { bodyTooLarge, createPortalApi, errorResponse, MAX_API_BODY_BYTES, type ApiResponse, type PortalApi } from '../portal/api.ts';
import { awsDeps } from './deps.ts';

export const PORTAL_ORIGIN_SECRET_ENV = 'PORTAL_ORIGIN_SECRET';
export const PORTAL_ORIGIN_SECRET_ARN_ENV = 'PORTAL_ORIGIN_SECRET_ARN';
export const PORTAL_ORIGINS_ENV = 'PORTAL_ORIGINS';
/** The header CloudFront adds to every /api/* request (infra/constructs/portal.ts sends it; lower case, as the event has it). */
export const ORIGIN_VERIFY_HEADER = 'x-hmis-origin-verify';

/**
 * A secret: `name` in the environment when set (local runs, tests), else the SecretString of the
 * secret `${name}_ARN` names, fetched with `fetchSecret`. Neither set: ''.
 */
export async function secretFromEnv(
  env: Record<string, string | undefined>,
  name: typeof PORTAL_ORIGIN_SECRET_ENV,
  fetchSecret: (arn: string) => Promise<string | undefined>,
): Promise<string> {
  const value = env[name];
  if (value) return value;
  const arn = env[`${name}_ARN`]?.trim();
  if (!arn) return '';
  const fetched = await fetchSecret(arn);
  if (!fetched) throw new Error(`${name}_ARN: the secret has no SecretString`);
  return fetched;
}

async function getSecretString(arn: string): Promise<string | undefined> {
  const client = new SecretsManagerClient({ maxAttempts: 3 });
  try {
    return (await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString;
  } finally {
    client.destroy();
  }
}

/** The part of API Gateway's HTTP API payload 2.0 event the portal reads. */
export interface HttpApiEvent {
  rawPath: string;
  rawQueryString?: string;
  queryStringParameters?: Record<string, string | undefined>;
  headers?: Record<string, string | undefined>;
  cookies?: string[];
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: { http: { method: string; sourceIp?: string } };
}

export interface HttpApiResult {
  statusCode: number;
  headers: Record<string, string>;
  cookies?: string[];
  body: string;
  isBase64Encoded: boolean;
}

/** Built at the first request of a cold start (the secrets may need a call); a failed build is retried by the next request. */
let api: Promise<{ handle: PortalApi; originSecret: string }> | undefined;

async function buildApi(): Promise<{ handle: PortalApi; originSecret: string }> {
  const cfg = config();
  const deps = awsDeps();
  const originSecret = await secretFromEnv(process.env, PORTAL_ORIGIN_SECRET_ENV, getSecretString);
  if (!cfg.userPool) throw new Error('USER_POOL_ID and USER_POOL_CLIENT_ID must be set (the CDK stack sets them)');
  const handle = createPortalApi({
    identity: new CognitoIdentity({ client: cognitoClient(), ...cfg.userPool }),
    audit: deps.audit,
    ...(deps.alerter ? { alerter: deps.alerter } : {}),
    ...(cfg.portalBaseUrl ? { portalBaseUrl: cfg.portalBaseUrl } : {}),
    store: deps.store,
    objects: deps.objects,
    links: new S3ObjectLinks(s3Client()),
    publish: (request) => publishConsolidated(deps, request),
    definitions: deps.definitions,
    definitionsStore: deps.definitionsStore,
    uploadsBucket: cfg.uploadsBucket,
    reportsBucket: deps.reportsBucket,
    maxUploadBytes: deps.maxUploadBytes,
    secureCookie: true,
    origins: (process.env[PORTAL_ORIGINS_ENV] ?? '').split(',').map((o) => o.trim()).filter(Boolean),
  });
  return { handle, originSecret };
}

export async function handler(event: HttpApiEvent): Promise<HttpApiResult> {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
  api ??= buildApi().catch((err: unknown) => {
    api = undefined;
    throw err;
  });
  const { handle, originSecret } = await api;
  if (originSecret && !sameText(headers[ORIGIN_VERIFY_HEADER], originSecret)) {
    return toResult(errorResponse(403, '请通过报表平台的网址访问'));
  }
  // measured before decoding: base64 is 4 characters per 3 bytes
  const size = event.body === undefined ? 0 : event.isBase64Encoded ? Math.floor((event.body.length * 3) / 4) : Buffer.byteLength(event.body);
  if (size > MAX_API_BODY_BYTES) return toResult(errorResponse(413, bodyTooLarge(MAX_API_BODY_BYTES)));
  const body = event.body === undefined ? null : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const response = await handle({
    method: event.requestContext.http.method,
    path: event.rawPath,
    query: event.queryStringParameters ?? {},
    headers,
    cookies: event.cookies ?? [],
    body,
    ip: clientIp(headers['x-forwarded-for'], event.requestContext.http.sourceIp),
  });
  return toResult(response);
}

function sameText(given: string | undefined, expected: string): boolean {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The browser's address: CloudFront appends it to X-Forwarded-For, API Gateway then CloudFront's own
 * (sourceIp). Entries before it are whatever the client sent, so the last one that is not sourceIp.
 */
export function clientIp(forwardedFor: string | undefined, sourceIp: string | undefined): string | undefined {
  const hops = (forwardedFor ?? '').split(',').map((h) => h.trim()).filter(Boolean);
  if (hops.length && hops[hops.length - 1] === sourceIp) hops.pop();
  return hops.pop() ?? sourceIp;
}

export function toResult(response: ApiResponse): HttpApiResult {
  const binary = typeof response.body !== 'string';
  return {
    statusCode: response.status,
    headers: response.headers,
    ...(response.cookies.length ? { cookies: response.cookies } : {}),
    body: binary ? Buffer.from(response.body).toString('base64') : (response.body as string),
    isBase64Encoded: binary,
  };
}
