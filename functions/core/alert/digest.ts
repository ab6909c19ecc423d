/**
 * The deadline digest: after a county's deadline for a period (a month, a quarter, a year), one message
 * per county listing who owes a return due by now and has not submitted, and whose submission failed
 * with nothing accepted, with the contacts from the registry. Each template has its own deadline (its
 * 截止日, else the county's); a return not yet due is not outstanding. The scheduled function sends it on
 * the first working day after the deadline and every working day after that, for DIGEST_MONTHS, until
 * nothing is outstanding (then this returns null).
 *
 * Pure: the caller lists the period (SubmissionStore.listPeriod) and publishes.
 */
import type { County, Institution } from '../../../schemas/model.ts';
import type { Definitions } from '../definitions/definitions.ts';
import type { Alert, AttemptSummary, PeriodEntry } from '../../ports/index.ts';
import { deadlineLabel } from '../consolidate/period.ts';
import { BEIJING_OFFSET_MS, beijingTime, capMessage, oneLine, periodText, smsOf, subjectOf } from './format.ts';
import { portalBase, smsAction } from './messages.ts';

export interface DigestInput {
  /** the definitions in force for the period */
  defs: Definitions;
  /** county code */
  county: string;
  /** 2025-03, 2025-Q1 or 2025 */
  period: string;
  now: Date;
  entries: readonly PeriodEntry[];
  /** the portal: the digest links to the commission's page of the period */
  portalBaseUrl?: string | null;
}

/** One institution's outstanding returns. */
export interface OutstandingInstitution {
  institution: Institution;
  /** template ids owed and never uploaded */
  missing: string[];
  /** template ids whose latest upload was rejected and none accepted */
  rejected: Array<{ template: string; latest: AttemptSummary }>;
}

export interface Outstanding {
  /** institution × template pairs the registry says are owed (应报) */
  owed: number;
  /** of those, with a current accepted version (实报) */
  accepted: number;
  missing: number;
  rejected: number;
  /** institutions with anything outstanding, in registry order */
  institutions: OutstandingInstitution[];
}

/** a period's digest goes out for this many months after its first deadline passed (then the next period's takes over) */
export const DIGEST_MONTHS = 1;

/**
 * The deadlines of the returns a county owes for a period, earliest first, one per distinct time,
 * with the templates due then: a return is late from the instant after 23:59:59.999 Beijing time.
 */
export function deadlinesOf(defs: Definitions, county: County, period: string): Array<{ at: Date; templates: string[] }> {
  const byTime = new Map<number, Set<string>>();
  for (const i of county.institutions) {
    for (const t of defs.owed(i, period)) {
      const at = defs.deadlineOf(county, t, period).getTime();
      byTime.set(at, (byTime.get(at) ?? new Set()).add(t));
    }
  }
  return [...byTime].sort((a, b) => a[0] - b[0]).map(([at, templates]) => ({ at: new Date(at), templates: [...templates] }));
}

/** Whether a deadline of the period has passed (some return of the county is due by now). */
export function deadlinePassed(now: Date, defs: Definitions, county: County, period: string): boolean {
  const first = deadlinesOf(defs, county, period)[0];
  return !!first && now.getTime() > first.at.getTime();
}

/**
 * Monday to Friday in Asia/Shanghai. Public holidays and the make-up working weekends of the Chinese
 * calendar (调休) are not modelled: on a holiday the digest still goes out, on a make-up Saturday it does not.
 */
export function isWorkingDay(now: Date): boolean {
  const day = new Date(now.getTime() + BEIJING_OFFSET_MS).getUTCDay();
  return day >= 1 && day <= 5;
}

/**
 * A deadline of the period has passed, no more than DIGEST_MONTHS ago, and today is a working day:
 * the scheduled function sends the digest.
 */
export function isDigestDay(now: Date, defs: Definitions, county: County, period: string): boolean {
  const first = deadlinesOf(defs, county, period)[0];
  if (!first || now.getTime() <= first.at.getTime() || !isWorkingDay(now)) return false;
  const until = new Date(first.at);
  until.setUTCMonth(until.getUTCMonth() + DIGEST_MONTHS);
  return now.getTime() <= until.getTime();
}

/**
 * Who owes what for the period and has not delivered. An owed return is missing when it has neither
 * a current accepted version nor any upload; rejected when it has no current version and its latest
 * upload was rejected. A rejected latest upload beside an accepted current one is not outstanding
 * (the accepted version counts). Entries for returns the definitions do not ask for are ignored, and so
 * are institutions not active in the period. With `now`, only returns due by then count.
 */
export function outstandingOf(defs: Definitions, county: County, period: string, entries: readonly PeriodEntry[], now?: Date): Outstanding {
  const byKey = new Map(entries.map((e) => [`${e.institution}#${e.template}`, e]));
  const result: Outstanding = { owed: 0, accepted: 0, missing: 0, rejected: 0, institutions: [] };
  for (const institution of county.institutions) {
    const row: OutstandingInstitution = { institution, missing: [], rejected: [] };
    for (const template of defs.owed(institution, period)) {
      if (now && now.getTime() <= defs.deadlineOf(county, template, period).getTime()) continue;
      result.owed++;
      const entry = byKey.get(`${institution.code}#${template}`);
      if (entry?.current) {
        result.accepted++;
      } else if (!entry?.latest) {
        row.missing.push(template);
        result.missing++;
      } else if (entry.latest.status === 'rejected') {
        row.rejected.push({ template, latest: entry.latest });
        result.rejected++;
      }
      // latest accepted but not current: the store's own business (a newer current is being written)
    }
    if (row.missing.length || row.rejected.length) result.institutions.push(row);
  }
  return result;
}

/** The county's digest for the period, or null before the deadline or when nothing is outstanding. */
export function deadlineDigest(input: DigestInput): Alert | null {
  const county = input.defs.county(input.county);
  if (!county) throw new Error(`deadlineDigest: county ${input.county} is not in the definitions`);
  const passed = deadlinesOf(input.defs, county, input.period).filter((d) => input.now.getTime() > d.at.getTime());
  if (!passed.length) return null;
  const o = outstandingOf(input.defs, county, input.period, input.entries, input.now);
  const templateName = (id: string) => {
    const title = input.defs.template(id)?.title;
    return title ? `${title}（${id}）` : id;
  };
  if (o.missing === 0 && o.rejected === 0) return null;

  const period = periodText(input.period);
  const rate = o.owed ? `${((o.accepted / o.owed) * 100).toFixed(1)}%` : '—';
  const portal = portalBase(input.portalBaseUrl);
  // one deadline, or each with its returns (a template with its own 截止日)
  const deadline =
    passed.length === 1 ? `报送截止时间 ${deadlineLabel(passed[0]!.at)} 已过` : `报送截止时间已过：${passed.map((d) => `${d.templates.map((t) => input.defs.template(t)?.title ?? t).join('、')} ${deadlineLabel(d.at)}`).join('；')}`;
  const lines = [
    `${county.name}卫生健康统计报表 ${period}（${input.period}）的${deadline}。`,
    `截至 ${beijingTime(input.now)}（北京时间）：应报 ${o.owed} 份，实报 ${o.accepted} 份（已通过校验，上报率 ${rate}），未上报 ${o.missing} 份，未通过 ${o.rejected} 份。`,
    // before the lists, which the cap may cut
    ...(portal ? [`报送平台（本期上报情况）：${portalPeriodLink(portal, input.period)}`] : []),
  ];

  const missing = o.institutions.filter((r) => r.missing.length);
  if (missing.length) {
    lines.push('', `一、未上报（${o.missing} 份，${missing.length} 个机构）`);
    missing.forEach((r, n) => {
      lines.push(`${n + 1}. ${name(r.institution)}：${r.missing.map(templateName).join('、')}`, `   ${contact(r.institution)}`);
    });
  }
  const rejected = o.institutions.filter((r) => r.rejected.length);
  if (rejected.length) {
    lines.push('', `${missing.length ? '二' : '一'}、已上报但未通过校验，尚无通过的版本（${o.rejected} 份，${rejected.length} 个机构）`);
    rejected.forEach((r, n) => {
      const detail = r.rejected.map(({ template, latest }) => `${templateName(template)}，最近一次上传 ${beijingTime(latest.uploadedAt)}，错误 ${latest.errors} 项${latest.versions > 1 ? `，共上传 ${latest.versions} 次` : ''}`);
      lines.push(`${n + 1}. ${name(r.institution)}：${detail.join('；')}`, `   ${contact(r.institution)}`);
    });
  }
  lines.push('', '请督促以上机构尽快报送，或按退回的标注工作簿修改后重新上传。本提醒在截止后的每个工作日发送，直到全部报齐。');

  return {
    subject: subjectOf(`【逾期提醒】${county.name} ${period}：未上报${o.missing}份，未通过${o.rejected}份`),
    message: capMessage(lines, '……（名单过长，已截断）'),
    sms: smsOf(county.name, `${period}报表截止已过：未上报${o.missing}份，未通过${o.rejected}份，${smsAction(portal !== null, '详见邮件')}`),
    attributes: { county: county.code, period: input.period, severity: 'warning', kind: 'digest' },
  };
}

/** The portal's page of a county's period (the commission's grid): `<portal>/?period=2025-03`. */
export const portalPeriodLink = (portal: string, period: string): string => `${portal}/?period=${encodeURIComponent(period)}`;

const name = (i: Institution) => `${oneLine(i.name, 60)}（${i.code}）`;

function contact(i: Institution): string {
  const c = i.contact;
  if (!c) return '联系人：名录中未登记';
  return [`联系人：${oneLine(c.name, 40) || '—'}`, c.phone ? `电话 ${oneLine(c.phone, 40)}` : '', c.email ? `邮箱 ${oneLine(c.email, 80)}` : ''].filter(Boolean).join('，');
}
