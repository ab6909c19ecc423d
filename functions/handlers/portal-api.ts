/**
 * Lambda entry point of the portal API behind an API Gateway HTTP API (payload format 2.0).
 * Only translates: event → ApiRequest, the portal core (functions/portal/api.ts), ApiResponse → result.
 *
 * Environment: UPLOADS_BUCKET, REPORTS_BUCKET, TABLE_NAME, MAX_UPLOAD_BYTES (optional) as the other
 * handlers (functions/config.ts), and the portal secret (≥ 32 characters; access codes and sessions
 * derive from it): PORTAL_SECRET itself, or PORTAL_SECRET_ARN naming a Secrets Manager secret read
 * once per cold start (the CDK stack sets the ARN and grants secretsmanager:GetSecretValue on it;
 * PORTAL_SECRET wins when both are set). The function needs s3:PutObject on the uploads bucket's
 * uploads/* (presigned POST is signed with its role), s3:GetObject and s3:PutObject on the reports bucket, s3:ListBucket
 * on the reports bucket (prefix consolidated/ and feedback/), and read access to the table.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { config } from '../config.ts';
import { s3Client } from '../adapters/aws/clients.ts';
import { S3ObjectLinks } from '../adapters/s3/links.ts';
import { publishConsolidated } from '../core/consolidate/publish.ts';
import { createPortalApi, type ApiResponse, type PortalApi } from '../portal/api.ts';
import { awsDeps } from './deps.ts';

export const PORTAL_SECRET_ENV = 'PORTAL_SECRET';
export const PORTAL_SECRET_ARN_ENV = 'PORTAL_SECRET_ARN';

/**
 * The portal secret: PORTAL_SECRET when set (local runs, tests), else the SecretString of the secret
 * PORTAL_SECRET_ARN names, fetched with `fetchSecret`. Neither set: '' (createPortalApi refuses it).
 */
export async function portalSecret(env: Record<string, string | undefined>, fetchSecret: (arn: string) => Promise<string | undefined>): Promise<string> {
  // used exactly as given: codes.ts derives the access codes from the same bytes
  const value = env[PORTAL_SECRET_ENV];
  if (value) return value;
  const arn = env[PORTAL_SECRET_ARN_ENV]?.trim();
  if (!arn) return '';
  const fetched = await fetchSecret(arn);
  if (!fetched) throw new Error(`${PORTAL_SECRET_ARN_ENV}: the secret has no SecretString`);
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
  requestContext: { http: { method: string } };
}

export interface HttpApiResult {
  statusCode: number;
  headers: Record<string, string>;
  cookies?: string[];
  body: string;
  isBase64Encoded: boolean;
}

/** Built at the first request of a cold start (the secret may need a call); a failed build is retried by the next request. */
let api: Promise<PortalApi> | undefined;

async function buildApi(): Promise<PortalApi> {
  const cfg = config();
  const deps = awsDeps();
  return createPortalApi({
    secret: await portalSecret(process.env, getSecretString),
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
  });
}

export async function handler(event: HttpApiEvent): Promise<HttpApiResult> {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
  const body = event.body === undefined ? null : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  api ??= buildApi().catch((err: unknown) => {
    api = undefined;
    throw err;
  });
  const response = await (await api)({
    method: event.requestContext.http.method,
    path: event.rawPath,
    query: event.queryStringParameters ?? {},
    headers,
    cookies: event.cookies ?? [],
    body,
  });
  return toResult(response);
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
