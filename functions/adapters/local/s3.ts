/// <reference path="../../../types/s3rver.d.ts" />
/**
 * Local S3: s3rver in-process, objects on disk under `directory`, behind the S3 front
 * (functions/adapters/local/s3-front.ts: credentials, POST policies, `..`, CORS, object versions).
 * At start, what a kill left half-written is mended first (repairS3).
 *
 * Clients must use path-style URLs, credentials S3RVER/S3RVER (unsigned requests and any other key
 * id get 403) and the WHEN_REQUIRED checksum settings (functions/adapters/aws/clients.ts).
 *
 * Continuation tokens: s3rver encrypts them with single DES ('des'), which OpenSSL 3 (Node ≥ 17)
 * refuses unless the process runs with --openssl-legacy-provider, so every paginated
 * ListObjectsV2 answers 500. The token functions are private to s3rver's bucket controller, so
 * `patchContinuationTokens()` wraps crypto.createCipheriv/createDecipheriv instead, narrowly: only a
 * call with algorithm 'des' and s3rver's fixed key is rewritten to 'des-ede3-cbc' with the key
 * repeated three times (3DES with K1=K2=K3 is single DES: the tokens are bit-for-bit the same).
 * Every other call goes through untouched; nothing is patched when 'des' works already.
 */
import crypto, { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import S3rver from 's3rver';
import { closeServer, listen } from './listen.ts';
import { startS3Front } from './s3-front.ts';
import { VersionStore, type VersionMeta } from './versions.ts';

export interface LocalS3Options {
  /** where objects live (created if missing); s3rver has no in-memory store */
  directory: string;
  /** where the versioned buckets keep their versions (functions/adapters/local/versions.ts) */
  versionsDirectory: string;
  /** 0 = a free port */
  port?: number;
  /** created at start if missing */
  buckets?: string[];
  /** buckets that keep object versions (uploads) */
  versioned?: string[];
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  /** a write to a versioned bucket, once kept (before the client's answer) */
  onObjectCreated?: (version: VersionMeta) => void;
  /** the upload time of new versions (a simulated clock); default the real one */
  clock?: () => Date;
  log?: (line: string) => void;
}

export interface LocalS3 {
  url: string;
  port: number;
  server: S3rver;
  versions: VersionStore;
  /** what the start found and mended (torn writes removed, versions restored or adopted) */
  repaired: Repaired;
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

/** What a kill left behind, mended before s3rver starts. */
export interface Repaired {
  /** objects of a write that never finished (no answer was given): removed, so that listing works */
  removed: string[];
  /** versioned keys whose current object was torn or missing: rewritten from their newest version */
  restored: string[];
  /** complete objects of a versioned bucket without a version (written, killed before the version was kept; or a data dir of an earlier release): kept as new versions */
  adopted: VersionMeta[];
}

const SUFFIX = { object: '._S3rver_object', md5: '._S3rver_object.md5', metadata: '._S3rver_metadata.json' } as const;

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== '._S3rver_uploads') out.push(...(await walk(path)));
    } else out.push(path);
  }
  return out;
}

/**
 * Makes s3rver's directory consistent after a kill: an object whose three files (bytes, MD5, metadata)
 * are not all there and agreeing is a write that never finished: removed (a 0-byte metadata file would
 * make every listing fail). In versioned buckets the current object then equals the newest version:
 * restored from it when torn or missing; a complete object without a version is adopted as one.
 */
export async function repairS3(directory: string, versions: VersionStore, versioned: readonly string[], principal: string): Promise<Repaired> {
  const repaired: Repaired = { removed: [], restored: [], adopted: [] };
  for (const bucket of await readdir(directory).catch(() => [] as string[])) {
    const root = join(directory, bucket);
    const complete = new Map<string, string>(); // key → md5
    const bases = new Set<string>();
    for (const file of await walk(root)) {
      const suffix = Object.values(SUFFIX).find((x) => file.endsWith(x));
      if (suffix && file !== join(root, suffix)) bases.add(file.slice(0, -suffix.length));
    }
    for (const base of bases) {
      const key = relative(root, base).split(sep).join('/');
      const [bytes, md5, metadata] = await Promise.all([
        readFile(base + SUFFIX.object).catch(() => null),
        readFile(base + SUFFIX.md5, 'utf8').catch(() => null),
        readFile(base + SUFFIX.metadata, 'utf8')
          .then((t) => JSON.parse(t) as Record<string, string>)
          .catch(() => null),
      ]);
      const ok = bytes && md5 && metadata && createHash('md5').update(bytes).digest('hex') === md5.trim();
      if (!ok) {
        await Promise.all(Object.values(SUFFIX).map((x) => rm(base + x, { force: true })));
        repaired.removed.push(`${bucket}/${key}`);
        continue;
      }
      complete.set(key, md5.trim());
      if (versioned.includes(bucket) && versions.latest(bucket, key)?.etag !== md5.trim()) {
        const meta = Object.fromEntries(Object.entries(metadata).filter(([k]) => k.startsWith('x-amz-meta-')));
        const contentType = metadata['content-type'];
        repaired.adopted.push(await versions.add({ bucket, key, etag: md5.trim(), size: bytes.length, ...(contentType ? { contentType } : {}), metadata: meta, eventName: 'ObjectCreated:Put', principal }, bytes));
      }
    }
    if (!versioned.includes(bucket)) continue;
    for (const key of versions.keys(bucket)) {
      const latest = versions.latest(bucket, key);
      if (!latest || complete.get(key) === latest.etag) continue;
      const base = join(root, ...key.split('/'));
      await mkdir(dirname(base), { recursive: true });
      await writeFile(base + SUFFIX.object, await versions.bytes(latest));
      await writeFile(base + SUFFIX.md5, latest.etag);
      await writeFile(base + SUFFIX.metadata, JSON.stringify({ ...(latest.contentType ? { 'content-type': latest.contentType } : {}), ...latest.metadata }, null, 2));
      repaired.restored.push(`${bucket}/${key}`);
    }
  }
  return repaired;
}

/** s3rver on a private unix socket, and the S3 front (functions/adapters/local/s3-front.ts) on 127.0.0.1. */
export async function startS3(options: LocalS3Options): Promise<LocalS3> {
  patchContinuationTokens();
  await mkdir(options.directory, { recursive: true });
  const versioned = options.versioned ?? [];
  const versions = await VersionStore.open(options.versionsDirectory);
  const repaired = await repairS3(options.directory, versions, versioned, `AWS:${options.credentials.accessKeyId}`);
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
  // server.run() would listen without an 'error' listener. Same steps, with the error handled:
  // buckets, then Koa's request handler on our own http.Server, on a socket only this user can reach.
  await server.configureBuckets();
  const socketDir = await mkdtemp(join(tmpdir(), 'hmis-s3-'));
  const socket = join(socketDir, 's3rver.sock');
  const http = createServer(server.callback());
  await listen(http, socket);
  http.on('close', () => server.logger?.close());
  server.httpServer = http;
  let front: Server;
  try {
    front = await startS3Front({
      port: options.port ?? 0,
      upstreamSocket: socket,
      credentials: options.credentials,
      region: options.region,
      versioned,
      versions,
      ...(options.onObjectCreated ? { onObjectCreated: options.onObjectCreated } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
  } catch (err) {
    await closeServer(http);
    await rm(socketDir, { recursive: true, force: true });
    throw err;
  }
  const address = front.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    server,
    versions,
    repaired,
    async close() {
      await closeServer(front);
      await closeServer(http);
      await rm(socketDir, { recursive: true, force: true });
    },
  };
}
