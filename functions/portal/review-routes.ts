/**
 * 审核, 关账, 操作记录 and the city's view (functions/portal/api.ts lists the routes). The work is
 * functions/core/review.ts and functions/core/audit.ts; these only check who asks and translate.
 */
import { consolidate } from '../core/consolidate/compute.ts';
import { loadCityConsolidationInput } from '../core/consolidate/load.ts';
import { shanghaiMonth } from '../core/consolidate/period.ts';
import { AUDIT_ACTIONS, filterEvents, type AuditAction } from '../core/audit.ts';
import { periodLabel } from '../core/layout.ts';
import type { IndicatorSubmission } from '../core/normalize/submission.ts';
import { XLSX_TYPE } from '../core/render/deterministic.ts';
import { writeAuditWorkbook } from '../core/render/audit.ts';
import type { Report } from '../core/report.ts';
import { checkWarning, closeMonth, decide, explain, reviewOf, reviewTarget, ReviewError, warningKey, type Actor, type ReviewDeps } from '../core/review.ts';
import { shiftPeriod } from '../core/validate/history.ts';
import type { CurrentSubmission } from '../ports/index.ts';
import { indicatorRows, versionView, type Kit } from './api.ts';
import { has, type Principal } from './auth.ts';
import { ApiError, json, text, workbookResponse, type ApiRequest, type Route } from './http.ts';

const MAX_REPORT_BYTES = 8 * 1024 * 1024;
/** events listed on the page at most (the workbook has them all) */
const MAX_LISTED_EVENTS = 2_000;
/** months one 操作记录 query may span */
const MAX_AUDIT_MONTHS = 12;

export function reviewRoutes(kit: Kit): Record<string, Route> {
  const { deps } = kit;
  const reviewDeps: ReviewDeps = {
    store: deps.store,
    audit: deps.audit,
    definitions: deps.definitions,
    reportsBucket: deps.reportsBucket,
    ...(deps.alerter ? { alerter: deps.alerter } : {}),
    ...(deps.portalBaseUrl ? { portalBaseUrl: deps.portalBaseUrl } : {}),
  };
  const actor = (p: Principal, request: ApiRequest): Actor => ({ username: p.username, name: p.name, ip: request.ip ?? null });

  /** ReviewError → the page's refusal */
  async function run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof ReviewError) throw new ApiError({ 'not-found': 404, conflict: 409, invalid: 400, closed: 409 }[err.kind], err.message);
      throw err;
    }
  }

  /** The slot a reviewer names: an institution of the reviewer's county, a template it owes. */
  async function slotOf(p: Principal, source: Record<string, unknown>) {
    const county = kit.county(p);
    const period = kit.period(source.period, true);
    const defs = await deps.definitions.at(period);
    const found = defs.institution(String(source.institution ?? ''));
    if (!found || found.county.code !== county) throw new ApiError(403, '只能审核本旗县机构的报表');
    const template = String(source.template ?? '');
    if (!defs.templatesOf(found.institution).includes(template)) throw new ApiError(400, '报表模板无效');
    return { county, institution: found.institution.code, name: found.institution.name, template, title: defs.template(template)?.title ?? template, period };
  }

  async function reportOf(version: CurrentSubmission): Promise<Report | null> {
    try {
      const bytes = await deps.objects.get(deps.reportsBucket, version.reportKey, MAX_REPORT_BYTES);
      return bytes ? (JSON.parse(Buffer.from(bytes).toString('utf8')) as Report) : null;
    } catch {
      return null;
    }
  }

  /** A version under review: its warnings (each with its 已核实), the institution's 说明 and 备注. */
  async function reviewable(version: CurrentSubmission, held: boolean) {
    const report = await reportOf(version);
    const issues = (Array.isArray(report?.issues) ? report!.issues : version.firstIssues).filter((i) => i.severity === 'warning');
    const remarks = version.submission.kind === 'indicator' ? Object.entries((version.submission as IndicatorSubmission).remarks ?? {}).map(([element, remark]) => ({ element, remark })) : [];
    return {
      ...versionView(version),
      held,
      review: version.review ?? { state: reviewOf(version) },
      explanation: version.explanation ?? null,
      warnings: issues.map((i) => ({ key: warningKey(i), code: i.code, sheet: i.sheet, cell: i.cell, element: i.element, message: i.message, check: version.checks?.[warningKey(i)] ?? null })),
      remarks,
    };
  }

  function months(request: ApiRequest): { from: string; to: string } {
    const current = shanghaiMonth(kit.now());
    const to = request.query.to ? kit.period(request.query.to) : current;
    const from = request.query.from ? kit.period(request.query.from) : to;
    if (from > to) throw new ApiError(400, '起始月份不能晚于结束月份');
    if (shiftPeriod(from, MAX_AUDIT_MONTHS - 1) < to) throw new ApiError(400, `一次最多查询 ${MAX_AUDIT_MONTHS} 个月`);
    return { from, to };
  }

  async function events(request: ApiRequest) {
    const p = await kit.principal(request);
    const county = kit.admin(p);
    const { from, to } = months(request);
    const action = request.query.action;
    if (action && !(AUDIT_ACTIONS as readonly string[]).includes(action)) throw new ApiError(400, '操作类型无效');
    const outcome = request.query.outcome === 'ok' || request.query.outcome === 'refused' ? request.query.outcome : undefined;
    const list = filterEvents(await deps.audit.list(county, from, to), {
      ...(action ? { action: action as AuditAction } : {}),
      ...(request.query.actor ? { actor: request.query.actor.slice(0, 40) } : {}),
      ...(request.query.institution ? { institution: request.query.institution.slice(0, 20) } : {}),
      ...(outcome ? { outcome } : {}),
    });
    return { p, county, from, to, list };
  }

  return {
    'GET /api/review': async (request) => {
      const p = await kit.principal(request);
      const slot = await slotOf(p, request.query);
      const [entries, closed] = await Promise.all([deps.store.listPeriod(slot.county, slot.period), deps.store.closure(slot.county, slot.period)]);
      const entry = entries.find((e) => e.institution === slot.institution && e.template === slot.template);
      const found = reviewTarget(entry);
      return json(200, {
        ...slot,
        periodLabel: periodLabel(slot.period),
        closed,
        target: found ? await reviewable(found.version, found.held) : null,
        // a held correction replaces this one once approved
        current: found?.held && entry?.current ? versionView(entry.current) : null,
        canReview: has(p, 'reviewer'),
      });
    },

    'POST /api/review': async (request) => {
      const p = await kit.principal(request);
      const body = kit.body(request);
      if (!has(p, 'reviewer')) throw new ApiError(403, '仅审核员可以审核');
      const slot = await slotOf(p, body);
      const decision = body.decision === 'approve' || body.decision === 'return' ? body.decision : null;
      if (!decision) throw new ApiError(400, '请选择审核通过或退回');
      const outcome = await run(() => decide(reviewDeps, { ...slot, versionId: text(body, 'versionId'), decision, reason: text(body, 'reason'), by: actor(p, request) }, kit.now()));
      return json(200, outcome);
    },

    'POST /api/review/check': async (request) => {
      const p = await kit.principal(request);
      const body = kit.body(request);
      if (!has(p, 'reviewer')) throw new ApiError(403, '仅审核员可以核实警告');
      const slot = await slotOf(p, body);
      await run(() => checkWarning(reviewDeps, { ...slot, versionId: text(body, 'versionId'), key: text(body, 'key'), note: text(body, 'note'), by: actor(p, request) }, kit.now()));
      return json(200, { ok: true });
    },

    'POST /api/explain': async (request) => {
      const p = await kit.principal(request);
      const body = kit.body(request);
      if (!p.institution || !p.county) throw new ApiError(403, '仅填报员可以填写说明');
      const period = kit.period(body.period, true);
      const template = text(body, 'template');
      await run(() => explain(reviewDeps, { county: p.county!, institution: p.institution!, template, period, versionId: text(body, 'versionId'), text: text(body, 'text'), by: actor(p, request) }, kit.now()));
      return json(200, { ok: true });
    },

    'POST /api/close': async (request) => {
      const p = await kit.principal(request);
      const county = kit.admin(p);
      const period = kit.period(kit.body(request).period);
      if (period >= shanghaiMonth(kit.now())) throw new ApiError(400, `${periodLabel(period)}尚未结束，不能关账`);
      await run(() => closeMonth(reviewDeps, { county, period, by: actor(p, request) }, kit.now()));
      return json(200, await deps.store.closure(county, period));
    },

    'GET /api/audit': async (request) => {
      const { from, to, list } = await events(request);
      return json(200, { from, to, total: list.length, events: list.slice(0, MAX_LISTED_EVENTS) });
    },

    'GET /api/audit/workbook': async (request) => {
      const { p, county, from, to, list } = await events(request);
      const countyName = (await deps.definitions.latest()).county(county)?.name ?? county;
      const span = from === to ? periodLabel(from) : `${periodLabel(from)}至${periodLabel(to)}`;
      const fileName = `${countyName}操作记录_${from}${from === to ? '' : `_${to}`}.xlsx`;
      const bytes = await writeAuditWorkbook(list, `${countyName}操作记录（${span}，共 ${list.length} 条）`, kit.now());
      await kit.record(request, p, { action: 'download', detail: `操作记录：${fileName}` });
      return workbookResponse(bytes, fileName, XLSX_TYPE);
    },

    'GET /api/city': async (request) => {
      const p = await kit.principal(request);
      if (!has(p, 'viewer') || !p.city) throw new ApiError(403, '仅市级查看账号可以查看');
      const period = kit.period(request.query.period);
      const result = consolidate(await loadCityConsolidationInput(deps.store, await deps.definitions.at(period), p.city, period, kit.now()));
      return json(200, { city: p.city, cityName: p.unitName, period, periodLabel: periodLabel(period), labels: result.labels, counties: result.status.byCounty, overall: result.status.overall, rows: indicatorRows(result) });
    },
  };
}
