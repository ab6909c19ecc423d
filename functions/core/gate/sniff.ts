/**
 * What a file is when it is not a zip: the first bytes, and for an OLE2/CFB container
 * the names in its directory (Excel's password-protected .xlsx is a CFB holding
 * EncryptionInfo + EncryptedPackage; a .xls holds Workbook).
 */

export type NotZipKind = 'text' | 'html' | 'xml-spreadsheet' | 'pdf' | 'image' | 'archive' | 'unknown';

const CFB_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

export const isCfb = (buf: Buffer): boolean => buf.length >= 8 && buf.subarray(0, 8).equals(CFB_MAGIC);

/** zip local header or an empty zip's EOCD at offset 0 */
export const looksLikeZip = (buf: Buffer): boolean =>
  buf.length >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && ((buf[2] === 3 && buf[3] === 4) || (buf[2] === 5 && buf[3] === 6));

export function sniffNotZip(buf: Buffer): NotZipKind {
  const head = buf.subarray(0, 1024);
  const starts = (...bytes: number[]): boolean => bytes.every((b, i) => head[i] === b);
  if (starts(0x25, 0x50, 0x44, 0x46)) return 'pdf'; // %PDF
  if (starts(0x89, 0x50, 0x4e, 0x47) || starts(0xff, 0xd8, 0xff) || starts(0x47, 0x49, 0x46) || starts(0x42, 0x4d)) return 'image';
  if (starts(0x52, 0x61, 0x72, 0x21) || starts(0x37, 0x7a, 0xbc, 0xaf) || starts(0x1f, 0x8b)) return 'archive'; // rar, 7z, gzip
  const text = head.toString('latin1').replace(/^\xef\xbb\xbf/, '').trimStart().toLowerCase();
  if (text.startsWith('<')) {
    if (text.includes('urn:schemas-microsoft-com:office:spreadsheet') || text.includes('progid="excel.sheet"')) return 'xml-spreadsheet';
    return 'html';
  }
  if (text.startsWith('mime-version:')) return 'html'; // .mht "single file web page"
  if (looksLikeText(head)) return 'text';
  return 'unknown';
}

/** mostly printable: UTF-8, GBK or UTF-16 text (CSV, TSV, a txt renamed) */
function looksLikeText(head: Buffer): boolean {
  if (head.length === 0) return false;
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) return true;
  let control = 0;
  for (const b of head) {
    if (b === 0) return false;
    if (b < 0x20 && b !== 9 && b !== 10 && b !== 13) control++;
  }
  return control <= head.length / 100;
}

const FREE = 0xffffffff;
const END_OF_CHAIN = 0xfffffffe;
const MAX_REGULAR = 0xfffffffa;

/**
 * Stream and storage names from a CFB directory; null when the header or chains are unreadable.
 * Every loop is bounded by the number of sectors in the file.
 */
export function cfbNames(buf: Buffer): string[] | null {
  if (buf.length < 512) return null;
  const shift = buf.readUInt16LE(30);
  if (shift !== 9 && shift !== 12) return null;
  const sectorSize = 1 << shift;
  const sectors = Math.ceil((buf.length - sectorSize) / sectorSize);
  if (sectors <= 0) return null;
  const sectorAt = (n: number): number | null => {
    const start = (n + 1) * sectorSize;
    return n < MAX_REGULAR && start + sectorSize <= buf.length ? start : null;
  };

  // FAT sector ids: 109 in the header, then the DIFAT chain
  const fatSectors: number[] = [];
  for (let i = 0; i < 109; i++) {
    const id = buf.readUInt32LE(76 + i * 4);
    if (id !== FREE) fatSectors.push(id);
  }
  let difat = buf.readUInt32LE(68);
  for (let steps = 0; difat < MAX_REGULAR && steps < sectors; steps++) {
    const at = sectorAt(difat);
    if (at === null) break;
    const per = sectorSize / 4 - 1;
    for (let i = 0; i < per; i++) {
      const id = buf.readUInt32LE(at + i * 4);
      if (id !== FREE) fatSectors.push(id);
    }
    difat = buf.readUInt32LE(at + per * 4);
  }
  const fatLimit = Math.min(fatSectors.length, sectors);
  const nextSector = (n: number): number => {
    const per = sectorSize / 4;
    const fatIndex = Math.floor(n / per);
    if (fatIndex >= fatLimit) return END_OF_CHAIN;
    const at = sectorAt(fatSectors[fatIndex]!);
    return at === null ? END_OF_CHAIN : buf.readUInt32LE(at + (n % per) * 4);
  };

  const names: string[] = [];
  const seen = new Set<number>();
  for (let s = buf.readUInt32LE(48); s < MAX_REGULAR && !seen.has(s) && seen.size < sectors; s = nextSector(s)) {
    seen.add(s);
    const at = sectorAt(s);
    if (at === null) break;
    for (let e = at; e + 128 <= at + sectorSize; e += 128) {
      const nameLength = buf.readUInt16LE(e + 64);
      if (buf[e + 66] === 0 || nameLength < 2 || nameLength > 64) continue;
      names.push(buf.toString('utf16le', e, e + nameLength - 2));
    }
  }
  return names.length ? names : null;
}

const ENCRYPTION_STREAMS = ['encryptioninfo', 'encryptedpackage'];

export type CfbKind = 'encrypted' | 'word' | 'powerpoint' | 'legacy';

export function classifyCfb(buf: Buffer): CfbKind {
  const names = cfbNames(buf)?.map((n) => n.toLowerCase());
  if (names) {
    if (names.some((n) => ENCRYPTION_STREAMS.includes(n))) return 'encrypted';
    if (names.includes('workbook') || names.includes('book')) return 'legacy';
    if (names.includes('worddocument')) return 'word';
    if (names.includes('powerpoint document')) return 'powerpoint';
    return 'legacy';
  }
  // unreadable directory: fall back to looking for the stream names anywhere
  for (const n of ['EncryptionInfo', 'EncryptedPackage']) {
    if (buf.indexOf(Buffer.from(n, 'utf16le')) >= 0) return 'encrypted';
  }
  return 'legacy';
}
