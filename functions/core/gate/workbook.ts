/**
 * The package level of an xlsx: [Content_Types].xml, the workbook part, its relationships.
 * All names are compared case-insensitively, as OPC says part names are.
 */
import type { OtherKind } from './messages.ts';
import { attrByLocalName, elementText, tagScanner, unescapeXml } from './xml.ts';

export const CT = {
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml',
  xlsm: 'application/vnd.ms-excel.sheet.macroenabled.main+xml',
  xltx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml',
  xltm: 'application/vnd.ms-excel.template.macroenabled.main+xml',
  xlam: 'application/vnd.ms-excel.addin.macroenabled.main+xml',
  xlsb: 'application/vnd.ms-excel.sheet.binary.macroenabled.main',
  worksheet: 'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml',
  vba: 'application/vnd.ms-office.vbaproject',
  macrosheet: 'application/vnd.ms-excel.macrosheet+xml',
  intlMacrosheet: 'application/vnd.ms-excel.intlmacrosheet+xml',
} as const;

const MACRO_MAINS: readonly string[] = [CT.xlsm, CT.xltm, CT.xlam];
const MACRO_PARTS: readonly string[] = [CT.vba, CT.macrosheet, CT.intlMacrosheet];

export interface ContentTypes {
  /** extension (lower case) → content type (lower case) */
  defaults: Map<string, string>;
  /** part name without leading slash (lower case) → content type (lower case) */
  overrides: Map<string, string>;
}

const scanContentTypes = tagScanner(['Default', 'Override']);

export function parseContentTypes(text: string): ContentTypes {
  const ct: ContentTypes = { defaults: new Map(), overrides: new Map() };
  scanContentTypes(text, (tag) => {
    const type = unescapeXml(tag.attrs.ContentType ?? '').trim().toLowerCase();
    if (tag.name === 'Default' && tag.attrs.Extension !== undefined) {
      ct.defaults.set(unescapeXml(tag.attrs.Extension).toLowerCase(), type);
    } else if (tag.name === 'Override' && tag.attrs.PartName !== undefined) {
      ct.overrides.set(partKey(uriDecode(unescapeXml(tag.attrs.PartName))), type);
    }
  });
  return ct;
}

/** a zip name or an OPC part name → lookup key */
export const partKey = (name: string): string => name.replace(/^\/+/, '').toLowerCase();

export function contentTypeOf(ct: ContentTypes, name: string): string | undefined {
  const key = partKey(name);
  const override = ct.overrides.get(key);
  if (override !== undefined) return override;
  const dot = key.lastIndexOf('.');
  return dot >= 0 && dot > key.lastIndexOf('/') ? ct.defaults.get(key.slice(dot + 1)) : undefined;
}

export type PackageKind =
  | { kind: 'workbook'; main: string }
  | { kind: 'macro' }
  | { kind: 'other'; other: OtherKind }
  | { kind: 'ambiguous' };

/** decides from content types (and a vbaProject.bin by name) what the package is */
export function classifyPackage(names: readonly string[], ct: ContentTypes): PackageKind {
  const mains: string[] = [];
  let macro = false;
  let other: OtherKind | null = null;
  for (const name of names) {
    if (name.endsWith('/')) continue;
    const type = contentTypeOf(ct, name) ?? '';
    if (type === CT.xlsx) mains.push(name);
    else if (MACRO_MAINS.includes(type) || MACRO_PARTS.includes(type)) macro = true;
    else if (type === CT.xlsb) other ??= 'xlsb';
    else if (type === CT.xltx) other ??= 'template';
    else if (type.includes('wordprocessingml') && type.endsWith('.main+xml')) other ??= 'word';
    else if (type.includes('presentationml') && type.endsWith('.main+xml')) other ??= 'powerpoint';
    if (/(^|\/)vbaproject\.bin$/i.test(name)) macro = true;
  }
  // xlsb first: its content type says "macroEnabled" but the trouble is the binary format
  if (other === 'xlsb') return { kind: 'other', other };
  if (macro) return { kind: 'macro' };
  if (mains.length === 1) return { kind: 'workbook', main: mains[0]! };
  if (mains.length > 1) return { kind: 'ambiguous' };
  return { kind: 'other', other: other ?? 'office' };
}

export type SheetState = 'visible' | 'hidden' | 'veryHidden';

export interface WorkbookInfo {
  date1904: boolean;
  sheets: Array<{ name: string; rid: string | undefined; state: SheetState }>;
  definedNames: Array<{ name: string; localSheetId: number | null; formula: string }>;
}

const scanWorkbook = tagScanner(['workbookPr', 'sheet', 'definedName']);

export function parseWorkbook(text: string): WorkbookInfo {
  const info: WorkbookInfo = { date1904: false, sheets: [], definedNames: [] };
  scanWorkbook(text, (tag) => {
    if (tag.name === 'workbookPr') {
      const v = (tag.attrs.date1904 ?? '').trim().toLowerCase();
      info.date1904 = v === '1' || v === 'true';
    } else if (tag.name === 'sheet') {
      const state = (tag.attrs.state ?? 'visible').trim();
      const rid = attrByLocalName(tag.attrs, 'id');
      info.sheets.push({
        name: unescapeXml(tag.attrs.name ?? ''),
        rid: rid === undefined ? undefined : unescapeXml(rid),
        state: state === 'hidden' || state === 'veryHidden' ? state : 'visible',
      });
    } else if (!tag.selfClosing) {
      const local = tag.attrs.localSheetId;
      info.definedNames.push({
        name: unescapeXml(tag.attrs.name ?? ''),
        localSheetId: local !== undefined && /^\d+$/.test(local.trim()) ? Number(local) : null,
        formula: elementText(text, tag.end),
      });
    }
  });
  return info;
}

export interface Relationship {
  id: string;
  type: string;
  target: string;
  external: boolean;
}

const scanRels = tagScanner(['Relationship']);

export function parseRels(text: string): Relationship[] {
  const rels: Relationship[] = [];
  scanRels(text, (tag) => {
    rels.push({
      id: unescapeXml(tag.attrs.Id ?? ''),
      type: unescapeXml(tag.attrs.Type ?? ''),
      target: unescapeXml(tag.attrs.Target ?? ''),
      external: (tag.attrs.TargetMode ?? '').toLowerCase() === 'external',
    });
  });
  return rels;
}

/** 'xl/workbook.xml' → 'xl/_rels/workbook.xml.rels' */
export function relsPathFor(part: string): string {
  const slash = part.lastIndexOf('/');
  return `${part.slice(0, slash + 1)}_rels/${part.slice(slash + 1)}.rels`;
}

/** a relationship target (relative to its source part, or absolute) → zip name; null if it leaves the package */
export function resolveTarget(source: string, target: string): string | null {
  const path = uriDecode(target.split(/[?#]/)[0]!);
  const out = path.startsWith('/') ? [] : source.split('/').slice(0, -1);
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (out.length === 0) return null;
      out.pop();
    } else out.push(segment);
  }
  return out.join('/');
}

function uriDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export const isWorksheetRel = (type: string): boolean => /\/worksheet$/i.test(type);
export const isMacrosheetRel = (type: string): boolean => /\/(xlMacrosheet|xlIntlMacrosheet)$/i.test(type);
