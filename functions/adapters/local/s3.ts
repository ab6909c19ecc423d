/// <reference path="../../../types/s3rver.d.ts" />
/**
 * Local S3: s3rver in-process on 127.0.0.1, objects on disk under `directory`.
 *
 * Clients must use path-style URLs, credentials S3RVER/S3RVER (any other key id gets 403) and the
 * WHEN_REQUIRED checksum settings (functions/adapters/aws/clients.ts).
 *
 * Continuation tokens: s3rver encrypts them with single DES ('des'), which OpenSSL 3 (Node ≥ 17)
 * refuses unless the process runs with --openssl-legacy-provider, so every paginated
 * ListObjectsV2 answers 500. The token functions are private to s3rver's bucket controller, so
 * `patchContinuationTokens()` wraps crypto.createCipheriv/createDecipheriv instead, narrowly: only a
 * call with algorithm 'des' and s3rver's fixed key is rewritten to 'des-ede3-cbc' with the key
 * repeated three times (3DES with K1=K2=K3 is single DES: the tokens are bit-for-bit the same).
 * Every other call goes through untouched; nothing is patched when 'des' works already.
 */
import crypto from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';

export interface LocalS3Options {
  /** where objects live (created if missing); s3rver has no in-memory store */
  directory: string;
  /** 0 = a free port */
  port?: number;
  /** created at start if missing */
  buckets?: string[];
}

export interface LocalS3 {
  url: string;
  port: number;
  server: S3rver;
  close(): Promise<void>;
}

const S3RVER_TOKEN_KEY = Buffer.alloc(8, 'S3RVER', 'utf8');
let patched = false;

function desWorks(): boolean {
  try {
    crypto.createCipheriv('des', S3RVER_TOKEN_KEY, Buffer.alloc(8));
    return true;
  } catch {
    return false;
  }
}

/** Idempotent. Returns whether a patch is in place (false: 'des' works natively). */
export function patchContinuationTokens(): boolean {
  if (patched) return true;
  if (desWorks()) return false;
  const { createCipheriv, createDecipheriv } = crypto;
  const rewrite = (algorithm: string, key: unknown): [string, Buffer] | null =>
    algorithm === 'des' && Buffer.isBuffer(key) && key.equals(S3RVER_TOKEN_KEY)
      ? ['des-ede3-cbc', Buffer.concat([key, key, key])]
      : null;
  crypto.createCipheriv = function (this: unknown, algorithm: string, key: crypto.CipherKey, ...rest: unknown[]) {
    const r = rewrite(algorithm, key);
    return (createCipheriv as (...a: unknown[]) => crypto.Cipher).call(this, ...(r ?? [algorithm, key]), ...rest);
  } as typeof crypto.createCipheriv;
  crypto.createDecipheriv = function (this: unknown, algorithm: string, key: crypto.CipherKey, ...rest: unknown[]) {
    const r = rewrite(algorithm, key);
    return (createDecipheriv as (...a: unknown[]) => crypto.Decipher).call(this, ...(r ?? [algorithm, key]), ...rest);
  } as typeof crypto.createDecipheriv;
  patched = true;
  return true;
}

export async function startS3(options: LocalS3Options): Promise<LocalS3> {
  patchContinuationTokens();
  await mkdir(options.directory, { recursive: true });
  const server = new S3rver({
    silent: true,
    directory: options.directory,
    // path-style only: with vhost buckets on, a Host of <bucket>.localhost would be read as a bucket
    vhostBuckets: false,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  // silent hides s3rver's own log; its 5xx (a bug, not a client error) stay visible
  server.on('error', (err: Error & { status?: number }) => {
    if (!(typeof err.status === 'number' && err.status < 500)) console.error('[local s3] internal error:', err);
  });
  // server.run() would listen without an 'error' listener: a port in use would crash the process.
  // Same steps, with the error handled: buckets, then Koa's request handler on our own http.Server.
  await server.configureBuckets();
  const http = createServer(server.callback());
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  http.on('close', () => server.logger?.close());
  server.httpServer = http;
  const address = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    server,
    async close() {
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      // idle keep-alive sockets of SDK clients would otherwise hold close() open
      http.closeIdleConnections();
      const timer = setTimeout(() => http.closeAllConnections(), 2_000);
      try {
        await closed;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
