/** Alert messages and the deadline digest: content, bounds, attributes, who is listed, when. */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CASES } from '../../fixtures/workbooks/cases.ts';
import { caseFile } from '../../fixtures/workbooks/make.ts';
import { deadlineDigest, deadlinesOf, isDigestDay, isWorkingDay, outstandingOf } from '../../functions/core/alert/digest.ts';
import { SUBJECT_MAX_CHARS } from '../../functions/core/alert/format.ts';
import { feedbackLocationOf, FIRST_ISSUES, rejectionAlert, shouldAlert } from '../../functions/core/alert/messages.ts';
import { makeIssue, statusOf, type Issue, type Report } from '../../functions/core/report.ts';
import { validateUpload } from '../../functions/core/validate/index.ts';
import type { AttemptSummary, CurrentSubmission, PeriodEntry, SubmissionVersion } from '../../functions/ports/index.ts';
import { bundledDefinitions, bundledSource } from '../../schemas/index.ts';

const NOW = new Date('2025-04-10T00:00:00+08:00');

function versionFor(report: Report, overrides: Partial<SubmissionVersion> = {}): SubmissionVersion {
  return {
    versionId: '2693731dc22bd35c3075',
    order: '2025-04-03T02:15:07.000Z#000000000055AED6DCD90281E5',
    uploadedAt: '2025-04-03T02:15:07.000Z',
    objectKey: 'uploads/150525/150525-101/T-JC/2025-03/八仙筒镇3月基层月报.xlsx',
    county: '150525',
    institution: '150525-101',
    template: 'T-JC',
    period: '2025-03',
    templateVersion: 1,
    status: report.status,
    errors: report.stats.errors,
    warnings: report.stats.warnings,
    reportKey: 'reports/150525/150525-101/T-JC/2025-03/2693731dc22bd35c3075.json',
    firstIssues: [],
    ...overrides,
  };
}

function reportWith(issues: Issue[]): Report {
  const count = (s: Issue['severity']) => issues.filter((i) => i.severity === s).length;
  return {
    status: statusOf(issues),
    template: { id: 'T-JC', version: 1 },
    institution: '150525-101',
    period: '2025-03',
    issues,
    stats: { bytes: 1, rows: 29, values: 29, normalized: 0, errors: count('error'), warnings: count('warning'), infos: count('info'), durationMs: 1 },
  };
}

const S3_LOCATION = 's3://hmis-reports/feedback/150525/150525-101/T-JC/2025-03/2693731dc22bd35c3075.xlsx';
const input = (report: Report, extra: Partial<Parameters<typeof rejectionAlert>[0]> = {}) => ({
  version: versionFor(report),
  report,
  institutionName: '八仙筒镇中心卫生院',
  countyName: '奈曼旗',
  templateTitle: '基层医疗卫生机构月报',
  feedbackLocation: S3_LOCATION,
  ...extra,
});

describe('rejection alert', () => {
  it('names institution, template, period, counts, the issues and where the marked-up workbook is', async () => {
    const c = CASES.find((x) => x.name === 'rule-JC-R03')!;
    const { report } = await validateUpload(await readFile(caseFile(c)), { ...c.options, now: NOW, definitions: bundledSource() });
    const alert = rejectionAlert(input(report));
    expect(alert.subject).toBe('【未通过】八仙筒镇中心卫生院 基层医疗卫生机构月报 2025年3月：错误1项');
    for (const part of [
      '八仙筒镇中心卫生院（150525-101）',
      '报表：基层医疗卫生机构月报（T-JC 第1版）',
      '统计期：2025年3月（2025-03）',
      '上传时间：2025-04-03 10:15（北京时间）',
      '文件：八仙筒镇3月基层月报.xlsx',
      '错误 1 项，警告 0 项',
      '1. [错误] 基层月报 D14〔JC07〕：D14「高血压患者规范管理人数」为 1501，不能大于 D13「高血压患者应管理人数」1500',
      S3_LOCATION,
      `aws s3 cp "${S3_LOCATION}" .`,
    ]) {
      expect(alert.message).toContain(part);
    }
    expect(alert.message).not.toMatch(/X-Amz-|Signature=/);
    expect(alert.attributes).toEqual({ county: '150525', institution: '150525-101', template: 'T-JC', period: '2025-03', severity: 'error', kind: 'rejection' });
  });

  it('quotes the first five problems, errors before warnings, and counts the rest', () => {
    const issues = [
      makeIssue('history-outlier', '一个警告', { sheet: '基层月报', row: 8, col: 4, element: 'JC01', severity: 'warning' }),
      ...Array.from({ length: 7 }, (_, n) => makeIssue('value-negative', `第${n + 1}个错误`, { sheet: '基层月报', row: 9 + n, col: 4, element: `JC0${n + 2}` })),
      makeIssue('normalized-text-number', '一个提示', { sheet: '基层月报', row: 20, col: 4 }),
    ];
    const alert = rejectionAlert(input(reportWith(issues)));
    const listed = alert.message.split('\n').filter((l) => /^\d+\. /.test(l));
    expect(listed).toHaveLength(FIRST_ISSUES);
    expect(listed.map((l) => l.replace(/^.*：/, ''))).toEqual(['第1个错误', '第2个错误', '第3个错误', '第4个错误', '第5个错误']);
    expect(alert.message).toContain('前 5 项问题（共 8 项）');
    expect(alert.message).toContain('另有 3 项');
    expect(alert.message).toContain('错误 7 项，警告 1 项');
    expect(alert.message).not.toContain('一个提示');
  });

  it('a file-level problem has no cell', () => {
    const alert = rejectionAlert(input(reportWith([makeIssue('file-encrypted', '文件设置了打开密码')])));
    expect(alert.message).toContain('1. [错误] 文件：文件设置了打开密码');
  });

  it('links the portal’s page once the portal exists, else the S3 location', () => {
    const report = reportWith([makeIssue('value-negative', '负数', { sheet: '基层月报', row: 35, col: 4 })]);
    const version = versionFor(report);
    const portal = feedbackLocationOf({ portalBaseUrl: 'https://hmis.example.org/', reportsBucket: 'hmis-reports', feedbackKey: 'feedback/x.xlsx', version });
    expect(portal).toBe('https://hmis.example.org/submissions/150525-101/T-JC/2025-03/2693731dc22bd35c3075');
    expect(feedbackLocationOf({ portalBaseUrl: '', reportsBucket: 'hmis-reports', feedbackKey: 'feedback/x.xlsx', version })).toBe('s3://hmis-reports/feedback/x.xlsx');
    const alert = rejectionAlert(input(report, { feedbackLocation: portal }));
    expect(alert.message).toContain(portal);
    expect(alert.message).not.toContain('s3://');
    expect(alert.message).not.toContain('aws s3 cp');
  });

  it('has a one-segment SMS: who, which return, how many errors, where to look', () => {
    const report = reportWith([makeIssue('rule-violation', '不能大于', { sheet: '基层月报', row: 14, col: 4 })]);
    const portal = 'https://hmis.example.org/submissions/150525-101/T-JC/2025-03/2693731dc22bd35c3075';
    const viaPortal = rejectionAlert(input(report, { templateShortTitle: '基层月报', feedbackLocation: portal }));
    expect(viaPortal.sms).toBe('【卫健统计】八仙筒镇中心卫生院 2025年3月基层月报未通过（错误1项），请登录报送平台查看');
    expect(viaPortal.sms.length).toBeLessThanOrEqual(70);
    // no portal: the institution cannot open S3, the commission sends the workbook
    expect(rejectionAlert(input(report, { templateShortTitle: '基层月报' })).sms).toBe('【卫健统计】八仙筒镇中心卫生院 2025年3月基层月报未通过（错误1项），请联系卫健委获取标注工作簿');
    // a long name is shortened, never the facts; at most 70 UTF-16 units, surrogate pairs kept whole
    const long = rejectionAlert(input(reportWith(Array.from({ length: 12 }, () => makeIssue('value-negative', '负数'))), { institutionName: '内蒙古自治区通辽市奈曼旗八仙筒镇中心卫生院附属𠀀社区卫生服务站第二分站', templateShortTitle: '基层月报', feedbackLocation: portal }));
    expect(long.sms.length).toBeLessThanOrEqual(70);
    expect(long.sms).toMatch(/^【卫健统计】内蒙古.*… 2025年3月基层月报未通过（错误12项），请登录报送平台查看$/);
    expect(long.sms).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    // the full text is for email and the rest
    expect(viaPortal.message).toContain(portal);
    expect(viaPortal.sms).not.toContain('http');
  });

  it('keeps the subject within SNS’s limit: one line, fewer than 100 characters', () => {
    const long = '内蒙古自治区通辽市奈曼旗八仙筒镇中心卫生院附属社区卫生服务站'.repeat(4);
    const alert = rejectionAlert(input(reportWith([makeIssue('value-negative', '负数')]), { institutionName: `${long}\n第二行`, templateTitle: long }));
    expect([...alert.subject].length).toBeLessThanOrEqual(SUBJECT_MAX_CHARS);
    expect([...alert.subject].length).toBeLessThan(100);
    expect(alert.subject).not.toMatch(/[\u0000-\u001f]/);
    expect(alert.subject.endsWith('…')).toBe(true);
    expect(alert.message).not.toContain('\n第二行');
  });

  it('only rejections alert: warning-only and clean submissions do not', () => {
    const warning = reportWith([makeIssue('ledger-overdue', '逾期', { severity: 'warning' })]);
    expect(warning.status).toBe('accepted_with_warnings');
    expect(shouldAlert(warning)).toBe(false);
    expect(shouldAlert(reportWith([]))).toBe(false);
    expect(shouldAlert(reportWith([makeIssue('value-negative', '负数')]))).toBe(true);
  });
});

// ---- the digest ----

const COUNTY = bundledDefinitions().county('150525')!;
const PERIOD = '2025-03';
const MONDAY = new Date('2025-04-07T09:00:00+08:00');

function attempt(institution: string, template: string, status: SubmissionVersion['status'], extra: Partial<AttemptSummary> = {}): AttemptSummary {
  return {
    versionId: `${institution}-${template}-${status}`,
    order: '2025-04-03T02:00:00.000Z#1',
    uploadedAt: '2025-04-03T02:00:00.000Z',
    objectKey: `uploads/150525/${institution}/${template}/${PERIOD}/x.xlsx`,
    county: '150525',
    institution,
    template,
    period: PERIOD,
    templateVersion: 1,
    status,
    errors: status === 'rejected' ? 3 : 0,
    warnings: 0,
    reportKey: 'reports/x.json',
    firstIssues: [],
    versions: 1,
    ...extra,
  };
}

function current(institution: string, template: string): CurrentSubmission {
  const { versions: _v, ...version } = attempt(institution, template, 'accepted');
  return { ...version, status: 'accepted', submission: { kind: 'indicator' } as unknown as CurrentSubmission['submission'] };
}

/** Everyone current, except: 101 T-TZ rejected with nothing accepted; 102 T-JC rejected after an accepted one; 103 nothing at all. */
function periodEntries(): PeriodEntry[] {
  const entries: PeriodEntry[] = [];
  for (const inst of COUNTY.institutions) {
    for (const template of bundledDefinitions().templatesOf(inst)) {
      if (inst.code === '150525-103') continue;
      if (inst.code === '150525-101' && template === 'T-TZ') {
        entries.push({ institution: inst.code, template, current: null, latest: attempt(inst.code, template, 'rejected', { versions: 2 }) });
      } else if (inst.code === '150525-102' && template === 'T-JC') {
        entries.push({ institution: inst.code, template, current: current(inst.code, template), latest: attempt(inst.code, template, 'rejected') });
      } else {
        entries.push({ institution: inst.code, template, current: current(inst.code, template), latest: attempt(inst.code, template, 'accepted') });
      }
    }
  }
  // an upload of a return 150525-001 does not owe: ignored
  entries.push({ institution: '150525-001', template: 'T-JC', current: null, latest: attempt('150525-001', 'T-JC', 'rejected') });
  return entries;
}

describe('deadline digest', () => {
  it('lists exactly the missing and the rejected-without-accepted returns, with contacts and 应报/实报', () => {
    const entries = periodEntries();
    const o = outstandingOf(bundledDefinitions(), COUNTY, PERIOD, entries);
    const owed = COUNTY.institutions.reduce((n, i) => n + bundledDefinitions().owed(i, PERIOD).length, 0);
    expect(o).toMatchObject({ owed, accepted: owed - 3, missing: 2, rejected: 1 });
    expect(o.institutions.map((r) => [r.institution.code, r.missing, r.rejected.map((x) => x.template)])).toEqual([
      ['150525-101', [], ['T-TZ']],
      ['150525-103', ['T-JC', 'T-TZ'], []],
    ]);

    const digest = deadlineDigest({ defs: bundledDefinitions(), county: '150525', period: PERIOD, now: MONDAY, entries })!;
    expect(digest.subject).toBe('【逾期提醒】奈曼旗 2025年3月：未上报2份，未通过1份');
    expect(digest.attributes).toEqual({ county: '150525', period: PERIOD, severity: 'warning', kind: 'digest' });
    const m = digest.message;
    expect(m).toContain(`应报 ${owed} 份，实报 ${owed - 3} 份`);
    expect(m).toContain('截止时间 2025年4月5日23:59 已过');
    expect(m).toContain('截至 2025-04-07 09:00（北京时间）');
    expect(m).toContain('1. 沙日浩来镇中心卫生院（150525-103）：基层医疗卫生机构月报（T-JC）、重点工作任务台账（T-TZ）');
    expect(m).toContain('联系人：沙日浩来镇中心卫生院统计员，电话 0475-4200007，邮箱 stat007@example.org');
    expect(m).toContain('1. 八仙筒镇中心卫生院（150525-101）：重点工作任务台账（T-TZ），最近一次上传 2025-04-03 10:00，错误 3 项，共上传 2 次');
    expect(m).toContain('联系人：八仙筒镇中心卫生院统计员，电话 0475-4200005');
    for (const absent of ['150525-102', '青龙山镇', '150525-001', '奈曼旗人民医院']) expect(m).not.toContain(absent);
    expect([...digest.subject].length).toBeLessThan(100);
    expect(digest.sms).toBe('【卫健统计】奈曼旗2025年3月报表截止已过：未上报2份，未通过1份，详见邮件');
    expect(m).not.toContain('报送平台');
  });

  it('links the portal’s page of the period, in the text and (by name) in the SMS', () => {
    const digest = deadlineDigest({ defs: bundledDefinitions(), county: '150525', period: PERIOD, now: MONDAY, entries: periodEntries(), portalBaseUrl: 'https://hmis.example.org/' })!;
    expect(digest.message.split('\n')[2]).toBe('报送平台（本期上报情况）：https://hmis.example.org/?period=2025-03');
    expect(digest.sms).toBe('【卫健统计】奈曼旗2025年3月报表截止已过：未上报2份，未通过1份，请登录报送平台查看');
    expect(digest.sms.length).toBeLessThanOrEqual(70);
  });

  it('says nothing when everything is in', () => {
    const entries = periodEntries().filter((e) => e.current);
    const complete = [
      ...entries,
      ...['T-JC', 'T-TZ'].map((t) => ({ institution: '150525-103', template: t, current: current('150525-103', t), latest: null })),
      { institution: '150525-101', template: 'T-TZ', current: current('150525-101', 'T-TZ'), latest: attempt('150525-101', 'T-TZ', 'rejected') },
    ];
    expect(deadlineDigest({ defs: bundledDefinitions(), county: COUNTY.code, period: PERIOD, now: MONDAY, entries: complete })).toBeNull();
  });

  it('deadline: 23:59 Beijing time of the deadline day is still in time, midnight is not', () => {
    const before = new Date('2025-04-05T23:59:00+08:00');
    const after = new Date('2025-04-06T00:00:00+08:00');
    expect(deadlinesOf(bundledDefinitions(), COUNTY, PERIOD).map((d) => d.at.toISOString())).toEqual(['2025-04-05T15:59:59.999Z']);
    expect(deadlineDigest({ defs: bundledDefinitions(), county: '150525', period: PERIOD, now: before, entries: [] })).toBeNull();
    expect(deadlineDigest({ defs: bundledDefinitions(), county: '150525', period: PERIOD, now: new Date('2025-04-05T23:59:59.999+08:00'), entries: [] })).toBeNull();
    expect(deadlineDigest({ defs: bundledDefinitions(), county: '150525', period: PERIOD, now: after, entries: [] })).not.toBeNull();
    // December's returns are due in January of the next year
    expect(deadlinesOf(bundledDefinitions(), COUNTY, '2024-12').map((d) => d.at.toISOString())).toEqual(['2025-01-05T15:59:59.999Z']);
  });

  it('is sent on working days (Beijing time) after the deadline', () => {
    const at = (s: string) => new Date(s);
    expect(isDigestDay(at('2025-04-04T10:00:00+08:00'), bundledDefinitions(), COUNTY, PERIOD)).toBe(false); // Friday, before
    expect(isDigestDay(at('2025-04-05T10:00:00+08:00'), bundledDefinitions(), COUNTY, PERIOD)).toBe(false); // Saturday, deadline day
    expect(isDigestDay(at('2025-04-06T09:00:00+08:00'), bundledDefinitions(), COUNTY, PERIOD)).toBe(false); // Sunday, passed
    expect(isDigestDay(at('2025-04-07T09:00:00+08:00'), bundledDefinitions(), COUNTY, PERIOD)).toBe(true); // Monday
    expect(isDigestDay(at('2025-04-11T09:00:00+08:00'), bundledDefinitions(), COUNTY, PERIOD)).toBe(true); // Friday
    expect(isDigestDay(at('2025-04-12T09:00:00+08:00'), bundledDefinitions(), COUNTY, PERIOD)).toBe(false); // Saturday
    // 00:30 Monday in Beijing is still Sunday in UTC
    expect(isWorkingDay(at('2025-04-06T16:30:00Z'))).toBe(true);
    expect(isWorkingDay(at('2025-04-06T15:30:00Z'))).toBe(false);
  });
});
