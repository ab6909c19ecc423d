/**
 * Native Excel line charts (DrawingML) for a sheet written by exceljs's streaming writer, which writes
 * no charts itself: the chart parts, the sheet's drawing and their relationships are added to the same
 * zip, deterministically (same charts in, same bytes out).
 *
 *   xl/worksheets/sheetN.xml            <drawing r:id="…"/> before </worksheet> (before legacyDrawing)
 *   xl/worksheets/_rels/sheetN.xml.rels → ../drawings/drawing1.xml
 *   xl/drawings/drawing1.xml            one two-cell anchor per chart
 *   xl/drawings/_rels/drawing1.xml.rels → ../charts/chartK.xml
 *   xl/charts/chartK.xml                a c:lineChart whose series reference the sheet's cells
 *   [Content_Types].xml                 overrides for the drawing and the charts
 *
 * Every series references cells (c:f) and carries their values (c:strCache, c:numCache), so a reader
 * that does not recalculate (WPS, a previewer) shows the same lines as one that reads the cells.
 */
import type ExcelJS from 'exceljs';
import { FONT_NAME } from './style.ts';

export interface ChartSeries {
  /** the cell holding the series name, e.g. '趋势'!$D$4, and its text */
  nameRef: string;
  name: string;
  /** the range of values, e.g. '趋势'!$E$4:$Q$4, and the values (null: a gap) */
  valuesRef: string;
  values: Array<number | null>;
  /** RRGGBB */
  color: string;
  dashed?: boolean;
  markers?: boolean;
}

export interface LineChart {
  title: string;
  /** the category labels' range (the month headers) and their text */
  categoriesRef: string;
  categories: string[];
  series: ChartSeries[];
  /** the value axis's number format (0.00, 0) */
  numFmt: string;
  /** where the chart sits: zero-based columns and rows, from (inclusive) to (exclusive) */
  from: { col: number; row: number };
  to: { col: number; row: number };
}

export const CONTENT_TYPE = {
  drawing: 'application/vnd.openxmlformats-officedocument.drawing+xml',
  chart: 'application/vnd.openxmlformats-officedocument.drawingml.chart+xml',
} as const;
const REL = {
  drawing: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing',
  chart: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart',
} as const;
const NS = {
  c: 'http://schemas.openxmlformats.org/drawingml/2006/chart',
  a: 'http://schemas.openxmlformats.org/drawingml/2006/main',
  r: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships',
  xdr: 'http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing',
} as const;
const XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

/** What a workbook writer offers for extra parts (DeterministicWorkbookWriter.addPart). */
export interface PartSink {
  addPart(name: string, xml: string, contentType: string): void;
}

/** Internals of exceljs's streaming WorksheetWriter this relies on (checked at run time). */
interface StreamSheetInternals {
  _sheetRelsWriter: { addRelationship(rel: { Type: string; Target: string }): string };
  _writeLegacyData(): void;
  stream: { write(text: string): void };
}

/**
 * Adds `charts` to a worksheet of the streaming writer, before its commit. `drawingNo` and
 * `firstChartNo` number the parts uniquely within the workbook.
 */
export function attachCharts(sink: PartSink, ws: ExcelJS.Worksheet, charts: readonly LineChart[], drawingNo: number, firstChartNo: number): void {
  if (!charts.length) return;
  const sheet = ws as unknown as StreamSheetInternals;
  if (typeof sheet._sheetRelsWriter?.addRelationship !== 'function' || typeof sheet._writeLegacyData !== 'function') {
    throw new Error('attachCharts: exceljs internals changed (no sheet relationships writer)');
  }
  const drawingName = `drawing${drawingNo}.xml`;
  const rId = sheet._sheetRelsWriter.addRelationship({ Type: REL.drawing, Target: `../drawings/${drawingName}` });
  // <drawing> comes after headerFooter and rowBreaks and before legacyDrawing (CT_Worksheet order)
  const writeLegacy = sheet._writeLegacyData.bind(sheet);
  sheet._writeLegacyData = () => {
    sheet.stream.write(`<drawing r:id="${rId}"/>`);
    writeLegacy();
  };
  const rels: string[] = [];
  const anchors: string[] = [];
  charts.forEach((chart, i) => {
    const no = firstChartNo + i;
    sink.addPart(`xl/charts/chart${no}.xml`, chartXml(chart), CONTENT_TYPE.chart);
    rels.push(`<Relationship Id="rId${i + 1}" Type="${REL.chart}" Target="../charts/chart${no}.xml"/>`);
    anchors.push(anchorXml(chart, i + 1, `rId${i + 1}`));
  });
  sink.addPart(`xl/drawings/${drawingName}`, `${XML_HEAD}<xdr:wsDr xmlns:xdr="${NS.xdr}" xmlns:a="${NS.a}">${anchors.join('')}</xdr:wsDr>`, CONTENT_TYPE.drawing);
  sink.addPart(`xl/drawings/_rels/${drawingName}.rels`, `${XML_HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${rels.join('')}</Relationships>`, '');
}

function anchorXml(chart: LineChart, id: number, rId: string): string {
  const at = (p: { col: number; row: number }) => `<xdr:col>${p.col}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>${p.row}</xdr:row><xdr:rowOff>0</xdr:rowOff>`;
  return (
    `<xdr:twoCellAnchor editAs="oneCell"><xdr:from>${at(chart.from)}</xdr:from><xdr:to>${at(chart.to)}</xdr:to>` +
    `<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="${id + 1}" name="${esc(`图表 ${id}`)}" descr="${esc(chart.title)}"/><xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>` +
    `<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>` +
    `<a:graphic><a:graphicData uri="${NS.c}"><c:chart xmlns:c="${NS.c}" xmlns:r="${NS.r}" r:id="${rId}"/></a:graphicData></a:graphic>` +
    `</xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor>`
  );
}

const AXIS = { cat: 500001, val: 500002 } as const;

/** One chart part: a line chart with its title, the series, category and value axes, a legend below. */
export function chartXml(chart: LineChart): string {
  const run = (text: string, size: number, bold: boolean) =>
    `<a:r><a:rPr lang="zh-CN" sz="${size}" b="${bold ? 1 : 0}">${font()}</a:rPr><a:t>${esc(text)}</a:t></a:r>`;
  const txPr = (size: number) => `<c:txPr><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="${size}">${font()}</a:defRPr></a:pPr><a:endParaRPr lang="zh-CN"/></a:p></c:txPr>`;
  const strCache = (values: readonly string[]) => `<c:strCache><c:ptCount val="${values.length}"/>${values.map((v, i) => `<c:pt idx="${i}"><c:v>${esc(v)}</c:v></c:pt>`).join('')}</c:strCache>`;
  const numCache = (values: ReadonlyArray<number | null>) =>
    `<c:numCache><c:formatCode>General</c:formatCode><c:ptCount val="${values.length}"/>${values
      .map((v, i) => (v === null || !Number.isFinite(v) ? '' : `<c:pt idx="${i}"><c:v>${v}</c:v></c:pt>`))
      .join('')}</c:numCache>`;
  const series = chart.series
    .map((s, i) => {
      const line = `<a:ln w="${s.dashed ? 19050 : 28575}" cap="rnd"><a:solidFill><a:srgbClr val="${s.color}"/></a:solidFill>${s.dashed ? '<a:prstDash val="dash"/>' : ''}<a:round/></a:ln>`;
      const marker = s.markers
        ? `<c:marker><c:symbol val="circle"/><c:size val="5"/><c:spPr><a:solidFill><a:srgbClr val="${s.color}"/></a:solidFill><a:ln w="9525"><a:solidFill><a:srgbClr val="${s.color}"/></a:solidFill></a:ln></c:spPr></c:marker>`
        : '<c:marker><c:symbol val="none"/></c:marker>';
      return (
        `<c:ser><c:idx val="${i}"/><c:order val="${i}"/>` +
        `<c:tx><c:strRef><c:f>${esc(s.nameRef)}</c:f>${strCache([s.name])}</c:strRef></c:tx>` +
        `<c:spPr>${line}</c:spPr>${marker}` +
        `<c:cat><c:strRef><c:f>${esc(chart.categoriesRef)}</c:f>${strCache(chart.categories)}</c:strRef></c:cat>` +
        `<c:val><c:numRef><c:f>${esc(s.valuesRef)}</c:f>${numCache(s.values)}</c:numRef></c:val>` +
        `<c:smooth val="0"/></c:ser>`
      );
    })
    .join('');
  const gridLine = '<c:majorGridlines><c:spPr><a:ln w="6350"><a:solidFill><a:srgbClr val="D9D9D9"/></a:solidFill></a:ln></c:spPr></c:majorGridlines>';
  const axisLine = '<c:spPr><a:ln w="9525"><a:solidFill><a:srgbClr val="A6A6A6"/></a:solidFill></a:ln></c:spPr>';
  return (
    `${XML_HEAD}<c:chartSpace xmlns:c="${NS.c}" xmlns:a="${NS.a}" xmlns:r="${NS.r}">` +
    '<c:date1904 val="0"/><c:lang val="zh-CN"/><c:roundedCorners val="0"/>' +
    `<c:chart><c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="1200" b="1">${font()}</a:defRPr></a:pPr>${run(chart.title, 1200, true)}</a:p></c:rich></c:tx><c:overlay val="0"/></c:title>` +
    '<c:autoTitleDeleted val="0"/>' +
    `<c:plotArea><c:layout/><c:lineChart><c:grouping val="standard"/><c:varyColors val="0"/>${series}<c:marker val="1"/><c:axId val="${AXIS.cat}"/><c:axId val="${AXIS.val}"/></c:lineChart>` +
    `<c:catAx><c:axId val="${AXIS.cat}"/><c:scaling><c:orientation val="minMax"/></c:scaling><c:delete val="0"/><c:axPos val="b"/><c:numFmt formatCode="General" sourceLinked="0"/>` +
    `<c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="low"/>${axisLine}${txPr(800)}<c:crossAx val="${AXIS.val}"/><c:crosses val="autoZero"/><c:auto val="1"/><c:lblAlgn val="ctr"/><c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>` +
    `<c:valAx><c:axId val="${AXIS.val}"/><c:scaling><c:orientation val="minMax"/></c:scaling><c:delete val="0"/><c:axPos val="l"/>${gridLine}<c:numFmt formatCode="${esc(chart.numFmt)}" sourceLinked="0"/>` +
    `<c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>${axisLine}${txPr(800)}<c:crossAx val="${AXIS.cat}"/><c:crosses val="autoZero"/><c:crossBetween val="between"/></c:valAx>` +
    '</c:plotArea>' +
    `<c:legend><c:legendPos val="b"/><c:overlay val="0"/>${txPr(900)}</c:legend><c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart>` +
    '</c:chartSpace>'
  );
}

const font = () => `<a:latin typeface="${esc(FONT_NAME)}"/><a:ea typeface="${esc(FONT_NAME)}"/>`;

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** '趋势'!$E$4:$Q$4 — a sheet name quoted (its quotes doubled), absolute cells. */
export function rangeRef(sheet: string, fromCol: number, fromRow: number, toCol = fromCol, toRow = fromRow): string {
  const cell = (c: number, r: number) => `$${colLetter(c)}$${r}`;
  const name = `'${sheet.replace(/'/g, "''")}'`;
  return fromCol === toCol && fromRow === toRow ? `${name}!${cell(fromCol, fromRow)}` : `${name}!${cell(fromCol, fromRow)}:${cell(toCol, toRow)}`;
}

/** 1 → A, 27 → AA */
export function colLetter(col: number): string {
  let s = '';
  for (let n = col; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}
