/**
 * Whether a workbook we hand out can act when it is opened: a formula (=WEBSERVICE("http://…"&C8),
 * =HYPERLINK(…), a DDE call such as cmd|' /C calc'!A0, a link into another workbook), a relationship
 * to anything outside the package (a hyperlink, an external workbook, a DDE or OLE link), a macro,
 * an OLE object or ActiveX control, or any part we do not write ourselves.
 *
 * The feedback workbook (render/feedback.ts) is the institution's own upload handed back, and the
 * commission downloads and opens it too: it must carry none of these. activeContentOf() reads the
 * bytes as a reader would and lists what it finds, so the renderer can refuse its own output.
 */
import { unescapeXml } from '../gate/xml.ts';
import { checkLocalHeaders, inflateEntry, readCentralDirectory } from '../gate/zip.ts';

/**
 * The parts an exceljs-written workbook consists of (exceljs writes nothing else it loaded: no
 * external links, embeddings, macros, controls, connections, printer settings, custom XML).
 */
const KNOWN_PARTS: readonly RegExp[] = [
  /^\[Content_Types\]\.xml$/,
  /^_rels\/\.rels$/,
  /^docProps\/(app|core)\.xml$/,
  /^xl\/workbook\.xml$/,
  /^xl\/_rels\/workbook\.xml\.rels$/,
  /^xl\/(styles|sharedStrings)\.xml$/,
  /^xl\/theme\/theme\d+\.xml$/,
  /^xl\/worksheets\/sheet\d+\.xml$/,
  /^xl\/worksheets\/_rels\/sheet\d+\.xml\.rels$/,
  /^xl\/comments\d+\.xml$/,
  /^xl\/drawings\/vmlDrawing\d+\.vml$/,
  /^xl\/drawings\/drawing\d+\.xml$/,
  /^xl\/drawings\/_rels\/drawing\d+\.xml\.rels$/,
  /^xl\/media\/image\d+\.(png|jpe?g|gif|bmp)$/i,
  /^xl\/tables\/table\d+\.xml$/,
];

/** Relationship types of those parts (the last segment of the type URI). Hyperlinks are always external. */
const KNOWN_RELATIONSHIPS = new Set(['officeDocument', 'core-properties', 'extended-properties', 'worksheet', 'styles', 'sharedStrings', 'theme', 'comments', 'vmlDrawing', 'drawing', 'image', 'table']);

/** Elements that link out or embed something, in any part (belt and braces: their parts are refused above). */
const LINKING_ELEMENTS = /<(?:[\w.-]+:)?(externalReference|externalBook|ddeLink|oleLink|oleObject|control|webPublishItem|queryTable|connection)[\s>/]/i;

/** Elements whose text is a formula: defined names, validation and conditional-format rules, table columns. */
const FORMULA_TEXT = /<(?:[\w.-]+:)?(definedName|formula[12]?|calculatedColumnFormula|totalsRowFormula)\b[^>]*>([^<]*)</g;

/**
 * True for a formula that cannot call anything: numbers, string literals, references and names
 * within the workbook, operators. A function call needs "(", a link into another workbook "[",
 * a DDE call "|"; inside a string literal or a quoted sheet name ('基层月报(2)'!A1) they do not
 * count (a sheet name cannot contain "[" or "]", so a quoted [1]Sheet1 still does).
 */
export function isInertFormula(formula: string): boolean {
  const bare = formula.replace(/"(?:[^"]|"")*"/g, '""').replace(/'(?:[^'[\]]|'')*'/g, "''");
  return !/[([|]/.test(bare);
}

/** What in these .xlsx bytes could act when opened; [] when nothing. Never throws. */
export function activeContentOf(bytes: Uint8Array): string[] {
  const found: string[] = [];
  try {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const dir = readCentralDirectory(buf, 10_000);
    if (!dir.ok || checkLocalHeaders(buf, dir.value)) return ['unreadable zip'];
    for (const entry of dir.value.entries) {
      if (entry.isDirectory) continue;
      if (!KNOWN_PARTS.some((p) => p.test(entry.name))) {
        found.push(`part ${entry.name}`);
        continue;
      }
      if (/\.(png|jpe?g|gif|bmp)$/i.test(entry.name)) continue;
      const data = inflateEntry(buf, entry);
      if (!data.ok) {
        found.push(`unreadable part ${entry.name}`);
        continue;
      }
      found.push(...activeXml(entry.name, data.value.toString('utf8')));
    }
  } catch (err) {
    found.push(`unreadable: ${err instanceof Error ? err.message : String(err)}`);
  }
  return found;
}

function activeXml(part: string, xml: string): string[] {
  const found: string[] = [];
  if (/<(?:[\w.-]+:)?f[\s>/]/.test(xml)) found.push(`${part}: cell formula`);
  const linking = LINKING_ELEMENTS.exec(xml);
  if (linking) found.push(`${part}: <${linking[1]}>`);
  for (const m of xml.matchAll(FORMULA_TEXT)) {
    if (!isInertFormula(unescapeXml(m[2]!))) found.push(`${part}: <${m[1]}> ${m[2]!.slice(0, 80)}`);
  }
  for (const m of xml.matchAll(/<(?:[\w.-]+:)?cfvo\b[^>]*>/g)) {
    const val = /\bval=(["'])(.*?)\1/.exec(m[0]);
    if (val && !isInertFormula(unescapeXml(val[2]!))) found.push(`${part}: <cfvo> ${val[2]!.slice(0, 80)}`);
  }
  if (part.endsWith('.rels')) {
    for (const m of xml.matchAll(/<(?:[\w.-]+:)?Relationship\b[^>]*>/g)) {
      const type = /\bType=(["'])(.*?)\1/.exec(m[0])?.[2] ?? '';
      if (/\bTargetMode=(["'])External\1/i.test(m[0])) found.push(`${part}: external relationship ${type.split('/').pop()}`);
      else if (!KNOWN_RELATIONSHIPS.has(type.split('/').pop() ?? '')) found.push(`${part}: relationship ${type}`);
    }
  }
  return found;
}
