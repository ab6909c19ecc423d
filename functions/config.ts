/**
 * The environment of the handlers, read once and validated (fail fast, one clear message).
 *
 * The names are constants here so that the CDK stack (infra) and the local stack
 * (functions/adapters/local/stack.ts) set exactly the same variables: the handler code is the
 * same in AWS and on one machine, only the environment differs.
 *
 * Endpoints are NOT ours to invent: the AWS SDK for JS v3 reads `AWS_ENDPOINT_URL_S3`,
 * `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SNS` (and `AWS_ENDPOINT_URL`) itself
 * (@smithy/core getEndpointUrlConfig; verified with the installed 3.116x clients), likewise
 * `AWS_REGION`, the credential variables and the checksum variables. They are listed in AWS_ENV
 * for whoever sets them, and echoed in the config for logging only.
 */
import * as z from '../schemas/zod.ts';

/** Variables the handlers read, by config field. */
export const ENV = {
  uploadsBucket: 'UPLOADS_BUCKET',
  reportsBucket: 'REPORTS_BUCKET',
  tableName: 'TABLE_NAME',
  alertsTopicArn: 'ALERTS_TOPIC_ARN',
  opsTopicArn: 'OPS_TOPIC_ARN',
  maxUploadBytes: 'MAX_UPLOAD_BYTES',
  s3ForcePathStyle: 'S3_FORCE_PATH_STYLE',
  portalBaseUrl: 'PORTAL_BASE_URL',
  counties: 'COUNTIES',
  userPoolId: 'USER_POOL_ID',
  userPoolClientId: 'USER_POOL_CLIENT_ID',
  /** the user pool's JWKS when it is not Cognito's own address (the local stand-in) */
  userPoolJwksUrl: 'USER_POOL_JWKS_URL',
  /** the ingest queue: reconciliation sends there what the event path lost */
  uploadQueueUrl: 'UPLOAD_QUEUE_URL',
} as const;

/** Standard AWS SDK variables (read by the SDK itself, not by us). */
export const AWS_ENV = {
  region: 'AWS_REGION',
  accessKeyId: 'AWS_ACCESS_KEY_ID',
  secretAccessKey: 'AWS_SECRET_ACCESS_KEY',
  endpointS3: 'AWS_ENDPOINT_URL_S3',
  endpointDynamoDb: 'AWS_ENDPOINT_URL_DYNAMODB',
  endpointSns: 'AWS_ENDPOINT_URL_SNS',
  endpointCognito: 'AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER',
  endpointSqs: 'AWS_ENDPOINT_URL_SQS',
  requestChecksumCalculation: 'AWS_REQUEST_CHECKSUM_CALCULATION',
  responseChecksumValidation: 'AWS_RESPONSE_CHECKSUM_VALIDATION',
} as const;

/**
 * The S3 → ingest queue notification filter, the CDK stack's and the local stack's: the prefix only.
 * A suffix filter is case-sensitive (`.XLSX` would never trigger) and would leave a .xls or .csv
 * without an answer; ingest decides by the file name (core/ingest.ts isXlsxName).
 */
export const UPLOAD_PREFIX = 'uploads/';

export const DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

export interface Config {
  uploadsBucket: string;
  reportsBucket: string;
  tableName: string;
  alertsTopicArn?: string;
  opsTopicArn?: string;
  maxUploadBytes: number;
  /** true against s3rver (path-style URLs); false in AWS */
  s3ForcePathStyle: boolean;
  portalBaseUrl?: string;
  /** the counties this deployment serves (scheduled consolidation and digests); absent: every county in the registry */
  counties?: string[];
  /** the user pool the portal signs people in with (portal function only) */
  userPool?: { userPoolId: string; clientId: string; jwksUrl?: string };
  /** the ingest queue's URL (the scheduled function's reconciliation sends to it) */
  uploadQueueUrl?: string;
  /** AWS_REGION as the SDK will see it (informational) */
  region?: string;
  /** endpoint overrides the SDK will use (informational: the SDK reads them itself) */
  endpoints: { s3?: string; dynamodb?: string; sns?: string; sqs?: string };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

/** An unset variable and an empty one are the same thing (CDK and shells both produce ''). */
const optional = <T extends z.ZodMiniType>(schema: T) => z.pipe(
  z.transform((v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v)),
  z.optional(schema),
);

const bucketName = z.string().check(z.regex(/^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'not a valid S3 bucket name (3–63 of a-z 0-9 . -)'));
const tableName = z.string().check(z.regex(/^[A-Za-z0-9_.-]{3,255}$/, 'not a valid DynamoDB table name (3–255 of A-Z a-z 0-9 _ . -)'));
const topicArn = z.string().check(z.regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/, 'not an SNS topic ARN'));
const url = z.string().check(z.refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), 'not an http(s) URL'));
// no z.coerce: it turns '' into 0 and '0x1A' into 26
const positiveInt = z.pipe(z.string().check(z.regex(/^[1-9]\d{0,15}$/, 'not a positive integer (bytes)')), z.transform(Number)).check(z.refine(Number.isSafeInteger, 'too large'));
const bool = z.pipe(z.enum(['true', 'false'], { message: "must be 'true' or 'false'" }), z.transform((v) => v === 'true'));

const schema = z.object({
  [ENV.uploadsBucket]: bucketName,
  [ENV.reportsBucket]: bucketName,
  [ENV.tableName]: tableName,
  [ENV.alertsTopicArn]: optional(topicArn),
  [ENV.opsTopicArn]: optional(topicArn),
  [ENV.maxUploadBytes]: optional(positiveInt),
  [ENV.s3ForcePathStyle]: optional(bool),
  [ENV.portalBaseUrl]: optional(url),
  [ENV.counties]: optional(
    z.pipe(
      z.string().check(z.regex(/^\d{6}(,\d{6})*$/, 'not a comma-separated list of 6-digit county codes')),
      z.transform((s) => s.split(',')),
    ),
  ),
  [ENV.userPoolId]: optional(z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d_[0-9A-Za-z]+$/, 'not a Cognito user pool id'))),
  [ENV.userPoolClientId]: optional(z.string().check(z.regex(/^[0-9A-Za-z]{1,128}$/, 'not a user pool client id'))),
  [ENV.userPoolJwksUrl]: optional(url),
  [ENV.uploadQueueUrl]: optional(url),
  [AWS_ENV.region]: optional(z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'not an AWS region'))),
  [AWS_ENV.endpointS3]: optional(url),
  [AWS_ENV.endpointDynamoDb]: optional(url),
  [AWS_ENV.endpointSns]: optional(url),
  [AWS_ENV.endpointSqs]: optional(url),
});

/** Validates an environment map. Pure: tests pass their own map. Throws ConfigError listing every problem. */
export function loadConfig(env: Env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? '?');
      const value = env[name];
      const shown = value === undefined ? 'unset' : JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
      return `  ${name} (${shown}): ${value === undefined ? 'required' : i.message}`;
    });
    throw new ConfigError(`invalid environment (配置错误):\n${problems.join('\n')}`);
  }
  const e = parsed.data;
  const config: Config = {
    uploadsBucket: e[ENV.uploadsBucket],
    reportsBucket: e[ENV.reportsBucket],
    tableName: e[ENV.tableName],
    maxUploadBytes: e[ENV.maxUploadBytes] ?? DEFAULT_MAX_UPLOAD_BYTES,
    s3ForcePathStyle: e[ENV.s3ForcePathStyle] ?? false,
    endpoints: {},
  };
  if (e[ENV.alertsTopicArn]) config.alertsTopicArn = e[ENV.alertsTopicArn];
  if (e[ENV.opsTopicArn]) config.opsTopicArn = e[ENV.opsTopicArn];
  if (e[ENV.portalBaseUrl]) config.portalBaseUrl = e[ENV.portalBaseUrl];
  if (e[ENV.counties]) config.counties = e[ENV.counties];
  const [poolId, clientId, jwksUrl] = [e[ENV.userPoolId], e[ENV.userPoolClientId], e[ENV.userPoolJwksUrl]];
  if (poolId && clientId) config.userPool = { userPoolId: poolId, clientId, ...(jwksUrl ? { jwksUrl } : {}) };
  if (e[ENV.uploadQueueUrl]) config.uploadQueueUrl = e[ENV.uploadQueueUrl];
  if (e[AWS_ENV.region]) config.region = e[AWS_ENV.region];
  if (e[AWS_ENV.endpointS3]) config.endpoints.s3 = e[AWS_ENV.endpointS3];
  if (e[AWS_ENV.endpointDynamoDb]) config.endpoints.dynamodb = e[AWS_ENV.endpointDynamoDb];
  if (e[AWS_ENV.endpointSns]) config.endpoints.sns = e[AWS_ENV.endpointSns];
  if (e[AWS_ENV.endpointSqs]) config.endpoints.sqs = e[AWS_ENV.endpointSqs];
  return Object.freeze(config);
}

let cached: Config | undefined;

/** process.env, read and validated once per process (a Lambda cold start). */
export function config(): Config {
  cached ??= loadConfig(process.env);
  return cached;
}

/** Forget the cached config (tests that change process.env). */
export function resetConfig(): void {
  cached = undefined;
}
