/**
 * cdk-nag AwsSolutions and Serverless packs on the whole app (as `cdk synth` runs them, infra/app.ts:
 * the deployment and its us-east-1 edge stack): any finding not acknowledged with a written reason
 * fails. The packs run as CDK validation plugins (cdk-nag 3): a finding makes `app.synth()` throw and
 * lands in <outdir>/validation-report.json.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDeployConfig } from '../../infra/config.ts';
import { hmisApp, type HmisStack } from '../../infra/stack.ts';
import { PORTAL_API_CONTEXT } from './template.ts';

const outdirs: string[] = [];
afterAll(() => outdirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function synthWithNag(context: Record<string, string>, mutate?: (stack: HmisStack) => void) {
  const outdir = mkdtempSync(join(tmpdir(), 'hmis-nag-'));
  outdirs.push(outdir);
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, outdir });
  const { main: stack } = hmisApp(app, 'hmis-nag', { config: loadDeployConfig((k) => ({ ...PORTAL_API_CONTEXT, ...context })[k]) });
  mutate?.(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  let error: unknown;
  try {
    app.synth();
  } catch (err) {
    error = err;
  }
  const reportFile = join(outdir, 'validation-report.json');
  const report = existsSync(reportFile) ? (JSON.parse(readFileSync(reportFile, 'utf8')) as { pluginReports: Array<{ violations?: unknown[]; conclusions?: unknown[] }> }) : undefined;
  return { app, stack, error, report };
}

/** Every acknowledgment in the app, with its reason. */
function acknowledgments(app: App): Array<{ path: string; id: string; reason: string }> {
  return app.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason }))),
  );
}

const violationsOf = (report: ReturnType<typeof synthWithNag>['report']) => JSON.stringify(report?.pluginReports ?? [], null, 1).slice(0, 4000);

describe('cdk-nag AwsSolutions + Serverless', () => {
  it.each([
    ['per-institution policies, alert and ops subscriptions', { stage: 'nag', alertEmails: 'a@example.org', opsEmails: 'o@example.org', portalBaseUrl: 'https://hmis.example.org' }],
    ['by-tag policy, no subscriptions, one county', { stage: 'nag', counties: '150525', institutionAccess: 'by-tag' }],
  ])('no unacknowledged finding: %s', (_name, context) => {
    const { app, error, report } = synthWithNag(context);
    expect(error, violationsOf(report)).toBeUndefined();
    // both stacks were checked
    expect(app.node.children.map((c) => c.node.id).filter((id) => id.startsWith('hmis-nag')).sort()).toEqual(['hmis-nag', 'hmis-nag-edge']);
    // every acknowledgment says why, in a sentence
    const acks = acknowledgments(app);
    expect(acks.length).toBeGreaterThan(5);
    for (const ack of acks) expect(ack.reason.length, `${ack.path} ${ack.id}`).toBeGreaterThan(40);
    // no blanket acknowledgment of wildcard permissions: each IAM5 names one resource, none is "*"
    for (const ack of acks.filter((a) => a.id.includes('IAM5'))) expect(ack.id, ack.path).toMatch(/IAM5\[Resource::.+\/[^/]*\*\]$/);
  });

  it('the packs really run: a wildcard statement nobody acknowledged fails synth', () => {
    const { error } = synthWithNag({ stage: 'nag', counties: '150525', institutionAccess: 'none' }, (stack) => {
      stack.ingest.function.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));
    });
    expect(String(error)).toContain('AwsSolutions-IAM5[Action::s3:*]');
    expect(String(error)).toContain('AwsSolutions-IAM5[Resource::*]');
  });
});
