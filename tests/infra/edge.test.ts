/**
 * The portal's web ACL (infra/edge.ts) in its own us-east-1 stack, and the app wiring (infra/stack.ts
 * hmisApp): a rate rule per address with a stricter one on sign-in, the AWS managed common rules,
 * answers in Chinese JSON, the output the main stack reads, and the dependency that deploys it first.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDeployConfig } from '../../infra/config.ts';
import { EDGE_REGION, MANAGED_RULES, RATE_WINDOW_SECONDS, REQUEST_LIMIT, SIGN_IN_LIMIT, WEB_ACL_OUTPUT } from '../../infra/edge.ts';
import { hmisApp } from '../../infra/stack.ts';
import { PORTAL_API_CONTEXT, type Resource } from './template.ts';

let app: ReturnType<typeof hmisApp>;
let resources: Record<string, Resource>;
let outputs: Record<string, { Value: unknown }>;
let acl: Record<string, any>;
let mainResources: Record<string, Resource>;

beforeAll(() => {
  const context: Record<string, string> = { ...PORTAL_API_CONTEXT, stage: 'edge', counties: '150525' };
  app = hmisApp(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'hmis-edge', { config: loadDeployConfig((k) => context[k]), env: { account: '123456789012', region: 'ap-east-1' } });
  const json = Template.fromStack(app.edge).toJSON();
  resources = json.Resources;
  outputs = json.Outputs;
  acl = resources[app.edge.getLogicalId(app.edge.webAcl)]!.Properties;
  mainResources = Template.fromStack(app.main).toJSON().Resources;
});

describe('the edge stack', () => {
  it('is hmis-<stage>-edge in us-east-1 (where CloudFront web ACLs live), same account; the deployment depends on it', () => {
    expect(app.edge.stackName).toBe('hmis-edge-edge');
    expect(app.edge.region).toBe('us-east-1');
    expect(EDGE_REGION).toBe('us-east-1');
    expect(app.edge.account).toBe('123456789012');
    expect(app.main.region).toBe('ap-east-1');
    expect(app.main.dependencies).toEqual([app.edge]);
    // only the web ACL: no function, no role, no custom resource
    expect(Object.values(resources).map((r) => r.Type)).toEqual(['AWS::WAFv2::WebACL']);
  });

  it('outputs the ARN under the name the deployment reads with Fn::GetStackOutput', () => {
    expect(outputs[WEB_ACL_OUTPUT]!.Value).toEqual({ 'Fn::GetAtt': [app.edge.getLogicalId(app.edge.webAcl), 'Arn'] });
    const distribution = Object.values(mainResources).find((r) => r.Type === 'AWS::CloudFront::Distribution')!;
    expect(distribution.Properties.DistributionConfig.WebACLId).toEqual({ 'Fn::GetStackOutput': { StackName: app.edge.stackName, OutputName: WEB_ACL_OUTPUT, Region: 'us-east-1' } });
  });
});

describe('the web ACL', () => {
  it('CloudFront scope, allow by default, metrics and sampled requests on', () => {
    expect(acl).toMatchObject({ Name: 'hmis-edge-portal', Scope: 'CLOUDFRONT', DefaultAction: { Allow: {} }, VisibilityConfig: { CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true } });
    for (const rule of acl.Rules) expect(rule.VisibilityConfig, rule.Name).toEqual({ CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true, MetricName: rule.Name });
  });

  it('rules in order: sign-in per address, any request per address, the AWS common rule set', () => {
    expect(acl.Rules.map((r: any) => [r.Priority, r.Name])).toEqual([
      [0, 'SignInPerIp'],
      [1, 'PerIp'],
      [2, MANAGED_RULES.name],
    ]);
  });

  it(`sign-in: more than ${SIGN_IN_LIMIT} requests to /api/login (any spelling) from one address in 5 minutes → 429`, () => {
    const rule = acl.Rules[0];
    expect(rule.Statement.RateBasedStatement).toEqual({
      AggregateKeyType: 'IP',
      Limit: SIGN_IN_LIMIT,
      EvaluationWindowSec: RATE_WINDOW_SECONDS,
      ScopeDownStatement: {
        ByteMatchStatement: {
          FieldToMatch: { UriPath: {} },
          PositionalConstraint: 'CONTAINS',
          SearchString: '/api/login',
          TextTransformations: [
            { Priority: 0, Type: 'URL_DECODE' },
            { Priority: 1, Type: 'LOWERCASE' },
          ],
        },
      },
    });
    expect(rule.Action).toEqual({ Block: { CustomResponse: { ResponseCode: 429, CustomResponseBodyKey: 'tooManySignIns' } } });
    expect([SIGN_IN_LIMIT, RATE_WINDOW_SECONDS]).toEqual([20, 300]);
  });

  it(`any request: more than ${REQUEST_LIMIT} from one address in 5 minutes → 429; the sign-in limit is the stricter`, () => {
    const rule = acl.Rules[1];
    expect(rule.Statement).toEqual({ RateBasedStatement: { AggregateKeyType: 'IP', Limit: REQUEST_LIMIT, EvaluationWindowSec: RATE_WINDOW_SECONDS } });
    expect(rule.Action).toEqual({ Block: { CustomResponse: { ResponseCode: 429, CustomResponseBodyKey: 'tooManyRequests' } } });
    expect(SIGN_IN_LIMIT).toBeLessThan(REQUEST_LIMIT / 10);
  });

  it('the AWS managed common rule set, its own actions, but its 8 KB body limit only counted (the definitions import sends up to 4 MB; the API limits each route)', () => {
    const rule = acl.Rules[2];
    expect(rule.OverrideAction).toEqual({ None: {} });
    expect(rule.Statement).toEqual({
      ManagedRuleGroupStatement: {
        VendorName: 'AWS',
        Name: 'AWSManagedRulesCommonRuleSet',
        RuleActionOverrides: [{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }],
      },
    });
  });

  it('every block answers JSON in Chinese, as the API does ({"error": …})', () => {
    const bodies = acl.CustomResponseBodies as Record<string, { ContentType: string; Content: string }>;
    expect(Object.keys(bodies).sort()).toEqual(['tooManyRequests', 'tooManySignIns']);
    for (const [key, body] of Object.entries(bodies)) {
      expect(body.ContentType, key).toBe('APPLICATION_JSON');
      expect((JSON.parse(body.Content) as { error: string }).error, key).toMatch(/[\u4e00-\u9fff]/);
    }
    expect(JSON.parse(bodies.tooManySignIns!.Content)).toEqual({ error: '登录尝试过于频繁，请 5 分钟后再试' });
  });
});
