/**
 * vitest globalSetup: ONE local stack (S3, DynamoDB in memory, SNS, upload trigger) for the whole
 * run, on free ports, in a fresh temporary data dir; removed at teardown.
 *
 * Tests read it with `inject('stack')`:
 *   const stack = inject('stack');
 *   const clients = makeClients(stack);             // functions/adapters/aws/clients.ts
 *   // or, for handler code that reads process.env: Object.assign(process.env, stack.env)
 *   await waitIdle(stack);                         // uploads processed (functions/adapters/local/stack.ts)
 *
 * Uploads to s3://hmis-uploads/uploads/…xlsx trigger the ingest handler
 * (functions/handlers/ingest-upload.ts, loaded at the first upload, in this main vitest process,
 * with the stack's environment), exactly as in AWS; when that file does not exist the event is
 * only logged. Set HMIS_TEST_TRIGGER=off to store uploads without running anything.
 *
 * Cost: about 1 s per run (loading s3rver, dynalite and the AWS SDK ~0.9 s, starting ~0.06 s);
 * HMIS_TEST_STACK_TIMING=1 prints it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tsImport } from 'tsx/esm/api';
import type { TestProject } from 'vitest/node';
import type { LocalStack, StackEndpoints } from '../../functions/adapters/local/stack.ts';

type LocalModule = typeof import('../../functions/adapters/local/index.ts');

export interface ProvidedStack extends StackEndpoints {
  /** the stack's data dir (alerts.jsonl, dead-letter.jsonl, endpoints.json…) */
  dataDir: string;
  /** the environment a handler needs (UPLOADS_BUCKET…, AWS_ENDPOINT_URL_*…) */
  env: Record<string, string>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: ProvidedStack;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = performance.now();
  // Loaded by Node (through tsx), not by vitest's module runner: the runner would transform the
  // AWS SDK's ESM build file by file (3–4 s for @aws-sdk/client-dynamodb alone, against 0.2 s).
  const { startLocalStack, lazyUploadHandler } = (await tsImport('../../functions/adapters/local/index.ts', import.meta.url)) as LocalModule;
  const dataDir = await mkdtemp(join(tmpdir(), 'hmis-test-stack-'));
  let stack: LocalStack | undefined;
  const trigger = process.env.HMIS_TEST_TRIGGER !== 'off';
  stack = await startLocalStack({
    dataDir,
    dynamodbInMemory: true,
    retryDelaysMs: [100, 200],
    ...(trigger ? { onUpload: lazyUploadHandler(() => stack!.env) } : {}),
    log: (line) => console.error(line),
  });
  project.provide('stack', { ...stack.endpoints, dataDir, env: stack.env });
  if (process.env.HMIS_TEST_STACK_TIMING) console.error(`[global setup] local stack up in ${(performance.now() - started).toFixed(0)} ms`);
  return async () => {
    await stack?.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
