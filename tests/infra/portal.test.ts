/**
 * The portal in the synthesised template (infra/constructs/portal.ts), with a configured
 * portalBaseUrl (tests/infra/stack.test.ts covers the stack without one): the HTTP API and its
 * stage, the CloudFront distribution and its behaviours, the CSP, the CORS rule on the uploads
 * bucket, the portal's role and the secret. One synth for the file, no bundling.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../functions/config.ts';
import { PORTAL_SECRET_ARN_ENV as HANDLER_SECRET_ARN_ENV } from '../../functions/handlers/portal-api.ts';
import { loadDeployConfig } from '../../infra/config.ts';
import { portalCsp } from '../../functions/portal/csp.ts';
import { PORTAL_SECRET_ARN_ENV, PORTAL_THROTTLE, REWRITE_FUNCTION_CODE } from '../../infra/constructs/portal.ts';
import { HmisStack } from '../../infra/stack.ts';
import { actionsOf, arn, flat, inspect, ref, resourcesOf, type Resource, type Statement } from './template.ts';

type Inspect = ReturnType<typeof inspect>;


const PORTAL_BASE_URL = 'https://hmis.example.org';
const CONTEXT: Record<string, string> = { stage: 'web', counties: '150525', portalBaseUrl: `${PORTAL_BASE_URL}/` };

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
  it('one route, ANY /api/{proxy+}, no authorizer (the function authenticates), Lambda proxy payload 2.0 to portal-api', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    expect(routes).toHaveLength(1);
    expect(routes[0]).toMatchObject({ RouteKey: 'ANY /api/{proxy+}', AuthorizationType: 'NONE', ApiId: ref(logicalId(stack.portal.api)) });
    const [[integrationId, integration]] = ofType('AWS::ApiGatewayV2::Integration') as [[string, Resource]];
    expect(flat(routes[0]!.Target)).toBe(`integrations/<${integrationId}>`);
    expect(integration.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0', IntegrationUri: arn(logicalId(stack.portal.function.fn)) });
    // API Gateway may invoke the function for that route of that API only
    const permission = ofType('AWS::Lambda::Permission').find(([, p]) => p.Properties.Principal === 'apigateway.amazonaws.com')![1];
    expect(permission.Properties.FunctionName).toEqual(arn(logicalId(stack.portal.function.fn)));
    expect(flat(permission.Properties.SourceArn)).toBe(`arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${logicalId(stack.portal.api)}>/*/*/api/{proxy+}`);
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
    const format = JSON.parse(stages[0]!.AccessLogSettings.Format as string) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', path: '$context.path' });
    const logs = resources[logicalId(stack.portal.accessLogs)]!;
    expect(logs.Properties.RetentionInDays).toBe(365);
    expect(logs.DeletionPolicy).toBe('Retain');
  });
});

describe('CloudFront', () => {
  const distribution = () => resources[logicalId(stack.portal.distribution)]!.Properties.DistributionConfig;

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

  it('/api/* → the HTTP API over HTTPS, caching disabled, every viewer header but Host, cookies and query strings forwarded', () => {
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
    expect(flat(origin.DomainName)).toBe(`<${logicalId(stack.portal.api)}>.execute-api.<AWS::Region>.<AWS::URLSuffix>`);
    expect(origin.CustomOriginConfig).toEqual({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] });
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
  it('its environment: the names of functions/config.ts and the secret by ARN (never the secret itself)', () => {
    expect(PORTAL_SECRET_ARN_ENV).toBe(HANDLER_SECRET_ARN_ENV);
    const vars = resources[logicalId(stack.portal.function.fn)]!.Properties.Environment.Variables as Record<string, unknown>;
    expect(Object.keys(vars).sort()).toEqual([ENV.uploadsBucket, ENV.reportsBucket, ENV.tableName, ENV.maxUploadBytes, PORTAL_SECRET_ARN_ENV].sort());
    expect(flat(vars[ENV.uploadsBucket])).toBe('hmis-web-uploads-<AWS::AccountId>-<AWS::Region>');
    expect(vars[ENV.reportsBucket]).toEqual(ref(logicalId(stack.storage.reports)));
    expect(vars[ENV.tableName]).toEqual(ref(logicalId(stack.storage.table)));
    expect(vars[ENV.maxUploadBytes]).toBe(String(10 * 1024 * 1024));
    expect(vars[PORTAL_SECRET_ARN_ENV]).toEqual(ref(logicalId(stack.portal.secret)));
    expect(resources[logicalId(stack.portal.function.fn)]!.Properties).toMatchObject({ MemorySize: 1024, Timeout: 29, Runtime: 'nodejs24.x', Architectures: ['arm64'] });
  });

  it('the secret: generated by CloudFormation, retained, read by the portal role only', () => {
    const secret = resources[logicalId(stack.portal.secret)]!;
    expect(secret.DeletionPolicy).toBe('Retain');
    expect(secret.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 48, ExcludePunctuation: true });
    expect(secret.Properties.SecretString).toBeUndefined();
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
      { sid: 'ReadPortalSecret', actions: ['secretsmanager:GetSecretValue'], resources: [`<${logicalId(stack.portal.secret)}>`], condition: undefined },
      { sid: 'ReadDefinitions', actions: ['s3:GetObject'], resources: [`<${reports}>/definitions/*`], condition: undefined },
      { sid: 'WriteDefinitions', actions: ['s3:PutObject'], resources: [`<${reports}>/definitions/*`], condition: undefined },
      { sid: 'MoveDefinitionsHead', actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resources: [`<${table}>`], condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['DEFS'] } } },
    ]);
  });
});

describe('the portal address', () => {
  it('configured portalBaseUrl: alert links (PORTAL_BASE_URL of ingest and consolidate) and the PortalUrl output use it', () => {
    for (const f of [stack.ingest.function, stack.consolidate.function]) {
      expect(resources[logicalId(f.fn)]!.Properties.Environment.Variables[ENV.portalBaseUrl]).toBe(PORTAL_BASE_URL);
    }
    expect(outputs.PortalUrl!.Value).toBe(PORTAL_BASE_URL);
    expect(flat(outputs.PortalDistributionUrl!.Value)).toBe(`https://<${logicalId(stack.portal.distribution)}.DomainName>`);
    expect(outputs.PortalSecretArn!.Value).toEqual(ref(logicalId(stack.portal.secret)));
  });
});
