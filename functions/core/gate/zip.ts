/**
 * A strict reader of the zip container, written for hostile input:
 * EOCD → central directory → local headers (which must agree, and tile the file
 * from offset 0 to the central directory, so a reader that walks local headers in order,
 * as exceljs's streaming reader (unzipper) does, sees exactly the entries we checked) →
 * bounded inflate with CRC check.
 *
 * Nothing here inflates more than an entry declares (+1 byte to catch a lie).
 */
import zlib from 'node:zlib';

export interface ZipEntry {
  name: string;
  nameBytes: Buffer;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  /** uncompressed size as declared by the central directory */
  size: number;
  localOffset: number;
  /** set by checkLocalHeaders */
  dataOffset: number;
  isDirectory: boolean;
}

export interface ZipDirectory {
  entries: ZipEntry[];
  cdOffset: number;
}

/** why a container was refused; mapped to issues by the caller */
export type ZipFault =
  | { kind: 'corrupt'; detail: string }
  | { kind: 'unreadable'; detail: string }
  | { kind: 'too-many-entries'; count: number }
  | { kind: 'bad-name'; name: string; reason: string }
  | { kind: 'bomb'; name: string | null; detail: string };

export type Outcome<T> = { ok: true; value: T } | { ok: false; fault: ZipFault };

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_DESCRIPTOR = 0x08074b50;
const DESCRIPTOR_SIG_BYTES = Buffer.from([0x50, 0x4b, 0x07, 0x08]);
const EOCD_SIG_BYTES = Buffer.from([0x50, 0x4b, 0x05, 0x06]);

// general purpose flags
const FLAG_ENCRYPTED = 0x0001;
const FLAG_DESCRIPTOR = 0x0008;
const FLAG_STRONG_ENCRYPTION = 0x0040;
const FLAG_MASKED_HEADERS = 0x2000;

const corrupt = (detail: string): { ok: false; fault: ZipFault } => ({ ok: false, fault: { kind: 'corrupt', detail } });

/** finds the EOCD whose comment ends exactly at the end of the file */
function findEocd(buf: Buffer): number {
  const lowest = Math.max(0, buf.length - 22 - 0xffff);
  for (let at = buf.lastIndexOf(EOCD_SIG_BYTES, buf.length - 22); at >= lowest; at = buf.lastIndexOf(EOCD_SIG_BYTES, at - 1)) {
    if (at + 22 + buf.readUInt16LE(at + 20) === buf.length) return at;
    if (at === 0) break;
  }
  return -1;
}

export function readCentralDirectory(buf: Buffer, maxEntries: number): Outcome<ZipDirectory> {
  if (buf.length < 22) return corrupt('文件过短，缺少压缩包目录');
  const eocd = findEocd(buf);
  if (eocd < 0) return corrupt('找不到压缩包目录结尾，文件可能被截断');
  const disk = buf.readUInt16LE(eocd + 4);
  const cdDisk = buf.readUInt16LE(eocd + 6);
  const entriesOnDisk = buf.readUInt16LE(eocd + 8);
  const count = buf.readUInt16LE(eocd + 10);
  const cdSize = buf.readUInt32LE(eocd + 12);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  // zip64 sentinels: no upload within our limits needs zip64, so its presence is trickery
  if (count === 0xffff || entriesOnDisk === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    return corrupt('压缩包使用了 ZIP64 扩展格式');
  }
  if (disk !== 0 || cdDisk !== 0 || entriesOnDisk !== count) return corrupt('压缩包是分卷格式');
  // the central directory must end exactly where the EOCD starts (no zip64 records, no gaps)
  if (cdOffset + cdSize !== eocd || count * 46 > cdSize) return corrupt('压缩包目录位置与记录不符');
  if (count > maxEntries) return { ok: false, fault: { kind: 'too-many-entries', count } };

  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > eocd || buf.readUInt32LE(p) !== SIG_CENTRAL) return corrupt('压缩包目录项损坏');
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const compressedSize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLength = buf.readUInt16LE(p + 28);
    const extraLength = buf.readUInt16LE(p + 30);
    const commentLength = buf.readUInt16LE(p + 32);
    const diskStart = buf.readUInt16LE(p + 34);
    const localOffset = buf.readUInt32LE(p + 42);
    const next = p + 46 + nameLength + extraLength + commentLength;
    if (next > eocd) return corrupt('压缩包目录项超出目录范围');
    const nameBytes = buf.subarray(p + 46, p + 46 + nameLength);
    const extra = buf.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength);
    p = next;

    if (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION | FLAG_MASKED_HEADERS)) {
      return corrupt('压缩包内的文件被单独加密');
    }
    if (compressedSize === 0xffffffff || size === 0xffffffff || localOffset === 0xffffffff || diskStart === 0xffff) {
      return corrupt('压缩包使用了 ZIP64 扩展格式');
    }
    if (diskStart !== 0) return corrupt('压缩包是分卷格式');
    if (method !== 0 && method !== 8) return corrupt(`压缩包使用了不支持的压缩方式（${method}）`);
    if (method === 0 && compressedSize !== size) return corrupt('未压缩文件的大小记录不一致');

    // names are read as UTF-8 whatever flag bit 11 says, as unzipper does
    const name = nameBytes.toString('utf8');
    const unicodePath = unicodePathExtra(extra);
    if (unicodePath !== null && unicodePath !== name) {
      return { ok: false, fault: { kind: 'bad-name', name, reason: '带有与之不同的第二个文件名' } };
    }
    entries.push({
      name,
      nameBytes,
      flags,
      method,
      crc,
      compressedSize,
      size,
      localOffset,
      dataOffset: -1,
      isDirectory: name.endsWith('/'),
    });
  }
  if (p !== eocd) return corrupt('压缩包目录长度与记录不符');
  return { ok: true, value: { entries, cdOffset } };
}

/** the Info-ZIP unicode path extra field (0x7075), which some readers prefer to the name */
function unicodePathExtra(extra: Buffer): string | null {
  for (let i = 0; i + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(i);
    const len = extra.readUInt16LE(i + 2);
    if (id === 0x7075 && len >= 5 && i + 4 + len <= extra.length) return extra.toString('utf8', i + 9, i + 4 + len);
    i += 4 + len;
  }
  return null;
}

/**
 * Each name must be a plain relative part name, unique case-insensitively
 * (OPC part names are case-insensitive; exceljs matches them case-sensitively).
 */
export function checkNames(entries: readonly ZipEntry[]): ZipFault | null {
  const seen = new Set<string>();
  for (const e of entries) {
    const reason = badNameReason(e);
    if (reason) return { kind: 'bad-name', name: e.name, reason };
    const key = e.name.replace(/\\/g, '/').toLowerCase();
    if (seen.has(key)) return { kind: 'bad-name', name: e.name, reason: '与另一个内部文件重名（不区分大小写）' };
    seen.add(key);
  }
  return null;
}

function badNameReason(e: ZipEntry): string | null {
  const name = e.name;
  if (name.length === 0) return '文件名为空';
  if (name.includes('\0')) return '文件名含有空字符 (NUL)';
  if (name.includes('\ufffd')) return '文件名编码无法识别';
  // eslint-disable-next-line no-control-regex
  if (/[\x01-\x1f\x7f]/.test(name)) return '文件名含有控制字符';
  if (name.includes('\\')) return '文件名含有反斜杠 \\';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return '使用了绝对路径';
  const segments = (e.isDirectory ? name.slice(0, -1) : name).split('/');
  if (segments.some((s) => s === '..')) return '路径中含有 ..（指向上级目录）';
  if (segments.some((s) => s === '.' || s === '')) return '路径中含有空的或 . 目录';
  if (e.isDirectory && e.size !== 0) return '目录项带有数据';
  return null;
}

const MIB = 1024 * 1024;

/** declared sizes against the limits, before anything is inflated */
export function checkDeclaredSizes(
  entries: readonly ZipEntry[],
  limits: { maxTotalUncompressed: number; maxPartUncompressed: number; maxRatio: number },
): ZipFault | null {
  let total = 0;
  for (const e of entries) {
    if (e.size > limits.maxPartUncompressed) {
      return { kind: 'bomb', name: e.name, detail: `内部文件“${e.name}”解压后约 ${mb(e.size)} MB，超过单个文件上限 ${mb(limits.maxPartUncompressed)} MB` };
    }
    // the ratio only matters for parts big enough to hurt
    if (e.size > MIB && e.size / Math.max(1, e.compressedSize) > limits.maxRatio) {
      const ratio = Math.round(e.size / Math.max(1, e.compressedSize));
      return { kind: 'bomb', name: e.name, detail: `内部文件“${e.name}”压缩比约 ${ratio}:1，超过上限 ${limits.maxRatio}:1` };
    }
    total += e.size;
    if (total > limits.maxTotalUncompressed) {
      return { kind: 'bomb', name: null, detail: `解压后总大小超过上限 ${mb(limits.maxTotalUncompressed)} MB` };
    }
  }
  return null;
}

export const mb = (bytes: number): string => (bytes / MIB).toFixed(bytes < 10 * MIB ? 1 : 0);

/**
 * Local headers must agree with the central directory and tile [0, cdOffset) with no gap or
 * overlap: no hidden entries for a sequential reader, no overlapping-entry bombs.
 * Fills in dataOffset.
 */
export function checkLocalHeaders(buf: Buffer, dir: ZipDirectory): ZipFault | null {
  const ordered = [...dir.entries].sort((a, b) => a.localOffset - b.localOffset);
  let expected = 0;
  for (const e of ordered) {
    if (e.localOffset !== expected) {
      return { kind: 'corrupt', detail: e.localOffset < expected ? '压缩包内文件相互重叠' : '压缩包内有目录中未登记的数据' };
    }
    const p = e.localOffset;
    if (p + 30 > dir.cdOffset || buf.readUInt32LE(p) !== SIG_LOCAL) return { kind: 'corrupt', detail: `内部文件“${e.name}”的文件头缺失` };
    const flags = buf.readUInt16LE(p + 6);
    const method = buf.readUInt16LE(p + 8);
    const crc = buf.readUInt32LE(p + 14);
    const compressedSize = buf.readUInt32LE(p + 18);
    const size = buf.readUInt32LE(p + 22);
    const nameLength = buf.readUInt16LE(p + 26);
    const extraLength = buf.readUInt16LE(p + 28);
    const dataOffset = p + 30 + nameLength + extraLength;
    if (dataOffset > dir.cdOffset) return { kind: 'corrupt', detail: `内部文件“${e.name}”的文件头超出范围` };
    if (!buf.subarray(p + 30, p + 30 + nameLength).equals(e.nameBytes)) {
      return { kind: 'corrupt', detail: `内部文件“${e.name}”的文件头与目录中的名称不符` };
    }
    if (method !== e.method) return { kind: 'corrupt', detail: `内部文件“${e.name}”的压缩方式与目录不符` };
    if ((flags ^ e.flags) & (FLAG_ENCRYPTED | FLAG_DESCRIPTOR) || flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) {
      return { kind: 'corrupt', detail: `内部文件“${e.name}”的文件头标志与目录不符` };
    }
    const dataEnd = dataOffset + e.compressedSize;
    if (dataEnd > dir.cdOffset) return { kind: 'corrupt', detail: `内部文件“${e.name}”的数据超出范围` };
    let end = dataEnd;
    if (flags & FLAG_DESCRIPTOR) {
      // unzipper follows a data descriptor only when the local sizes are zero, by searching the
      // data for the descriptor signature: anything else it misreads
      if (compressedSize !== 0) return { kind: 'unreadable', detail: `内部文件“${e.name}”同时使用了数据描述符和文件头大小` };
      if (dataEnd + 16 > dir.cdOffset || buf.readUInt32LE(dataEnd) !== SIG_DESCRIPTOR) {
        return { kind: 'unreadable', detail: `内部文件“${e.name}”的数据描述符没有签名` };
      }
      if (buf.readUInt32LE(dataEnd + 4) !== e.crc || buf.readUInt32LE(dataEnd + 8) !== e.compressedSize || buf.readUInt32LE(dataEnd + 12) !== e.size) {
        return { kind: 'corrupt', detail: `内部文件“${e.name}”的数据描述符与目录不符` };
      }
      if (buf.subarray(dataOffset, dataEnd).indexOf(DESCRIPTOR_SIG_BYTES) >= 0) {
        return { kind: 'unreadable', detail: `内部文件“${e.name}”的数据中出现了数据描述符签名` };
      }
      end = dataEnd + 16;
    } else if (crc !== e.crc || compressedSize !== e.compressedSize || size !== e.size) {
      return { kind: 'corrupt', detail: `内部文件“${e.name}”的文件头大小或校验值与目录不符` };
    }
    e.dataOffset = dataOffset;
    expected = end;
  }
  if (expected !== dir.cdOffset) return { kind: 'corrupt', detail: '压缩包目录前有未登记的数据' };
  return null;
}

/**
 * Inflates one entry, never producing more than its declared size + 1 bytes,
 * and checks size, consumed input and CRC.
 */
export function inflateEntry(buf: Buffer, e: ZipEntry): Outcome<Buffer> {
  const raw = buf.subarray(e.dataOffset, e.dataOffset + e.compressedSize);
  let data: Buffer;
  if (e.method === 0) {
    data = raw;
  } else {
    let consumed: number;
    try {
      const out = zlib.inflateRawSync(raw, { maxOutputLength: e.size + 1, info: true }) as unknown as {
        buffer: Buffer;
        engine: { bytesWritten: number };
      };
      data = out.buffer;
      consumed = out.engine.bytesWritten;
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        return { ok: false, fault: { kind: 'bomb', name: e.name, detail: `内部文件“${e.name}”解压后的实际大小超过文件记录的大小` } };
      }
      return corrupt(`内部文件“${e.name}”无法解压`);
    }
    if (data.length > e.size) {
      return { ok: false, fault: { kind: 'bomb', name: e.name, detail: `内部文件“${e.name}”解压后的实际大小超过文件记录的大小` } };
    }
    if (data.length < e.size) return corrupt(`内部文件“${e.name}”解压后大小不足`);
    if (consumed !== raw.length) return corrupt(`内部文件“${e.name}”的压缩数据后有多余内容`);
  }
  if (crc32(data) !== e.crc) return corrupt(`内部文件“${e.name}”校验失败（CRC 不符）`);
  return { ok: true, value: data };
}

let TABLE: Int32Array | null = null;

/** CRC-32 (IEEE); zlib.crc32 when node has it (20.15+), else a table */
export function crc32(data: Uint8Array): number {
  const native = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
  if (native) return native(data) >>> 0;
  return crc32Table(data);
}

export function crc32Table(data: Uint8Array): number {
  if (!TABLE) {
    TABLE = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      TABLE[n] = c;
    }
  }
  let crc = -1;
  for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}
