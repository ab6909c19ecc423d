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
 * Cost: the stack starts in about a tenth of a second (see the report in the commit message).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { lazyUploadHandler } from '../../functions/adapters/local/handler.ts';
import { startLocalStack, type LocalStack, type StackEndpoints } from '../../functions/adapters/local/stack.ts';

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
