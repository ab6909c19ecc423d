/** The deployment config (infra/config.ts): context and file, defaults, and every problem reported at once. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_UPLOAD_BYTES } from '../../functions/config.ts';
import { bundledDefinitions } from '../../schemas/index.ts';
import { DEFAULT_SCHEDULE, DeployConfigError, loadDeployConfig } from '../../infra/config.ts';
import { PORTAL_API_CONTEXT } from './template.ts';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'hmis-config-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const load = (context: Record<string, unknown>, cwd?: string) => loadDeployConfig((k) => context[k], cwd);
/** with the one setting that has no default */
const loadWithApi = (context: Record<string, unknown>, cwd?: string) => load({ ...PORTAL_API_CONTEXT, ...context }, cwd);

describe('deployment config', () => {
  it("a fresh clone needs only the portal API's domain and certificate: stage dev, every county of the registry, schedules in Asia/Shanghai", () => {
    const c = loadWithApi({});
    expect(c.portalApi).toEqual({ domainName: PORTAL_API_CONTEXT.portalApiDomain, certificateArn: PORTAL_API_CONTEXT.portalApiCertificateArn });
    expect(c.stage).toBe('dev');
    expect(c.counties).toEqual(bundledDefinitions().counties.map((x) => x.code));
    // the handler's own schedule (functions/core/schedule.ts): working days 09:00, nightly 02:00
    expect(c.schedule).toEqual({ afterDeadline: 'cron(0 9 ? * MON-FRI *)', nightly: 'cron(0 2 * * ? *)', timezone: 'Asia/Shanghai' });
    expect(c.schedule).toEqual(DEFAULT_SCHEDULE);
    expect(c.institutionAccess).toBe('per-institution');
    expect(c.maxUploadBytes).toBe(DEFAULT_MAX_UPLOAD_BYTES);
    expect(c.alerts).toEqual([]);
  });

  it('context keys: counties and e-mail lists as comma-separated strings, schedule overrides', () => {
    const c = loadWithApi({ stage: 'naiman-prod', counties: '150525, 150425', alertEmails: 'a@example.org,b@example.org', afterDeadlineCron: 'cron(0 8 7 * ? *)' });
    expect(c.counties).toEqual(['150525', '150425']);
    expect(c.alerts).toEqual([
      { protocol: 'email', endpoint: 'a@example.org' },
      { protocol: 'email', endpoint: 'b@example.org' },
    ]);
    expect(c.schedule.afterDeadline).toBe('cron(0 8 7 * ? *)');
  });

  it('a config file (infra/config.example.json), context overriding it', () => {
    const c = load({ config: 'infra/config.example.json', stage: 'other' }, process.cwd());
    expect(c.stage).toBe('other');
    expect(c.counties).toEqual(['150525']);
    expect(c.alerts.some((s) => s.filter?.county?.[0] === '150525')).toBe(true);
    expect(c.alerts.some((s) => s.filter?.institution?.[0] === '150525-101')).toBe(true);
  });

  it('lists every problem, with its path', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'bad.json'),
      JSON.stringify({
        stage: 'Prod!',
        counties: ['150525', '999999'],
        alerts: [
          { protocol: 'email', endpoint: 'not-an-email' },
          { protocol: 'email', endpoint: 'x@example.org', filter: { county: ['150425'] } },
          { protocol: 'sms', endpoint: '13800000000' },
        ],
        schedule: { nightly: '0 2 * * *' },
        logRetentionDays: 42,
        unknownKey: true,
      }),
    );
    let message = '';
    try {
      load({ config: 'bad.json' }, dir);
    } catch (err) {
      expect(err).toBeInstanceOf(DeployConfigError);
      message = (err as Error).message;
    }
    for (const path of ['stage', 'alerts.0.endpoint', 'alerts.2.endpoint', 'schedule.nightly', 'logRetentionDays', 'unknownKey']) expect(message).toContain(path);
  });

  it('refuses counties not in the initial definitions and filters on counties the deployment does not serve', () => {
    expect(() => loadWithApi({ counties: '150525,999999' })).toThrow(/counties\.1: 999999 is not in the initial definitions/);
    const dir = tempDir();
    const portalApi = { domainName: PORTAL_API_CONTEXT.portalApiDomain, certificateArn: PORTAL_API_CONTEXT.portalApiCertificateArn };
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ portalApi, counties: ['150525'], alerts: [{ protocol: 'email', endpoint: 'x@example.org', filter: { county: ['150425'] } }] }));
    expect(() => load({ config: 'c.json' }, dir)).toThrow(/alerts\.0\.filter\.county: 150425 is not served/);
    writeFileSync(join(dir, 'i.json'), JSON.stringify({ portalApi, counties: ['150525'], alerts: [{ protocol: 'email', endpoint: 'x@example.org', filter: { institution: ['150525-999'] } }] }));
    expect(() => load({ config: 'i.json' }, dir)).toThrow(/alerts\.0\.filter\.institution: 150525-999 is not in the initial definitions/);
  });

  it("without the portal API's domain, or with a bad one, a clear error: CloudFront reaches the API only there", () => {
    expect(() => load({})).toThrow(/portalApi: required: the host name CloudFront reaches/);
    expect(() => load({ portalApiDomain: 'api.hmis.example.org' })).toThrow(/portalApi\.certificateArn/);
    expect(() => loadWithApi({ portalApiDomain: 'https://api.example.org/' })).toThrow(/portalApi\.domainName: a lower-case host name/);
    expect(() => loadWithApi({ portalApiCertificateArn: 'arn:aws:iam::123456789012:role/x' })).toThrow(/portalApi\.certificateArn: an ACM certificate ARN/);
  });

  it('a missing config file is one clear error', () => {
    expect(() => load({ config: '/nonexistent/hmis.json' })).toThrow(/cannot read the deployment config/);
  });
});
