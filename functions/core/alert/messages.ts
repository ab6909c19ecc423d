/**
 * The alert for a rejected submission: one SNS message, in Chinese, to the commission and the
 * institution's contact (subscriptions filter on the attributes), in two forms: the full text (email
 * and everything else) and a one-segment SMS. Pure: the caller publishes it once per submission
 * version (not per retry or duplicate event).
 *
 * Where the marked-up workbook is: the portal's page of the submission once PORTAL_BASE_URL is set,
 * meanwhile its S3 location. Never a presigned URL: one signed by a Lambda role dies with the role's
 * session credentials (hours), whatever expiry it states.
 */
import type { Alert, SubmissionVersion } from '../../ports/index.ts';
import type { Issue, Report } from '../report.ts';
import { beijingTime, capMessage, oneLine, periodText, smsOf, subjectOf } from './format.ts';

/** issues quoted in the message; the workbook and its 校验结果 sheet have them all */
export const FIRST_ISSUES = 5;

export interface RejectionAlertInput {
  version: SubmissionVersion;
  report: Report;
  institutionName: string;
  countyName: string;
  templateTitle: string;
  /** the template's short name for the SMS (its sheet name, e.g. 基层月报); default the title */
  templateShortTitle?: string;
  /** where the marked-up workbook is: feedbackLocationOf() */
  feedbackLocation: string;
}

/** Only a rejection alerts; warnings are in the report and the feedback workbook. */
export function shouldAlert(report: Pick<Report, 'status'>): boolean {
  return report.status === 'rejected';
}

/**
 * The link in the alert: `${portalBaseUrl}/submissions/<institution>/<template>/<period>/<versionId>`
 * when the portal exists, else `s3://<reportsBucket>/<feedbackKey>`.
 */
export function feedbackLocationOf(input: {
  portalBaseUrl?: string | null;
  reportsBucket: string;
  feedbackKey: string;
  version: Pick<SubmissionVersion, 'institution' | 'template' | 'period' | 'versionId'>;
}): string {
  const portal = portalBase(input.portalBaseUrl);
  if (portal) {
    const v = input.version;
    return `${portal}/submissions/${[v.institution, v.template, v.period, v.versionId].map(encodeURIComponent).join('/')}`;
  }
  return `s3://${input.reportsBucket}/${input.feedbackKey}`;
}

/** The portal's address without trailing slashes, or null when there is no portal. */
export function portalBase(url: string | null | undefined): string | null {
  return url?.trim().replace(/\/+$/, '') || null;
}

/** What an SMS asks its reader to do: the portal when there is one, else the commission. */
export const smsAction = (hasPortal: boolean, otherwise: string): string => (hasPortal ? '请登录报送平台查看' : otherwise);

export function rejectionAlert(input: RejectionAlertInput): Alert {
  const { version, report } = input;
  const institution = `${oneLine(input.institutionName, 60) || version.institution}（${version.institution}）`;
  const title = oneLine(input.templateTitle, 60);
  const templateVersion = report.template?.version ?? version.templateVersion;
  const template = `${title ? `${title}（${version.template}` : `（${version.template}`}${templateVersion ? ` 第${templateVersion}版` : ''}）`;
  const period = periodText(version.period);
  const county = oneLine(input.countyName, 30);

  const problems = (Array.isArray(report.issues) ? report.issues : []).filter((i) => i.severity === 'error' || i.severity === 'warning');
  const ordered = [...problems.filter((i) => i.severity === 'error'), ...problems.filter((i) => i.severity === 'warning')];
  const errors = problems.filter((i) => i.severity === 'error').length;
  const warnings = problems.length - errors;
  const fileName = oneLine(version.objectKey.slice(version.objectKey.lastIndexOf('/') + 1), 120);

  const location = oneLine(input.feedbackLocation, 1_000);
  const where = location.startsWith('s3://')
    ? [
        '标注后的工作簿（每个有误的单元格已标红并附批注，首页「校验结果」列出全部问题）保存在：',
        location,
        '报送平台上线前没有网页链接：统计管理员可在 AWS 控制台的 S3 中打开上述位置下载，或运行',
        `aws s3 cp "${location}" .`,
        '下载后转发给机构。',
      ]
    : ['标注后的工作簿（每个有误的单元格已标红并附批注，首页「校验结果」列出全部问题）请在报送平台查看和下载：', location];

  const lines = [
    `${county ? `${county} ` : ''}${institution}上传的${title || version.template} ${period}数据未通过校验，本次上传未被采用。`,
    '',
    `机构：${institution}`,
    `报表：${template}`,
    `统计期：${period}（${version.period}）`,
    `上传时间：${beijingTime(version.uploadedAt)}（北京时间）`,
    `文件：${fileName || '—'}`,
    `结果：未通过，错误 ${errors} 项，警告 ${warnings} 项`,
    '',
    ordered.length > FIRST_ISSUES ? `前 ${FIRST_ISSUES} 项问题（共 ${ordered.length} 项）：` : '问题：',
    ...ordered.slice(0, FIRST_ISSUES).map((issue, n) => `${n + 1}. ${issueLine(issue)}`),
    ...(ordered.length > FIRST_ISSUES ? [`……另有 ${ordered.length - FIRST_ISSUES} 项，见标注后的工作簿。`] : []),
    '',
    ...where,
    '',
    '请按标注修改后重新上传。如此前已有通过校验的版本，该版本仍然有效。',
  ];
  const short = oneLine(input.templateShortTitle, 10) || title || version.template;
  return {
    subject: subjectOf(`【未通过】${oneLine(input.institutionName, 40) || version.institution} ${title || version.template} ${period}：错误${errors}项`),
    message: capMessage(lines, '……（内容过长，已截断，详见标注后的工作簿）'),
    sms: smsOf(oneLine(input.institutionName, 60) || version.institution, ` ${period}${short}未通过（错误${errors}项），${smsAction(!location.startsWith('s3://'), '请联系卫健委获取标注工作簿')}`),
    attributes: {
      county: version.county,
      institution: version.institution,
      template: version.template,
      period: version.period,
      severity: 'error',
      kind: 'rejection',
    },
  };
}

/** [错误] 基层月报 D14〔JC07〕：D14「…」为 1501，不能大于… */
function issueLine(issue: Issue): string {
  const sheet = oneLine(issue.sheet, 31);
  const cell = oneLine(issue.cell, 10);
  const place = sheet && cell ? `${sheet} ${cell}` : sheet || cell || '文件';
  const element = oneLine(issue.element, 40);
  return `[${issue.severity === 'error' ? '错误' : '警告'}] ${place}${element ? `〔${element}〕` : ''}：${oneLine(issue.message, 200)}`;
}

export interface ReturnedAlertInput {
  version: Pick<SubmissionVersion, 'county' | 'institution' | 'template' | 'period' | 'versionId' | 'uploadedAt'>;
  institutionName: string;
  templateTitle: string;
  templateShortTitle?: string;
  reason: string;
  reviewerName: string;
  /** a correction (补报) of a closed month: the current return stays as it is */
  correction: boolean;
  /** the portal's page of the upload, or null without a portal */
  link: string | null;
}

/** A return (退回) by the county's reviewer: to the institution (attribute kind `returned`) with the reason. */
export function returnedAlert(input: ReturnedAlertInput): Alert {
  const { version } = input;
  const name = oneLine(input.institutionName, 60) || version.institution;
  const title = oneLine(input.templateTitle, 60) || version.template;
  const period = periodText(version.period);
  const what = input.correction ? '补报' : '报表';
  const lines = [
    `${name}（${version.institution}）${beijingTime(version.uploadedAt)} 上传的${title} ${period}${what}被审核员退回，请修改后重新上传。`,
    '',
    `退回原因：${oneLine(input.reason, 300)}`,
    `审核员：${oneLine(input.reviewerName, 40)}`,
    ...(input.correction ? ['', '该月已关账：原已审核的报表仍然有效，修改后的补报经审核通过后才会替换它。'] : []),
    ...(input.link ? ['', '请在报送平台查看：', input.link] : []),
  ];
  const short = oneLine(input.templateShortTitle, 10) || title;
  return {
    subject: subjectOf(`【退回】${name} ${title} ${period}：${oneLine(input.reason, 40)}`),
    message: capMessage(lines, '……（内容过长，已截断）'),
    sms: smsOf(name, ` ${period}${short}被退回，${smsAction(input.link !== null, '请联系卫健委')}`),
    attributes: { county: version.county, institution: version.institution, template: version.template, period: version.period, severity: 'error', kind: 'returned' },
  };
}
