/**
 * AWS SDK v3 clients, the same in Lambda and on one machine.
 *
 * - `s3Client()`, `dynamoClient()`, `snsClient()`, `sqsClient()`: one client per process (created at first use),
 *   configured from the environment. Endpoints, region and credentials come from the SDK's own
 *   standard variables (AWS_ENDPOINT_URL_S3 / _DYNAMODB / _SNS / _SQS, AWS_REGION, AWS_ACCESS_KEY_ID…):
 *   the SDK reads them itself, so in AWS nothing is set and the real endpoints are used.
 * - `makeClients(endpoints)`: explicit clients for tests and the CLI, built from an endpoints object
 *   (the local stack's endpoints.json), never reading process.env for endpoints or credentials.
 *
 * Checksums: 'WHEN_REQUIRED' both ways. With the SDK default ('WHEN_SUPPORTED') a streamed PutObject
 * body is sent aws-chunked with a trailing checksum, which s3rver stores framing and all (a corrupt
 * object); real S3 is indifferent, so the same setting is used everywhere.
 */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { config } from '../../config.ts';

/** SDK default is 3 (1 try + 2 retries, with backoff and throttling-aware retry): keep it explicit. */
export const MAX_ATTEMPTS = 3;

/**
 * Socket timeouts: a dead endpoint fails in seconds, not the Lambda timeout. requestTimeout is the
 * socket idle time, not the total (a 10 MiB upload read is fine).
 */
const REQUEST_HANDLER = { connectionTimeout: 3_000, requestTimeout: 30_000 } as const;

const CHECKSUMS = { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } as const;

let s3: S3Client | undefined;
let dynamo: DynamoDBClient | undefined;
let sns: SNSClient | undefined;
let cognito: CognitoIdentityProviderClient | undefined;
let sqs: SQSClient | undefined;

export function s3Client(): S3Client {
  s3 ??= new S3Client({
    forcePathStyle: config().s3ForcePathStyle,
    ...CHECKSUMS,
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: REQUEST_HANDLER,
  });
  return s3;
}

export function dynamoClient(): DynamoDBClient {
  dynamo ??= new DynamoDBClient({ maxAttempts: MAX_ATTEMPTS, requestHandler: REQUEST_HANDLER });
  return dynamo;
}

export function snsClient(): SNSClient {
  sns ??= new SNSClient({ maxAttempts: MAX_ATTEMPTS, requestHandler: REQUEST_HANDLER });
  return sns;
}

export function cognitoClient(): CognitoIdentityProviderClient {
  cognito ??= new CognitoIdentityProviderClient({ maxAttempts: MAX_ATTEMPTS, requestHandler: REQUEST_HANDLER });
  return cognito;
}

export function sqsClient(): SQSClient {
  sqs ??= new SQSClient({ maxAttempts: MAX_ATTEMPTS, requestHandler: REQUEST_HANDLER });
  return sqs;
}

/** Closes the per-process clients' sockets and forgets them (CLI shutdown, tests that change env). */
export function resetClients(): void {
  s3?.destroy();
  dynamo?.destroy();
  sns?.destroy();
  cognito?.destroy();
  sqs?.destroy();
  s3 = dynamo = sns = cognito = sqs = undefined;
}

/** Where the services are: the shape of the local stack's endpoints.json (extra fields ignored). */
export interface ClientEndpoints {
  s3: string;
  dynamodb: string;
  sns: string;
  sqs: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** the user pool (the local stand-in: functions/adapters/local/idp.ts) */
  cognito?: UserPoolEndpoint;
}

/** Where a user pool answers and who it is. */
export interface UserPoolEndpoint {
  /** the Cognito API endpoint (the stand-in's address locally) */
  url: string;
  userPoolId: string;
  clientId: string;
  /** the JWKS, when not at Cognito's own address */
  jwksUrl: string;
}

export interface Clients {
  s3: S3Client;
  dynamodb: DynamoDBClient;
  sns: SNSClient;
  /** the user pool's API, when the endpoints name one */
  cognito: CognitoIdentityProviderClient | null;
  sqs: SQSClient;
  /** closes the clients' sockets */
  destroy(): void;
}

/**
 * Clients pointed explicitly at `endpoints` (path-style S3, the given credentials and region).
 * Not memoised: the caller owns them and calls destroy().
 */
export function makeClients(endpoints: ClientEndpoints, options: { maxAttempts?: number } = {}): Clients {
  const common = {
    region: endpoints.region,
    credentials: { accessKeyId: endpoints.credentials.accessKeyId, secretAccessKey: endpoints.credentials.secretAccessKey },
    maxAttempts: options.maxAttempts ?? MAX_ATTEMPTS,
    requestHandler: REQUEST_HANDLER,
  };
  const clients = {
    s3: new S3Client({ ...common, endpoint: endpoints.s3, forcePathStyle: true, ...CHECKSUMS }),
    dynamodb: new DynamoDBClient({ ...common, endpoint: endpoints.dynamodb }),
    sns: new SNSClient({ ...common, endpoint: endpoints.sns }),
    cognito: endpoints.cognito ? new CognitoIdentityProviderClient({ ...common, endpoint: endpoints.cognito.url }) : null,
    sqs: new SQSClient({ ...common, endpoint: endpoints.sqs }),
    destroy() {
      clients.s3.destroy();
      clients.dynamodb.destroy();
      clients.sns.destroy();
      clients.cognito?.destroy();
      clients.sqs.destroy();
    },
  };
  return clients;
}
