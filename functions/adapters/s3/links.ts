/**
 * Short-lived links to S3 objects for the portal (functions/portal/api.ts ObjectLinks):
 * a presigned POST for one exact upload key, and a presigned GET issued when a download is clicked.
 *
 * The POST policy S3 enforces: the exact key, 1 byte … maxBytes, Content-Type exactly xlsx, and the
 * metadata exactly as signed: x-amz-meta-uploader the institution (ingest checks it against the key),
 * -uploader-user the signed-in person, -uploader-ip their address (ingest records both on the version).
 * Locally the S3 front (functions/adapters/local/s3-front.ts) enforces the same policy.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ObjectLinks } from '../../portal/api.ts';

export class S3ObjectLinks implements ObjectLinks {
  constructor(
    private readonly s3: S3Client,
    /** the URL the browser posts to, when it differs from the client's endpoint (never in AWS) */
    private readonly publicEndpoint?: { from: string; to: string },
  ) {}

  async presignPost(request: Parameters<ObjectLinks['presignPost']>[0]): Promise<{ url: string; fields: Record<string, string> }> {
    const meta = Object.fromEntries(Object.entries(request.metadata).map(([k, v]) => [`x-amz-meta-${k.toLowerCase()}`, v]));
    const post = await createPresignedPost(
      // the package pins its own @aws-sdk/client-s3 (3.1164): the same client at runtime, a different type
      this.s3 as unknown as Parameters<typeof createPresignedPost>[0],
      {
        Bucket: request.bucket,
        Key: request.key,
        Conditions: [
          ['content-length-range', 1, request.maxBytes],
          ['eq', '$Content-Type', request.contentType],
          ...Object.entries(meta).map(([k, v]) => ['eq', `$${k}`, v] as ['eq', string, string]),
        ],
        Fields: { 'Content-Type': request.contentType, ...meta },
        Expires: request.expiresSeconds,
      },
    );
    return { url: this.public(post.url), fields: post.fields };
  }

  async presignGet(request: Parameters<ObjectLinks['presignGet']>[0]): Promise<string> {
    const ascii = request.fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
    const command = new GetObjectCommand({
      Bucket: request.bucket,
      Key: request.key,
      ResponseContentDisposition: `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(request.fileName)}`,
      ResponseContentType: request.contentType,
    });
    return this.public(await getSignedUrl(this.s3, command, { expiresIn: request.expiresSeconds }));
  }

  private public(url: string): string {
    const e = this.publicEndpoint;
    return e && url.startsWith(e.from) ? e.to + url.slice(e.from.length) : url;
  }
}
