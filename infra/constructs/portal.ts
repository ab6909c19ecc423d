/**
 * The portal (docs/PORTAL.md) in AWS, one origin for the page and its API:
 *
 *   browser ──https──▶ CloudFront + web ACL (infra/edge.ts, us-east-1)
 *                         │ /api/* + origin secret header ──▶ <portalApi domain> ──▶ HTTP API (execute-api address off;
 *                         │                                       stage and sign-in throttles) ──▶ portal-api
 *                         │ default (a CloudFront Function maps /submissions/* to /index.html)
 *                         └──▶ private web bucket (origin access control) ◀── BucketDeployment of functions/portal/web/
 *   browser ──presigned POST──▶ uploads bucket (CORS: POST from the portal's origin only)
 *
 * Nothing reaches the API around the web ACL: its execute-api address is disabled, CloudFront reaches
 * it at the configured custom domain, and the function refuses a request without the origin secret
 * CloudFront adds (someone calling that domain directly). Failed sign-ins are counted from the
 * function's log (a metric filter) and alarm the ops topic.
 *
 * portal-api has its own role (reads what the portal shows, signs presigned POSTs under uploads/,
 * writes consolidated/ on 立即生成 and claims its cooldown in the table, writes review state, month
 * closings and the audit trail, manages the people of the user pool, publishes a return's alert) and
 * reads the origin secret once per cold start. People sign in at the user pool (infra/constructs/people.ts).
 * The uploads bucket is referred to
 * by name and ARN only (see Storage): nothing here depends on the bucket resource, so the bucket's
 * CORS rule can name the distribution.
 */
import { Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { People } from './people.ts';
import { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';
import { ENV, UPLOAD_PREFIX } from '../../functions/config.ts';
import { CONSOLIDATE_WRITES } from './consolidate.ts';
import { acknowledgeScopedResources, DefaultFunction } from './defaults.ts';
import { INGEST_WRITES } from './ingest.ts';
import { SECURE, type Storage } from './storage.ts';
import { portalCsp } from '../../functions/portal/csp.ts';

/**
 * Names shared with the function, not imported (the handler module pulls in the SDK clients, the API
 * module the whole core; tests/infra/portal.test.ts compares them): functions/handlers/portal-api.ts
 * PORTAL_ORIGIN_SECRET_ARN_ENV, PORTAL_ORIGINS_ENV, ORIGIN_VERIFY_HEADER; functions/portal/auth.ts
 * SIGN_IN_FAILED_EVENT.
 */
export const PORTAL_ORIGIN_SECRET_ARN_ENV = 'PORTAL_ORIGIN_SECRET_ARN';
export const PORTAL_ORIGINS_ENV = 'PORTAL_ORIGINS';
export const ORIGIN_VERIFY_HEADER = 'X-Hmis-Origin-Verify';
export const SIGN_IN_FAILED_EVENT = 'portal-sign-in-failed';

export const WEB_DIR = fileURLToPath(new URL('../../functions/portal/web/', import.meta.url));

/** Stage throttling of the HTTP API, all clients together (a county's month is ~50 requests a person; per address: the web ACL). */
export const PORTAL_THROTTLE = { rateLimit: 20, burstLimit: 50 } as const;
/** The sign-in route's own throttle, all clients together: guessing is bounded even across many addresses. */
export const SIGN_IN_ROUTE = 'POST /api/login';
export const SIGN_IN_THROTTLE = { rateLimit: 2, burstLimit: 10 } as const;
/** Failed sign-ins in 5 minutes that alarm (a mistyped code is normal; this many is guessing). */
export const SIGN_IN_FAILURES_ALARM = 20;
export const METRIC_NAMESPACE = 'hmis';

/** Paths that are the page, not files: the alerts' deep links (core/alert/messages.ts feedbackLocationOf). */
export const PAGE_PATH_PREFIXES = ['/submissions/'] as const;

/** The CloudFront Function (viewer request, default behaviour): page paths → /index.html, as the local server does. */
export const REWRITE_FUNCTION_CODE = `function handler(event) {
  var request = event.request;
  var prefixes = ${JSON.stringify(PAGE_PATH_PREFIXES)};
  for (var i = 0; i < prefixes.length; i++) {
    if (request.uri.indexOf(prefixes[i]) === 0) {
      request.uri = '/index.html';
      break;
    }
  }
  return request;
}`;

/** The prefixes of the reports bucket the portal reads (reports, feedback workbooks, consolidated workbooks). */
export const PORTAL_READS = [...INGEST_WRITES, CONSOLIDATE_WRITES] as const;
/** DynamoDB actions of the store methods the portal calls (listPeriod, history, versions, current). */
export const PORTAL_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query'];
/** The regenerate cooldown's claims (functions/portal/api.ts: store.claimTask('regenerate#…'), keys TASK#regenerate#…). */
export const REGENERATE_CLAIMS = 'TASK#regenerate#*';
/**
 * The portal's other writes to the table, each limited to its partition keys (dynamodb:LeadingKeys;
 * functions/adapters/dynamo/store.ts and audit.ts): review state on current and held returns (CP#,
 * an approved 补报 replaces the current one and leaves PEND#), month closings (CLOSE#), the audit trail
 * (AUD#, puts only: never changed).
 */
export const PORTAL_TABLE_WRITES = [
  { sid: 'ReviewReturns', actions: ['dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'], keys: 'CP#*' },
  { sid: 'CloseMonths', actions: ['dynamodb:PutItem'], keys: 'CLOSE#*' },
  { sid: 'AppendAudit', actions: ['dynamodb:PutItem'], keys: 'AUD#*' },
] as const;
/** What 用户管理 does in the user pool (functions/adapters/cognito/identity.ts); sign-in and GetUser need no IAM. */
export const PEOPLE_ACTIONS = [
  'cognito-idp:AdminCreateUser',
  'cognito-idp:AdminAddUserToGroup',
  'cognito-idp:AdminGetUser',
  'cognito-idp:AdminListGroupsForUser',
  'cognito-idp:AdminDisableUser',
  'cognito-idp:AdminEnableUser',
  'cognito-idp:AdminSetUserPassword',
  'cognito-idp:AdminUserGlobalSignOut',
  'cognito-idp:ListUsers',
  'cognito-idp:ListUsersInGroup',
];

export interface PortalProps {
  stage: string;
  storage: Storage;
  ops: sns.ITopic;
  /** a return (退回) alerts the institution */
  alerts: sns.ITopic;
  /** the user pool people sign in at */
  people: People;
  maxUploadBytes: number;
  logRetentionDays: number;
  /** config portalBaseUrl: the portal's own domain in front of the distribution, if any */
  portalBaseUrl?: string;
  /** config portalApi: the name CloudFront reaches the API at, and its certificate (in this region) */
  api: { domainName: string; certificateArn: string };
  /** the web ACL (infra/edge.ts, us-east-1) */
  webAclArn: string;
}

export class Portal extends Construct {
  readonly function: DefaultFunction;
  /** sent by CloudFront with every /api request, checked by the function */
  readonly originSecret: secretsmanager.Secret;
  readonly api: apigwv2.HttpApi;
  readonly apiDomain: apigwv2.DomainName;
  readonly stage: apigwv2.HttpStage;
  readonly signInFailures: cloudwatch.Alarm;
  readonly accessLogs: logs.LogGroup;
  readonly webBucket: s3.Bucket;
  readonly deployment: s3deploy.BucketDeployment;
  readonly deploymentRole: iam.Role;
  /** BucketDeployment's (Python, AWS CLI) function: runs at deploy time only */
  readonly deploymentFunction: Construct;
  readonly distribution: cloudfront.Distribution;
  readonly responseHeaders: cloudfront.ResponseHeadersPolicy;
  readonly rewrite: cloudfront.Function;
  /** https://<distribution domain> */
  readonly distributionUrl: string;
  /** the address the portal is opened at: config portalBaseUrl, else the distribution's */
  readonly url: string;
  /** browser origins allowed to POST to the uploads bucket */
  readonly allowedOrigins: string[];

  constructor(scope: Construct, id: string, props: PortalProps) {
    super(scope, id);
    const { storage } = props;
    const stack = Stack.of(this);

    // ---------- the secret CloudFront proves itself with ----------
    this.originSecret = new secretsmanager.Secret(this, 'OriginSecret', {
      description: `hmis ${props.stage}: sent by CloudFront to the portal API; a request without it did not come through the web ACL`,
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
    });
    Validations.of(this.originSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'CloudFront reads this value when the distribution is deployed (an origin header), so a rotation must update the distribution as well; an operator rotates it with a deploy (docs/DEPLOY.md).',
    });

    // ---------- the API function ----------
    this.function = new DefaultFunction(this, 'PortalApi', {
      handler: 'portal-api',
      description: 'portal API (HTTP API payload 2.0): sign-in, templates, presigned uploads, status, county views, review, people, audit trail',
      // regenerate renders a county workbook
      memorySize: 1024,
      // API Gateway gives up at 30 s
      timeout: Duration.seconds(29),
      environment: {
        [ENV.uploadsBucket]: storage.uploadsBucketName,
        [ENV.reportsBucket]: storage.reports.bucketName,
        [ENV.tableName]: storage.table.tableName,
        [ENV.maxUploadBytes]: String(props.maxUploadBytes),
        [ENV.alertsTopicArn]: props.alerts.topicArn,
        [ENV.userPoolId]: props.people.pool.userPoolId,
        [ENV.userPoolClientId]: props.people.client.userPoolClientId,
        [PORTAL_ORIGIN_SECRET_ARN_ENV]: this.originSecret.secretArn,
      },
      logRetentionDays: props.logRetentionDays,
      opsTopic: props.ops,
    });
    const f = this.function;
    // S3 checks the signer's own permission when the browser posts with a presigned POST
    f.allow('SignUploads', ['s3:PutObject'], [`${storage.uploadsBucketArn}/${UPLOAD_PREFIX}*`], 'Presigned POSTs for one exact key each, under uploads/ (the API picks the key: uploads/<county>/<institution>/…).');
    f.allow('ReadReports', ['s3:GetObject'], PORTAL_READS.map((p) => storage.reports.arnForObjects(`${p}*`)), 'Reports, feedback and consolidated workbooks, under these three prefixes only; the API decides per request whose.');
    f.allow('WriteConsolidated', ['s3:PutObject'], [storage.reports.arnForObjects(`${CONSOLIDATE_WRITES}*`)], 'Regenerate (立即生成) writes consolidated workbooks under consolidated/ only.');
    this.function.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListReports',
        actions: ['s3:ListBucket'],
        resources: [storage.reports.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${CONSOLIDATE_WRITES}*`, 'feedback/*'] } },
      }),
    );
    f.allow('ReadSubmissions', PORTAL_TABLE_ACTIONS, [storage.table.tableArn]);
    f.allow('QueryHistory', ['dynamodb:Query'], [storage.gsi1Arn]);
    this.function.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ClaimRegenerate',
        actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [storage.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [REGENERATE_CLAIMS] } },
      }),
    );
    for (const w of PORTAL_TABLE_WRITES) {
      f.allow(w.sid, [...w.actions], [storage.table.tableArn], undefined, { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [w.keys] } });
    }
    f.allow('ManagePeople', PEOPLE_ACTIONS, [props.people.pool.userPoolArn], 'One user pool; the API decides per request whose people (an administrator manages its own county).');
    f.allow('PublishReturns', ['sns:Publish'], [props.alerts.topicArn]);
    // not secret.grantRead(): that also grants secretsmanager:DescribeSecret
    f.allow('ReadOriginSecret', ['secretsmanager:GetSecretValue'], [this.originSecret.secretArn]);

    // ---------- HTTP API ----------
    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: `hmis ${props.stage}: portal API (behind CloudFront /api/* only)`,
      createDefaultStage: false,
      // reachable only at the custom domain below, which CloudFront uses
      disableExecuteApiEndpoint: true,
    });
    const integration = new HttpLambdaIntegration('PortalApi', f.fn, { payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0 });
    const routes = [
      ...this.api.addRoutes({ path: '/api/{proxy+}', methods: [apigwv2.HttpMethod.ANY], integration }),
      // its own route, for its own throttle (same function)
      ...this.api.addRoutes({ path: '/api/login', methods: [apigwv2.HttpMethod.POST], integration }),
    ];
    for (const r of routes) {
      Validations.of(r).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: 'The function authenticates every route itself (the user pool access token in an HttpOnly cookie, verified and rechecked with the pool; /api/login must be reachable before sign-in); the web ACL and the throttles bound guessing.',
      });
    }
    this.accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stage = new apigwv2.HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: PORTAL_THROTTLE,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        // one JSON line per request; sourceIp is CloudFront's edge, the browser's address is in X-Forwarded-For
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            method: '$context.httpMethod',
            path: '$context.path',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationStatus: '$context.integrationStatus',
            integrationError: '$context.integrationErrorMessage',
            sourceIp: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
            bytes: '$context.responseLength',
          }),
        ),
      },
    });
    // per-route throttle (not in the L2 construct; RouteSettings is raw JSON, CloudFormation's names);
    // the route must exist before the stage names it
    (this.stage.node.defaultChild as apigwv2.CfnStage).routeSettings = {
      [SIGN_IN_ROUTE]: { ThrottlingRateLimit: SIGN_IN_THROTTLE.rateLimit, ThrottlingBurstLimit: SIGN_IN_THROTTLE.burstLimit },
    };
    for (const r of routes) this.stage.node.addDependency(r);

    this.apiDomain = new apigwv2.DomainName(this, 'ApiDomain', {
      domainName: props.api.domainName,
      certificate: acm.Certificate.fromCertificateArn(this, 'ApiCertificate', props.api.certificateArn),
      securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
    });
    new apigwv2.ApiMapping(this, 'ApiMapping', { api: this.api, domainName: this.apiDomain, stage: this.stage });

    // ---------- failed sign-ins ----------
    const failures = new logs.MetricFilter(this, 'SignInFailures', {
      logGroup: f.logGroup,
      // the JSON line functions/portal/api.ts logs for each refused sign-in
      filterPattern: logs.FilterPattern.literal(`"${SIGN_IN_FAILED_EVENT}"`),
      // one namespace per stage: two deployments in one account count apart
      metricNamespace: `${METRIC_NAMESPACE}/${props.stage}`,
      metricName: 'PortalSignInFailures',
      metricValue: '1',
    });
    this.signInFailures = new cloudwatch.Alarm(this, 'SignInFailuresAlarm', {
      metric: failures.metric({ statistic: 'Sum', period: Duration.minutes(5) }),
      threshold: SIGN_IN_FAILURES_ALARM,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `portal: ${SIGN_IN_FAILURES_ALARM} or more failed sign-ins in 5 minutes, someone may be guessing access codes (${stack.stackName}; docs/DEPLOY.md)`,
    });
    this.signInFailures.addAlarmAction(new actions.SnsAction(props.ops));

    // ---------- the page ----------
    this.webBucket = new s3.Bucket(this, 'Web', {
      ...SECURE,
      // only files of this repository: the deployment below empties it when the stack is deleted
      removalPolicy: RemovalPolicy.DESTROY,
      serverAccessLogsBucket: storage.accessLogs,
      serverAccessLogsPrefix: 'portal-web/',
    });

    const s3Origin = `https://${storage.uploadsBucketName}.s3.${Aws.REGION}.${Aws.URL_SUFFIX}`;
    this.responseHeaders = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: `hmis ${props.stage}: portal CSP and security headers`,
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: portalCsp(s3Origin), override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), override: true },
      },
    });
    this.rewrite = new cloudfront.Function(this, 'PagePaths', {
      comment: 'portal deep links (/submissions/...) -> /index.html',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(REWRITE_FUNCTION_CODE),
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `hmis ${props.stage} portal`,
      webAclId: props.webAclArn,
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_ALL,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.webBucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        compress: true,
        responseHeadersPolicy: this.responseHeaders,
        functionAssociations: [{ function: this.rewrite, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
      additionalBehaviors: {
        '/api/*': {
          origin: new origins.HttpOrigin(props.api.domainName, {
            protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
            // a dynamic reference: CloudFormation resolves it at deploy time, the template holds no secret
            customHeaders: { [ORIGIN_VERIFY_HEADER]: this.originSecret.secretValue.unsafeUnwrap() },
          }),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          compress: true,
          responseHeadersPolicy: this.responseHeaders,
        },
      },
    });
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason: 'Institutions sign in from wherever their staff are (county towns, travel); access is by access code, not by country.',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason: 'Every /api request is in the HTTP API access log group; the rest are static files. Standard logging would need ACLs on the access-log bucket (it enforces bucket-owner ownership).',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason: 'The default *.cloudfront.net certificate cannot set a minimum protocol version; with a custom domain (docs/DEPLOY.md) set TLSv1.2_2021 on its certificate.',
      },
    );
    this.distributionUrl = `https://${this.distribution.distributionDomainName}`;
    this.url = props.portalBaseUrl?.replace(/\/+$/, '') ?? this.distributionUrl;

    // The deployment's own role, immutable for BucketDeployment (whose default grants are wildcard
    // actions on both buckets and cloudfront:*Invalidation on "*"): exactly what `aws s3 sync --delete`
    // and the invalidation need, on this asset, this bucket and this distribution.
    const asset = new s3assets.Asset(this, 'WebAsset', { path: WEB_DIR });
    const deploymentLogs = new logs.LogGroup(this, 'DeploymentLogs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.deploymentRole = new iam.Role(this, 'DeploymentRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'portal page deployment: copies functions/portal/web/ to the web bucket, invalidates the distribution',
    });
    const distributionArn = `arn:${Aws.PARTITION}:cloudfront::${Aws.ACCOUNT_ID}:distribution/${this.distribution.distributionId}`;
    const statements = [
      new iam.PolicyStatement({ sid: 'WriteOwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [deploymentLogs.logGroupArn] }),
      new iam.PolicyStatement({ sid: 'ReadWebAsset', actions: ['s3:GetObject'], resources: [asset.bucket.arnForObjects(asset.s3ObjectKey)] }),
      // GetBucketTagging: on delete the handler checks whether another deployment owns the bucket
      new iam.PolicyStatement({ sid: 'ListWebBucket', actions: ['s3:ListBucket', 's3:GetBucketTagging'], resources: [this.webBucket.bucketArn] }),
      new iam.PolicyStatement({ sid: 'SyncWebBucket', actions: ['s3:PutObject', 's3:DeleteObject'], resources: [this.webBucket.arnForObjects('*')] }),
      new iam.PolicyStatement({ sid: 'InvalidatePortal', actions: ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation'], resources: [distributionArn] }),
    ];
    for (const s of statements) this.deploymentRole.addToPrincipalPolicy(s);
    acknowledgeScopedResources(this.deploymentRole, new iam.PolicyDocument({ statements }), 'The web bucket holds only the portal page; the deployment replaces all of its files.');

    this.deployment = new s3deploy.BucketDeployment(this, 'DeployWeb', {
      sources: [s3deploy.Source.bucket(asset.bucket, asset.s3ObjectKey)],
      destinationBucket: this.webBucket,
      prune: true,
      retainOnDelete: false,
      // browsers revalidate (ETag); CloudFront is invalidated on every deployment
      cacheControl: [s3deploy.CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      role: this.deploymentRole.withoutPolicyUpdates(),
      logGroup: deploymentLogs,
      memoryLimit: 512,
    });
    // the custom resource runs only once the role's policy exists
    this.deployment.node.addDependency(this.deploymentRole);
    // BucketDeployment's function is a singleton at the stack's root
    const deployFunction = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (!deployFunction) throw new Error('BucketDeployment: its function was not found');
    this.deploymentFunction = deployFunction;
    Validations.of(deployFunction).acknowledge(
      {
        id: 'AwsSolutions-L1',
        reason: "aws-cdk-lib's BucketDeployment ships this handler for its own Python runtime (3.13) with the AWS CLI layer; it moves with aws-cdk-lib upgrades and runs at deploy time only.",
      },
      {
        id: 'Serverless-LambdaLatestVersion',
        reason: "aws-cdk-lib's BucketDeployment ships this handler for its own Python runtime (3.13) with the AWS CLI layer; it moves with aws-cdk-lib upgrades and runs at deploy time only.",
      },
      {
        id: 'Serverless-LambdaDLQ',
        reason: 'A CloudFormation custom resource: a failure fails the deployment (and rolls it back) in front of the operator; there is no event to keep for later.',
      },
      {
        id: 'Serverless-LambdaTracing',
        reason: 'Runs once per deployment; X-Ray would need xray:PutTraceSegments on Resource "*", and its log group records every run.',
      },
    );

    // ---------- the browser posts uploads straight to S3 ----------
    this.allowedOrigins = [...new Set([this.distributionUrl, ...(props.portalBaseUrl ? [new URL(props.portalBaseUrl).origin] : [])])];
    // the page's origins, for the function's cross-site check (behind CloudFront it does not see the page's Host)
    f.fn.addEnvironment(PORTAL_ORIGINS_ENV, this.allowedOrigins.join(','));
    // a return's alert links to the upload's page on the portal
    f.fn.addEnvironment(ENV.portalBaseUrl, this.url);
    storage.uploads.addCorsRule({
      allowedMethods: [s3.HttpMethods.POST],
      allowedOrigins: this.allowedOrigins,
      allowedHeaders: ['*'],
      exposedHeaders: ['ETag'],
      maxAge: 3000,
    });
  }
}
