/**
 * The functions' code as the stack builds it at synth (infra/bundle.ts): what a cold start of ingest
 * parses leaves out the late modules, each late module is a file of its own that loads, the bundle
 * imports and answers outside the repository, and each handler gets an asset of its own.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../functions/config.ts';
import { bundleFunction, handlerEntry, type BundledFunction } from '../../infra/bundle.ts';
import { DefaultFunction } from '../../infra/constructs/defaults.ts';

const dir = mkdtempSync(join(tmpdir(), 'hmis-bundle-test-'));
let ingest: BundledFunction;

beforeAll(async () => {
  ingest = await bundleFunction(handlerEntry('ingest-upload'), join(dir, 'ingest'));
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const inputsOf = (bundled: BundledFunction, name: string) => Object.keys(Object.values(bundled.files.find((f) => f.name === name)!.metafile.outputs)[0]!.inputs);

/** Runs `code` in a fresh node, in the bundle's directory (no node_modules above it), with a Lambda-like environment. */
function nodeIn(cwd: string, code: string) {
  const env = {
    PATH: process.env.PATH ?? '',
    [ENV.uploadsBucket]: 'hmis-test-uploads',
    [ENV.reportsBucket]: 'hmis-test-reports',
    [ENV.tableName]: 'hmis-test',
    [ENV.alertsTopicArn]: 'arn:aws:sns:us-east-1:123456789012:hmis-test-alerts',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    NODE_NO_WARNINGS: '1', // the SDK warns on Node 20 (its support ends in 2027); Lambda runs 24
  };
  return spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd, env, encoding: 'utf8', timeout: 30_000 });
}

describe('the ingest bundle', () => {
  it('keeps the late modules out of index.mjs, each in a file of its own', () => {
    const names = ingest.files.map((f) => f.name);
    expect(names[0]).toBe('index.mjs');
    expect(names).toEqual(expect.arrayContaining(['functions-core-render-feedback.mjs', 'functions-adapters-sns-alerter.mjs', 'aws-sdk-credential-provider-ini.mjs']));
    expect(readdirSync(ingest.dir).sort()).toEqual([...names].sort());
    const index = inputsOf(ingest, 'index.mjs');
    expect(index.some((p) => p.includes('functions/core/validate/'))).toBe(true);
    for (const late of ['node_modules/exceljs/', 'node_modules/jszip/', 'node_modules/@aws-sdk/client-sns/', 'node_modules/@aws-sdk/credential-provider-ini/', 'node_modules/@aws-sdk/nested-clients/']) {
      expect(index.filter((p) => p.includes(late))).toEqual([]);
    }
    expect(inputsOf(ingest, 'functions-core-render-feedback.mjs').some((p) => p.includes('node_modules/exceljs/'))).toBe(true);
    expect(inputsOf(ingest, 'functions-adapters-sns-alerter.mjs').some((p) => p.includes('node_modules/@aws-sdk/client-sns/'))).toBe(true);
  });

  it('imports and answers outside the repository; its late files load beside it', () => {
    const url = (name: string) => JSON.stringify(pathToFileURL(join(ingest.dir, name)).href);
    const run = nodeIn(
      ingest.dir,
      `const { handler } = await import(${url('index.mjs')});
       const answer = await handler({ Records: [] });
       const feedback = await import(${url('functions-core-render-feedback.mjs')});
       const alerter = await import(${url('functions-adapters-sns-alerter.mjs')});
       const ini = await import(${url('aws-sdk-credential-provider-ini.mjs')});
       console.log(JSON.stringify({ answer, feedback: typeof feedback.buildFeedback, alerter: typeof alerter.processAlerter('arn:aws:sns:us-east-1:123456789012:t').publish, ini: typeof ini.fromIni }));`,
    );
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ answer: { batchItemFailures: [] }, feedback: 'function', alerter: 'function', ini: 'function' });
  });
});

describe('the stack', () => {
  it('bundles each handler into an asset of its own', () => {
    const app = new App({ outdir: join(dir, 'cdk.out') });
    const stack = new Stack(app, 'hmis-bundle-test');
    const opsTopic = new sns.Topic(stack, 'Ops');
    const common = { memorySize: 256, timeout: Duration.seconds(10), environment: {}, logRetentionDays: 30, opsTopic };
    const a = new DefaultFunction(stack, 'Ingest', { ...common, handler: 'ingest-upload', description: 'ingest' });
    const b = new DefaultFunction(stack, 'Seed', { ...common, handler: 'seed-definitions', description: 'seed' });
    const key = (f: DefaultFunction) => stack.resolve((f.fn.node.defaultChild as lambda.CfnFunction).code) as { s3Key: string };
    expect(key(a).s3Key).not.toBe(key(b).s3Key);
    app.synth();
    const assets = readdirSync(join(dir, 'cdk.out')).filter((n) => n.startsWith('asset.'));
    const listings = assets.map((n) => readdirSync(join(dir, 'cdk.out', n)));
    expect(listings).toHaveLength(2);
    for (const files of listings) expect(files).toContain('index.mjs');
    expect(listings.find((files) => files.includes('functions-core-render-feedback.mjs'))).toBeDefined();
  }, 120_000);
});
