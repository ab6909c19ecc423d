/**
 * Which handler the local trigger calls: the ingest Lambda's own module
 * (functions/handlers/ingest-upload.ts, `export async function handler(event: S3Event)`), loaded the
 * way Lambda loads it: the environment is in place BEFORE the module is imported, since handlers
 * read their configuration once, at cold start.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeKey, s3RecordsOf } from '../../handlers/s3-event.ts';
import type { UploadHandler } from './queue.ts';

export const INGEST_HANDLER_URL = new URL('../../handlers/ingest-upload.ts', import.meta.url);

/** Sets the variables on process.env (the handler process's environment). */
export function applyEnv(env: Record<string, string>): void {
  for (const [name, value] of Object.entries(env)) process.env[name] = value;
}

/** Used while the ingest handler does not exist yet: logs what it would have been given. */
export function loggingHandler(log: (line: string) => void = console.log): UploadHandler {
  return (event) => {
    for (const r of event.Records.flatMap((m) => s3RecordsOf(m.body))) {
      log(`[local lambda] (no handler) ${r.eventName} s3://${r.s3.bucket.name}/${decodeKey(r.s3.object.key)} (${r.s3.object.size} B)`);
    }
    return { batchItemFailures: [] };
  };
}

export interface LoadedHandler {
  handler: UploadHandler;
  /** file of the handler, or 'log' when there is none */
  source: string;
}

/**
 * Applies `env`, then imports the ingest handler if its file exists (else the logging handler).
 * `url` overrides the module (tests).
 */
export async function loadUploadHandler(env: Record<string, string>, options: { url?: URL; log?: (line: string) => void } = {}): Promise<LoadedHandler> {
  applyEnv(env);
  const url = options.url ?? INGEST_HANDLER_URL;
  const path = fileURLToPath(url);
  if (!existsSync(path)) return { handler: loggingHandler(options.log), source: 'log' };
  const mod = (await import(url.href)) as { handler?: unknown; default?: { handler?: unknown } };
  const handler = mod.handler ?? mod.default?.handler;
  if (typeof handler !== 'function') throw new Error(`${path} does not export a function named handler`);
  return { handler: handler as UploadHandler, source: path };
}

/**
 * The same, deferred to the first upload: a handler that does not load (work in progress) fails
 * that upload (retries, then the dead-letter file) instead of the stack's start. `env` may be a
 * getter, for a stack whose ports are known only once it runs.
 */
export function lazyUploadHandler(
  env: Record<string, string> | (() => Record<string, string>),
  options: { url?: URL; log?: (line: string) => void } = {},
): UploadHandler {
  let loading: Promise<LoadedHandler> | undefined;
  return async (event, context) => {
    loading ??= loadUploadHandler(typeof env === 'function' ? env() : env, options);
    const { handler } = await loading;
    return handler(event, context);
  };
}
