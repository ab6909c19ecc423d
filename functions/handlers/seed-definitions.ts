/**
 * CloudFormation custom resource (infra/constructs/definitions.ts): on the first deployment, stores the
 * bundled initial definitions (schemas/) unless the table already names some; never replaces the
 * commission's. Answers CloudFormation itself (the pre-signed ResponseURL), always: a handler that
 * never answered would hold the deployment for an hour.
 */
import { request } from 'node:https';
import { bundledLog } from '../../schemas/index.ts';
import { seedDefinitions } from '../adapters/dynamo/definitions.ts';
import { awsDeps } from './deps.ts';
import { log } from './s3-event.ts';

/** The part of CloudFormation's custom resource event this reads. */
export interface CustomResourceEvent {
  RequestType: 'Create' | 'Update' | 'Delete';
  ResponseURL: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  PhysicalResourceId?: string;
}

export const SEED_RESOURCE_ID = 'hmis-definitions-seed';

export async function handler(event: CustomResourceEvent): Promise<void> {
  let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
  let reason = '';
  let seeded = false;
  try {
    // nothing to undo on Delete: the definitions are the commission's data, retained with the table
    if (event.RequestType !== 'Delete') seeded = await seedDefinitions(awsDeps().definitionsStore, bundledLog());
    log('info', 'definitions seed', { requestType: event.RequestType, seeded });
  } catch (err) {
    status = 'FAILED';
    reason = err instanceof Error ? err.message : String(err);
    log('error', 'definitions seed failed', { error: reason });
  }
  await respond(event.ResponseURL, {
    Status: status,
    Reason: reason || `seeded: ${seeded}`,
    PhysicalResourceId: event.PhysicalResourceId ?? SEED_RESOURCE_ID,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: { Seeded: String(seeded) },
  });
}

function respond(url: string, body: Record<string, unknown>): Promise<void> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(text) } }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end(text);
  });
}
