/**
 * Just enough XML for the gate: decode a part to text, find DTDs, and walk chosen start tags
 * with a linear scan (no DOM). Element names may carry any namespace prefix (<x:sheet>).
 */

const isUtf16Le = (buf: Buffer): boolean => (buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0x3c && buf[1] === 0x00);
const isUtf16Be = (buf: Buffer): boolean => (buf[0] === 0xfe && buf[1] === 0xff) || (buf[0] === 0x00 && buf[1] === 0x3c);

/** whether decodeXml reads the part as UTF-8 (no UTF-16 start) */
export const isUtf8 = (buf: Buffer): boolean => !isUtf16Le(buf) && !isUtf16Be(buf);

/** part bytes → text; honours a UTF-16 BOM (or a UTF-16 looking start), else UTF-8 */
export function decodeXml(buf: Buffer): string {
  if (isUtf16Le(buf)) return buf.toString('utf16le');
  if (isUtf16Be(buf)) {
    const even = buf.subarray(0, buf.length & ~1);
    const swapped = Buffer.from(even);
    swapped.swap16();
    return swapped.toString('utf16le');
  }
  return buf.toString('utf8');
}

const LT_BANG = Buffer.from('<!');

/** true when the part holds <!DOCTYPE or <!ENTITY (any case); works on the raw bytes for UTF-8 */
export function hasDtd(buf: Buffer): boolean {
  const b0 = buf[0];
  const b1 = buf[1];
  if (b0 === 0xff || b0 === 0xfe || b0 === 0x00 || b1 === 0x00) return textHasDtd(decodeXml(buf));
  for (let i = buf.indexOf(LT_BANG); i >= 0; i = buf.indexOf(LT_BANG, i + 2)) {
    if (isDtdWord(buf.toString('latin1', i + 2, i + 9))) return true;
  }
  return false;
}

export function textHasDtd(text: string): boolean {
  for (let i = text.indexOf('<!'); i >= 0; i = text.indexOf('<!', i + 2)) {
    if (isDtdWord(text.slice(i + 2, i + 9))) return true;
  }
  return false;
}

function isDtdWord(s: string): boolean {
  const u = s.toUpperCase();
  return u === 'DOCTYPE' || u.startsWith('ENTITY');
}

const ENTITY = /&(?:#x([0-9a-fA-F]{1,6})|#(\d{1,7})|(lt|gt|amp|quot|apos));/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** decodes the five XML entities and character references */
export function unescapeXml(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(ENTITY, (whole, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
    if (name) return NAMED[name]!;
    const code = hex ? parseInt(hex, 16) : Number(dec);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

export interface Tag {
  /** local name, without prefix */
  name: string;
  /** attributes by qualified name as written (values still escaped) */
  attrs: Record<string, string>;
  /** index just after the tag's closing '>' */
  end: number;
  selfClosing: boolean;
}

const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13;

/**
 * Reads the attributes of a start tag from `i` (just after the element name).
 * Linear in the tag's length; on malformed input it stops at the next '>' or the end.
 */
export function readAttributes(s: string, i: number): { attrs: Record<string, string>; end: number; selfClosing: boolean } {
  const attrs: Record<string, string> = {};
  const n = s.length;
  for (;;) {
    while (i < n && isSpace(s.charCodeAt(i))) i++;
    if (i >= n) return { attrs, end: n, selfClosing: false };
    const c = s.charCodeAt(i);
    if (c === 62) return { attrs, end: i + 1, selfClosing: false }; // >
    if (c === 47) return { attrs, end: i + 2 > n ? n : i + 2, selfClosing: true }; // />
    const nameStart = i;
    while (i < n) {
      const d = s.charCodeAt(i);
      if (d === 61 || d === 62 || d === 47 || isSpace(d)) break;
      i++;
    }
    const name = s.slice(nameStart, i);
    while (i < n && isSpace(s.charCodeAt(i))) i++;
    if (s.charCodeAt(i) !== 61) {
      // attribute without a value: not XML; skip the token
      if (i === nameStart) i++;
      continue;
    }
    i++;
    while (i < n && isSpace(s.charCodeAt(i))) i++;
    const q = s.charCodeAt(i);
    if (q !== 34 && q !== 39) continue;
    const close = s.indexOf(q === 34 ? '"' : "'", i + 1);
    if (close < 0) return { attrs, end: n, selfClosing: false };
    attrs[name] = s.slice(i + 1, close);
    i = close + 1;
  }
}

/** one attribute's value, read from `i` (just after the element name) */
export function attributeValue(s: string, i: number, wanted: string): string | undefined {
  // fast path, without building a record: the attribute comes first, as producers write r on <c> and <row>
  const at = i + 1 + wanted.length;
  if (s.charCodeAt(i) === 32 && s.startsWith(wanted, i + 1) && s.charCodeAt(at) === 61 && s.charCodeAt(at + 1) === 34) {
    const close = s.indexOf('"', at + 2);
    return close < 0 ? undefined : s.slice(at + 2, close);
  }
  return readAttributes(s, i).attrs[wanted];
}

/** an attribute by local name, whatever its prefix (r:id, ns1:id) */
export function attrByLocalName(attrs: Record<string, string>, local: string): string | undefined {
  for (const key in attrs) {
    const colon = key.indexOf(':');
    if (colon >= 0 && key.slice(colon + 1) === local) return attrs[key];
  }
  return undefined;
}

/**
 * Walks the start tags of a document in one pass, skipping end tags, comments, CDATA and
 * processing instructions. onTag gets where the local name (after any prefix) starts and ends;
 * attributes follow at nameEnd.
 */
export function walkTags(text: string, onTag: (localStart: number, nameEnd: number) => void): void {
  const n = text.length;
  for (let i = text.indexOf('<'); i >= 0; ) {
    const next = text.charCodeAt(i + 1);
    if (next === 47 || next === 63) {
      i = text.indexOf('<', i + 2);
      continue;
    }
    if (next === 33) {
      // anything after <! other than a comment or CDATA is skipped as one tag
      const close = text.startsWith('<!--', i) ? '-->' : text.startsWith('<![CDATA[', i) ? ']]>' : '>';
      const at = text.indexOf(close, i + 2);
      if (at < 0) return;
      i = text.indexOf('<', at + close.length);
      continue;
    }
    let j = i + 1;
    let local = j;
    for (; j < n; j++) {
      const ch = text.charCodeAt(j);
      if (ch === 32 || ch === 62 || ch === 47 || ch === 9 || ch === 10 || ch === 13) break;
      if (ch === 58) local = j + 1;
    }
    onTag(local, j);
    // '<' cannot occur in attribute values or text, so the next one starts the next markup
    i = text.indexOf('<', j);
  }
}

/** a scanner for the start tags of the given local names, with their attributes */
export function tagScanner(names: readonly string[]): (text: string, onTag: (tag: Tag) => void) => void {
  const wanted = new Set(names);
  return (text, onTag) =>
    walkTags(text, (local, nameEnd) => {
      const name = text.slice(local, nameEnd);
      if (wanted.has(name)) onTag({ name, ...readAttributes(text, nameEnd) });
    });
}

/** the text of an element with no child elements, from just after its start tag */
export function elementText(text: string, from: number): string {
  const lt = text.indexOf('<', from);
  return unescapeXml(text.slice(from, lt < 0 ? text.length : lt));
}
