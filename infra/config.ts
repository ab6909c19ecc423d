/**
 * The deployment's configuration: from a JSON file (`-c config=infra/config.json`, shaped like
 * infra/config.example.json) and/or single CDK context keys, validated once with zod. Context keys
 * override the file; everything but the portal API's domain has a default (CloudFront reaches the
 * API only there: its execute-api address is off), so a fresh clone synthesises with
 * `-c config=infra/config.example.json` or with the two portalApi keys.
 *
 *   -c portalApiDomain=api.hmis.example.org -c portalApiCertificateArn=arn:aws:acm:<region>:…   (required)
 *   -c stage=naiman-prod
 *   -c counties=150525,150425
 *   -c alertEmails=stat@example.org,duty@example.org     (no filter: every alert)
 *   -c opsEmails=ops@example.org
 *   -c afterDeadlineCron='cron(0 6 6 * ? *)' -c nightlyCron='cron(0 2 * * ? *)'
 *   -c institutionAccess=per-institution|by-tag|none
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_MAX_UPLOAD_BYTES } from '../functions/config.ts';
import { SCHEDULE_TIMEZONE, SCHEDULES } from '../functions/core/schedule.ts';
import { bundledContent } from '../schemas/index.ts';

/** The handler's own schedule (functions/core/schedule.ts SCHEDULES): the defaults here. */
export const DEFAULT_SCHEDULE = {
  afterDeadline: SCHEDULES.find((s) => s.name === 'after-deadline')!.cron,
  nightly: SCHEDULES.find((s) => s.name === 'nightly')!.cron,
  timezone: SCHEDULE_TIMEZONE,
} as const;

/** CloudWatch Logs accepts only these retention periods (days). */
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** An account holds 1,500 customer managed policies by default and a stack 500 resources. */
export const MAX_INSTITUTION_POLICIES = 300;

const countyCode = z.string().regex(/^\d{6}$/, 'not a county code (6 digits)');
const institutionCode = z.string().regex(/^\d{6}-\d{3}$/, 'not an institution code (<county>-nnn)');

/** EventBridge Scheduler expressions: cron with 6 fields, or rate. Evaluated in `schedule.timezone`. */
const scheduleExpression = z
  .string()
  .regex(/^(cron\(\S+( \S+){5}\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$/, 'not a Scheduler expression: cron(min hour day month weekday year) or rate(n unit)');

/**
 * An SNS filter policy on the message attributes the handlers publish
 * (functions/core/alert: county, institution, template, period, severity, kind).
 */
const Filter = z
  .object({
    county: z.array(countyCode).min(1).optional(),
    institution: z.array(institutionCode).min(1).optional(),
    template: z.array(z.string().regex(/^T-[A-Z]{2}$/)).min(1).optional(),
    severity: z.array(z.enum(['error', 'warning', 'info'])).min(1).optional(),
    kind: z.array(z.string().regex(/^[a-z-]+$/)).min(1).optional(),
  })
  .strict();
export type Filter = z.infer<typeof Filter>;

const Subscription = z.discriminatedUnion('protocol', [
  z.object({ protocol: z.literal('email'), endpoint: z.email(), filter: Filter.optional() }).strict(),
  z
    .object({ protocol: z.literal('sms'), endpoint: z.string().regex(/^\+[1-9]\d{6,14}$/, 'not an E.164 phone number (+86…)'), filter: Filter.optional() })
    .strict(),
]);
export type Subscription = z.infer<typeof Subscription>;

const PORTAL_API_REQUIRED =
  "required: the host name CloudFront reaches the portal's API at and its ACM certificate (-c portalApiDomain=… -c portalApiCertificateArn=…, or portalApi in the config file; docs/DEPLOY.md)";

const DeployConfigShape = z
  .object({
    /** part of every name (stack, buckets, policies): two deployments in one account differ by stage. */
    stage: z.string().regex(/^[a-z][a-z0-9-]{1,15}$/, '2–16 of a-z 0-9 -, starting with a letter'),
    /** the counties this deployment serves (all of the registry when absent). */
    counties: z.array(countyCode).min(1).optional(),
    /** alert subscriptions (rejections, digests), each optionally filtered. */
    alerts: z.array(Subscription).default([]),
    /** operations subscriptions (alarms, failures). */
    ops: z.array(Subscription).default([]),
    schedule: z
      .object({
        /**
         * when the after-deadline task runs; the handler itself decides whether a county's deadline has
         * passed and the day is a working day (digest every working day until the returns are in).
         */
        afterDeadline: scheduleExpression.default(DEFAULT_SCHEDULE.afterDeadline),
        nightly: scheduleExpression.default(DEFAULT_SCHEDULE.nightly),
        timezone: z.string().regex(/^[A-Za-z_]+\/[A-Za-z_]+$/, 'an IANA time zone such as Asia/Shanghai').default(DEFAULT_SCHEDULE.timezone),
      })
      .strict()
      .prefault({}),
    /** how institutions get upload rights (docs/DEPLOY.md). */
    institutionAccess: z.enum(['per-institution', 'by-tag', 'none']).default('per-institution'),
    maxUploadBytes: z.number().int().positive().max(100 * 1024 * 1024).default(DEFAULT_MAX_UPLOAD_BYTES),
    portalBaseUrl: z.url({ protocol: /^https?$/ }).optional(),
    /**
     * Where CloudFront reaches the portal's HTTP API: a name of yours (a CNAME to the PortalApiDnsTarget
     * output) and an ACM certificate for it in the stack's region. The API's own execute-api address is
     * disabled, so nothing reaches the API around CloudFront's web ACL (docs/DEPLOY.md).
     */
    portalApi: z
      .object(
        {
          domainName: z.string().regex(/^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'a lower-case host name such as api.hmis.example.org'),
          certificateArn: z.string().regex(/^arn:aws(-cn|-us-gov)?:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/, 'an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)'),
        },
        { error: (issue) => (issue.input === undefined ? PORTAL_API_REQUIRED : undefined) },
      )
      .strict(),
    logRetentionDays: z
      .number()
      .refine((n) => (RETENTION_DAYS as readonly number[]).includes(n), `one of ${RETENTION_DAYS.join(', ')}`)
      .default(365),
    /** noncurrent (overwritten or deleted) upload versions are kept this long, then expire. */
    uploadsNoncurrentVersionDays: z.number().int().min(30).default(730),
    /** reserve concurrency for ingest (leave unset on new accounts: their limit is 10). */
    ingestReservedConcurrency: z.number().int().min(1).max(1000).optional(),
  })
  .strict();

export const DeployConfig = DeployConfigShape.transform((c, ctx) => {
  const known = new Map(bundledContent().counties.map((county) => [county.code, county]));
  const codes = c.counties ?? [...known.keys()];
  for (const [i, code] of codes.entries()) {
    if (!known.has(code)) ctx.addIssue({ code: 'custom', path: ['counties', i], message: `${code} is not in the initial definitions (schemas/registry)` });
  }
  if (new Set(codes).size !== codes.length) ctx.addIssue({ code: 'custom', path: ['counties'], message: 'a county is listed twice' });
  const counties = codes.flatMap((code) => known.get(code) ?? []);
  for (const [list, subs] of [['alerts', c.alerts] as const, ['ops', c.ops] as const]) {
    for (const [i, sub] of subs.entries()) {
      for (const county of sub.filter?.county ?? []) {
        if (!codes.includes(county)) ctx.addIssue({ code: 'custom', path: [list, i, 'filter', 'county'], message: `${county} is not served by this deployment` });
      }
      for (const inst of sub.filter?.institution ?? []) {
        const county = known.get(inst.slice(0, 6));
        if (!codes.includes(inst.slice(0, 6))) ctx.addIssue({ code: 'custom', path: [list, i, 'filter', 'institution'], message: `${inst} is not in a county of this deployment` });
        else if (!county?.institutions.some((x) => x.code === inst)) ctx.addIssue({ code: 'custom', path: [list, i, 'filter', 'institution'], message: `${inst} is not in the initial definitions` });
      }
    }
  }
  const institutions = counties.reduce((n, county) => n + county.institutions.length, 0);
  if (c.institutionAccess === 'per-institution' && institutions > MAX_INSTITUTION_POLICIES) {
    ctx.addIssue({
      code: 'custom',
      path: ['institutionAccess'],
      message: `${institutions} institutions: more than ${MAX_INSTITUTION_POLICIES} managed policies; use "by-tag" (one policy, principal tags)`,
    });
  }
  return { ...c, counties: codes };
});
export type DeployConfig = z.output<typeof DeployConfig>;

export class DeployConfigError extends Error {
  override name = 'DeployConfigError';
}

/** Context keys read one by one (strings on the command line, or values in cdk.json). */
const LIST = (v: unknown) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v);

/**
 * Builds the configuration from CDK context (`app.node.tryGetContext`). Pure but for reading the
 * optional `config` file, relative to `cwd`. Throws DeployConfigError listing every problem.
 */
export function loadDeployConfig(context: (key: string) => unknown, cwd = process.cwd()): DeployConfig {
  let file: Record<string, unknown> = {};
  const path = context('config');
  if (typeof path === 'string' && path !== '') {
    const full = isAbsolute(path) ? path : resolve(cwd, path);
    try {
      file = JSON.parse(readFileSync(full, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new DeployConfigError(`cannot read the deployment config ${full}: ${(err as Error).message}`, { cause: err });
    }
    if (typeof file !== 'object' || file === null || Array.isArray(file)) throw new DeployConfigError(`${full}: not a JSON object`);
  }
  const raw: Record<string, unknown> = { stage: 'dev', ...file };
  const set = (key: string, value: unknown) => {
    if (value !== undefined && value !== '') raw[key] = value;
  };
  set('stage', context('stage'));
  set('counties', LIST(context('counties')));
  set('institutionAccess', context('institutionAccess'));
  set('portalBaseUrl', context('portalBaseUrl'));
  for (const [key, field] of [['portalApiDomain', 'domainName'], ['portalApiCertificateArn', 'certificateArn']] as const) {
    const v = context(key);
    if (v !== undefined && v !== '') raw.portalApi = { ...(raw.portalApi as object), [field]: v };
  }
  const emails = (v: unknown) => (LIST(v) as unknown[] | undefined)?.map((endpoint) => ({ protocol: 'email', endpoint }));
  if (context('alertEmails') !== undefined) raw.alerts = [...((raw.alerts as unknown[]) ?? []), ...(emails(context('alertEmails')) ?? [])];
  if (context('opsEmails') !== undefined) raw.ops = [...((raw.ops as unknown[]) ?? []), ...(emails(context('opsEmails')) ?? [])];
  for (const [key, field] of [['afterDeadlineCron', 'afterDeadline'], ['nightlyCron', 'nightly'], ['timezone', 'timezone']] as const) {
    const v = context(key);
    if (v !== undefined && v !== '') raw.schedule = { ...(raw.schedule as object), [field]: v };
  }
  const parsed = DeployConfig.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new DeployConfigError(`invalid deployment config (部署配置错误):\n${problems.join('\n')}`);
  }
  return parsed.data;
}
