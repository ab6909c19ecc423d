/**
 * The portal's API, one core for AWS (functions/handlers/portal-api.ts, API Gateway HTTP API) and
 * for one machine (functions/adapters/local/portal.ts). Pure over ports: no AWS SDK here. Requests
 * and responses are plain data; every route checks who is signed in before it reads anything.
 *
 *   POST /api/login                {code, accessCode}  → session cookie
 *   POST /api/logout               {}
 *   GET  /api/me                                       who, templates owed, periods
 *   GET  /api/template             ?template&period[&institution]    blank template, pre-filled (.xlsx)
 *   POST /api/uploads              {template, period, fileName, size}  presigned POST for one exact key
 *   GET  /api/upload-status        ?key                 pending | the version and its report summary
 *   GET  /api/submissions          ?period[&institution]             status and every upload per template
 *   GET  /api/history              [?to][&institution]  accepted returns of the 12 months up to `to`, per template
 *   GET  /api/report               ?institution&template&period&versionId   issues of one upload
 *   GET  /api/download/feedback    ?institution&template&period&versionId   → short-lived link (302)
 *   GET  /api/county               ?period              commission: grid, totals, open issues
 *   GET  /api/indicators           ?period              commission: key indicators against targets
 *   GET  /api/trend                ?code&months&to[&institution]     a series in the code's 周期: months, quarters or years (commission: county or any of its institutions; an institution: its own)
 *   GET  /api/draft                ?period (2025-03 | 2025-Q1 | 2025) commission: the work summary's data draft (.docx)
 *   GET  /api/consolidated                              commission: workbooks, latest and by run
 *   GET  /api/download/consolidated ?key                commission: → short-lived link (302)
 *   POST /api/regenerate           {period}             commission: publish the workbook now (once a minute)
 *   GET  /api/definitions                               commission: the definitions' versions (定义管理)
 *   GET  /api/definitions/workbook  [?period]           commission: the definitions workbook to edit (.xlsx)
 *   POST /api/definitions/check    {effective, data}    commission: an edited workbook checked, nothing stored
 *   POST /api/definitions/import   {effective, data}    commission: stored as a new version from `effective`
 *
 * Access: an institution reads and writes only its own code; the commission (`<county>-000`) reads
 * everything of its county and writes only its own returns (it reports T-FY and T-TZ itself).
 * Every POST is JSON from the page itself (bodyOf); every period lies in [FIRST_PERIOD, this month].
 */
import { randomBytes } from 'node:crypto';
import type { County, Institution } from '../../schemas/model.ts';
import type { Definitions } from '../core/definitions/definitions.ts';
import type { DefinitionsPort } from '../core/definitions/source.ts';
import { consolidate } from '../core/consolidate/compute.ts';
import { MAX_TREND_MONTHS, trend } from '../core/trend/index.ts';
import { loadConsolidationInput } from '../core/consolidate/load.ts';
import { deadlineLabel as deadlineText, dueWith, isPeriodId, parsePeriod, PeriodError, shanghaiMonth } from '../core/consolidate/period.ts';
import { openRejectionOf, timelinessOf } from '../core/consolidate/slot.ts';
import { parseUploadKey, type UploadKey } from '../core/ingest.ts';
import { ANY_PERIOD_PATTERN, PERIOD_PATTERN, periodLabel } from '../core/layout.ts';
import { feedbackKeyOf } from '../core/render/feedback.ts';
import { XLSX_TYPE } from '../core/render/deterministic.ts';
import { runStamp } from '../core/consolidate/publish.ts';
import { deadlineLabel, writeTemplate } from '../core/render/template.ts';
import type { Issue, Report } from '../core/report.ts';
import { shiftPeriod } from '../core/validate/history.ts';
import type { DefinitionsStore, ObjectStore, PeriodEntry, SubmissionStore, SubmissionVersion } from '../ports/index.ts';
import { importDefinitions } from '../core/definitions/import.ts';
import { writeDefinitionsWorkbook } from '../core/definitions/workbook.ts';
import { checkSecret, issueToken, signIn, verifyToken, SESSION_TTL_SECONDS, type Principal } from './auth.ts';

export const SESSION_COOKIE = 'hmis_session';
/** presigned POST lifetime: long enough for a 10 MB upload at 1 Mbit/s (≈ 90 s), short enough not to be kept */
export const UPLOAD_LINK_SECONDS = 15 * 60;
/** presigned GET lifetime: issued at the click, used at once */
export const DOWNLOAD_LINK_SECONDS = 60;
/** A request body, at most, but for a definitions workbook (the largest other, a sign-in, is under 200 bytes). */
export const MAX_BODY_BYTES = 16 * 1024;
/** The earliest period any route accepts; the latest is the current month (Asia/Shanghai). */
export const FIRST_PERIOD = '2000-01';
/** Regenerate runs at most once per county, period and this many seconds (a clock-aligned window). */
export const REGENERATE_COOLDOWN_SECONDS = 60;
/** The line every failed sign-in logs; the stack's metric filter counts it (infra/constructs/portal.ts). */
export const SIGN_IN_FAILED_EVENT = 'portal-sign-in-failed';
const MAX_REPORT_BYTES = 8 * 1024 * 1024;
const MAX_LISTED_ISSUES = 300;
/** a definitions workbook, base64 in JSON: a province's is well under 1 MB */
const MAX_WORKBOOK_BODY_BYTES = 4 * 1024 * 1024;
/** what any request body may be: the servers answer 413 above it before reading on (the local server; API Gateway's Lambda payload stops before 6 MB) */
export const MAX_API_BODY_BYTES = MAX_WORKBOOK_BODY_BYTES + MAX_BODY_BYTES;

/** Short-lived links to objects: presigned POST (upload) and GET (download). The AWS adapter: functions/adapters/s3/links.ts. */
export interface ObjectLinks {
  presignPost(request: {
    bucket: string;
    key: string;
    contentType: string;
    maxBytes: number;
    /** x-amz-meta-* fields, names without the prefix */
    metadata: Record<string, string>;
    expiresSeconds: number;
  }): Promise<{ url: string; fields: Record<string, string> }>;
  presignGet(request: { bucket: string; key: string; fileName: string; contentType: string; expiresSeconds: number }): Promise<string>;
}

/** What "regenerate now" runs: functions/core/consolidate/publish.ts publishConsolidated, bound to its deps. */
export type PublishFn = (request: { level: 'county'; code: string; period: string; now?: Date }) => Promise<{ key: string; latestKey: string; fileName: string }>;

export interface PortalDeps {
  /** PORTAL_SECRET: access codes and session tokens derive from it (≥ 32 characters) */
  secret: string;
  /** who exists and what each owes: the newest for identity, those in force for a period for the rest */
  definitions: DefinitionsPort;
  /** where an imported definitions version is stored (定义管理) */
  definitionsStore: DefinitionsStore;
  store: SubmissionStore;
  objects: ObjectStore;
  links: ObjectLinks;
  publish: PublishFn;
  uploadsBucket: string;
  reportsBucket: string;
  maxUploadBytes: number;
  now?: () => Date;
  sessionTtlSeconds?: number;
  /** Secure on the cookie: true behind HTTPS (AWS), false on http://127.0.0.1 */
  secureCookie?: boolean;
  /**
   * The page's own origins (https://<distribution>, the custom domain), for browsers that send Origin
   * but not Sec-Fetch-Site: behind CloudFront the API does not see the page's Host. Default: none
   * (the request's own Host still counts: the local server).
   */
  origins?: readonly string[];
  /** One structured log line (default: JSON on stdout, errors on stderr): failed sign-ins, failed routes. */
  log?: (entry: Record<string, unknown>) => void;
}

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
  /** the client's address, for the log */
  ip?: string;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  /** Set-Cookie values (API Gateway v2 takes them apart from headers) */
  cookies: string[];
  body: string | Uint8Array;
}

export type PortalApi = (request: ApiRequest) => Promise<ApiResponse>;

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

const NO_STORE = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

function json(status: number, data: unknown, cookies: string[] = [], headers: Record<string, string> = {}): ApiResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...NO_STORE, ...headers }, cookies, body: JSON.stringify(data) };
}

/** A refusal as the page reads it: `{"error": "<中文>"}`; the edges use it too (413 before the body is read, 403 off CloudFront). */
export function errorResponse(status: number, message: string, headers: Record<string, string> = {}): ApiResponse {
  return json(status, { error: message }, [], headers);
}

export const bodyTooLarge = (maxBytes: number): string =>
  `请求过大（不超过 ${maxBytes >= 1024 * 1024 ? `${Math.floor(maxBytes / (1024 * 1024))} MB` : `${Math.floor(maxBytes / 1024)} KB`}）`;

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

function redirect(location: string): ApiResponse {
  return { status: 302, headers: { location, ...NO_STORE }, cookies: [], body: '' };
}

/** RFC 6266: an ASCII fallback and the UTF-8 name. */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

function cookieOf(request: ApiRequest, name: string): string | undefined {
  const parts = [...(request.cookies ?? []), ...(request.headers.cookie ? [request.headers.cookie] : [])].flatMap((c) => c.split(';'));
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function createPortalApi(deps: PortalDeps): PortalApi {
  checkSecret(deps.secret);
  const now = () => deps.now?.() ?? new Date();
  const ttl = deps.sessionTtlSeconds ?? SESSION_TTL_SECONDS;
  const log = deps.log ?? ((entry: Record<string, unknown>) => (entry.level === 'error' ? console.error : console.log)(JSON.stringify(entry)));
  const cookieAttrs = `Path=/; HttpOnly; SameSite=Strict${deps.secureCookie ? '; Secure' : ''}`;

  async function principalOf(request: ApiRequest): Promise<Principal> {
    const auth = request.headers.authorization;
    const token = auth && /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, '') : cookieOf(request, SESSION_COOKIE);
    const principal = verifyToken(await deps.definitions.latest(), deps.secret, token, now());
    if (!principal) throw new ApiError(401, '登录已过期或未登录，请重新登录');
    return principal;
  }

  /**
   * A mutating request must be JSON (a cross-site form cannot send it without a CORS preflight we
   * never answer) and come from the page itself (fromOwnPage), so no other site can sign a user
   * in or out or act for them; its body at most `maxBytes`.
   */
  function bodyOf(request: ApiRequest, maxBytes = MAX_BODY_BYTES): Record<string, unknown> {
    if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) throw new ApiError(415, '请求格式错误（需要 application/json）');
    if (!fromOwnPage(request, deps.origins)) throw new ApiError(403, '请从报表平台页面操作（拒绝来自其他网站的请求）');
    const text = request.body ?? '';
    if (Buffer.byteLength(text) > maxBytes) throw new ApiError(413, bodyTooLarge(maxBytes));
    try {
      const data = JSON.parse(text || '{}') as unknown;
      if (data && typeof data === 'object' && !Array.isArray(data)) return data as Record<string, unknown>;
    } catch {
      // fall through
    }
    throw new ApiError(400, '请求格式错误');
  }

  const routes: Record<string, (request: ApiRequest) => Promise<ApiResponse>> = {
    'POST /api/login': async (request) => {
      const body = bodyOf(request);
      const latest = await deps.definitions.latest();
      const principal = signIn(latest, deps.secret, String(body.code ?? ''), String(body.accessCode ?? ''), now(), ttl);
      if (!principal) {
        log({ level: 'warn', event: SIGN_IN_FAILED_EVENT, code: String(body.code ?? '').slice(0, 20), ip: request.ip ?? null });
        throw new ApiError(401, '机构代码或访问码不正确');
      }
      const token = issueToken(deps.secret, principal);
      return json(200, meOf(latest, principal, now()), [`${SESSION_COOKIE}=${token}; Max-Age=${ttl}; ${cookieAttrs}`]);
    },
    'POST /api/logout': async (request) => {
      bodyOf(request);
      return json(200, { ok: true }, [`${SESSION_COOKIE}=; Max-Age=0; ${cookieAttrs}`]);
    },
    'GET /api/me': async (request) => json(200, meOf(await deps.definitions.latest(), await principalOf(request), now())),

    'GET /api/template': async (request) => {
      const p = await principalOf(request);
      const period = periodParam(request.query.period, now(), true);
      const defs = await deps.definitions.at(period);
      const { institution, county } = readable(defs, p, request.query.institution);
      const id = owedTemplate(defs, institution, period, request.query.template);
      const def = defs.template(id)!;
      const bytes = await writeTemplate(def, county, institution, period);
      return {
        status: 200,
        headers: { 'content-type': XLSX_TYPE, 'content-disposition': contentDisposition(`${def.title}_${institution.name}_${period}.xlsx`), ...NO_STORE },
        cookies: [],
        body: new Uint8Array(bytes),
      };
    },

    'POST /api/uploads': async (request) => {
      const p = await principalOf(request);
      const body = bodyOf(request);
      if (body.institution !== undefined && body.institution !== p.code) throw new ApiError(403, '只能上报本单位的报表');
      const period = periodParam(typeof body.period === 'string' ? body.period : undefined, now(), true);
      const defs = await deps.definitions.at(period);
      const { institution, county } = readable(defs, p, p.code);
      const id = owedTemplate(defs, institution, period, typeof body.template === 'string' ? body.template : undefined);
      const fileName = typeof body.fileName === 'string' ? body.fileName : '';
      if (!/\.xlsx$/i.test(fileName.trim())) throw new ApiError(400, '只接受 Excel 工作簿（.xlsx）；.xls、.csv、WPS 的 .et 请先另存为 .xlsx');
      const size = body.size === undefined ? undefined : Number(body.size);
      if (size !== undefined && !(Number.isFinite(size) && size > 0)) throw new ApiError(400, '文件为空');
      if (size !== undefined && size > deps.maxUploadBytes) throw new ApiError(413, `文件超过 ${Math.round(deps.maxUploadBytes / 1048576)} MB 的上限`);
      const key = uploadKeyFor(county.code, institution.code, id, period, fileName, now());
      const post = await deps.links.presignPost({
        bucket: deps.uploadsBucket,
        key,
        contentType: XLSX_TYPE,
        maxBytes: deps.maxUploadBytes,
        metadata: { uploader: p.code },
        expiresSeconds: UPLOAD_LINK_SECONDS,
      });
      return json(200, { ...post, key, maxBytes: deps.maxUploadBytes, expiresAt: new Date(now().getTime() + UPLOAD_LINK_SECONDS * 1000).toISOString() });
    },

    'GET /api/upload-status': async (request) => {
      const p = await principalOf(request);
      const key = parseUploadKey(request.query.key ?? '');
      if (!key) throw new ApiError(400, '上传位置无效');
      periodParam(key.period, now(), true);
      readable(await deps.definitions.latest(), p, key.institution);
      const versions = await deps.store.versions({ institution: key.institution, template: key.template, period: key.period });
      const version = versions.find((v) => v.objectKey === request.query.key);
      if (!version) return json(200, { state: 'pending' });
      return json(200, { state: 'done', version: versionView(version), report: await reportView(version) });
    },

    'GET /api/submissions': async (request) => {
      const p = await principalOf(request);
      const period = periodParam(request.query.period, now());
      const defs = await deps.definitions.at(period);
      const { institution, county } = readable(defs, p, request.query.institution);
      // the month's returns, and the quarter's and year's while their reporting window is open
      const due = defs.returnsFor(institution, period);
      const entries = await entriesOf(county.code, due.map((d) => d.period));
      const rows = await Promise.all(
        due.map(async ({ template: id, period: of }) => {
          const versions = await deps.store.versions({ institution: institution.code, template: id, period: of });
          const deadline = defs.deadlineOf(county, id, of);
          return {
            template: id,
            title: defs.template(id)?.title ?? id,
            period: of,
            periodLabel: periodLabel(of),
            deadline: deadlineText(deadline),
            ...cellOf(entries.get(of)!.find((e) => e.template === id && e.institution === institution.code), deadline, now()),
            versions: versions.reverse().map(versionView),
          };
        }),
      );
      return json(200, { institution: institution.code, name: institution.name, period, periodLabel: periodLabel(period), rows });
    },

    'GET /api/history': async (request) => {
      const p = await principalOf(request);
      const current = request.query.to ? periodParam(request.query.to, now()) : shanghaiMonth(now());
      const defs = await deps.definitions.at(current);
      const { institution, county } = readable(defs, p, request.query.institution);
      const periods = Array.from({ length: 12 }, (_, i) => shiftPeriod(current, i - 11));
      // monthly returns: quarterly and annual ones show with the months of their reporting window
      const monthly = defs.templatesOf(institution).filter((id) => defs.template(id)!.periodType === 'month');
      const rows = await Promise.all(
        monthly.map(async (id) => {
          const accepted = await deps.store.history(institution.code, id, periods[0]!, current);
          const cells: Record<string, { status: string; uploadedAt: string; late: boolean } | null> = {};
          for (const period of periods) {
            const c = accepted.find((x) => x.period === period);
            cells[period] = c ? { status: c.status, uploadedAt: c.uploadedAt, late: Date.parse(c.uploadedAt) > defs.deadlineOf(county, id, period).getTime() } : null;
          }
          return { template: id, title: defs.template(id)?.title ?? id, cells };
        }),
      );
      return json(200, { institution: institution.code, periods, rows });
    },

    'GET /api/report': async (request) => json(200, await reportView(await versionParam(request))),

    'GET /api/download/feedback': async (request) => {
      const version = await versionParam(request);
      const key = await feedbackOf(version);
      if (!key) throw new ApiError(404, '这次上报没有批注工作簿');
      const name = `校验结果_${version.template}_${version.institution}_${version.period}.xlsx`;
      return redirect(await deps.links.presignGet({ bucket: deps.reportsBucket, key, fileName: name, contentType: XLSX_TYPE, expiresSeconds: DOWNLOAD_LINK_SECONDS }));
    },

    'GET /api/county': async (request) => {
      const p = commission(await principalOf(request));
      const period = periodParam(request.query.period, now());
      const defs = await deps.definitions.at(period);
      const county = defs.county(p.county);
      if (!county) throw new ApiError(404, `旗县 ${p.county} 在 ${periodLabel(period)} 执行的定义中不存在`);
      const entries = await entriesOf(county.code, Object.values(dueWith(period)));
      return json(200, countyView(defs, county, period, entries, now()));
    },

    'GET /api/indicators': async (request) => {
      const p = commission(await principalOf(request));
      const period = periodParam(request.query.period, now());
      const result = consolidate(await loadConsolidationInput(deps.store, await deps.definitions.at(period), p.county, period, now()));
      const rows = result.summary.flatMap((section) =>
        section.rows
          .filter((r) => r.target || r.kind === 'indicator')
          .map((r) => ({
            template: section.template.id,
            code: r.code,
            name: r.name,
            unit: r.unit,
            current: r.current.value,
            ytd: r.ytd.value,
            covered: r.ytd.covered,
            owed: r.ytd.owed,
            target: r.target && { direction: r.target.direction, value: r.target.value, pace: r.target.pace, paced: r.target.paced, elapsed: r.target.elapsed, gap: r.target.gap, document: r.target.document, measured: r.target.measured, status: r.target.status, verdict: r.target.verdict },
          })),
      );
      rows.sort((a, b) => Number(!!b.target) - Number(!!a.target));
      return json(200, { period, labels: result.labels, rows });
    },

    'GET /api/trend': async (request) => {
      const p = await principalOf(request);
      const to = periodParam(request.query.to, now());
      const code = request.query.code ?? '';
      if (!/^[A-Z]{2}(-I)?\d{2,3}$/.test(code)) throw new ApiError(400, '指标代码无效（如 JC28、JC-I03）');
      const months = Number(request.query.months ?? '12');
      if (!Number.isInteger(months) || months < 1 || months > MAX_TREND_MONTHS) throw new ApiError(400, `月数应为 1—${MAX_TREND_MONTHS}`);
      const asked = request.query.institution || (p.role === 'commission' ? undefined : p.code);
      const institution = asked ? readable(await deps.definitions.at(to), p, asked).institution.code : undefined;
      try {
        const [series] = await trend(deps.store, deps.definitions, { county: p.county, codes: [code], months, to, ...(institution ? { institution } : {}) }, now());
        return json(200, series);
      } catch (err) {
        if (err instanceof PeriodError) throw new ApiError(400, err.message);
        throw err;
      }
    },

    'GET /api/draft': async (request) => {
      const p = commission(await principalOf(request));
      const period = request.query.period ?? '';
      if (!isPeriodId(period)) throw new ApiError(400, '统计期格式应为 2025-03、2025-Q1 或 2025');
      periodParam(parsePeriod(period).months[0]!, now());
      const input = await loadConsolidationInput(deps.store, await deps.definitions.at(period), p.county, period, now());
      // docx is loaded when a draft is asked for, not on every cold start
      const [{ buildDraft }, { renderDraftDocx, DOCX_TYPE }] = await Promise.all([import('../core/draft/index.ts'), import('../core/draft/docx.ts')]);
      const draft = buildDraft(consolidate(input));
      return {
        status: 200,
        headers: { 'content-type': DOCX_TYPE, 'content-disposition': contentDisposition(`${draft.title}.docx`), ...NO_STORE },
        cookies: [],
        body: new Uint8Array(await renderDraftDocx(draft)),
      };
    },

    'GET /api/consolidated': async (request) => {
      const p = commission(await principalOf(request));
      const prefix = `consolidated/${p.county}/`;
      const objects = (await deps.objects.list(deps.reportsBucket, prefix)).filter((o) => o.key.endsWith('.xlsx'));
      const latest = [];
      const runs = [];
      for (const o of objects) {
        const rest = o.key.slice(prefix.length).split('/');
        if (rest.length !== 2) continue;
        if (rest[0] === 'latest') latest.push({ period: rest[1]!.replace(/\.xlsx$/, ''), key: o.key, size: o.size, lastModified: o.lastModified });
        else runs.push({ period: rest[0]!, name: rest[1]!, key: o.key, size: o.size, lastModified: o.lastModified });
      }
      latest.sort((a, b) => b.period.localeCompare(a.period));
      runs.sort((a, b) => b.lastModified.localeCompare(a.lastModified) || b.key.localeCompare(a.key));
      return json(200, { latest, runs: runs.slice(0, 100) });
    },

    'GET /api/download/consolidated': async (request) => {
      const p = commission(await principalOf(request));
      const key = request.query.key ?? '';
      const prefix = `consolidated/${p.county}/`;
      if (!key.startsWith(prefix) || !key.endsWith('.xlsx') || key.includes('..') || key.split('/').length !== 4) throw new ApiError(403, '无权下载该文件');
      const found = (await deps.objects.list(deps.reportsBucket, key)).some((o) => o.key === key);
      if (!found) throw new ApiError(404, '汇总表不存在，请先生成');
      const [, , folder, file] = key.split('/') as [string, string, string, string];
      const county = (await deps.definitions.latest()).county(p.county);
      const name = folder === 'latest' ? `${county?.name ?? p.county}汇总表_${file}` : file;
      return redirect(await deps.links.presignGet({ bucket: deps.reportsBucket, key, fileName: name, contentType: XLSX_TYPE, expiresSeconds: DOWNLOAD_LINK_SECONDS }));
    },

    'POST /api/regenerate': async (request) => {
      const p = commission(await principalOf(request));
      const body = bodyOf(request);
      const period = periodParam(typeof body.period === 'string' ? body.period : undefined, now());
      // every run writes a new object: one per county, period and window, claimed in the table
      const seconds = Math.floor(now().getTime() / 1000);
      const window = Math.floor(seconds / REGENERATE_COOLDOWN_SECONDS);
      const task = `regenerate#${p.county}#${period}#${window}`;
      if (!(await deps.store.claimTask(task, now()))) {
        const wait = (window + 1) * REGENERATE_COOLDOWN_SECONDS - seconds;
        throw new ApiError(429, `${periodLabel(period)}的汇总表刚刚生成过，请 ${wait} 秒后再试`, { 'retry-after': String(wait) });
      }
      try {
        const published = await deps.publish({ level: 'county', code: p.county, period, now: now() });
        return json(200, { key: published.key, latestKey: published.latestKey, fileName: published.fileName });
      } catch (err) {
        await deps.store.releaseTask(task).catch(() => undefined); // a failed run does not count
        throw err;
      }
    },
  };

  /** an edited definitions workbook checked (and, unless a dry run, stored) as this commission's */
  async function definitionsImport(request: ApiRequest, dryRun: boolean): Promise<ApiResponse> {
    const p = commission(await principalOf(request));
    const body = bodyOf(request, MAX_WORKBOOK_BODY_BYTES);
    const effective = typeof body.effective === 'string' ? body.effective : '';
    const data = typeof body.data === 'string' ? body.data : '';
    if (!data || !/^[A-Za-z0-9+/]+=*$/.test(data)) throw new ApiError(400, '请选择要导入的定义工作簿（.xlsx）');
    const latest = await deps.definitions.latest();
    const by = `${latest.institution(p.code)?.institution.name ?? p.code}（${p.code}）`;
    const { report } = await importDefinitions(deps.definitionsStore, Buffer.from(data, 'base64'), { effective, by, now: now(), dryRun, scope: p.county });
    if (report.status === 'accepted' && !dryRun) deps.definitions.invalidate?.();
    return json(200, report);
  }

  function commission(p: Principal): Principal {
    if (p.role !== 'commission') throw new ApiError(403, '仅卫健委账号可以查看');
    return p;
  }

  /** The institution a principal may read: its own, or (commission) any of its county. */
  function readable(defs: Definitions, p: Principal, code: string | undefined): { institution: Institution; county: County } {
    const wanted = code === undefined || code === '' ? p.code : code;
    const found = defs.institution(wanted);
    if (!found) throw new ApiError(404, `机构代码 ${String(wanted).slice(0, 20)} 不在名录中`);
    const allowed = wanted === p.code || (p.role === 'commission' && found.county.code === p.county);
    if (!allowed) throw new ApiError(403, '无权查看其他机构的数据');
    return found;
  }

  /** Every entry of a county for some periods (a month and the quarter and year whose window it is in). */
  async function entriesOf(county: string, periods: readonly string[]): Promise<Map<string, PeriodEntry[]>> {
    const unique = [...new Set(periods)];
    const lists = await Promise.all(unique.map((p) => deps.store.listPeriod(county, p)));
    return new Map(unique.map((p, n) => [p, lists[n]!]));
  }

  async function versionParam(request: ApiRequest): Promise<SubmissionVersion> {
    const p = await principalOf(request);
    const period = periodParam(request.query.period, now(), true);
    const defs = await deps.definitions.at(period);
    const { institution } = readable(defs, p, request.query.institution);
    const template = knownTemplate(defs, institution, request.query.template);
    const versionId = request.query.versionId ?? '';
    if (!/^[0-9a-f]{8,64}$/.test(versionId)) throw new ApiError(400, '版本号无效');
    const version = (await deps.store.versions({ institution: institution.code, template, period })).find((v) => v.versionId === versionId);
    if (!version) throw new ApiError(404, '找不到这次上报');
    return version;
  }

  async function feedbackOf(version: SubmissionVersion): Promise<string | null> {
    const recorded = (version as Partial<Pick<SubmissionVersion, 'feedbackKey'>>).feedbackKey;
    if (recorded !== undefined) return recorded;
    // versions stored before feedbackKey was recorded: the key is derived, look for the object
    const key = parseUploadKey(version.objectKey);
    if (!key) return null;
    const derived = feedbackKeyOf(key, version.versionId);
    return (await deps.objects.list(deps.reportsBucket, derived)).some((o) => o.key === derived) ? derived : null;
  }

  async function reportView(version: SubmissionVersion) {
    let report: Report | null = null;
    try {
      const bytes = await deps.objects.get(deps.reportsBucket, version.reportKey, MAX_REPORT_BYTES);
      if (bytes) report = JSON.parse(Buffer.from(bytes).toString('utf8')) as Report;
    } catch {
      report = null; // the version's first issues still say what went wrong
    }
    const all: Issue[] = Array.isArray(report?.issues) ? report!.issues : version.firstIssues;
    const rank = { error: 0, warning: 1, info: 2 } as Record<string, number>;
    const ordered = [...all].sort((a, b) => (rank[a.severity] ?? 3) - (rank[b.severity] ?? 3));
    return {
      ...versionView(version),
      infos: all.filter((i) => i.severity === 'info').length,
      issues: ordered.slice(0, MAX_LISTED_ISSUES).map((i) => ({ severity: i.severity, code: i.code, sheet: i.sheet, cell: i.cell, element: i.element, message: i.message })),
      more: Math.max(0, ordered.length - MAX_LISTED_ISSUES),
      feedback: (await feedbackOf(version)) !== null,
    };
  }

  Object.assign(routes, {
    'GET /api/definitions': async (request: ApiRequest) => {
      commission(await principalOf(request));
      const log = await deps.definitions.log();
      const versions = [...log.versions].reverse().map((v) => ({ version: v.version, effective: v.effective, createdAt: v.createdAt, by: v.by, summary: v.summary }));
      return json(200, { version: versions[0]?.version ?? null, versions });
    },
    'GET /api/definitions/workbook': async (request: ApiRequest) => {
      commission(await principalOf(request));
      const period = request.query.period ? periodParam(request.query.period, now()) : null;
      const defs = period ? await deps.definitions.at(period) : await deps.definitions.latest();
      const bytes = await writeDefinitionsWorkbook(defs.content, { version: defs.version, period }, now());
      return {
        status: 200,
        headers: { 'content-type': XLSX_TYPE, 'content-disposition': contentDisposition(`报表定义_第${defs.version}版${period ? `_${period}` : ''}.xlsx`), ...NO_STORE },
        cookies: [],
        body: new Uint8Array(bytes),
      };
    },
    'POST /api/definitions/check': (request: ApiRequest) => definitionsImport(request, true),
    'POST /api/definitions/import': (request: ApiRequest) => definitionsImport(request, false),
  });

  return async function handle(request: ApiRequest): Promise<ApiResponse> {
    const route = routes[`${request.method.toUpperCase()} ${request.path.replace(/\/+$/, '')}`];
    try {
      if (!route) throw new ApiError(404, '接口不存在');
      return await route(request);
    } catch (err) {
      if (err instanceof ApiError) return errorResponse(err.status, err.message, err.headers);
      const id = randomBytes(4).toString('hex');
      log({ level: 'error', message: 'portal api failed', id, path: request.path, error: err instanceof Error ? err.stack : String(err) });
      return json(500, { error: `服务暂时不可用，请稍后再试（错误编号 ${id}）` });
    }
  };
}

/** The months a user can pick: the current month back 24 months; the default is last month (what is due now). */
export function periodsAround(now: Date): { periods: string[]; defaultPeriod: string } {
  const current = shanghaiMonth(now);
  const periods = Array.from({ length: 25 }, (_, i) => shiftPeriod(current, -i));
  return { periods, defaultPeriod: periods[1]! };
}

/** A month (the grid, the history), or for a return of its own 周期 also a quarter (2025-Q1) or a year (2025). */
function periodParam(period: string | undefined, now: Date, any = false): string {
  if (!period || !(any ? ANY_PERIOD_PATTERN : PERIOD_PATTERN).test(period)) throw new ApiError(400, any ? '统计期格式应为 2025-03（月）、2025-Q1（季度）或 2025（年）' : '统计期格式应为 YYYY-MM，如 2025-03');
  const months = parsePeriod(period).months;
  if (months[0]! > shanghaiMonth(now)) throw new ApiError(400, `统计期 ${periodLabel(period)} 尚未开始`);
  if (months[months.length - 1]! < FIRST_PERIOD) throw new ApiError(400, `统计期 ${periodLabel(period)} 超出范围（最早 ${periodLabel(FIRST_PERIOD)}）`);
  return period;
}

/** A template the institution owes for the period (to download or upload it). */
function owedTemplate(defs: Definitions, institution: Institution, period: string, template: string | undefined): string {
  const id = knownTemplate(defs, institution, template);
  if (!defs.owed(institution, period).includes(id)) throw new ApiError(403, `${institution.name} ${periodLabel(period)}无需报送 ${id}`);
  return id;
}

/** A template of the institution's (to read what was uploaded, whether or not it is still owed). */
function knownTemplate(defs: Definitions, institution: Institution, template: string | undefined): string {
  if (!template || !defs.template(template)) throw new ApiError(400, '报表模板无效');
  if (!defs.templatesOf(institution).includes(template)) throw new ApiError(403, `${institution.name}无需报送 ${template}`);
  return template;
}

/** uploads/<county>/<institution>/<template>/<period>/<Beijing time>_<random>_<name>.xlsx: one exact key per upload. */
export function uploadKeyFor(county: string, institution: string, template: string, period: string, fileName: string, now: Date): string {
  const base = fileName
    .trim()
    .replace(/^.*[\\/]/, '')
    .replace(/\.xlsx$/i, '')
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}_\-（）()]+/gu, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 60);
  return `uploads/${county}/${institution}/${template}/${period}/${runStamp(now)}_${randomBytes(3).toString('hex')}_${base || '报表'}.xlsx`;
}

function versionView(v: SubmissionVersion) {
  return {
    versionId: v.versionId,
    institution: v.institution,
    template: v.template,
    period: v.period,
    objectKey: v.objectKey,
    fileName: v.objectKey.split('/').pop()!.replace(/^\d{8}-\d{6}_[0-9a-f]{6}_/, ''),
    uploadedAt: v.uploadedAt,
    status: v.status,
    errors: v.errors,
    warnings: v.warnings,
  };
}

export type CellStatus = 'accepted' | 'accepted_with_warnings' | 'rejected' | 'missing';

/** One institution × template of a period: the accepted version when there is one, else the latest attempt. */
function cellOf(entry: PeriodEntry | undefined, deadline: Date, now: Date) {
  const current = entry?.current ?? null;
  const latest = entry?.latest ?? null;
  const shown = current ?? latest;
  const status: CellStatus = shown ? shown.status : 'missing';
  const timeliness = timelinessOf(entry, deadline, now);
  const open = current ? openRejectionOf(entry) : null;
  const laterRejected = open ? { uploadedAt: open.uploadedAt, errors: open.errors } : null;
  return {
    status,
    timeliness,
    late: timeliness === '逾期' || timeliness === '逾期未报' || timeliness === '逾期未改',
    uploadedAt: shown?.uploadedAt ?? null,
    versionCount: latest?.versions ?? 0,
    errors: shown?.errors ?? 0,
    warnings: shown?.warnings ?? 0,
    laterRejected,
  };
}

/** The commission's grid of a month: the month's returns, and the quarter's and year's in their reporting window. */
function countyView(defs: Definitions, county: County, period: string, entries: ReadonlyMap<string, readonly PeriodEntry[]>, now: Date) {
  const institutions = defs.activeIn(county, period);
  const due = new Map(institutions.flatMap((i) => defs.returnsFor(i, period)).map((d) => [d.template, d.period]));
  const columns = defs.templates.filter((t) => due.has(t.id)).map((t) => ({ id: t.id, title: t.title, period: due.get(t.id)!, periodLabel: periodLabel(due.get(t.id)!) }));
  const byKey = new Map([...entries.values()].flat().map((e) => [`${e.institution}|${e.template}`, e]));
  const totals = { owed: 0, accepted: 0, warnings: 0, rejected: 0, missing: 0, onTime: 0, late: 0 };
  const issues: Array<Record<string, unknown>> = [];
  const rows = institutions.map((inst) => {
    const owed = new Set(defs.returnsFor(inst, period).map((d) => d.template));
    const cells: Record<string, ReturnType<typeof cellOf> | null> = {};
    for (const col of columns) {
      if (!owed.has(col.id)) {
        cells[col.id] = null;
        continue;
      }
      const entry = byKey.get(`${inst.code}|${col.id}`);
      const cell = cellOf(entry, defs.deadlineOf(county, col.id, col.period), now);
      cells[col.id] = cell;
      totals.owed++;
      if (cell.status === 'accepted') totals.accepted++;
      if (cell.status === 'accepted_with_warnings') totals.warnings++;
      if (cell.status === 'rejected') totals.rejected++;
      if (cell.status === 'missing') totals.missing++;
      if (cell.timeliness === '按时') totals.onTime++;
      if (cell.late) totals.late++;
      const open = openRejectionOf(entry);
      const source = open ?? (entry?.current?.warnings ? entry.current : null);
      for (const issue of source?.firstIssues ?? []) {
        if (issue.severity === 'info') continue;
        issues.push({
          institution: inst.code,
          name: inst.name,
          template: col.id,
          period: col.period,
          state: open ? '未解决' : '已接收',
          severity: issue.severity,
          cell: issue.cell,
          message: issue.message,
          uploadedAt: source!.uploadedAt,
          versionId: source!.versionId,
        });
      }
    }
    return { code: inst.code, name: inst.name, type: inst.type, cells };
  });
  const submitted = totals.accepted + totals.warnings;
  return {
    county: county.code,
    countyName: county.name,
    period,
    periodLabel: periodLabel(period),
    deadline: deadlineLabel(period, county.deadlineDay),
    columns,
    rows,
    totals: {
      ...totals,
      submitted,
      rate: totals.owed ? Math.round((submitted / totals.owed) * 1000) / 10 : null,
      timely: totals.owed ? Math.round((totals.onTime / totals.owed) * 1000) / 10 : null,
    },
    issues: issues.slice(0, 500),
    moreIssues: Math.max(0, issues.length - 500),
  };
}

function meOf(defs: Definitions, p: Principal, now: Date) {
  const { institution, county } = defs.institution(p.code)!;
  return {
    code: p.code,
    name: institution.name,
    role: p.role,
    county: county.code,
    countyName: county.name,
    cityName: county.city.name,
    templates: defs.templatesOf(institution).map((id) => ({ id, title: defs.template(id)?.title ?? id })),
    deadlineDay: county.deadlineDay,
    expiresAt: new Date(p.exp * 1000).toISOString(),
    ...periodsAround(now),
  };
}

export type { UploadKey };
