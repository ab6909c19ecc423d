/**
 * The gate: raw upload bytes → either the sheets of a workbook we dare hand to exceljs's
 * streaming reader, or the file-* issues that say why not. Runs before any exceljs parse.
 *
 * Order (cheap and certain first; the first failing step ends the gate, except the
 * workbook/worksheet checks at the end, which are collected so one upload shows every fix):
 *  1. size: empty, too large
 *  2. magic: CFB (encrypted / legacy .xls), anything else that is not a zip
 *  3. zip structure: EOCD, central directory, entry count, part names, declared sizes,
 *     local headers agreeing with the directory and tiling the file
 *  4. [Content_Types].xml: is it an xlsx workbook, is it macro-enabled
 *  5. every entry inflated within its declared size (+1), CRC checked; XML parts without DTDs
 *  6. workbook.xml (sheets, date1904, defined names) and its rels; each worksheet part scanned
 *
 * Too many zip entries is reported as file-too-complex (a workbook with too many sheets,
 * images or comments), not file-zip-bomb: that is what the statistician can act on.
 */
import { makeIssue, type Issue } from '../report.ts';
import type { IssueCode } from '../validate/codes.ts';
import { msg } from './messages.ts';
import { rangeSize } from './refs.ts';
import { classifyCfb, isCfb, looksLikeZip, sniffNotZip } from './sniff.ts';
import {
  classifyPackage,
  contentTypeOf,
  CT,
  isMacrosheetRel,
  isWorksheetRel,
  parseContentTypes,
  parseRels,
  parseWorkbook,
  relsPathFor,
  resolveTarget,
  type ContentTypes,
} from './workbook.ts';
import { scanWorksheet } from './worksheet.ts';
import { decodeXml, hasDtd, isUtf8 } from './xml.ts';
import {
  checkDeclaredSizes,
  checkLocalHeaders,
  checkNames,
  inflateEntry,
  readCentralDirectory,
  type ZipEntry,
  type ZipFault,
} from './zip.ts';

export interface GateLimits {
  /** upload size, bytes */
  maxBytes: number;
  /** zip entries, directories included */
  maxEntries: number;
  /** sum of uncompressed sizes, bytes */
  maxTotalUncompressed: number;
  /** one part uncompressed, bytes */
  maxPartUncompressed: number;
  /** uncompressed / compressed, checked for parts over 1 MiB */
  maxRatio: number;
  /** merged ranges per worksheet */
  maxMergedRanges: number;
  /** cells one defined name, data validation, conditional format, merge or autofilter may cover */
  maxRangeCells: number;
  maxRows: number;
  maxColumns: number;
}

const MIB = 1024 * 1024;

export const DEFAULT_LIMITS: GateLimits = Object.freeze({
  maxBytes: 10 * MIB,
  maxEntries: 200,
  maxTotalUncompressed: 100 * MIB,
  maxPartUncompressed: 50 * MIB,
  maxRatio: 200,
  maxMergedRanges: 1000,
  maxRangeCells: 1_000_000,
  maxRows: 20_000,
  maxColumns: 64,
});

export type SheetInfo = { name: string; path: string; state: 'visible' | 'hidden' | 'veryHidden' };

export interface GateOk {
  ok: true;
  /** worksheets in workbook order (chartsheets and dialogsheets are left out); path is the zip entry name */
  sheets: SheetInfo[];
  date1904: boolean;
}

export type GateResult = GateOk | { ok: false; issues: Issue[] };

/**
 * What the gate inflated and decoded, for the parser to read instead of inflating and decoding the
 * same parts again (parse/index.ts): a caller that parses next passes an empty one to gateUpload.
 */
export interface GateParts {
  /** the XML parts, inflated, by lower-case entry name */
  xml: Map<string, Buffer>;
  /** worksheet parts as text, by lower-case entry name: those in UTF-8, decoded as the parser would */
  text: Map<string, string>;
}

export const noParts = (): GateParts => ({ xml: new Map(), text: new Map() });

/** at most this many issues from the workbook/worksheet scan */
const MAX_ISSUES = 50;

/**
 * Decides from raw bytes whether an upload is an xlsx workbook safe to stream with exceljs.
 * Never throws; time and memory are bounded by the limits.
 */
export function gateUpload(bytes: Uint8Array, limits: Partial<GateLimits> = {}, keep: GateParts = noParts()): GateResult {
  try {
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return gate(buf, resolveLimits(limits), keep);
  } catch {
    return refuse('file-corrupt', msg.unexpected());
  }
}

function resolveLimits(partial: Partial<GateLimits>): GateLimits {
  const limits: GateLimits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as Array<keyof GateLimits>) {
    const v = partial[key];
    if (typeof v === 'number' && !Number.isNaN(v)) limits[key] = v;
  }
  return limits;
}

const refuse = (code: IssueCode, message: string, value: Issue['value'] = null): GateResult => ({
  ok: false,
  issues: [makeIssue(code, message, { value })],
});

function refuseFault(fault: ZipFault, limits: GateLimits): GateResult {
  switch (fault.kind) {
    case 'corrupt':
      return refuse('file-corrupt', msg.corrupt(fault.detail));
    case 'unreadable':
      return refuse('file-unreadable', msg.unreadable(fault.detail));
    case 'too-many-entries':
      return refuse('file-too-complex', msg.tooManyEntries(fault.count, limits.maxEntries), fault.count);
    case 'bad-name':
      return refuse('file-bad-part-name', msg.badName(fault.name, fault.reason), fault.name);
    case 'bomb':
      return refuse('file-zip-bomb', msg.bomb(fault.detail), fault.name);
  }
}

// exceljs's streaming reader treats any entry whose path contains this as worksheet N
const EXCELJS_SHEET = /xl\/worksheets\/sheet\d+[.]xml/;
const EXCELJS_SHEET_EXACT = /^xl\/worksheets\/sheet\d+\.xml$/;

const isXmlPart = (name: string, type: string | undefined): boolean =>
  /\.(xml|rels|vml)$/i.test(name) || (type !== undefined && type.includes('xml'));

function gate(buf: Buffer, limits: GateLimits, keep: GateParts): GateResult {
  // 1. size
  if (buf.length === 0) return refuse('file-empty', msg.empty());
  if (buf.length > limits.maxBytes) return refuse('file-too-large', msg.tooLarge(buf.length, limits.maxBytes), buf.length);

  // 2. magic
  if (isCfb(buf)) {
    const kind = classifyCfb(buf);
    const code: IssueCode = kind === 'encrypted' ? 'file-encrypted' : kind === 'legacy' ? 'file-legacy-xls' : 'file-not-workbook';
    return refuse(code, msg.cfb(kind));
  }
  if (!looksLikeZip(buf)) return refuse('file-not-zip', msg.notZip(sniffNotZip(buf)));

  // 3. zip structure, all from headers
  const read = readCentralDirectory(buf, limits.maxEntries);
  if (!read.ok) return refuseFault(read.fault, limits);
  const dir = read.value;
  const structural = checkNames(dir.entries) ?? checkDeclaredSizes(dir.entries, limits) ?? checkLocalHeaders(buf, dir);
  if (structural) return refuseFault(structural, limits);
  const sneaky = dir.entries.find((e) => EXCELJS_SHEET.test(e.name) && !EXCELJS_SHEET_EXACT.test(e.name));
  if (sneaky) return refuseFault({ kind: 'bad-name', name: sneaky.name, reason: '路径会被误当作工作表读取' }, limits);
  const byKey = new Map(dir.entries.map((e) => [e.name.toLowerCase(), e] as const));

  // 4. content types
  const ctEntry = byKey.get('[content_types].xml');
  if (!ctEntry) return refuseNoContentTypes(buf, byKey.get('mimetype'), limits);
  const ctBytes = inflateEntry(buf, ctEntry);
  if (!ctBytes.ok) return refuseFault(ctBytes.fault, limits);
  if (hasDtd(ctBytes.value)) return refuse('file-xml-dtd', msg.dtd(ctEntry.name), ctEntry.name);
  const ct = parseContentTypes(decodeXml(ctBytes.value));
  const pkg = classifyPackage(dir.entries.map((e) => e.name), ct);
  if (pkg.kind === 'macro') return refuse('file-macro-enabled', msg.macro());
  if (pkg.kind === 'other') return refuse('file-not-workbook', msg.notWorkbook(pkg.other));
  if (pkg.kind === 'ambiguous') return refuse('file-corrupt', msg.corrupt(msg.twoWorkbooks()));

  // 5. inflate every entry within its declared size; keep the XML parts
  const xml = keep.xml;
  for (const e of dir.entries) {
    if (e.isDirectory || e === ctEntry) continue;
    const data = inflateEntry(buf, e);
    if (!data.ok) return refuseFault(data.fault, limits);
    if (isXmlPart(e.name, contentTypeOf(ct, e.name))) {
      if (hasDtd(data.value)) return refuse('file-xml-dtd', msg.dtd(e.name), e.name);
      xml.set(e.name.toLowerCase(), data.value);
    }
  }

  // 6. workbook and worksheets
  return checkWorkbook(pkg.main, xml, byKey, ct, limits, keep.text);
}

function refuseNoContentTypes(buf: Buffer, mimetype: ZipEntry | undefined, limits: GateLimits): GateResult {
  if (mimetype && !mimetype.isDirectory) {
    const data = inflateEntry(buf, mimetype);
    if (!data.ok) return refuseFault(data.fault, limits);
    const type = data.value.toString('latin1', 0, 200).trim().toLowerCase();
    if (type.startsWith('application/vnd.oasis.opendocument.spreadsheet')) return refuse('file-not-workbook', msg.notWorkbook('ods'));
    if (type.startsWith('application/vnd.oasis.opendocument')) return refuse('file-not-workbook', msg.notWorkbook('opendocument'));
  }
  return refuse('file-not-workbook', msg.noContentTypes());
}

function checkWorkbook(
  main: string,
  xml: Map<string, Buffer>,
  byKey: Map<string, ZipEntry>,
  ct: ContentTypes,
  limits: GateLimits,
  texts: Map<string, string>,
): GateResult {
  const mainBytes = xml.get(main.toLowerCase());
  if (!mainBytes) return refuse('file-corrupt', msg.corrupt(msg.missingPart('找不到工作簿主文件')));
  const workbook = parseWorkbook(decodeXml(mainBytes));
  if (workbook.sheets.length === 0) return refuse('file-corrupt', msg.corrupt(msg.missingPart('工作簿中没有任何工作表')));
  const relsPath = relsPathFor(main);
  const relsBytes = xml.get(relsPath.toLowerCase());
  if (!relsBytes) return refuse('file-corrupt', msg.corrupt(msg.missingPart(`缺少“${relsPath}”`)));
  const rels = new Map(parseRels(decodeXml(relsBytes)).map((r) => [r.id, r] as const));

  const sheets: SheetInfo[] = [];
  const names = new Set<string>();
  const paths = new Set<string>();
  for (const s of workbook.sheets) {
    // excel itself refuses a workbook with two sheets of one name
    if (names.has(s.name.toLowerCase())) return refuse('file-corrupt', msg.corrupt(msg.missingPart(`有两个工作表都叫“${s.name}”`)));
    names.add(s.name.toLowerCase());
    const rel = s.rid === undefined ? undefined : rels.get(s.rid);
    if (!rel || rel.external) return refuse('file-corrupt', msg.corrupt(msg.missingPart(`工作表“${s.name}”没有对应的内部文件`)));
    if (isMacrosheetRel(rel.type)) return refuse('file-macro-enabled', msg.macro());
    if (!isWorksheetRel(rel.type)) continue; // chartsheet, dialogsheet
    const target = resolveTarget(main, rel.target);
    const entry = target === null ? undefined : byKey.get(target.toLowerCase());
    if (!entry || entry.isDirectory) return refuse('file-corrupt', msg.corrupt(msg.missingPart(`找不到工作表“${s.name}”的内容`)));
    if (paths.has(entry.name)) {
      return refuse('file-corrupt', msg.corrupt(msg.missingPart(`工作表“${s.name}”与另一个工作表共用同一内部文件`)));
    }
    paths.add(entry.name);
    sheets.push({ name: s.name, path: entry.name, state: s.state });
  }

  const issues: Issue[] = [];
  for (const dn of workbook.definedNames) {
    if (issues.length >= MAX_ISSUES) break;
    const { cells } = rangeSize(dn.formula);
    if (cells > limits.maxRangeCells) {
      const sheet = dn.localSheetId === null ? null : (workbook.sheets[dn.localSheetId]?.name ?? null);
      issues.push(makeIssue('file-too-complex', msg.definedName(dn.name, dn.formula, cells, limits.maxRangeCells), { sheet, value: dn.formula }));
    }
  }

  // every part a reader might take for a worksheet: the workbook's, and any other by content type or path
  const parts = new Map<string, string | null>(sheets.map((s) => [s.path.toLowerCase(), s.name]));
  for (const [key, entry] of byKey) {
    if (parts.has(key) || entry.isDirectory) continue;
    if (contentTypeOf(ct, entry.name) === CT.worksheet || EXCELJS_SHEET.test(entry.name)) parts.set(key, null);
  }
  for (const [key, name] of parts) {
    if (issues.length >= MAX_ISSUES) break;
    const bytes = xml.get(key);
    if (!bytes) return refuse('file-corrupt', msg.corrupt(msg.missingPart(`工作表“${name ?? key}”不是 XML 格式`)));
    const text = decodeXml(bytes);
    if (isUtf8(bytes)) texts.set(key, text);
    issues.push(...scanWorksheet(text, name, limits));
  }

  if (issues.length) return { ok: false, issues: issues.slice(0, MAX_ISSUES) };
  return { ok: true, sheets, date1904: workbook.date1904 };
}
