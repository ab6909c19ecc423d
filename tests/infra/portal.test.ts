/**
 * The portal in the synthesised template (infra/constructs/portal.ts), with a configured
 * portalBaseUrl (tests/infra/stack.test.ts covers the stack without one): the HTTP API (no
 * execute-api address, its custom domain, stage and sign-in throttles), the CloudFront distribution
 * (web ACL, behaviours, origin secret), the CSP, the CORS rule on the uploads bucket, the portal's
 * role, the origin secret, the failed sign-in alarm. The web ACL itself: tests/infra/edge.test.ts; the
 * user pool: tests/infra/people.test.ts.
 * One synth for the file, no bundling.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../functions/config.ts';
import * as handler from '../../functions/handlers/portal-api.ts';
import { SIGN_IN_FAILED_EVENT as API_SIGN_IN_FAILED_EVENT } from '../../functions/portal/api.ts';
import { loadDeployConfig } from '../../infra/config.ts';
import { portalCsp } from '../../functions/portal/csp.ts';
import {
  ORIGIN_VERIFY_HEADER,
  PEOPLE_ACTIONS,
  PORTAL_ORIGIN_SECRET_ARN_ENV,
  PORTAL_ORIGINS_ENV,
  PORTAL_THROTTLE,
  REWRITE_FUNCTION_CODE,
  SIGN_IN_FAILED_EVENT,
  SIGN_IN_FAILURES_ALARM,
  SIGN_IN_ROUTE,
  SIGN_IN_THROTTLE,
} from '../../infra/constructs/portal.ts';
import { HmisStack } from '../../infra/stack.ts';
import { actionsOf, arn, flat, inspect, PORTAL_API_CONTEXT, ref, resourcesOf, type Resource, type Statement } from './template.ts';

type Inspect = ReturnType<typeof inspect>;


const PORTAL_BASE_URL = 'https://hmis.example.org';
const CONTEXT: Record<string, string> = { ...PORTAL_API_CONTEXT, stage: 'web', counties: '150525', portalBaseUrl: `${PORTAL_BASE_URL}/` };

let stack: HmisStack;
let resources: Record<string, Resource>;
let outputs: Record<string, { Value: unknown }>;
let outdir: string;

let ofType: Inspect['ofType'];
let logicalId: Inspect['logicalId'];
let roleStatements: Inspect['roleStatements'];

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'hmis-portal-infra-'));
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, outdir });
  stack = new HmisStack(app, 'hmis-web', { config: loadDeployConfig((k) => CONTEXT[k]) });
  const json = Template.fromStack(stack).toJSON();
  resources = json.Resources;
  ({ ofType, logicalId, roleStatements } = inspect(stack, resources));
  outputs = json.Outputs;
});

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const S3_ORIGIN = 'https://hmis-web-uploads-<AWS::AccountId>-<AWS::Region>.s3.<AWS::Region>.<AWS::URLSuffix>';

describe('HTTP API', () => {
  it('two routes, ANY /api/{proxy+} and POST /api/login (its own throttle), no authorizer (the function authenticates), Lambda proxy payload 2.0 to portal-api', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(['ANY /api/{proxy+}', SIGN_IN_ROUTE]);
    const [[integrationId, integration]] = ofType('AWS::ApiGatewayV2::Integration') as [[string, Resource]];
    for (const route of routes) {
      expect(route).toMatchObject({ AuthorizationType: 'NONE', ApiId: ref(logicalId(stack.portal.api)) });
      expect(flat(route.Target)).toBe(`integrations/<${integrationId}>`);
    }
    expect(integration.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0', IntegrationUri: arn(logicalId(stack.portal.function.fn)) });
    // API Gateway may invoke the function for these routes of that API only
    const permissions = ofType('AWS::Lambda::Permission').filter(([, p]) => p.Properties.Principal === 'apigateway.amazonaws.com').map(([, p]) => p.Properties);
    for (const permission of permissions) expect(permission.FunctionName).toEqual(arn(logicalId(stack.portal.function.fn)));
    expect(permissions.map((p) => flat(p.SourceArn)).sort()).toEqual(
      ['/*/*/api/{proxy+}', '/*/*/api/login'].map((route) => `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${logicalId(stack.portal.api)}>${route}`).sort(),
    );
  });

  it('no execute-api address: disabled; the API answers only at the configured domain (TLS 1.2, its certificate), which CloudFront uses', () => {
    const [[apiId, api]] = ofType('AWS::ApiGatewayV2::Api') as [[string, Resource]];
    expect(apiId).toBe(logicalId(stack.portal.api));
    expect(api.Properties).toMatchObject({ ProtocolType: 'HTTP', DisableExecuteApiEndpoint: true });
    // nothing in the template names an execute-api host (ARNs for invoke permissions are not addresses)
    expect(JSON.stringify(resources)).not.toMatch(/execute-api\.|"ApiEndpoint"/);
    expect(JSON.stringify(outputs)).not.toMatch(/execute-api|"ApiEndpoint"/);
    const [[domainId, domain]] = ofType('AWS::ApiGatewayV2::DomainName') as [[string, Resource]];
    expect(domain.Properties).toEqual({
      DomainName: PORTAL_API_CONTEXT.portalApiDomain,
      DomainNameConfigurations: [{ CertificateArn: PORTAL_API_CONTEXT.portalApiCertificateArn, EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' }],
    });
    const [[, mapping]] = ofType('AWS::ApiGatewayV2::ApiMapping') as [[string, Resource]];
    expect(mapping.Properties).toEqual({ ApiId: ref(apiId), DomainName: ref(domainId), Stage: '$default' });
    expect(outputs.PortalApiDnsTarget!.Value).toEqual({ 'Fn::GetAtt': [domainId, 'RegionalDomainName'] });
  });

  it('the $default stage: auto-deployed, throttled, JSON access log to a retained log group with retention', () => {
    const stages = ofType('AWS::ApiGatewayV2::Stage').map(([, s]) => s.Properties);
    expect(stages).toHaveLength(1);
    expect(stages[0]).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingBurstLimit: PORTAL_THROTTLE.burstLimit, ThrottlingRateLimit: PORTAL_THROTTLE.rateLimit },
      AccessLogSettings: { DestinationArn: arn(logicalId(stack.portal.accessLogs)) },
    });
    expect(PORTAL_THROTTLE).toEqual({ rateLimit: 20, burstLimit: 50 });
    // sign-in has its own, stricter throttle (all clients together; per address: the web ACL)
    expect(stages[0]!.RouteSettings).toEqual({ [SIGN_IN_ROUTE]: { ThrottlingRateLimit: SIGN_IN_THROTTLE.rateLimit, ThrottlingBurstLimit: SIGN_IN_THROTTLE.burstLimit } });
    expect(SIGN_IN_THROTTLE.rateLimit).toBeLessThan(PORTAL_THROTTLE.rateLimit);
    const [[stageId, stage]] = ofType('AWS::ApiGatewayV2::Stage') as [[string, Resource]];
    const loginRoute = ofType('AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties.RouteKey === SIGN_IN_ROUTE)![0];
    expect(stage.DependsOn, stageId).toContain(loginRoute);
    const format = JSON.parse(stages[0]!.AccessLogSettings.Format as string) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', path: '$context.path' });
    const logs = resources[logicalId(stack.portal.accessLogs)]!;
    expect(logs.Properties.RetentionInDays).toBe(365);
    expect(logs.DeletionPolicy).toBe('Retain');
  });
});

describe('CloudFront', () => {
  const distribution = () => resources[logicalId(stack.portal.distribution)]!.Properties.DistributionConfig;

  it('has the web ACL of the us-east-1 edge stack, read from its output at deploy time', () => {
    expect(distribution().WebACLId).toEqual({ 'Fn::GetStackOutput': { StackName: 'hmis-web-edge', OutputName: 'WebAclArn', Region: 'us-east-1' } });
  });

  it('default behaviour: the private web bucket through origin access control, HTTPS, compressed, page paths rewritten, security headers', () => {
    const d = distribution();
    expect(d.DefaultRootObject).toBe('index.html');
    const origin = d.Origins.find((o: any) => o.Id === d.DefaultCacheBehavior.TargetOriginId);
    expect(origin.DomainName).toEqual({ 'Fn::GetAtt': [logicalId(stack.portal.webBucket), 'RegionalDomainName'] });
    expect(origin.OriginAccessControlId).toBeDefined();
    expect(origin.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    expect(d.DefaultCacheBehavior).toMatchObject({
      ViewerProtocolPolicy: 'redirect-to-https',
      AllowedMethods: ['GET', 'HEAD'],
      Compress: true,
      ResponseHeadersPolicyId: ref(logicalId(stack.portal.responseHeaders)),
      FunctionAssociations: [{ EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [logicalId(stack.portal.rewrite), 'FunctionARN'] } }],
    });
    // only CloudFront, for this distribution, may read the bucket
    const policy = ofType('AWS::S3::BucketPolicy').find(([, p]) => JSON.stringify(p.Properties.Bucket) === JSON.stringify(ref(logicalId(stack.portal.webBucket))))![1];
    const allow = (policy.Properties.PolicyDocument.Statement as Statement[]).filter((s) => s.Effect === 'Allow');
    expect(allow).toEqual([
      expect.objectContaining({
        Action: 's3:GetObject',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Condition: { StringEquals: { 'AWS:SourceArn': expect.anything() } },
      }),
    ]);
    expect(flat((allow[0] as any).Condition.StringEquals['AWS:SourceArn'])).toBe(`arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/<${logicalId(stack.portal.distribution)}>`);
    const bucket = resources[logicalId(stack.portal.webBucket)]!;
    expect(bucket.Properties.PublicAccessBlockConfiguration).toMatchObject({ BlockPublicPolicy: true, RestrictPublicBuckets: true });
    expect(bucket.Properties.LoggingConfiguration).toEqual({ DestinationBucketName: ref(logicalId(stack.storage.accessLogs)), LogFilePrefix: 'portal-web/' });
  });

  it('/api/* → the HTTP API at its domain over HTTPS with the origin secret, caching disabled, every viewer header but Host, cookies and query strings forwarded', () => {
    const d = distribution();
    expect(d.CacheBehaviors).toHaveLength(1);
    const api = d.CacheBehaviors[0];
    expect(api).toMatchObject({
      PathPattern: '/api/*',
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      // the managed policies CachingDisabled and AllViewerExceptHostHeader
      CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
      OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
    });
    expect(api.FunctionAssociations).toBeUndefined();
    const origin = d.Origins.find((o: any) => o.Id === api.TargetOriginId);
    expect(origin.DomainName).toBe(PORTAL_API_CONTEXT.portalApiDomain);
    expect(origin.CustomOriginConfig).toEqual({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] });
    // a dynamic reference to the origin secret: resolved by CloudFormation, never in the template
    expect(origin.OriginCustomHeaders).toEqual([{ HeaderName: ORIGIN_VERIFY_HEADER, HeaderValue: expect.anything() }]);
    expect(flat(origin.OriginCustomHeaders[0].HeaderValue)).toBe(`{{resolve:secretsmanager:<${logicalId(stack.portal.originSecret)}>:SecretString:::}}`);
    expect(ORIGIN_VERIFY_HEADER.toLowerCase()).toBe(handler.ORIGIN_VERIFY_HEADER);
    // no custom error responses: they would turn the API's 403/404 into the page
    expect(d.CustomErrorResponses).toBeUndefined();
  });

  it('the CloudFront Function maps the deep links of alerts (/submissions/…) to /index.html and leaves files alone', () => {
    const fn = resources[logicalId(stack.portal.rewrite)]!.Properties;
    expect(fn.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
    expect(fn.FunctionCode).toBe(REWRITE_FUNCTION_CODE);
    // the page routes on location.pathname for /submissions/<institution>/<template>/<period>/<versionId> only
    const app = readFileSync(new URL('../../functions/portal/web/app.js', import.meta.url), 'utf8');
    expect([...app.matchAll(/location\.pathname/g)]).toHaveLength(1);
    expect(app).toContain('/^\\/submissions\\/([^/]+)\\/([^/]+)\\/([^/]+)\\/([^/]+)\\/?$/.exec(location.pathname)');
    const handler = new Function(`${fn.FunctionCode as string}; return handler;`)() as (e: { request: { uri: string } }) => { uri: string };
    const uri = (path: string) => handler({ request: { uri: path } }).uri;
    expect(uri('/submissions/150525-101/T-JC/2025-03/v123')).toBe('/index.html');
    expect(uri('/submissions/150525-101/T-JC/2025-03/abc%2Fdef/')).toBe('/index.html');
    for (const file of ['/', '/index.html', '/app.js', '/style.css', '/favicon.svg', '/submissions', '/x/submissions/a']) expect(uri(file)).toBe(file);
  });

  it("response headers: the local server's CSP with the uploads bucket's regional S3 origin; nosniff, DENY, no-referrer, HSTS", () => {
    const config = resources[logicalId(stack.portal.responseHeaders)]!.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    const csp = flat(config.ContentSecurityPolicy.ContentSecurityPolicy);
    expect(config.ContentSecurityPolicy.Override).toBe(true);
    expect(csp).toBe(
      `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ${S3_ORIGIN}; form-action 'self' ${S3_ORIGIN}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'`,
    );
    // the one definition the local server uses too
    expect(csp).toBe(portalCsp(S3_ORIGIN));
    expect(config).toMatchObject({
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
      StrictTransportSecurity: { AccessControlMaxAgeSec: 365 * 24 * 3600, Override: true },
    });
  });

  it('the page: functions/portal/web/ copied to the web bucket (pruned, no-cache), the distribution invalidated; the deployment has its own narrow role', () => {
    const [[, cr]] = ofType('Custom::CDKBucketDeployment') as [[string, Resource]];
    expect(cr.Properties).toMatchObject({
      DestinationBucketName: ref(logicalId(stack.portal.webBucket)),
      Prune: true,
      RetainOnDelete: false,
      SystemMetadata: { 'cache-control': 'no-cache' },
      DistributionId: ref(logicalId(stack.portal.distribution)),
      DistributionPaths: ['/*'],
    });
    const [key] = cr.Properties.SourceObjectKeys as [string];
    const staged = join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
    for (const file of ['index.html', 'app.js', 'style.css', 'favicon.svg']) expect(existsSync(join(staged, file)), file).toBe(true);

    const roleId = logicalId(stack.portal.deploymentRole);
    expect(cr.DependsOn).toEqual(expect.arrayContaining([roleId]));
    const fn = resources[flat(cr.Properties.ServiceToken).slice(1, -1)]!;
    expect(fn.Type).toBe('AWS::Lambda::Function');
    expect(fn.Properties.Role).toEqual(arn(roleId));
    expect(resources[roleId]!.Properties.ManagedPolicyArns).toBeUndefined();
    const grants = roleStatements(roleId).map((s) => ({ actions: actionsOf(s).sort(), resources: resourcesOf(s).map(flat) }));
    const web = logicalId(stack.portal.webBucket);
    expect(grants).toEqual([
      { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [expect.stringMatching(/^<PortalDeploymentLogs\w+>$/)] },
      { actions: ['s3:GetObject'], resources: [`arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-\${AWS::AccountId}-\${AWS::Region}/${key}`] },
      { actions: ['s3:GetBucketTagging', 's3:ListBucket'], resources: [`<${web}>`] },
      { actions: ['s3:DeleteObject', 's3:PutObject'], resources: [`<${web}>/*`] },
      { actions: ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation'], resources: [`arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/<${logicalId(stack.portal.distribution)}>`] },
    ]);
  });
});

describe('uploads from the browser', () => {
  it('CORS on the uploads bucket: POST only, from the portal (configured domain and the distribution), ETag exposed', () => {
    const bucket = resources[logicalId(stack.storage.uploads)]!;
    const rules = bucket.Properties.CorsConfiguration.CorsRules as Array<Record<string, any>>;
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({ AllowedMethods: ['POST'], AllowedHeaders: ['*'], ExposedHeaders: ['ETag'] });
    expect((rules[0]!.AllowedOrigins as unknown[]).map(flat)).toEqual([`https://<${logicalId(stack.portal.distribution)}.DomainName>`, PORTAL_BASE_URL]);
    // the reports bucket has no CORS: downloads are 302s to presigned GETs, navigations
    expect(resources[logicalId(stack.storage.reports)]!.Properties.CorsConfiguration).toBeUndefined();
  });
});

describe('portal-api function', () => {
  it("its environment: the names of functions/config.ts, the user pool, the origin secret by ARN (never the secret itself), the page's origins and address", () => {
    expect([PORTAL_ORIGIN_SECRET_ARN_ENV, PORTAL_ORIGINS_ENV]).toEqual([handler.PORTAL_ORIGIN_SECRET_ARN_ENV, handler.PORTAL_ORIGINS_ENV]);
    const vars = resources[logicalId(stack.portal.function.fn)]!.Properties.Environment.Variables as Record<string, unknown>;
    expect(Object.keys(vars).sort()).toEqual(
      [ENV.uploadsBucket, ENV.reportsBucket, ENV.tableName, ENV.maxUploadBytes, ENV.alertsTopicArn, ENV.userPoolId, ENV.userPoolClientId, ENV.portalBaseUrl, PORTAL_ORIGIN_SECRET_ARN_ENV, PORTAL_ORIGINS_ENV].sort(),
    );
    expect(vars[ENV.userPoolId]).toEqual(ref(logicalId(stack.people.pool)));
    expect(vars[ENV.userPoolClientId]).toEqual(ref(logicalId(stack.people.client)));
    expect(vars[ENV.alertsTopicArn]).toEqual(ref(logicalId(stack.topics.alerts)));
    expect(vars[ENV.portalBaseUrl]).toBe(PORTAL_BASE_URL);
    expect(vars[PORTAL_ORIGIN_SECRET_ARN_ENV]).toEqual(ref(logicalId(stack.portal.originSecret)));
    expect(flat(vars[PORTAL_ORIGINS_ENV])).toBe(`https://<${logicalId(stack.portal.distribution)}.DomainName>,${PORTAL_BASE_URL}`);
    expect(flat(vars[ENV.uploadsBucket])).toBe('hmis-web-uploads-<AWS::AccountId>-<AWS::Region>');
    expect(vars[ENV.reportsBucket]).toEqual(ref(logicalId(stack.storage.reports)));
    expect(vars[ENV.tableName]).toEqual(ref(logicalId(stack.storage.table)));
    expect(vars[ENV.maxUploadBytes]).toBe(String(10 * 1024 * 1024));
    expect(resources[logicalId(stack.portal.function.fn)]!.Properties).toMatchObject({ MemorySize: 1024, Timeout: 29, Runtime: 'nodejs24.x', Architectures: ['arm64'] });
  });

  it('one secret, the origin secret: generated by CloudFormation, read by the portal role only (sign-in needs none: the user pool keeps the passwords)', () => {
    expect(ofType('AWS::SecretsManager::Secret').map(([id]) => id)).toEqual([logicalId(stack.portal.originSecret)]);
    const s = resources[logicalId(stack.portal.originSecret)]!;
    expect(s.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 48, ExcludePunctuation: true });
    expect(s.Properties.SecretString).toBeUndefined();
    const readers = ofType('AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Properties.PolicyDocument).includes('secretsmanager:'));
    expect(readers.map(([, p]) => p.Properties.Roles)).toEqual([[ref(logicalId(stack.portal.function.role))]]);
  });

  it('its role: exactly the statements docs/PORTAL.md lists, explicit, prefix-scoped, no wildcard action', () => {
    const f = stack.portal.function;
    const reports = logicalId(stack.storage.reports);
    const table = logicalId(stack.storage.table);
    const statements = roleStatements(logicalId(f.role));
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      for (const action of actionsOf(s)) expect(action).not.toContain('*');
      for (const resource of resourcesOf(s)) expect(resource).not.toBe('*');
    }
    const grants = statements.map((s) => ({ sid: s.Sid, actions: actionsOf(s).sort(), resources: resourcesOf(s).map(flat).sort(), condition: s.Condition }));
    expect(grants).toEqual([
      { sid: 'WriteOwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`<${logicalId(f.logGroup)}>`], condition: undefined },
      { sid: undefined, actions: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], resources: [`<${logicalId(f.deadLetterQueue)}>`], condition: undefined },
      { sid: 'SignUploads', actions: ['s3:PutObject'], resources: ['arn:<AWS::Partition>:s3:::hmis-web-uploads-<AWS::AccountId>-<AWS::Region>/uploads/*'], condition: undefined },
      { sid: 'ReadReports', actions: ['s3:GetObject'], resources: [`<${reports}>/consolidated/*`, `<${reports}>/feedback/*`, `<${reports}>/reports/*`], condition: undefined },
      { sid: 'WriteConsolidated', actions: ['s3:PutObject'], resources: [`<${reports}>/consolidated/*`], condition: undefined },
      { sid: 'ListReports', actions: ['s3:ListBucket'], resources: [`<${reports}>`], condition: { StringLike: { 's3:prefix': ['consolidated/*', 'feedback/*'] } } },
      { sid: 'ReadSubmissions', actions: ['dynamodb:GetItem', 'dynamodb:Query'], resources: [`<${table}>`], condition: undefined },
      { sid: 'QueryHistory', actions: ['dynamodb:Query'], resources: [`<${table}>/index/GSI1`], condition: undefined },
      // the regenerate cooldown's claims only (functions/portal/api.ts: TASK#regenerate#<county>#<period>#<minute>)
      { sid: 'ClaimRegenerate', actions: ['dynamodb:DeleteItem', 'dynamodb:PutItem'], resources: [`<${table}>`], condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TASK#regenerate#*'] } } },
      // review state (CP#), month closings (CLOSE#), the audit trail (AUD#, puts only)
      { sid: 'ReviewReturns', actions: ['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], resources: [`<${table}>`], condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['CP#*'] } } },
      { sid: 'CloseMonths', actions: ['dynamodb:PutItem'], resources: [`<${table}>`], condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['CLOSE#*'] } } },
      { sid: 'AppendAudit', actions: ['dynamodb:PutItem'], resources: [`<${table}>`], condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['AUD#*'] } } },
      { sid: 'ManagePeople', actions: [...PEOPLE_ACTIONS].sort(), resources: [`<${logicalId(stack.people.pool)}>`], condition: undefined },
      { sid: 'PublishReturns', actions: ['sns:Publish'], resources: [`<${logicalId(stack.topics.alerts)}>`], condition: undefined },
      { sid: 'ReadOriginSecret', actions: ['secretsmanager:GetSecretValue'], resources: [`<${logicalId(stack.portal.originSecret)}>`], condition: undefined },
      { sid: 'ReadDefinitions', actions: ['s3:GetObject'], resources: [`<${reports}>/definitions/*`], condition: undefined },
      { sid: 'WriteDefinitions', actions: ['s3:PutObject'], resources: [`<${reports}>/definitions/*`], condition: undefined },
      { sid: 'MoveDefinitionsHead', actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resources: [`<${table}>`], condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['DEFS'] } } },
    ]);
  });

  it('failed sign-ins: a metric filter on the line the API logs, an alarm to the ops topic at 20 in 5 minutes', () => {
    expect(SIGN_IN_FAILED_EVENT).toBe(API_SIGN_IN_FAILED_EVENT);
    const [[, filter]] = ofType('AWS::Logs::MetricFilter') as [[string, Resource]];
    expect(filter.Properties).toEqual({
      LogGroupName: ref(logicalId(stack.portal.function.logGroup)),
      FilterPattern: `"${SIGN_IN_FAILED_EVENT}"`,
      MetricTransformations: [{ MetricNamespace: 'hmis/web', MetricName: 'PortalSignInFailures', MetricValue: '1' }],
    });
    // the quoted term matches the line as Lambda writes it (timestamp, request id, level, then the JSON)
    const line = `2025-04-10T02:00:00.000Z\tc0ffee\tINFO\t${JSON.stringify({ level: 'warn', event: API_SIGN_IN_FAILED_EVENT, username: '13800000101', reason: 'credentials', ip: '198.51.100.23' })}`;
    expect(line.includes(JSON.parse(filter.Properties.FilterPattern as string) as string)).toBe(true);
    const alarm = resources[logicalId(stack.portal.signInFailures)]!.Properties;
    expect(alarm).toMatchObject({
      Namespace: 'hmis/web',
      MetricName: 'PortalSignInFailures',
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: SIGN_IN_FAILURES_ALARM,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [ref(logicalId(stack.topics.ops))],
    });
    expect(SIGN_IN_FAILURES_ALARM).toBe(20);
  });
});

describe('the portal address', () => {
  it('configured portalBaseUrl: alert links (PORTAL_BASE_URL of ingest and consolidate) and the PortalUrl output use it', () => {
    for (const f of [stack.ingest.function, stack.consolidate.function]) {
      expect(resources[logicalId(f.fn)]!.Properties.Environment.Variables[ENV.portalBaseUrl]).toBe(PORTAL_BASE_URL);
    }
    expect(outputs.PortalUrl!.Value).toBe(PORTAL_BASE_URL);
    expect(flat(outputs.PortalDistributionUrl!.Value)).toBe(`https://<${logicalId(stack.portal.distribution)}.DomainName>`);
    expect(outputs.PortalSecretArn).toBeUndefined();
    expect(outputs.UserPoolId!.Value).toEqual(ref(logicalId(stack.people.pool)));
    expect(outputs.UserPoolClientId!.Value).toEqual(ref(logicalId(stack.people.client)));
  });
});
