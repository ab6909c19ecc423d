/**
 * The portal's web ACL. A web ACL for a CloudFront distribution must be created in us-east-1,
 * whatever region the rest of the deployment is in, so it has a stack of its own there,
 * `<main stack>-edge`. The main stack reads its ARN from this stack's output `WebAclArn` with
 * Fn::GetStackOutput (CloudFormation resolves it across regions at deploy time; no custom resource),
 * and the app makes the main stack depend on this one, so `cdk deploy --all` deploys it first.
 *
 * Rules, in order (the first that matches decides):
 *  1. SignInPerIp: more than SIGN_IN_LIMIT requests to /api/login from one address in 5 minutes → 429
 *  2. PerIp: more than REQUEST_LIMIT requests of any kind from one address in 5 minutes → 429
 *  3. AWS managed common rule set (OWASP-style bad inputs…), but for its 8 KB body limit, only
 *     counted: the definitions workbook import sends up to 4 MB, and the API answers 413 itself
 *     above each route's limit (functions/portal/api.ts MAX_BODY_BYTES, MAX_API_BODY_BYTES)
 * Blocked requests get a JSON body in Chinese the page shows as it shows the API's own errors.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';

/** Where CloudFront's web ACLs live. */
export const EDGE_REGION = 'us-east-1';
/** The output the main stack reads (its logical id: Fn::GetStackOutput takes that). */
export const WEB_ACL_OUTPUT = 'WebAclArn';
/** Sign-in attempts per address and 5 minutes: a commission's office behind one address signs in a few times a day. */
export const SIGN_IN_LIMIT = 20;
/** Requests per address and 5 minutes (≈ 5/s): the page polls an upload's status once a second for a minute at most. */
export const REQUEST_LIMIT = 1500;
export const RATE_WINDOW_SECONDS = 300;
/** The AWS managed rule group every request passes; its body-size rule counts only (the API has its own, per route). */
export const MANAGED_RULES = { vendorName: 'AWS', name: 'AWSManagedRulesCommonRuleSet', bodySizeRule: 'SizeRestrictions_BODY' } as const;

const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName });
const answer = (responseCode: number, customResponseBodyKey: string): wafv2.CfnWebACL.RuleActionProperty => ({ block: { customResponse: { responseCode, customResponseBodyKey } } });
const json = (error: string): wafv2.CfnWebACL.CustomResponseBodyProperty => ({ contentType: 'APPLICATION_JSON', content: JSON.stringify({ error }) });

export interface EdgeStackProps extends StackProps {
  stage: string;
}

export class EdgeStack extends Stack {
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: EdgeStackProps) {
    super(scope, id, { ...props, env: { ...props.env, region: EDGE_REGION } });
    const minutes = RATE_WINDOW_SECONDS / 60;
    this.webAcl = new wafv2.CfnWebACL(this, 'PortalWebAcl', {
      name: `hmis-${props.stage}-portal`,
      description: `hmis ${props.stage} portal CloudFront distribution - rate per address, stricter on sign-in, AWS common rules`,
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(`hmis-${props.stage}-portal`),
      customResponseBodies: {
        tooManySignIns: json(`登录尝试过于频繁，请 ${minutes} 分钟后再试`),
        tooManyRequests: json(`请求过于频繁，请 ${minutes} 分钟后再试`),
      },
      rules: [
        {
          name: 'SignInPerIp',
          priority: 0,
          action: answer(429, 'tooManySignIns'),
          visibilityConfig: visibility('SignInPerIp'),
          statement: {
            rateBasedStatement: {
              aggregateKeyType: 'IP',
              limit: SIGN_IN_LIMIT,
              evaluationWindowSec: RATE_WINDOW_SECONDS,
              // any spelling that reaches the route: /api/login, /api/login/, %2F-encoded, upper case
              scopeDownStatement: {
                byteMatchStatement: {
                  fieldToMatch: { uriPath: {} },
                  positionalConstraint: 'CONTAINS',
                  searchString: '/api/login',
                  textTransformations: [
                    { priority: 0, type: 'URL_DECODE' },
                    { priority: 1, type: 'LOWERCASE' },
                  ],
                },
              },
            },
          },
        },
        {
          name: 'PerIp',
          priority: 1,
          action: answer(429, 'tooManyRequests'),
          visibilityConfig: visibility('PerIp'),
          statement: { rateBasedStatement: { aggregateKeyType: 'IP', limit: REQUEST_LIMIT, evaluationWindowSec: RATE_WINDOW_SECONDS } },
        },
        {
          name: MANAGED_RULES.name,
          priority: 2,
          overrideAction: { none: {} },
          visibilityConfig: visibility(MANAGED_RULES.name),
          statement: {
            managedRuleGroupStatement: {
              vendorName: MANAGED_RULES.vendorName,
              name: MANAGED_RULES.name,
              ruleActionOverrides: [{ name: MANAGED_RULES.bodySizeRule, actionToUse: { count: {} } }],
            },
          },
        },
      ],
    });
    new CfnOutput(this, WEB_ACL_OUTPUT, { value: this.webAcl.attrArn, description: "the portal distribution's web ACL (read by the main stack)" });
  }
}
