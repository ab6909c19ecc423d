/**
 * The thin check in front of s3rver: the local stack's S3 endpoint is this server; s3rver listens on
 * a private unix socket behind it. It does what S3 does and s3rver does not:
 *
 *  - credentials: a request must be signed (SigV4 Authorization header or presigned query) with the
 *    stack's access key, unexpired, or be a browser POST whose policy is signed with the stack's
 *    secret and holds (expiry, bucket, key, content-length-range, Content-Type, x-amz-meta-*, and
 *    every form field named by a condition). CORS preflights need none.
 *  - keys: a `.` or `..` path segment is refused (s3rver would write outside its directory).
 *  - CORS: s3rver answers preflights with `*` whatever the rule; the rule's matched origin is echoed
 *    instead (the rule itself, set by the portal, names the portal's origin only).
 *  - versions, for the versioned buckets (uploads): each write of a key, serialised per key, is read
 *    back and kept under a new version id (functions/adapters/local/versions.ts) before the client
 *    gets its answer; the answer carries `x-amz-version-id`, and `onObjectCreated` gets the version
 *    for the S3 event. GET/HEAD with `versionId` and ListObjectVersions are answered from the versions.
 *
 * Signatures of header-signed and presigned requests are not recomputed (the local credentials are
 * public; the check is that a request is signed at all, as S3 requires); POST policies are verified.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { request as httpRequest, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listen } from './listen.ts';
import type { VersionMeta, VersionStore } from './versions.ts';

export interface S3FrontOptions {
  /** where s3rver listens */
  upstreamSocket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  /** buckets that keep versions */
  versioned: readonly string[];
  versions: VersionStore;
  /** largest request body taken (S3's single PUT limit is 5 GB; locally much less) */
  maxBodyBytes?: number;
  onObjectCreated?: (version: VersionMeta) => void;
  /** the upload time of new versions, as the events carry it (a simulated clock); default the real one */
  clock?: () => Date;
  log?: (line: string) => void;
}

class S3Failure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const xml = (s: string) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
const encodePath = (key: string) => key.split('/').map(encodeURIComponent).join('/');

/** A path segment `.` or `..` (after decoding) would leave the bucket's directory. */
export function hasDotSegment(path: string): boolean {
  return path.split(/[/\\]/).some((s) => s === '.' || s === '..');
}

interface Part {
  name: string;
  filename?: string;
  data: Buffer;
}

/** multipart/form-data, buffered (bounded by the caller). */
export function parseMultipart(body: Buffer, contentType: string): Part[] {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!boundary) throw new S3Failure(400, 'MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const parts: Part[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const chunk = body.subarray(start + 2, next - 2); // CRLF after the delimiter, CRLF before the next
    const split = chunk.indexOf('\r\n\r\n');
    if (split < 0) throw new S3Failure(400, 'MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
    const headers = chunk.subarray(0, split).toString('utf8');
    const disposition = /content-disposition:[^\r\n]*?\bname="([^"]*)"(?:[^\r\n]*?\bfilename="([^"]*)")?/i.exec(headers);
    if (disposition) parts.push({ name: disposition[1]!, ...(disposition[2] !== undefined ? { filename: disposition[2] } : {}), data: chunk.subarray(split + 4) });
    at = next;
  }
  return parts;
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** SigV4 signing key of (secret, yyyymmdd, region, service). */
export function signingKey(secret: string, date: string, region: string, service = 's3'): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

type Condition = Record<string, string> | [string, string, string] | ['content-length-range', number, number];

/**
 * S3's checks of a browser POST: signature over the policy, expiry, every condition, and every field
 * (but policy, x-amz-signature, file and x-ignore-*) named by a condition. Returns the form's fields
 * (names in lower case) and the file.
 */
export function checkPostPolicy(parts: Part[], bucket: string, credentials: S3FrontOptions['credentials'], now: Date): { fields: Map<string, string>; file: Part } {
  const fields = new Map<string, string>();
  let file: Part | undefined;
  for (const p of parts) {
    if (p.name.toLowerCase() === 'file') {
      file ??= p;
      break; // S3 ignores fields after the file
    }
    fields.set(p.name.toLowerCase(), p.data.toString('utf8'));
  }
  const deny = (why: string) => new S3Failure(403, 'AccessDenied', `Invalid according to Policy: ${why}`);
  if (!file) throw new S3Failure(400, 'InvalidArgument', 'POST requires exactly one file upload per request.');
  const policyText = fields.get('policy');
  const signature = fields.get('x-amz-signature');
  const credential = fields.get('x-amz-credential');
  if (!policyText || !signature || !credential) throw new S3Failure(403, 'AccessDenied', 'Bucket POST must contain a policy, x-amz-credential and x-amz-signature (anonymous uploads are refused).');
  const [accessKeyId, date, region] = credential.split('/');
  if (accessKeyId !== credentials.accessKeyId) throw new S3Failure(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  const expected = hmac(signingKey(credentials.secretAccessKey, date ?? '', region ?? ''), policyText).toString('hex');
  if (signature.length !== expected.length || !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))) {
    throw new S3Failure(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  }
  let policy: { expiration?: string; conditions?: Condition[] };
  try {
    policy = JSON.parse(Buffer.from(policyText, 'base64').toString('utf8'));
  } catch {
    throw new S3Failure(400, 'InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.');
  }
  if (!policy.expiration || !(Date.parse(policy.expiration) > now.getTime())) throw deny('Policy expired.');
  const values = new Map(fields);
  values.set('bucket', bucket);
  const named = new Set<string>(['bucket']);
  for (const c of policy.conditions ?? []) {
    if (Array.isArray(c) && c[0] === 'content-length-range') {
      const [, min, max] = c as [string, number, number];
      if (file.data.length < min || file.data.length > max) throw deny(`Your proposed upload ${file.data.length < min ? 'is smaller than the minimum' : 'exceeds the maximum'} allowed size`);
      continue;
    }
    const [op, field, value] = Array.isArray(c) ? [String(c[0]).toLowerCase(), String(c[1]), String(c[2])] : ['eq', `$${Object.keys(c)[0]}`, String(Object.values(c)[0])];
    const name = field.replace(/^\$/, '').toLowerCase();
    named.add(name);
    const actual = values.get(name) ?? '';
    if (op === 'eq' ? actual !== value : op === 'starts-with' ? !actual.startsWith(value) : true) throw deny(`Policy Condition failed: ["${op}", "$${name}", "${value}"]`);
  }
  for (const name of fields.keys()) {
    if (['policy', 'x-amz-signature'].includes(name) || name.startsWith('x-ignore-')) continue;
    if (!named.has(name)) throw deny(`Extra input fields: ${name}`);
  }
  return { fields, file };
}

/** The access key of a signed request (header or presigned query), or a failure. */
function checkSigned(req: IncomingMessage, url: URL, credentials: S3FrontOptions['credentials'], now: Date): string {
  const header = req.headers.authorization;
  const queryCredential = url.searchParams.get('X-Amz-Credential');
  let accessKeyId: string | undefined;
  if (header) accessKeyId = /Credential=([^/,\s]+)/.exec(header)?.[1] ?? /^AWS ([^:]+):/.exec(header)?.[1];
  else if (queryCredential) {
    accessKeyId = queryCredential.split('/')[0];
    const date = url.searchParams.get('X-Amz-Date') ?? '';
    const start = Date.parse(date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
    const expires = Number(url.searchParams.get('X-Amz-Expires'));
    if (!Number.isFinite(start) || !Number.isFinite(expires) || start + expires * 1000 < now.getTime()) throw new S3Failure(403, 'AccessDenied', 'Request has expired');
  } else throw new S3Failure(403, 'AccessDenied', 'Access Denied (anonymous requests are refused: sign with the stack credentials)');
  if (accessKeyId !== credentials.accessKeyId) throw new S3Failure(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  return accessKeyId;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new S3Failure(400, 'EntityTooLarge', `Your proposed upload exceeds the maximum allowed size (${limit} bytes locally)`));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface Upstream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export function startS3Front(options: S3FrontOptions & { port: number }): Promise<Server> {
  const maxBody = options.maxBodyBytes ?? 256 * 1024 * 1024;
  const log = options.log ?? ((line: string) => console.error(line));
  const locks = new Map<string, Promise<unknown>>();
  /** runs `fn` after every earlier write of the same key (writes to one key are serialised, as S3's versions are ordered) */
  const serialise = <T>(id: string, fn: () => Promise<T>): Promise<T> => {
    const previous = locks.get(id) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.catch(() => {});
    locks.set(id, settled);
    void settled.then(() => locks.get(id) === settled && locks.delete(id));
    return run;
  };

  const upstream = (method: string, path: string, headers: Record<string, string | string[] | undefined>, body?: Buffer | IncomingMessage): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      const out = httpRequest({ socketPath: options.upstreamSocket, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 500, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      out.on('error', reject);
      if (Buffer.isBuffer(body)) out.end(body);
      else if (body) (body as IncomingMessage).pipe(out);
      else out.end();
    });

  /** streams a request through to s3rver and its answer back (reads, lists, the reports bucket) */
  const pipeThrough = (req: IncomingMessage, res: ServerResponse) =>
    new Promise<void>((resolve, reject) => {
      const out = httpRequest({ socketPath: options.upstreamSocket, method: req.method, path: req.url, headers: req.headers }, (up) => {
        const headers = { ...up.headers };
        if (req.method === 'OPTIONS' && headers['access-control-allow-origin'] === '*' && req.headers.origin) headers['access-control-allow-origin'] = req.headers.origin;
        res.writeHead(up.statusCode ?? 500, headers);
        up.pipe(res);
        up.on('end', resolve);
        up.on('error', reject);
      });
      out.on('error', reject);
      req.pipe(out);
    });

  const send = (res: ServerResponse, status: number, headers: Record<string, string | string[] | undefined>, body: Buffer | string = '') => {
    const b = typeof body === 'string' ? Buffer.from(body) : body;
    const h: Record<string, string | string[] | undefined> = { ...headers, 'content-length': String(b.length) };
    delete h['transfer-encoding'];
    res.writeHead(status, h);
    res.end(b);
  };
  const fail = (res: ServerResponse, e: S3Failure, resource: string) =>
    send(res, e.status, { 'content-type': 'application/xml' }, `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${e.code}</Code><Message>${xml(e.message)}</Message><Resource>${xml(resource)}</Resource></Error>`);

  /** reads the object s3rver now holds and keeps it as a new version; the caller holds the key's lock */
  async function keepVersion(bucket: string, key: string, eventName: string, principal: string): Promise<VersionMeta> {
    const got = await upstream('GET', `/${bucket}/${encodePath(key)}`, {});
    if (got.status !== 200) throw new Error(`read-back of ${bucket}/${key} after a write: HTTP ${got.status}`);
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(got.headers)) if (k.startsWith('x-amz-meta-') && typeof v === 'string') metadata[k] = v;
    const contentType = got.headers['content-type'];
    return options.versions.add(
      { bucket, key, etag: String(got.headers.etag ?? '').replace(/"/g, ''), size: got.body.length, ...(typeof contentType === 'string' ? { contentType } : {}), metadata, eventName, principal },
      got.body,
      options.clock?.(),
    );
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // the raw path: URL parsing would resolve `..` segments that s3rver then receives unresolved
    const rawPath = (req.url ?? '/').split('?')[0]!;
    const url = new URL(req.url ?? '/', 'http://local');
    const [bucket = '', ...rest] = rawPath.slice(1).split('/');
    const decode = (s: string) => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw new S3Failure(400, 'InvalidURI', 'Couldn\'t parse the specified URI.');
      }
    };
    const resource = rawPath;
    try {
      const key = decode(rest.join('/'));
      if (hasDotSegment(decode(rawPath)) || hasDotSegment(decode(String(req.headers['x-amz-copy-source'] ?? '')))) {
        throw new S3Failure(400, 'InvalidArgument', 'A key may not contain a "." or ".." path segment.');
      }
      if (req.method === 'OPTIONS') return await pipeThrough(req, res);
      const now = new Date();
      const versioned = options.versioned.includes(bucket);
      const isForm = req.method === 'POST' && !key && /^multipart\/form-data/i.test(String(req.headers['content-type'] ?? ''));
      if (isForm) {
        const body = await readBody(req, maxBody);
        const { fields } = checkPostPolicy(parseMultipart(body, String(req.headers['content-type'])), bucket, options.credentials, now);
        const formKey = fields.get('key') ?? '';
        if (hasDotSegment(formKey)) throw new S3Failure(400, 'InvalidArgument', 'A key may not contain a "." or ".." path segment.');
        const principal = `AWS:${options.credentials.accessKeyId}`;
        return await write(req, res, bucket, formKey, body, 'ObjectCreated:Post', principal, versioned);
      }
      const accessKeyId = checkSigned(req, url, options.credentials, now);
      const principal = `AWS:${accessKeyId}`;
      if (!versioned) return await pipeThrough(req, res);

      const versionId = url.searchParams.get('versionId');
      if ((req.method === 'GET' || req.method === 'HEAD') && key && versionId) return await serveVersion(req, res, bucket, key, versionId);
      if (req.method === 'GET' && !key && url.searchParams.has('versions')) return listVersions(res, bucket, url);
      if (versionId) throw new S3Failure(501, 'NotImplemented', 'Locally, versions are read, not deleted or changed.');
      const creates = key && ((req.method === 'PUT' && !url.searchParams.has('uploadId') && !url.searchParams.has('partNumber') && !url.searchParams.has('tagging') && !url.searchParams.has('acl')) || (req.method === 'POST' && url.searchParams.has('uploadId')));
      if (creates) {
        const eventName = req.method === 'POST' ? 'ObjectCreated:CompleteMultipartUpload' : req.headers['x-amz-copy-source'] ? 'ObjectCreated:Copy' : 'ObjectCreated:Put';
        return await write(req, res, bucket, key, await readBody(req, maxBody), eventName, principal, true);
      }
      if (req.method === 'DELETE' && key && !url.search) {
        return await serialise(`${bucket}/${key}`, async () => {
          const up = await upstream('DELETE', req.url!, req.headers);
          if (up.status < 300 && options.versions.latest(bucket, key)) {
            const marker = await options.versions.add({ bucket, key, etag: '', size: 0, metadata: {}, eventName: 'ObjectRemoved:DeleteMarkerCreated', principal, deleteMarker: true }, null, options.clock?.());
            up.headers['x-amz-version-id'] = marker.versionId;
            up.headers['x-amz-delete-marker'] = 'true';
          }
          send(res, up.status, up.headers, up.body);
        });
      }
      return await pipeThrough(req, res);
    } catch (err) {
      if (err instanceof S3Failure) return fail(res, err, resource);
      throw err;
    }
  }

  /** a creating write: forwarded, then (versioned buckets) read back and kept as a version before the answer */
  async function write(req: IncomingMessage, res: ServerResponse, bucket: string, key: string, body: Buffer, eventName: string, principal: string, versioned: boolean): Promise<void> {
    const headers = { ...req.headers, 'content-length': String(body.length) };
    delete headers['transfer-encoding'];
    if (!versioned) {
      const up = await upstream(req.method!, req.url!, headers, body);
      return send(res, up.status, up.headers, up.body);
    }
    await serialise(`${bucket}/${key}`, async () => {
      const up = await upstream(req.method!, req.url!, headers, body);
      if (up.status < 300) {
        const version = await keepVersion(bucket, key, eventName, principal);
        up.headers['x-amz-version-id'] = version.versionId;
        try {
          options.onObjectCreated?.(version);
        } catch (err) {
          log(`[local s3] event for ${bucket}/${key} not taken: ${String(err)}`);
        }
      }
      send(res, up.status, up.headers, up.body);
    });
  }

  async function serveVersion(req: IncomingMessage, res: ServerResponse, bucket: string, key: string, versionId: string): Promise<void> {
    const v = options.versions.get(bucket, key, versionId);
    if (!v) throw new S3Failure(404, 'NoSuchVersion', 'The specified version does not exist.');
    if (v.deleteMarker) throw new S3Failure(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    const headers: Record<string, string> = {
      etag: JSON.stringify(v.etag),
      'last-modified': new Date(v.lastModified).toUTCString(),
      'content-type': v.contentType ?? 'binary/octet-stream',
      'x-amz-version-id': v.versionId,
      'accept-ranges': 'bytes',
      ...v.metadata,
    };
    const body = req.method === 'HEAD' ? Buffer.alloc(0) : await options.versions.bytes(v);
    if (req.method === 'HEAD') {
      res.writeHead(200, { ...headers, 'content-length': String(v.size) });
      res.end();
      return;
    }
    send(res, 200, headers, body);
  }

  /** ListObjectVersions: prefix, delimiter, key-marker / version-id-marker, max-keys, encoding-type=url */
  function listVersions(res: ServerResponse, bucket: string, url: URL): void {
    const q = url.searchParams;
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const maxKeys = Math.min(Number(q.get('max-keys') ?? 1000) || 1000, 1000);
    const keyMarker = q.get('key-marker') ?? '';
    const versionMarker = q.get('version-id-marker') ?? '';
    const encode = q.get('encoding-type') === 'url' ? (s: string) => encodeURIComponent(s).replace(/%2F/g, '/') : (s: string) => s;
    const prefixes = new Set<string>();
    const entries: string[] = [];
    let truncated = false;
    let last: VersionMeta | undefined;
    const all = options.versions.list(bucket, prefix);
    let skipping = !!keyMarker;
    for (const v of all) {
      if (skipping) {
        if (v.key < keyMarker) continue;
        if (v.key === keyMarker) {
          if (!versionMarker) continue;
          if (v.versionId >= versionMarker) continue; // newest first: up to and including the marker was sent
        }
        skipping = false;
      }
      if (delimiter) {
        const at = v.key.indexOf(delimiter, prefix.length);
        if (at >= 0) {
          prefixes.add(v.key.slice(0, at + delimiter.length));
          continue;
        }
      }
      if (entries.length >= maxKeys) {
        truncated = true;
        break;
      }
      const latest = options.versions.latest(bucket, v.key, true)?.versionId === v.versionId;
      entries.push(
        v.deleteMarker
          ? `<DeleteMarker><Key>${xml(encode(v.key))}</Key><VersionId>${v.versionId}</VersionId><IsLatest>${latest}</IsLatest><LastModified>${v.lastModified}</LastModified></DeleteMarker>`
          : `<Version><Key>${xml(encode(v.key))}</Key><VersionId>${v.versionId}</VersionId><IsLatest>${latest}</IsLatest><LastModified>${v.lastModified}</LastModified><ETag>&quot;${v.etag}&quot;</ETag><Size>${v.size}</Size><StorageClass>STANDARD</StorageClass></Version>`,
      );
      last = v;
    }
    const next = truncated && last ? `<NextKeyMarker>${xml(encode(last.key))}</NextKeyMarker><NextVersionIdMarker>${last.versionId}</NextVersionIdMarker>` : '';
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xml(bucket)}</Name><Prefix>${xml(encode(prefix))}</Prefix><KeyMarker>${xml(encode(keyMarker))}</KeyMarker><VersionIdMarker>${xml(versionMarker)}</VersionIdMarker><MaxKeys>${maxKeys}</MaxKeys>${delimiter ? `<Delimiter>${xml(delimiter)}</Delimiter>` : ''}${q.get('encoding-type') === 'url' ? '<EncodingType>url</EncodingType>' : ''}<IsTruncated>${truncated}</IsTruncated>${next}${entries.join('')}${[...prefixes]
      .sort()
      .map((p) => `<CommonPrefixes><Prefix>${xml(encode(p))}</Prefix></CommonPrefixes>`)
      .join('')}</ListVersionsResult>`;
    send(res, 200, { 'content-type': 'application/xml' }, body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      log(`[local s3] ${req.method} ${req.url}: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) fail(res, new S3Failure(500, 'InternalError', 'We encountered an internal error. Please try again.'), req.url ?? '');
      else res.destroy();
    });
  });
  return listen(server, options.port).then(() => server);
}
