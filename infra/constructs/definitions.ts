/**
 * The commission's definitions (functions/core/definitions): one object per version under
 * definitions/ in the reports bucket and the item DEFS / HEAD in the table naming the newest.
 *
 *  - every function reads them (a GetItem of the head at most every 30 s, the log object when it moved);
 *  - the portal writes them (定义管理: a new object, then the head by a conditional write);
 *  - the first deployment stores the bundled initial definitions (schemas/) through a custom resource
 *    that never replaces what is there: later deployments leave the commission's definitions alone.
 */
import { createHash } from 'node:crypto';
import { CustomResource, Duration } from 'aws-cdk-lib';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DEFINITIONS_KEY, DEFINITIONS_PREFIX } from '../../functions/adapters/dynamo/definitions.ts';
import { bundledLog } from '../../schemas/index.ts';
import { DefaultFunction } from './defaults.ts';
import type { Storage } from './storage.ts';

/** A function may read the definitions: the log objects (its table grants already include GetItem). */
export function readDefinitions(f: DefaultFunction, storage: Storage): void {
  f.allow('ReadDefinitions', ['s3:GetObject'], [storage.reports.arnForObjects(`${DEFINITIONS_PREFIX}*`)], 'Definitions versions, one object per version, under definitions/ only.');
}

/** A function may store a definitions version: the log object, then the head item only (LeadingKeys DEFS). */
export function writeDefinitions(f: DefaultFunction, storage: Storage): void {
  f.allow('WriteDefinitions', ['s3:PutObject'], [storage.reports.arnForObjects(`${DEFINITIONS_PREFIX}*`)], 'Definitions versions, one object per version, under definitions/ only.');
  f.allow('MoveDefinitionsHead', ['dynamodb:GetItem', 'dynamodb:PutItem'], [storage.table.tableArn], undefined, { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [DEFINITIONS_KEY.PK] } });
}

export interface DefinitionsSeedProps {
  storage: Storage;
  ops: sns.ITopic;
  environment: Record<string, string>;
  logRetentionDays: number;
}

export class DefinitionsSeed extends Construct {
  readonly function: DefaultFunction;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: DefinitionsSeedProps) {
    super(scope, id);
    this.function = new DefaultFunction(this, 'Seed', {
      handler: 'seed-definitions',
      description: 'deploy time: stores the initial definitions unless the table already names some',
      memorySize: 512,
      timeout: Duration.minutes(1),
      environment: props.environment,
      logRetentionDays: props.logRetentionDays,
      opsTopic: props.ops,
    });
    writeDefinitions(this.function, props.storage);
    // runs on create, and on update when the bundled seed changed (it still writes only into an empty store)
    this.resource = new CustomResource(this, 'Initial', {
      serviceToken: this.function.fn.functionArn,
      resourceType: 'Custom::HmisDefinitionsSeed',
      properties: { Seed: createHash('sha256').update(JSON.stringify(bundledLog())).digest('hex').slice(0, 16) },
    });
  }
}
