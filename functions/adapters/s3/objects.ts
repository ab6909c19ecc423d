/** ObjectStore and UploadListing over S3 (or the local stack's S3): bounded reads, plain puts, listings. */
import { GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, NotFound, PutObjectCommand, paginateListObjectsV2, type ListObjectVersionsCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore, ObjectSummary, ObjectVersionSummary, StoredObject, UploadListing } from '../../ports/index.ts';

export class S3ObjectStore implements ObjectStore, UploadListing {
  constructor(private readonly s3: S3Client) {}

  async get(bucket: string, key: string, maxBytes: number): Promise<Uint8Array | null> {
    return (await this.read(bucket, key, maxBytes))?.bytes ?? null;
  }

  async read(bucket: string, key: string, maxBytes: number, versionId?: string): Promise<StoredObject | null> {
    const out = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
    if (out.ContentLength !== undefined && out.ContentLength > maxBytes) {
      (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
      return null;
    }
    // the declared length can lie (or be absent): count while reading
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of out.Body as AsyncIterable<Uint8Array>) {
      total += chunk.length;
      if (total > maxBytes) {
        (out.Body as { destroy?: () => void }).destroy?.();
        return null;
      }
      chunks.push(chunk);
    }
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(out.Metadata ?? {})) metadata[k.toLowerCase()] = v;
    return { bytes: Buffer.concat(chunks), metadata };
  }

  async put(bucket: string, key: string, body: Uint8Array | string, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async list(bucket: string, prefix: string): Promise<ObjectSummary[]> {
    const out: ObjectSummary[] = [];
    for await (const page of paginateListObjectsV2({ client: this.s3 }, { Bucket: bucket, Prefix: prefix })) {
      for (const o of page.Contents ?? []) {
        if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0, lastModified: (o.LastModified ?? new Date(0)).toISOString() });
      }
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (err) {
      if (err instanceof NotFound || (err as { name?: string }).name === 'NotFound') return false;
      throw err;
    }
  }

  /** (over ListObjectVersions: the uploads bucket keeps versions, and a prefix with only old versions still counts) */
  async listPrefixes(bucket: string, prefix: string): Promise<string[]> {
    const out = new Set<string>();
    await this.versionPages(bucket, prefix, '/', (page) => {
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) out.add(p.Prefix);
    });
    return [...out].sort();
  }

  async listVersions(bucket: string, prefix: string): Promise<ObjectVersionSummary[]> {
    const out: ObjectVersionSummary[] = [];
    await this.versionPages(bucket, prefix, undefined, (page) => {
      for (const v of page.Versions ?? []) {
        if (!v.Key || !v.VersionId) continue;
        out.push({ key: v.Key, versionId: v.VersionId, size: v.Size ?? 0, ...(v.ETag ? { eTag: v.ETag.replace(/"/g, '') } : {}), lastModified: (v.LastModified ?? new Date(0)).toISOString() });
      }
    });
    return out;
  }

  private async versionPages(bucket: string, prefix: string, delimiter: string | undefined, each: (page: ListObjectVersionsCommandOutput) => void): Promise<void> {
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, Delimiter: delimiter, KeyMarker, VersionIdMarker }));
      each(page);
      ({ NextKeyMarker: KeyMarker, NextVersionIdMarker: VersionIdMarker } = page.IsTruncated ? page : { NextKeyMarker: undefined, NextVersionIdMarker: undefined });
    } while (KeyMarker);
  }
}
