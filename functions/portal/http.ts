/** The portal API's requests and responses as plain data, and the small helpers every route uses. */

export interface ApiRequest {
  method: string;
  /** path only, e.g. /api/me */
  path: string;
  query: Record<string, string | undefined>;
  /** lower-case names */
  headers: Record<string, string | undefined>;
  /** cookie header values or API Gateway's event.cookies, `name=value` each */
  cookies?: string[];
  body?: string | null;
  /** the client's address: the audit trail and the log */
  ip?: string;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  /** Set-Cookie values (API Gateway v2 takes them apart from headers) */
  cookies: string[];
  body: string | Uint8Array;
}

export type Route = (request: ApiRequest) => Promise<ApiResponse>;

/** A refusal with its HTTP status and a Chinese message for the page. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const NO_STORE = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

export function json(status: number, data: unknown, cookies: string[] = [], headers: Record<string, string> = {}): ApiResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...NO_STORE, ...headers }, cookies, body: JSON.stringify(data) };
}

/** A refusal as the page reads it: `{"error": "<中文>"}`; the edges use it too (413 before the body is read, 403 off CloudFront). */
export function errorResponse(status: number, message: string, headers: Record<string, string> = {}): ApiResponse {
  return json(status, { error: message }, [], headers);
}

export const bodyTooLarge = (maxBytes: number): string =>
  `请求过大（不超过 ${maxBytes >= 1024 * 1024 ? `${Math.floor(maxBytes / (1024 * 1024))} MB` : `${Math.floor(maxBytes / 1024)} KB`}）`;

export function redirect(location: string): ApiResponse {
  return { status: 302, headers: { location, ...NO_STORE }, cookies: [], body: '' };
}

/** RFC 6266: an ASCII fallback and the UTF-8 name. */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

/** A workbook to download, generated for the request. */
export function workbookResponse(bytes: Uint8Array, fileName: string, type: string): ApiResponse {
  return { status: 200, headers: { 'content-type': type, 'content-disposition': contentDisposition(fileName), ...NO_STORE }, cookies: [], body: new Uint8Array(bytes) };
}

export function cookieOf(request: ApiRequest, name: string): string | undefined {
  const parts = [...(request.cookies ?? []), ...(request.headers.cookie ? [request.headers.cookie] : [])].flatMap((c) => c.split(';'));
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Whether a browser says the request comes from the page itself (after Go's net/http
 * CrossOriginProtection): Sec-Fetch-Site same-origin (or none: typed by the user); without it,
 * an Origin that is the request's own Host or one of `origins`. Neither header: not a browser
 * (a script with a Bearer token), which no other site can make carry the user's cookie.
 */
export function fromOwnPage(request: ApiRequest, origins: readonly string[] = []): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (origins.includes(origin)) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false; // "null" (a sandboxed frame, a file) or garbage
  }
}

/** A string field of a JSON body, trimmed; '' when absent or not a string. */
export const text = (body: Record<string, unknown>, name: string): string => (typeof body[name] === 'string' ? (body[name] as string).trim() : '');
