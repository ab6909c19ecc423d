/**
 * The portal's API, one core for AWS (functions/handlers/portal-api.ts, API Gateway HTTP API) and
 * for one machine (functions/adapters/local/portal.ts). Pure over ports: no AWS SDK here. Requests
 * and responses are plain data; every route checks who is signed in before it reads anything.
 *
 *   POST /api/login                {username, password}           → session cookies, or {challenge: 'new-password', session}
 *   POST /api/login/new-password   {username, session, newPassword} → session cookies (first sign-in, after a reset)
 *   POST /api/logout               {}                             revokes the session
 *   GET  /api/me                                       who, roles, templates owed, periods
 *   GET  /api/template             ?template&period[&institution]    blank template, pre-filled (.xlsx)
 *   POST /api/uploads              {template, period, fileName, size}  reporter: presigned POST for one exact key
 *   GET  /api/upload-status        ?key                 pending | the version and its report summary
 *   GET  /api/submissions          ?period[&institution]             status, review and every upload per template
 *   GET  /api/history              [?to][&institution]  accepted returns of the 12 months up to `to`, per template
 *   GET  /api/report               ?institution&template&period&versionId   issues of one upload
 *   GET  /api/download/feedback    ?institution&template&period&versionId   → short-lived link (302)
 *   POST /api/explain              {template, period, versionId, text}  reporter: 说明 of the warnings
 *   GET  /api/county               ?period              reviewer, admin: grid (review included), totals, open issues, 关账
 *   GET  /api/indicators           ?period[&approved=1] reviewer, admin: key indicators against targets
 *   GET  /api/trend                ?code&months&to[&institution]     reviewer, admin, viewer(county of its city) or a reporter (its own): a series in the code's 周期
 *   GET  /api/draft                ?period (2025-03 | 2025-Q1 | 2025) reviewer, admin: the work summary's data draft (.docx)
 *   GET  /api/consolidated                              reviewer, admin: workbooks, latest and by run
 *   GET  /api/download/consolidated ?key                reviewer, admin: → short-lived link (302)
 *   POST /api/regenerate           {period}             admin: publish the workbook now (once a minute)
 *   GET  /api/review               ?institution&template&period   reviewer, admin: the return to review, its warnings
 *   POST /api/review               {institution, template, period, versionId, decision, reason}  reviewer: 审核通过 / 退回
 *   POST /api/review/check         {institution, template, period, versionId, key, note}  reviewer: a warning 已核实
 *   POST /api/close                {period}             admin: 关账
 *   GET  /api/users                                     admin: the county's people
 *   POST /api/users                {name, phone, roles, institution}  admin: a new person, temporary password
 *   POST /api/users/disable|enable|reset {username}     admin
 *   GET  /api/audit                ?from&to[&action][&actor][&institution]  admin: 操作记录
 *   GET  /api/audit/workbook       …same…               admin: 操作记录 as .xlsx
 *   GET  /api/city                 ?period              viewer: the city's counties, approved returns only
 *   GET  /api/definitions…, POST /api/definitions/check|import      admin: 定义管理
 *
 * Access (functions/core/people.ts): a reporter reads and uploads its institution's returns; the
 * county's reviewers and administrators read the county; the viewer reads the city's approved data.
 * Every POST is JSON from the page itself (bodyOf); every period lies in [FIRST_PERIOD, this month].
 */
import { randomBytes } from 'node:crypto';
import type { County, Institution } from '../../schemas/model.ts';
import type { Definitions } from '../core/definitions/definitions.ts';
import type { DefinitionsPort } from '../core/definitions/source.ts';
import { consolidate } from '../core/consolidate/compute.ts';
import { MAX_TREND_MONTHS, trend } from '../core/trend/index.ts';
import { loadConsolidationInput } from '../core/consolidate/load.ts';
import { deadlineLabel as deadlineText, dueWith, parsePeriod, PeriodError, shanghaiMonth } from '../core/consolidate/period.ts';
import { openRejectionOf, timelinessOf } from '../core/consolidate/slot.ts';
import { parseUploadKey, UPLOADER_IP_METADATA, UPLOADER_METADATA, UPLOADER_USER_METADATA, type UploadKey } from '../core/ingest.ts';
import { ANY_PERIOD_PATTERN, PERIOD_PATTERN, periodLabel } from '../core/layout.ts';
import { feedbackKeyOf } from '../core/render/feedback.ts';
import { XLSX_TYPE } from '../core/render/deterministic.ts';
import { runStamp } from '../core/consolidate/publish.ts';
import { deadlineLabel, writeTemplate } from '../core/render/template.ts';
import type { Issue, Report } from '../core/report.ts';
import { shiftPeriod } from '../core/validate/history.ts';
import { auditEvent, type AuditAction, type AuditEvent } from '../core/audit.ts';
import { reviewOf } from '../core/review.ts';
import { ROLE_LABELS } from '../core/people.ts';
import type { Alerter, AuditLog, CurrentSubmission, DefinitionsStore, IdentityProvider, ObjectStore, PeriodEntry, SubmissionStore, SubmissionVersion } from '../ports/index.ts';
import { importDefinitions } from '../core/definitions/import.ts';
import { writeDefinitionsWorkbook } from '../core/definitions/workbook.ts';
import { has, LOGOUT_PATH, MAX_SESSION_SECONDS, principalOf as placePrincipal, readsCounty, REFRESH_COOKIE, SESSION_COOKIE, type Principal } from './auth.ts';
import { ApiError, bodyTooLarge, contentDisposition, cookieOf, errorResponse, fromOwnPage, json, NO_STORE, redirect, workbookResponse, type ApiRequest, type ApiResponse, type Route } from './http.ts';
import { peopleRoutes } from './people-routes.ts';
import { reviewRoutes } from './review-routes.ts';

export { ApiError, bodyTooLarge, contentDisposition, errorResponse, fromOwnPage, type ApiRequest, type ApiResponse } from './http.ts';
export { SESSION_COOKIE, REFRESH_COOKIE, SIGN_IN_FAILED_EVENT } from './auth.ts';

/** presigned POST lifetime: long enough for a 10 MB upload at 1 Mbit/s (≈ 90 s), short enough not to be kept */
export const UPLOAD_LINK_SECONDS = 15 * 60;
/** presigned GET lifetime: issued at the click, used at once */
export const DOWNLOAD_LINK_SECONDS = 60;
/** A request body, at most, but for a definitions workbook (the largest other, a sign-in, is under 2 KB). */
export const MAX_BODY_BYTES = 16 * 1024;
/** The earliest period any route accepts; the latest is the current month (Asia/Shanghai). */
export const FIRST_PERIOD = '2000-01';
/** Regenerate runs at most once per county, period and this many seconds (a clock-aligned window). */
export const REGENERATE_COOLDOWN_SECONDS = 60;
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
  /** sign-in, token verification and the people of the user pool */
  identity: IdentityProvider;
  /** who exists and what each owes: the newest for identity, those in force for a period for the rest */
  definitions: DefinitionsPort;
  /** where an imported definitions version is stored (定义管理) */
  definitionsStore: DefinitionsStore;
  store: SubmissionStore;
  /** the audit trail (操作记录) */
  audit: AuditLog;
  objects: ObjectStore;
  links: ObjectLinks;
  publish: PublishFn;
  /** a return (退回) alerts the institution */
  alerter?: Alerter;
  /** the portal's own address, for links in alerts */
  portalBaseUrl?: string;
  uploadsBucket: string;
  reportsBucket: string;
  maxUploadBytes: number;
  /** the calendar (periods, deadlines, audit times): a demo simulates one; token times are always real */
  now?: () => Date;
  /** Secure on the cookies: true behind HTTPS (AWS), false on http://127.0.0.1 */
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

export type PortalApi = (request: ApiRequest) => Promise<ApiResponse>;

/** What the route modules (people-routes.ts, review-routes.ts) get from the core. */
export interface Kit {
  deps: PortalDeps;
  now(): Date;
  /** the signed-in person, or 401/403 */
  principal(request: ApiRequest): Promise<Principal>;
  /** a JSON body from the page itself (415, 403, 413, 400 otherwise) */
  body(request: ApiRequest, maxBytes?: number): Record<string, unknown>;
  /** a month in [FIRST_PERIOD, this month] (with `any`, also a quarter or a year: a return of its own 周期), or 400 */
  period(value: unknown, any?: boolean): string;
  /** the county a reviewer or administrator reads; 403 for anyone else */
  county(p: Principal): string;
  /** the county an administrator manages; 403 for anyone else */
  admin(p: Principal): string;
  /** appends to the audit trail: the person (or `actor`), the address, the person's scope unless given */
  record(request: ApiRequest, p: Principal | null, event: { action: AuditAction; detail: string; subject?: AuditEvent['subject']; outcome?: 'ok' | 'refused'; scope?: string; actor?: AuditEvent['actor'] }): Promise<void>;
  /** the session cookies of a sign-in, and the page's view of the person */
  signedIn(accessToken: string, refreshToken: string, expiresIn: number): Promise<{ cookies: string[]; me: ReturnType<typeof meOf>; principal: Principal }>;
  /** cookies that end the session in the browser */
  cleared(): string[];
  log(entry: Record<string, unknown>): void;
}

export function createPortalApi(deps: PortalDeps): PortalApi {
  const now = () => deps.now?.() ?? new Date();
  const log = deps.log ?? ((entry: Record<string, unknown>) => (entry.level === 'error' ? console.error : console.log)(JSON.stringify(entry)));
  const cookieAttrs = `HttpOnly; SameSite=Strict${deps.secureCookie ? '; Secure' : ''}`;

  async function principal(request: ApiRequest): Promise<Principal> {
    const auth = request.headers.authorization;
    const token = auth && /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, '') : cookieOf(request, SESSION_COOKIE);
    const session = token ? await deps.identity.verify(token) : null;
    if (!session) throw new ApiError(401, '登录已过期或未登录，请重新登录');
    const placed = placePrincipal(await deps.definitions.latest(), session, Math.floor(Date.now() / 1000));
    if (typeof placed === 'string') throw new ApiError(placed.startsWith('登录') ? 401 : 403, placed);
    return placed;
  }

  /**
   * A mutating request must be JSON (a cross-site form cannot send it without a CORS preflight we
   * never answer) and come from the page itself (fromOwnPage), so no other site can sign a user
   * in or out or act for them; its body at most `maxBytes`.
   */
  function body(request: ApiRequest, maxBytes = MAX_BODY_BYTES): Record<string, unknown> {
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

  const kit: Kit = {
    deps,
    now,
    principal,
    body,
    period: (value, any) => periodParam(typeof value === 'string' ? value : undefined, now(), any),
    county(p) {
      if (!p.county || !readsCounty(p, p.county)) throw new ApiError(403, '仅旗县卫健委的审核员和管理员可以查看');
      return p.county;
    },
    admin(p) {
      if (!p.county || !has(p, 'admin')) throw new ApiError(403, '仅管理员可以操作');
      return p.county;
    },
    async record(request, p, event) {
      const actor = event.actor ?? (p ? { username: p.username, name: p.name } : { username: 'unknown', name: null });
      const input = { scope: event.scope ?? p?.audit ?? '-', action: event.action, outcome: event.outcome ?? 'ok', actor, ip: request.ip ?? null, subject: event.subject ?? {}, detail: event.detail } as const;
      await deps.audit.append(auditEvent(input, now()));
    },
    async signedIn(accessToken, refreshToken, expiresIn) {
      const session = await deps.identity.verify(accessToken);
      if (!session) throw new Error('the user pool issued a token it does not verify');
      const latest = await deps.definitions.latest();
      const placed = placePrincipal(latest, session, Math.floor(Date.now() / 1000));
      if (typeof placed === 'string') throw new ApiError(403, placed);
      const age = Math.min(expiresIn, MAX_SESSION_SECONDS);
      return {
        principal: placed,
        me: meOf(latest, placed, now()),
        cookies: [`${SESSION_COOKIE}=${accessToken}; Path=/; Max-Age=${age}; ${cookieAttrs}`, `${REFRESH_COOKIE}=${refreshToken}; Path=${LOGOUT_PATH}; Max-Age=${age}; ${cookieAttrs}`],
      };
    },
    cleared: () => [`${SESSION_COOKIE}=; Path=/; Max-Age=0; ${cookieAttrs}`, `${REFRESH_COOKIE}=; Path=${LOGOUT_PATH}; Max-Age=0; ${cookieAttrs}`],
    log,
  };

  /** A download, recorded in the audit trail. */
  async function downloaded(request: ApiRequest, p: Principal, detail: string, subject: AuditEvent['subject'] = {}): Promise<void> {
    await kit.record(request, p, { action: 'download', detail, subject });
  }

  const routes: Record<string, Route> = {
    ...peopleRoutes(kit),
    ...reviewRoutes(kit),
    'GET /api/me': async (request) => json(200, meOf(await deps.definitions.latest(), await principal(request), now())),

    'GET /api/template': async (request) => {
      const p = await principal(request);
      const period = kit.period(request.query.period, true);
      const defs = await deps.definitions.at(period);
      const { institution, county } = readable(defs, p, request.query.institution);
      const id = owedTemplate(defs, institution, period, request.query.template);
      const def = defs.template(id)!;
      const bytes = await writeTemplate(def, county, institution, period);
      const fileName = `${def.title}_${institution.name}_${period}.xlsx`;
      await downloaded(request, p, `空白报表：${fileName}`, { institution: institution.code, template: id, period });
      return workbookResponse(bytes, fileName, XLSX_TYPE);
    },

    'POST /api/uploads': async (request) => {
      const p = await principal(request);
      const b = body(request);
      if (!p.institution) throw new ApiError(403, '仅填报员可以上报报表');
      if (b.institution !== undefined && b.institution !== p.institution) throw new ApiError(403, '只能上报本单位的报表');
      const period = kit.period(b.period, true);
      const defs = await deps.definitions.at(period);
      const { institution, county } = readable(defs, p, p.institution);
      const id = owedTemplate(defs, institution, period, typeof b.template === 'string' ? b.template : undefined);
      const fileName = typeof b.fileName === 'string' ? b.fileName : '';
      if (!/\.xlsx$/i.test(fileName.trim())) throw new ApiError(400, '只接受 Excel 工作簿（.xlsx）；.xls、.csv、WPS 的 .et 请先另存为 .xlsx');
      const size = b.size === undefined ? undefined : Number(b.size);
      if (size !== undefined && !(Number.isFinite(size) && size > 0)) throw new ApiError(400, '文件为空');
      if (size !== undefined && size > deps.maxUploadBytes) throw new ApiError(413, `文件超过 ${Math.round(deps.maxUploadBytes / 1048576)} MB 的上限`);
      const key = uploadKeyFor(county.code, institution.code, id, period, fileName, now());
      const post = await deps.links.presignPost({
        bucket: deps.uploadsBucket,
        key,
        contentType: XLSX_TYPE,
        maxBytes: deps.maxUploadBytes,
        // signed into the policy: S3 refuses a POST that changes them; ingest records them on the version
        metadata: { [UPLOADER_METADATA]: institution.code, [UPLOADER_USER_METADATA]: p.username, ...(request.ip ? { [UPLOADER_IP_METADATA]: request.ip.slice(0, 64) } : {}) },
        expiresSeconds: UPLOAD_LINK_SECONDS,
      });
      return json(200, { ...post, key, maxBytes: deps.maxUploadBytes, expiresAt: new Date(now().getTime() + UPLOAD_LINK_SECONDS * 1000).toISOString() });
    },

    'GET /api/upload-status': async (request) => {
      const p = await principal(request);
      const key = parseUploadKey(request.query.key ?? '');
      if (!key) throw new ApiError(400, '上传位置无效');
      kit.period(key.period, true);
      readable(await deps.definitions.latest(), p, key.institution);
      const versions = await deps.store.versions({ institution: key.institution, template: key.template, period: key.period });
      const version = versions.find((v) => v.objectKey === request.query.key);
      if (!version) return json(200, { state: 'pending' });
      return json(200, { state: 'done', version: versionView(version), report: await reportView(version) });
    },

    'GET /api/submissions': async (request) => {
      const p = await principal(request);
      const period = kit.period(request.query.period);
      const defs = await deps.definitions.at(period);
      const { institution, county } = readable(defs, p, request.query.institution);
      // the month's returns, and the quarter's and year's while their reporting window is open
      const due = defs.returnsFor(institution, period);
      const entries = await entriesOf(county.code, due.map((d) => d.period));
      const closed = new Set((await Promise.all([...entries.keys()].map((of) => deps.store.closure(county.code, of)))).flatMap((c) => (c ? [c.period] : [])));
      const rows = await Promise.all(
        due.map(async ({ template: id, period: of }) => {
          const versions = await deps.store.versions({ institution: institution.code, template: id, period: of });
          const deadline = defs.deadlineOf(county, id, of);
          const entry = entries.get(of)!.find((e) => e.template === id && e.institution === institution.code);
          return {
            template: id,
            title: defs.template(id)?.title ?? id,
            period: of,
            periodLabel: periodLabel(of),
            deadline: deadlineText(deadline),
            ...cellOf(entry, deadline, now()),
            review: reviewSummary(entry?.current ?? null),
            correction: entry?.correction ? { ...versionView(entry.correction), review: reviewSummary(entry.correction) } : null,
            closed: closed.has(of),
            versions: versions.reverse().map(versionView),
          };
        }),
      );
      return json(200, { institution: institution.code, name: institution.name, period, periodLabel: periodLabel(period), closed: closed !== null, rows });
    },

    'GET /api/history': async (request) => {
      const p = await principal(request);
      const current = request.query.to ? kit.period(request.query.to) : shanghaiMonth(now());
      const defs = await deps.definitions.at(current);
      const { institution, county } = readable(defs, p, request.query.institution);
      const periods = Array.from({ length: 12 }, (_, i) => shiftPeriod(current, i - 11));
      // monthly returns: quarterly and annual ones show with the months of their reporting window
      const monthly = defs.templatesOf(institution).filter((id) => defs.template(id)!.periodType === 'month');
      const rows = await Promise.all(
        monthly.map(async (id) => {
          const accepted = await deps.store.history(institution.code, id, periods[0]!, current);
          const cells: Record<string, { status: string; uploadedAt: string; late: boolean; review: string | null } | null> = {};
          for (const period of periods) {
            const c = accepted.find((x) => x.period === period);
            cells[period] = c ? { status: c.status, uploadedAt: c.uploadedAt, late: Date.parse(c.uploadedAt) > defs.deadlineOf(county, id, period).getTime(), review: reviewOf(c) } : null;
          }
          return { template: id, title: defs.template(id)?.title ?? id, cells };
        }),
      );
      return json(200, { institution: institution.code, periods, rows });
    },

    'GET /api/report': async (request) => json(200, await reportView((await versionParam(request)).version)),

    'GET /api/download/feedback': async (request) => {
      const { version, p } = await versionParam(request);
      const key = await feedbackOf(version);
      if (!key) throw new ApiError(404, '这次上报没有批注工作簿');
      const name = `校验结果_${version.template}_${version.institution}_${version.period}.xlsx`;
      await downloaded(request, p, `批注工作簿：${name}`, { institution: version.institution, template: version.template, period: version.period, versionId: version.versionId, key });
      return redirect(await deps.links.presignGet({ bucket: deps.reportsBucket, key, fileName: name, contentType: XLSX_TYPE, expiresSeconds: DOWNLOAD_LINK_SECONDS }));
    },

    'GET /api/county': async (request) => {
      const code = kit.county(await principal(request));
      const period = kit.period(request.query.period);
      const defs = await deps.definitions.at(period);
      const county = defs.county(code);
      if (!county) throw new ApiError(404, `旗县 ${code} 在 ${periodLabel(period)} 执行的定义中不存在`);
      const [entries, closed] = await Promise.all([entriesOf(county.code, Object.values(dueWith(period))), deps.store.closure(county.code, period)]);
      return json(200, { ...countyView(defs, county, period, entries, now()), closed });
    },

    'GET /api/indicators': async (request) => {
      const code = kit.county(await principal(request));
      const period = kit.period(request.query.period);
      const approvedOnly = request.query.approved === '1';
      const result = consolidate(await loadConsolidationInput(deps.store, await deps.definitions.at(period), code, period, now(), { approvedOnly }));
      return json(200, { period, approvedOnly, labels: result.labels, unreviewed: result.status.overall.unreviewed, submitted: result.status.overall.submitted, rows: indicatorRows(result) });
    },

    'GET /api/trend': async (request) => {
      const p = await principal(request);
      const to = kit.period(request.query.to);
      const code = request.query.code ?? '';
      if (!/^[A-Z]{2}(-I)?\d{2,3}$/.test(code)) throw new ApiError(400, '指标代码无效（如 JC28、JC-I03）');
      const months = Number(request.query.months ?? '12');
      if (!Number.isInteger(months) || months < 1 || months > MAX_TREND_MONTHS) throw new ApiError(400, `月数应为 1—${MAX_TREND_MONTHS}`);
      // a reviewer or administrator: the county, or any of its institutions; a reporter: its own
      const wholeCounty = !request.query.institution && p.county !== null && readsCounty(p, p.county);
      const found = wholeCounty ? null : readable(await deps.definitions.at(to), p, request.query.institution);
      const county = found ? found.county.code : p.county!;
      try {
        const [series] = await trend(deps.store, deps.definitions, { county, codes: [code], months, to, ...(found ? { institution: found.institution.code } : {}) }, now());
        return json(200, series);
      } catch (err) {
        if (err instanceof PeriodError) throw new ApiError(400, err.message);
        throw err;
      }
    },

    'GET /api/draft': async (request) => {
      const p = await principal(request);
      const county = kit.county(p);
      const period = kit.period(request.query.period, true);
      const input = await loadConsolidationInput(deps.store, await deps.definitions.at(period), county, period, now());
      // docx is loaded when a draft is asked for, not on every cold start
      const [{ buildDraft }, { renderDraftDocx, DOCX_TYPE }] = await Promise.all([import('../core/draft/index.ts'), import('../core/draft/docx.ts')]);
      const draft = buildDraft(consolidate(input));
      await downloaded(request, p, `数据草稿：${draft.title}.docx`, { period });
      return {
        status: 200,
        headers: { 'content-type': DOCX_TYPE, 'content-disposition': contentDisposition(`${draft.title}.docx`), ...NO_STORE },
        cookies: [],
        body: new Uint8Array(await renderDraftDocx(draft)),
      };
    },

    'GET /api/consolidated': async (request) => {
      const code = kit.county(await principal(request));
      const prefix = `consolidated/${code}/`;
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
      const p = await principal(request);
      const code = kit.county(p);
      const key = request.query.key ?? '';
      const prefix = `consolidated/${code}/`;
      if (!key.startsWith(prefix) || !key.endsWith('.xlsx') || key.includes('..') || key.split('/').length !== 4) throw new ApiError(403, '无权下载该文件');
      const found = (await deps.objects.list(deps.reportsBucket, key)).some((o) => o.key === key);
      if (!found) throw new ApiError(404, '汇总表不存在，请先生成');
      const [, , folder, file] = key.split('/') as [string, string, string, string];
      const county = (await deps.definitions.latest()).county(code);
      const name = folder === 'latest' ? `${county?.name ?? code}汇总表_${file}` : file;
      await downloaded(request, p, `汇总表：${name}`, { key });
      return redirect(await deps.links.presignGet({ bucket: deps.reportsBucket, key, fileName: name, contentType: XLSX_TYPE, expiresSeconds: DOWNLOAD_LINK_SECONDS }));
    },

    'POST /api/regenerate': async (request) => {
      const p = await principal(request);
      const code = kit.admin(p);
      const b = body(request);
      const period = kit.period(b.period);
      // every run writes a new object: one per county, period and window, claimed in the table
      const seconds = Math.floor(now().getTime() / 1000);
      const window = Math.floor(seconds / REGENERATE_COOLDOWN_SECONDS);
      const task = `regenerate#${code}#${period}#${window}`;
      if (!(await deps.store.claimTask(task, now()))) {
        const wait = (window + 1) * REGENERATE_COOLDOWN_SECONDS - seconds;
        throw new ApiError(429, `${periodLabel(period)}的汇总表刚刚生成过，请 ${wait} 秒后再试`, { 'retry-after': String(wait) });
      }
      try {
        const published = await deps.publish({ level: 'county', code, period, now: now() });
        await kit.record(request, p, { action: 'regenerate', detail: `生成汇总表：${periodLabel(period)}（${published.fileName}）`, subject: { period, key: published.key } });
        return json(200, { key: published.key, latestKey: published.latestKey, fileName: published.fileName });
      } catch (err) {
        await deps.store.releaseTask(task).catch(() => undefined); // a failed run does not count
        throw err;
      }
    },

    'GET /api/definitions': async (request) => {
      kit.admin(await principal(request));
      const log = await deps.definitions.log();
      const versions = [...log.versions].reverse().map((v) => ({ version: v.version, effective: v.effective, createdAt: v.createdAt, by: v.by, summary: v.summary }));
      return json(200, { version: versions[0]?.version ?? null, versions });
    },
    'GET /api/definitions/workbook': async (request) => {
      const p = await principal(request);
      kit.admin(p);
      const period = request.query.period ? kit.period(request.query.period) : null;
      const defs = period ? await deps.definitions.at(period) : await deps.definitions.latest();
      const bytes = await writeDefinitionsWorkbook(defs.content, { version: defs.version, period }, now());
      const fileName = `报表定义_第${defs.version}版${period ? `_${period}` : ''}.xlsx`;
      await downloaded(request, p, `定义工作簿：${fileName}`);
      return workbookResponse(bytes, fileName, XLSX_TYPE);
    },
    'POST /api/definitions/check': (request) => definitionsImport(request, true),
    'POST /api/definitions/import': (request) => definitionsImport(request, false),
  };

  /** an edited definitions workbook checked (and, unless a dry run, stored) as this administrator's */
  async function definitionsImport(request: ApiRequest, dryRun: boolean): Promise<ApiResponse> {
    const p = await principal(request);
    const code = kit.admin(p);
    const b = body(request, MAX_WORKBOOK_BODY_BYTES);
    const effective = typeof b.effective === 'string' ? b.effective : '';
    const data = typeof b.data === 'string' ? b.data : '';
    if (!data || !/^[A-Za-z0-9+/]+=*$/.test(data)) throw new ApiError(400, '请选择要导入的定义工作簿（.xlsx）');
    const by = `${p.name}（${p.unitName}）`;
    const { report } = await importDefinitions(deps.definitionsStore, Buffer.from(data, 'base64'), { effective, by, now: now(), dryRun, scope: code });
    if (report.status === 'accepted' && !dryRun) {
      deps.definitions.invalidate?.();
      await kit.record(request, p, { action: 'definitions', detail: `导入定义第 ${report.version ?? '?'} 版，自 ${periodLabel(effective)} 起执行：${report.summary.join('；')}`.slice(0, 480) });
    }
    return json(200, report);
  }

  /** The institution a principal may read: its own (reporter), or any of its county (reviewer, administrator). */
  function readable(defs: Definitions, p: Principal, code: string | undefined): { institution: Institution; county: County } {
    const wanted = code === undefined || code === '' ? (p.institution ?? '') : code;
    if (!wanted) throw new ApiError(400, '请指定机构');
    const found = defs.institution(wanted);
    if (!found) throw new ApiError(404, `机构代码 ${String(wanted).slice(0, 20)} 不在名录中`);
    const allowed = wanted === p.institution || readsCounty(p, found.county.code);
    if (!allowed) throw new ApiError(403, '无权查看其他机构的数据');
    return found;
  }

  /** Every entry of a county for some periods (a month and the quarter and year whose window it is in). */
  async function entriesOf(county: string, periods: readonly string[]): Promise<Map<string, PeriodEntry[]>> {
    const unique = [...new Set(periods)];
    const lists = await Promise.all(unique.map((p) => deps.store.listPeriod(county, p)));
    return new Map(unique.map((p, n) => [p, lists[n]!]));
  }

  async function versionParam(request: ApiRequest): Promise<{ version: SubmissionVersion; p: Principal }> {
    const p = await principal(request);
    const period = kit.period(request.query.period, true);
    const defs = await deps.definitions.at(period);
    const { institution } = readable(defs, p, request.query.institution);
    const template = knownTemplate(defs, institution, request.query.template);
    const versionId = request.query.versionId ?? '';
    if (!/^[0-9a-f]{8,64}$/.test(versionId)) throw new ApiError(400, '版本号无效');
    const version = (await deps.store.versions({ institution: institution.code, template, period })).find((v) => v.versionId === versionId);
    if (!version) throw new ApiError(404, '找不到这次上报');
    return { version, p };
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

/** The rows of the key indicators view (本期, 本年累计, coverage, target), targeted ones first. */
export function indicatorRows(result: ReturnType<typeof consolidate>) {
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
  return rows.sort((a, b) => Number(!!b.target) - Number(!!a.target));
}

/** The review of an accepted version as the page shows it. */
export function reviewSummary(c: CurrentSubmission | null) {
  const state = reviewOf(c);
  if (!state) return null;
  return { state, by: c!.review?.byName ?? null, at: c!.review?.at ?? null, reason: c!.review?.reason ?? null, explanation: c!.explanation?.text ?? null };
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

export function versionView(v: SubmissionVersion) {
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
    uploadedBy: v.uploadedBy ?? null,
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
    /** 审核 of the accepted return; a closed month's correction awaiting it */
    review: reviewOf(current),
    correction: entry?.correction ? { uploadedAt: entry.correction.uploadedAt, review: reviewOf(entry.correction) } : null,
  };
}

/** The commission's grid of a month: the month's returns, and the quarter's and year's in their reporting window. */
function countyView(defs: Definitions, county: County, period: string, entries: ReadonlyMap<string, readonly PeriodEntry[]>, now: Date) {
  const institutions = defs.activeIn(county, period);
  const due = new Map(institutions.flatMap((i) => defs.returnsFor(i, period)).map((d) => [d.template, d.period]));
  const columns = defs.templates.filter((t) => due.has(t.id)).map((t) => ({ id: t.id, title: t.title, period: due.get(t.id)!, periodLabel: periodLabel(due.get(t.id)!) }));
  const byKey = new Map([...entries.values()].flat().map((e) => [`${e.institution}|${e.template}`, e]));
  const totals = { owed: 0, accepted: 0, warnings: 0, rejected: 0, missing: 0, onTime: 0, late: 0, approved: 0, returned: 0, corrections: 0 };
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
      if (cell.review === 'approved') totals.approved++;
      if (cell.review === 'returned') totals.returned++;
      if (cell.correction) totals.corrections++;
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
      unreviewed: submitted - totals.approved,
      rate: totals.owed ? Math.round((submitted / totals.owed) * 1000) / 10 : null,
      timely: totals.owed ? Math.round((totals.onTime / totals.owed) * 1000) / 10 : null,
    },
    issues: issues.slice(0, 500),
    moreIssues: Math.max(0, issues.length - 500),
  };
}

export function meOf(defs: Definitions, p: Principal, now: Date) {
  const county = p.county ? defs.county(p.county) : null;
  const institution = p.institution ? defs.institution(p.institution)?.institution : null;
  const city = p.city ? defs.countiesOf(p.city)[0]?.city : null;
  return {
    username: p.username,
    name: p.name,
    roles: p.roles,
    roleLabels: p.roles.map((r) => ROLE_LABELS[r]),
    unit: p.unit,
    unitName: p.unitName,
    institution: p.institution,
    county: p.county,
    countyName: county?.name ?? null,
    city: p.city,
    cityName: city?.name ?? county?.city.name ?? null,
    templates: institution ? defs.templatesOf(institution).map((id) => ({ id, title: defs.template(id)?.title ?? id })) : [],
    deadlineDay: county?.deadlineDay ?? defs.countiesOf(p.city ?? '')[0]?.deadlineDay ?? 5,
    expiresAt: new Date(p.expiresAt * 1000).toISOString(),
    ...periodsAround(now),
  };
}

export type { UploadKey };
