/**
 * Object versions of the local stack's versioned bucket (uploads), as S3 keeps them: every PUT of a
 * key keeps its bytes under a new version id; GET with versionId reads that exact version.
 *
 *   <dir>/<bucket>/<sha256(key)[0..32]>/<versionId>.bin    the bytes
 *   <dir>/<bucket>/<sha256(key)[0..32]>/<versionId>.json   what S3 would say of it (written last, renamed into place)
 *
 * A version exists once its .json is there: the S3 front writes it before it answers the PUT, so an
 * acknowledged upload is on disk even if the process is killed the next instant (that is the local
 * stack's journal; the start-up reconciliation processes whatever the queue had not). A .bin without
 * its .json (killed half-way: never acknowledged) is removed when the store opens.
 *
 * Version ids are time-ordered hex (sortable, like the events' sequencers): listing newest first is
 * sorting by id.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface VersionMeta {
  bucket: string;
  key: string;
  versionId: string;
  /** MD5 hex, no quotes (as s3rver computes it) */
  etag: string;
  size: number;
  /** ISO, ms; strictly increasing per key */
  lastModified: string;
  contentType?: string;
  /** x-amz-meta-* headers, lower case, with the prefix */
  metadata: Record<string, string>;
  /** the event's sequencer */
  sequencer: string;
  /** ObjectCreated:Put | Post | Copy | CompleteMultipartUpload, or ObjectRemoved:DeleteMarkerCreated */
  eventName: string;
  /** who wrote it: the S3 event's userIdentity.principalId */
  principal?: string;
  deleteMarker?: boolean;
}

let lastSequencer = 0n;
/** 16 hex digits, strictly increasing within the process, time-based across restarts. */
export function nextSequencer(): string {
  const now = BigInt(Date.now()) << 12n;
  lastSequencer = now > lastSequencer ? now : lastSequencer + 1n;
  return lastSequencer.toString(16).toUpperCase().padStart(16, '0');
}

const keyDir = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 32);

async function writeDurably(file: string, data: Uint8Array | string): Promise<void> {
  const handle = await open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The first index of `sorted` whose value is not below `value`. */
function lowerBound(sorted: readonly string[], value: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class VersionStore {
  /** bucket → key → versions, oldest first */
  private readonly index = new Map<string, Map<string, VersionMeta[]>>();
  /** bucket → its keys, sorted (a listing by prefix is a range of it) */
  private readonly sorted = new Map<string, string[]>();

  private constructor(private readonly dir: string) {}

  /** Loads every complete version; removes what a kill left half-written. */
  static async open(dir: string): Promise<VersionStore> {
    const store = new VersionStore(dir);
    await mkdir(dir, { recursive: true });
    for (const bucket of await readdir(dir)) {
      for (const hash of await readdir(join(dir, bucket)).catch(() => [] as string[])) {
        const folder = join(dir, bucket, hash);
        const names = await readdir(folder).catch(() => [] as string[]);
        for (const name of names) {
          const file = join(folder, name);
          if (name.endsWith('.json')) {
            const meta = await readFile(file, 'utf8')
              .then((t) => JSON.parse(t) as VersionMeta)
              .catch(() => null);
            const bytes = join(folder, name.replace(/\.json$/, '.bin'));
            if (!meta || (!meta.deleteMarker && !existsSync(bytes))) {
              await rm(file, { force: true });
              continue;
            }
            store.remember(meta);
          } else if (name.endsWith('.bin') && !names.includes(name.replace(/\.bin$/, '.json'))) {
            await rm(file, { force: true });
          } else if (name.endsWith('.tmp')) {
            await rm(file, { force: true });
          }
        }
      }
    }
    for (const keys of store.index.values()) for (const list of keys.values()) list.sort((a, b) => (a.versionId < b.versionId ? -1 : 1));
    return store;
  }

  private remember(meta: VersionMeta): void {
    const keys = this.index.get(meta.bucket) ?? new Map<string, VersionMeta[]>();
    this.index.set(meta.bucket, keys);
    let list = keys.get(meta.key);
    if (!list) {
      keys.set(meta.key, (list = []));
      const sorted = this.sorted.get(meta.bucket) ?? [];
      this.sorted.set(meta.bucket, sorted);
      sorted.splice(lowerBound(sorted, meta.key), 0, meta.key);
    }
    list.push(meta);
  }

  private folder(bucket: string, key: string): string {
    return join(this.dir, bucket, keyDir(key));
  }

  /** Keeps a new version (or delete marker) of `key`, durably, and returns it. Callers serialise writes per key. `now`: a simulated clock's time. */
  async add(fields: Omit<VersionMeta, 'versionId' | 'sequencer' | 'lastModified'>, bytes: Uint8Array | null, now = new Date()): Promise<VersionMeta> {
    const previous = this.latest(fields.bucket, fields.key, true);
    const at = Math.max(now.getTime(), previous ? Date.parse(previous.lastModified) + 1 : 0);
    const sequencer = nextSequencer();
    const meta: VersionMeta = { ...fields, versionId: `${sequencer}${randomBytes(4).toString('hex').toUpperCase()}`, sequencer, lastModified: new Date(at).toISOString() };
    const folder = this.folder(meta.bucket, meta.key);
    await mkdir(folder, { recursive: true });
    if (bytes) await writeDurably(join(folder, `${meta.versionId}.bin`), bytes);
    const tmp = join(folder, `${meta.versionId}.json.tmp`);
    await writeDurably(tmp, JSON.stringify(meta));
    await rename(tmp, join(folder, `${meta.versionId}.json`));
    this.remember(meta);
    return meta;
  }

  /** The newest version of a key (a delete marker only when asked for). */
  latest(bucket: string, key: string, includeDeleteMarker = false): VersionMeta | undefined {
    const list = this.index.get(bucket)?.get(key);
    const last = list?.[list.length - 1];
    return last && (includeDeleteMarker || !last.deleteMarker) ? last : undefined;
  }

  get(bucket: string, key: string, versionId: string): VersionMeta | undefined {
    return this.index.get(bucket)?.get(key)?.find((v) => v.versionId === versionId);
  }

  bytes(meta: VersionMeta): Promise<Buffer> {
    return readFile(join(this.folder(meta.bucket, meta.key), `${meta.versionId}.bin`));
  }

  /** Every version and delete marker under a prefix: keys ascending, each key's versions newest first (S3's order). */
  list(bucket: string, prefix: string): VersionMeta[] {
    const sorted = this.sorted.get(bucket) ?? [];
    const out: VersionMeta[] = [];
    for (let i = lowerBound(sorted, prefix); i < sorted.length && sorted[i]!.startsWith(prefix); i++) out.push(...[...this.index.get(bucket)!.get(sorted[i]!)!].reverse());
    return out;
  }

  keys(bucket: string): string[] {
    return [...(this.index.get(bucket)?.keys() ?? [])];
  }
}
