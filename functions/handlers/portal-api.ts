/**
 * Lambda entry point of the portal API behind an API Gateway HTTP API (payload format 2.0).
 * Only translates: event → ApiRequest, the portal core (functions/portal/api.ts), ApiResponse → result.
 *
 * Environment: UPLOADS_BUCKET, REPORTS_BUCKET, TABLE_NAME, MAX_UPLOAD_BYTES (optional) as the other
 * handlers (functions/config.ts), and PORTAL_SECRET (≥ 32 characters; access codes and sessions
 * derive from it). The function needs s3:PutObject on the uploads bucket's uploads/* (presigned POST
 * is signed with its role), s3:GetObject and s3:PutObject on the reports bucket, s3:ListBucket
 * on the reports bucket (prefix consolidated/ and feedback/), and read access to the table.
 */
import { config } from '../config.ts';
import { s3Client } from '../adapters/aws/clients.ts';
import { S3ObjectLinks } from '../adapters/s3/links.ts';
import { publishConsolidated } from '../core/consolidate/publish.ts';
import { createPortalApi, type ApiResponse } from '../portal/api.ts';
import { awsDeps } from './deps.ts';

export const PORTAL_SECRET_ENV = 'PORTAL_SECRET';

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

const cfg = config();
const deps = awsDeps();
const api = createPortalApi({
  secret: process.env[PORTAL_SECRET_ENV] ?? '',
  store: deps.store,
  objects: deps.objects,
  links: new S3ObjectLinks(s3Client()),
  publish: (request) => publishConsolidated({ objects: deps.objects, store: deps.store, reportsBucket: deps.reportsBucket }, request),
  uploadsBucket: cfg.uploadsBucket,
  reportsBucket: deps.reportsBucket,
  maxUploadBytes: deps.maxUploadBytes,
  secureCookie: true,
});

export async function handler(event: HttpApiEvent): Promise<HttpApiResult> {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
  const body = event.body === undefined ? null : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const response = await api({
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
