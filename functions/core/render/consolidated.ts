/**
 * The consolidated workbook (汇总表) of a county or a city and a period, written with exceljs's
 * streaming WorkbookWriter: rows are committed as they are written, so a province-sized detail
 * sheet never sits in memory as cells. Sheets, in this order: 说明, 上报情况, 指标汇总, one
 * `${sheetName}明细` per indicator template, 任务台账, 校验问题.
 *
 * Everything shown was computed by consolidate(); this file only lays it out. No formulas: every
 * number is a value. Formats and text safety: render/consolidated-format.ts.
 */
import { Writable } from 'node:stream';
import type ExcelJS from 'exceljs';
import type { ConsolidationResult, DetailSheet, Measure, SummaryRow, SummarySection } from '../consolidate/types.ts';
import { listNames, listUnits } from '../consolidate/compute.ts';
import { deadlineLabel, monthLabel, monthsLabel, shanghaiTime } from '../consolidate/period.ts';
import {
  COLOR,
  DeterministicWorkbookWriter,
  FMT,
  Styles,
  changeFormat,
  safeText,
  safeValue,
  targetFormat,
  valueFormat,
  type StyleSpec,
  type Value,
} from './consolidated-format.ts';
import { displayWidth } from './style.ts';
import { attachCharts, rangeRef, type LineChart } from './chart.ts';
import type { TrendSeries } from '../trend/index.ts';
import { PACE_WORDS } from '../definitions/layout.ts';
import { periodLabel } from '../layout.ts';

export const SHEET = {
  readme: '说明',
  status: '上报情况',
  summary: '指标汇总',
  trend: '趋势',
  ledger: '任务台账',
  issues: '校验问题',
} as const;

/** `${sheetName}明细`, without the characters a sheet name cannot hold, within Excel's 31 */
export const detailSheetName = (sheetName: string): string => `${sheetName.replace(/[\[\]:*?/\\]/g, '_').slice(0, 29)}明细`;

/** The header row of 指标汇总 (first data row is the one after it). */
export const SUMMARY_HEADER_ROW = 3;
const SUMMARY_WIDTHS = { name: 26, source: 24, note: 40 } as const;
/** Detail sheets: code row, name row, unit row; data from the row after. */
export const DETAIL_HEADER_ROWS = [3, 4, 5] as const;

export interface RenderStats {
  cells: number;
  rows: number;
  ms: number;
}

/**
 * Writes the workbook to `stream` (a file, an S3 upload body, a buffer collector). `trends`: the key
 * indicators' monthly series (functions/core/trend), written as the 趋势 sheet with native line charts.
 */
export async function writeConsolidated(result: ConsolidationResult, stream: NodeJS.WritableStream, trends: readonly TrendSeries[] = []): Promise<RenderStats> {
  const started = performance.now();
  const wb = new DeterministicWorkbookWriter({ stream, date: result.generatedAt });
  const w = new Writer(wb, result, trends);
  w.readme();
  w.status();
  w.summary();
  if (trends.length) w.trend();
  for (const d of result.details) w.detail(d);
  w.ledger();
  w.issues();
  await wb.commit();
  return { cells: w.cells, rows: w.rows, ms: Math.round(performance.now() - started) };
}

/** The workbook as bytes: same result, same bytes. */
export async function renderConsolidated(result: ConsolidationResult, trends: readonly TrendSeries[] = []): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  await writeConsolidated(result, sink, trends);
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------------------------------------

type Cell = [Value, StyleSpec] | null;

const HEADER: StyleSpec = { bold: true, fill: COLOR.headerFill, h: 'center', wrap: true };
const TEXT: StyleSpec = {};
const WRAP: StyleSpec = { wrap: true };
const CENTER: StyleSpec = { h: 'center' };
const NOTE: StyleSpec = { wrap: true, color: COLOR.noteFont, size: 9 };
const TITLE: StyleSpec = { bold: true, size: 16, h: 'center', border: false };
const SUBTITLE: StyleSpec = { size: 10, color: COLOR.noteFont, border: false, wrap: true };
const PLAIN: StyleSpec = { border: false };
const PLAIN_WRAP: StyleSpec = { border: false, wrap: true };
const MET: StyleSpec = { h: 'center', fill: COLOR.metFill, color: COLOR.metFont, bold: true };
const MISSED: StyleSpec = { h: 'center', fill: COLOR.missedFill, color: COLOR.missedFont, bold: true };
const NO_DATA: StyleSpec = { h: 'center', fill: COLOR.noDataFill, color: COLOR.noteFont };

const num = (fmt: string, extra: StyleSpec = {}): StyleSpec => ({ numFmt: fmt, h: 'right', ...extra });

class Sheet {
  static readonly OPEN_ROWS = 4;
  rowNo = 0;
  private committed = 0;
  constructor(
    readonly ws: ExcelJS.Worksheet,
    private readonly owner: Writer,
  ) {}

  row(cells: Cell[], height?: number): number {
    const r = this.ws.getRow(++this.rowNo);
    cells.forEach((c, i) => {
      if (!c) return;
      const cell = r.getCell(i + 1);
      cell.value = safeValue(c[0]);
      cell.style = this.owner.styles.get(c[1]);
      this.owner.cells++;
    });
    if (height) r.height = Math.round(Math.min(409, height) * 4) / 4;
    this.owner.rows++;
    // rows stay open a little while, so a merge can still reach them; then they are streamed out
    const due = this.rowNo - Sheet.OPEN_ROWS;
    if (due > this.committed) {
      this.ws.getRow(due).commit();
      this.committed = due;
    }
    return this.rowNo;
  }

  merge(r1: number, c1: number, r2: number, c2: number): void {
    if (r1 === r2 && c1 === c2) return;
    this.ws.mergeCells(r1, c1, r2, c2);
  }

  /** A merged title row and a merged subtitle row across `width` columns. */
  titles(title: string, subtitle: string, width: number, widthUnits: number): void {
    const r1 = this.row([[title, TITLE], ...blank(width - 1, PLAIN)], 30);
    this.merge(r1, 1, r1, width);
    const r2 = this.row([[subtitle, SUBTITLE], ...blank(width - 1, PLAIN)], Math.max(18, textHeight(subtitle, widthUnits, 10)));
    this.merge(r2, 1, r2, width);
  }

  commit(): void {
    this.ws.commit();
  }
}

const blank = (n: number, style: StyleSpec = TEXT): Cell[] => Array.from({ length: Math.max(0, n) }, () => ['', style] as Cell);

class Writer {
  readonly styles = new Styles();
  cells = 0;
  rows = 0;
  private readonly r: ConsolidationResult;
  private readonly city: boolean;
  private readonly multi: boolean;

  constructor(
    private readonly wb: DeterministicWorkbookWriter,
    result: ConsolidationResult,
    private readonly trends: readonly TrendSeries[],
  ) {
    this.r = result;
    this.city = result.level === 'city';
    this.multi = result.months.length > 1;
  }

  /**
   * A sheet with frozen panes, landscape A4 fit to the page width with repeated header rows; a sheet
   * too wide to read at that scale (`across`) prints at a fixed scale over several pages across,
   * repeating its first columns as well.
   */
  private sheet(
    name: string,
    widths: number[],
    opts: { ySplit: number; xSplit?: number; titleRows?: string; portrait?: boolean; across?: boolean; filter?: { row: number; to: number } },
  ): Sheet {
    const footerText = safeText(`${this.r.area.name} ${this.r.spec.label} ${name}`).replace(/^'/, '').replace(/&/g, '&&');
    const topLeft = `${colLetter((opts.xSplit ?? 0) + 1)}${opts.ySplit + 1}`;
    const ws = this.wb.addWorksheet(name, {
      views: [
        opts.ySplit || opts.xSplit
          ? ({ state: 'frozen', xSplit: opts.xSplit ?? 0, ySplit: opts.ySplit, topLeftCell: topLeft, activeCell: topLeft, showGridLines: false } as ExcelJS.WorksheetView)
          : ({ state: 'normal', activeCell: 'A1', showGridLines: false } as ExcelJS.WorksheetView),
      ],
      pageSetup: {
        paperSize: 9,
        orientation: opts.portrait ? 'portrait' : 'landscape',
        ...(opts.across ? { fitToPage: false, scale: 75, pageOrder: 'overThenDown', printTitlesColumn: `A:${colLetter(opts.xSplit ?? 1)}` } : { fitToPage: true, fitToWidth: 1, fitToHeight: 0 }),
        horizontalCentered: true,
        margins: { left: 0.4, right: 0.4, top: 0.5, bottom: 0.6, header: 0.25, footer: 0.25 },
        ...(opts.titleRows ? { printTitlesRow: opts.titleRows } : {}),
      },
      headerFooter: { oddFooter: `&L${footerText}&C第 &P 页，共 &N 页&R生成于 ${shanghaiTime(this.r.generatedAt)}` },
      ...(opts.filter ? { autoFilter: { from: { row: opts.filter.row, column: 1 }, to: { row: opts.filter.row, column: opts.filter.to } } } : {}),
    } as Partial<ExcelJS.AddWorksheetOptions>);
    widths.forEach((w, i) => {
      ws.getColumn(i + 1).width = Math.round(w * 4) / 4;
    });
    return new Sheet(ws, this);
  }

  // ---- 说明 ----

  readme(): void {
    const r = this.r;
    const widths = [20, 13, 13, 13, 13, 13];
    const span = widths.slice(1).reduce((a, b) => a + b, 0);
    const s = this.sheet(SHEET.readme, widths, { ySplit: 0, portrait: true });
    s.titles(r.title, '本表由系统根据各机构上报并通过校验的月报自动生成', 6, 80);
    const kv = (label: string, value: string) => {
      const n = s.row([[label, { bold: true, fill: COLOR.sectionFill }], [value, WRAP], ...blank(4, WRAP)], Math.max(20, textHeight(value, span, 10.5)));
      s.merge(n, 2, n, 6);
    };
    const institutions = r.counties.reduce((a, c) => a + c.institutions, 0);
    kv(r.level === 'city' ? '地市' : '旗县', `${r.area.name}（${r.area.code}）${r.level === 'city' ? `，含 ${r.counties.length} 个旗县：${r.counties.map((c) => c.name).join('、')}` : ''}`);
    kv('统计期', `${r.spec.label}${r.spec.kind === 'month' ? '' : `（本表数据月份：${monthsLabel(r.months)}${r.months.length < r.spec.months.length ? '，本期尚未结束' : ''}）`}`);
    kv('生成时间', `${shanghaiTime(r.generatedAt)}（北京时间）`);
    kv('数据截至', r.dataAsOf ? `${shanghaiTime(r.dataAsOf)}（已通过校验的报表中最晚一份的上传时间）` : '本期尚无通过校验的报表');
    if (r.definitionsVersion !== null) kv('定义版本', `第 ${r.definitionsVersion} 版（机构名录、报表、校验规则和目标按本期执行的定义）`);
    kv('机构数', `${institutions} 家${r.level === 'city' ? `（${r.counties.map((c) => `${c.name} ${c.institutions} 家`).join('，')}）` : ''}`);
    if (r.dueNext.length) {
      kv('季报和年报', `${r.dueNext.map((d) => `${d.title}（${d.periodType === 'quarter' ? '季报' : '年报'}，${d.rule}24时前报送）：下一期 ${periodLabel(d.period)}，截止 ${deadlineLabel(new Date(d.deadline))}`).join('；')}。`);
    }
    s.row([]);

    s.row([['上报汇总', HEADER], ['应报（份）', HEADER], ['实报（份）', HEADER], ['未报或未通过', HEADER], ['上报率', HEADER], ['及时率', HEADER]], 20);
    const totals = [...r.status.byTemplate, ...(r.level === 'city' ? r.status.byCounty : []), r.status.overall];
    for (const t of totals) {
      const bold = t === r.status.overall;
      s.row([
        [t.label, { bold, wrap: true }],
        [t.owed, num(FMT.count, { bold })],
        [t.submitted, num(FMT.count, { bold })],
        [t.owed - t.submitted, num(FMT.count, { bold })],
        [t.rate, num(FMT.percent, { bold })],
        [t.timely, num(FMT.percent, { bold })],
      ]);
    }
    s.row([]);

    const sheetsRow = (name: string, what: string) => {
      const n = s.row([[name, { bold: true }], [what, WRAP], ...blank(4, WRAP)], Math.max(20, textHeight(what, span, 10.5)));
      s.merge(n, 2, n, 6);
    };
    const h = s.row([['工作表', HEADER], ['内容', HEADER], ...blank(4, HEADER)]);
    s.merge(h, 2, h, 6);
    sheetsRow(SHEET.status, `每个机构应报的每张报表：状态（已通过／有警告／未通过／未上报）、审核（已审核／待审核／退回）、上传时间、是否逾期、上传次数、错误和警告数；表末为应报、实报、上报率、及时率。`);
    sheetsRow(SHEET.summary, `每个数据项和计算指标一行：${r.labels.current}、本年累计、${r.labels.previous}及${r.labels.mom}、去年同期及${r.labels.yoy}、年度目标、序时方式、序时目标、考核值、差距、达标情况和目标来源，备注列注明缺报机构和可比口径。`);
    if (this.trends.length) sheetsRow(SHEET.trend, `月报重点指标（有${r.spec.year}年目标的计算指标）近 ${this.trends[0]!.periods.length} 个月的合计、年度目标和序时目标，每个指标一张折线图；各月数值即该月汇总表明细表的“合计”。季报、年报指标见指标汇总。`);
    for (const d of r.details) sheetsRow(detailSheetName(d.template.sheetName), `${d.template.title}：${r.level === 'city' ? '各旗县' : '各机构'}一行，数据项和计算指标一列，末行为合计。`);
    sheetsRow(SHEET.ledger, '各机构重点工作任务台账（期内最近一个月的台账），逾期未完成的任务标红。');
    sheetsRow(SHEET.issues, '本期未解决的错误（最近一次上传未通过）和已接收报表的警告。');
    s.row([]);

    const o = r.status.overall;
    const notes = [
      r.approvedOnly
        ? `审核：本表合计只含县级审核员已审核的报表（实报 ${o.submitted} 份中已审核 ${o.approved} 份）；未审核的报表在备注列中注明“未审核”，不计入合计。`
        : `审核：本表合计含已通过校验的全部报表，其中已审核 ${o.approved} 份、未审核（待审核或退回）${o.unreviewed} 份；各报表的审核状态见“${SHEET.status}”的“审核”列。`,
      '缺报不按零计：未上报或未通过校验的报表不计入合计。“实报”“应报”两列为合计所含机构数和应报机构数，备注列写明缺报机构及原因（未上报、未通过、未填）；合计不完整的单元格以浅黄色底标出。',
      `口径：本月数（flow）各月相加；累计数（ytd）为自1月1日起的累计，“本年累计”取最近一月的累计数，“${r.labels.current}”为期内新增（期末累计数减期前一月累计数，1月为其本身）；期末数（stock）取期末月份。明细表按各机构上报的原值列示，累计数即截至期末的累计值。`,
      '率类指标一律由分子、分母的合计重新计算（Σ分子 ÷ Σ分母），不对各机构的率求平均，也不采用填报的率；只计入分子、分母均已上报的机构。',
      '满意度、平均出具时间等不可加总的指标不计算合计，各机构数值见明细表。',
      ...(r.dueNext.length
        ? ['季报、年报按各自的统计期计入：季报计入季度和年度汇总表，年报只计入年度汇总表，月度汇总表不含；年度汇总表中季报的本期数为四个季度相加，期末数取第4季度，累计数取最近一季。尚未结束的季度或年度不计入。']
        : []),
      `${r.labels.mom}、${r.labels.yoy}：按可比口径计算，只比较本期和基期都已上报的机构（剔除任一期缺报的机构，备注列写明剔除了哪些）；率类指标用这些机构的分子、分母合计重新计算。数量指标为增减百分比；率类指标为增减百分点（‰ 指标为千分点，1/10万 指标为每10万）；基期无数据或数量为零时不计算。“${r.labels.previous}”“去年同期”两列仍为当时全部已上报机构的合计。`,
      r.level === 'city'
        ? '目标由各旗县按年设定，本表不判定达标情况，见各旗县汇总表。'
        : `目标按本年累计值考核（“考核值”列；限定机构类型的目标只按该类机构计算）。序时进度：序时方式为“线性”的年度目标（随全年累积的指标），年中按 年度目标 × 已过月数 ÷ 12 考核（本表已过 ${r.windows.ytd.length} 个月，见“序时目标”列），达到为“达到序时进度”，否则为“落后序时进度”并写明差距；“季度节点”按最近一个已结束季度的节点值考核；“不适用”的目标（全年都应保持的率，如规范管理率）按目标值本身考核；12月（全年）按年度目标判定“全年达标／全年未达标”。“差距”为考核值减去所考核的目标值。绿色为达标，红色为未达标，灰色为无数据；目标来源列为目标所出的文件。`,
      '数值均为数值型单元格：百分比以 98.25 形式存储、显示为 98.25%（格式 0.00"%"），‰ 和 1/10万 同理；单元格保存完整精度，显示保留两位小数。',
      '机构填写的文字若以 =、+、-、@ 开头，表中在其前加单引号 \' 显示，以免被表格软件当作公式执行。',
    ];
    const nh = s.row([['说明', HEADER], ['', HEADER], ...blank(4, HEADER)]);
    s.merge(nh, 2, nh, 6);
    notes.forEach((t, i) => {
      const n = s.row([[String(i + 1), CENTER], [t, WRAP], ...blank(4, WRAP)], Math.max(20, textHeight(t, span, 10.5)));
      s.merge(n, 2, n, 6);
    });
    s.row([]);
    const lh = s.row([['图例', HEADER], ['', HEADER], ...blank(4, HEADER)]);
    s.merge(lh, 2, lh, 6);
    const legend: Array<[string, StyleSpec, string]> = [
      ['达标', MET, '目标已达到'],
      ['未达标', MISSED, '目标未达到；或报表逾期、未通过'],
      ['无数据', NO_DATA, '无可考核的数据'],
      ['缺报', { h: 'center', fill: COLOR.incompleteFill }, '合计未包含全部应报机构'],
      ['有警告', { h: 'center', fill: COLOR.warnFill, color: COLOR.warnFont }, '已接收，但有需要核实的警告'],
    ];
    for (const [label, style, what] of legend) {
      const n = s.row([[label, style], [what, TEXT], ...blank(4)]);
      s.merge(n, 2, n, 6);
    }
    s.commit();
  }

  // ---- 上报情况 ----

  status(): void {
    const r = this.r;
    const cols: Array<[string, number]> = [
      ...(this.city ? ([['旗县', 10]] as Array<[string, number]>) : []),
      ['机构代码', 12],
      ['机构名称', nameWidth(r.status.rows.map((x) => x.name))],
      ['报表', 24],
      ...(this.multi ? ([['统计期', 14]] as Array<[string, number]>) : []),
      ['状态', 9],
      ['审核', 9],
      ['上报时间', 17],
      ['是否逾期', 10],
      ['上传次数', 9],
      ['错误数', 8],
      ['警告数', 8],
      ['说明', 44],
    ];
    const widths = cols.map((c) => c[1]);
    const o = r.status.overall;
    const s = this.sheet(SHEET.status, widths, { ySplit: 3, xSplit: this.city ? 3 : 2, titleRows: '3:3', filter: { row: 3, to: cols.length } });
    s.titles(
      `${r.area.name}${r.spec.label}报表上报情况`,
      `应报 ${o.owed} 份，实报 ${o.submitted} 份（已审核 ${o.approved} 份，未审核 ${o.unreviewed} 份），未通过 ${o.rejected} 份，未上报 ${o.missing} 份；上报率 ${pct(o.rate)}，及时率 ${pct(o.timely)}（截止时间：${deadlineText(r)}）。`,
      cols.length,
      sum(widths),
    );
    s.row(
      cols.map(([h]) => [h, HEADER]),
      22,
    );
    for (const x of r.status.rows) {
      const statusStyle: StyleSpec =
        x.status === '未上报' || x.status === '未通过' ? { h: 'center', fill: COLOR.missedFill, color: COLOR.missedFont } : x.status === '有警告' ? { h: 'center', fill: COLOR.warnFill, color: COLOR.warnFont } : CENTER;
      const lateStyle: StyleSpec = x.timeliness === '按时' || x.timeliness === '未到期' ? CENTER : { h: 'center', color: COLOR.missedFont, bold: true };
      s.row(
        [
          ...(this.city ? ([[x.countyName, TEXT]] as Cell[]) : []),
          [x.institution, TEXT],
          [x.name, TEXT],
          [x.templateTitle, TEXT],
          ...(this.multi ? ([[periodLabel(x.period), CENTER]] as Cell[]) : []),
          [x.status, statusStyle],
          [x.review, x.review === '退回' ? { h: 'center', color: COLOR.missedFont, bold: true } : CENTER],
          [x.uploadedAt ? shanghaiTime(x.uploadedAt) : '', CENTER],
          [x.timeliness, lateStyle],
          [x.versions, num(FMT.count)],
          [x.errors, num(FMT.count, x.errors ? { color: COLOR.missedFont } : {})],
          [x.warnings, num(FMT.count)],
          [x.note, NOTE],
        ],
        x.note ? textHeight(x.note, 44, 9) : undefined,
      );
    }
    s.row([]);
    // the totals: the label spans the code and name columns
    const lead = this.city ? 3 : 2;
    const head = ['汇总', '应报（份）', '实报（份）', '未通过', '未上报', '上报率', '按时上报', '及时率'];
    const hr = s.row([[head[0]!, HEADER], ...blank(lead - 1, HEADER), ...head.slice(1).map((h) => [h, HEADER] as Cell)], 22);
    s.merge(hr, 1, hr, lead);
    const blocks = [...r.status.byTemplate, ...(this.city ? r.status.byCounty : []), o];
    for (const t of blocks) {
      const bold = t === o;
      const n = s.row([
        [t.label, { bold }],
        ...blank(lead - 1),
        [t.owed, num(FMT.count, { bold })],
        [t.submitted, num(FMT.count, { bold })],
        [t.rejected, num(FMT.count, { bold })],
        [t.missing, num(FMT.count, { bold })],
        [t.rate, num(FMT.percent, { bold })],
        [t.onTime, num(FMT.count, { bold })],
        [t.timely, num(FMT.percent, { bold })],
      ]);
      s.merge(n, 1, n, lead);
    }
    s.commit();
  }

  // ---- 指标汇总 ----

  summary(): void {
    const r = this.r;
    const L = r.labels;
    const W = SUMMARY_WIDTHS;
    const cols: Array<[string, number]> = [
      ['代码', 9],
      ['指标名称', W.name],
      ['单位', 8],
      ['口径', 10],
      [L.current, 13],
      [L.ytd, 13],
      [L.previous, 13],
      [L.mom, 15],
      [L.lastYear, 13],
      [L.yoy, 15],
      ['年度目标', 10],
      ['序时方式', 9],
      [`序时目标（${r.windows.ytd.length}/12）`, 12],
      ['考核值', 11],
      ['差距', 11],
      ['达标情况', 14],
      ['目标来源', W.source],
      ['实报', 7],
      ['应报', 7],
      ['备注', W.note],
    ];
    const widths = cols.map((c) => c[1]);
    const s = this.sheet(SHEET.summary, widths, { ySplit: SUMMARY_HEADER_ROW, xSplit: 2, titleRows: `${SUMMARY_HEADER_ROW}:${SUMMARY_HEADER_ROW}` });
    s.titles(
      `${r.area.name}卫生健康统计指标汇总（${r.spec.label}）`,
      `${r.labels.current}：${monthsLabel(r.windows.current)}；本年累计：${monthsLabel(r.windows.ytd)}；${L.previous}：${monthsLabel(r.windows.previous)}；去年同期：${monthsLabel(r.windows.lastYear)}。率类指标由分子分母合计重新计算；缺报不按零计，见“实报”“应报”及备注。`,
      cols.length,
      sum(widths),
    );
    s.row(
      cols.map(([h]) => [h, HEADER]),
      22,
    );
    const numbers = ['一', '二', '三', '四', '五', '六', '七', '八', '九', '十'];
    r.summary.forEach((section, i) => {
      const label = `${numbers[i] ?? i + 1}、${section.template.title}（${section.template.id}，应报 ${section.owed} 家${this.city ? '机构' : ''}）`;
      const n = s.row([[label, { bold: true, fill: COLOR.sectionFill }], ...blank(cols.length - 1, { fill: COLOR.sectionFill })], 20);
      s.merge(n, 1, n, cols.length);
      for (const row of section.rows) this.summaryRow(s, row, section);
    });
    s.commit();
  }

  private summaryRow(s: Sheet, row: SummaryRow, _section: SummarySection): void {
    const r = this.r;
    const W = SUMMARY_WIDTHS;
    const L = r.labels;
    const fmt = valueFormat(row.valueType, row.unit);
    const measure = (m: Measure): Cell => {
      if (!row.additive) return ['', { fill: COLOR.noDataFill }];
      const incomplete = m.covered < m.owed && m.value !== null;
      return [m.value, num(fmt, incomplete ? { fill: COLOR.incompleteFill } : {})];
    };
    const change = (c: SummaryRow['mom']): Cell => (c ? [c.value, num(changeFormat(c.kind, row.unit))] : ['', TEXT]);
    const t = row.target;
    const targetCells: Cell[] = t
      ? [
          [t.value, num(targetFormat(t.direction, t.value, row.unit), { h: 'center' })],
          [PACE_WORDS[t.pace], CENTER],
          t.paced === null ? ['', TEXT] : [t.paced, num(targetFormat(t.direction, t.paced, row.unit), { h: 'center' })],
          [t.measured, num(fmt)],
          t.gap === null ? ['', TEXT] : [t.gap, num(changeFormat('points', row.unit))],
          [t.verdict, t.status === '达标' ? MET : t.status === '未达标' ? MISSED : NO_DATA],
          [t.document, { wrap: true, size: 9 }],
        ]
      : Array.from({ length: 7 }, (): Cell => ['', TEXT]);
    const note = summaryNote(row, L);
    const semantics = row.semantics === 'rate' ? `计算指标` : !row.additive ? '不可加总' : row.semantics === 'flow' ? '本月数' : row.semantics === 'ytd' ? '累计数' : '期末数';
    const height = Math.max(textHeight(row.name, W.name, 10.5), textHeight(note, W.note, 9), t ? textHeight(t.document, W.source, 9) : 0, 18);
    s.row(
      [
        [row.code, TEXT],
        [row.name, WRAP],
        [row.unit, CENTER],
        [semantics, CENTER],
        measure(row.current),
        measure(row.ytd),
        measure(row.previous),
        change(row.mom),
        measure(row.lastYear),
        change(row.yoy),
        ...targetCells,
        [row.current.covered, num(FMT.count)],
        [row.current.owed, num(FMT.count)],
        [note, NOTE],
      ],
      height,
    );
  }

  // ---- 趋势 ----

  trend(): void {
    const r = this.r;
    const series = this.trends;
    const months = series[0]!.periods;
    const fixed: Array<[string, number]> = [
      ['代码', 9],
      ['指标名称', 22],
      ['单位', 7],
      ['项目', 9],
    ];
    const widths = [...fixed.map((f) => f[1]), ...months.map(() => 10), 40];
    const first = fixed.length + 1;
    const last = fixed.length + months.length;
    const s = this.sheet(SHEET.trend, widths, { ySplit: 3, xSplit: 2, titleRows: '3:3' });
    s.titles(
      `${r.area.name}重点指标趋势（${monthsLabel([months[0]!, months[months.length - 1]!])}）`,
      '各月数值为该月汇总表明细表的“合计”（按上报原值：本月数为当月数，累计数为截至当月的累计值，期末数为月末数；率由分子、分母合计计算，缺报不按零计）。年度目标为该月所在年度的目标，按本年累计考核；序时目标为截至该月应达到的值（序时方式为线性：年度目标 × 已过月数 ÷ 12；季度节点：最近一个已结束季度的节点值；12月按年度目标判定，见指标汇总）。浅黄色为合计未包含全部应报机构的月份。',
      widths.length,
      sum(widths),
    );
    const header = s.row([...fixed.map(([h]) => [h, HEADER] as Cell), ...months.map((m) => [monthLabel(m), HEADER] as Cell), ['备注', HEADER]], 22);
    const charts: LineChart[] = [];
    const categories = months.map((m) => monthLabel(m));
    for (const x of series) {
      const fmt = x.kind === 'indicator' ? valueFormat('rate', x.unit) : x.points.every((p) => p.value === null || Number.isInteger(p.value)) ? FMT.integer : FMT.decimal;
      const incomplete = x.points.filter((p) => p.value !== null && p.covered < p.owed).map((p) => `${monthLabel(p.period)}实报 ${p.covered}/${p.owed}`);
      const absent = x.points.filter((p) => p.value === null).map((p) => monthLabel(p.period));
      const note = [incomplete.length ? `合计不完整：${incomplete.join('、')}` : '', absent.length ? `无数据：${absent.join('、')}` : ''].filter(Boolean).join('；');
      const valueRow = s.row(
        [
          [x.code, TEXT],
          [x.name, WRAP],
          [x.unit, CENTER],
          ['合计', CENTER],
          ...x.points.map((p) => [p.value, num(fmt, p.value !== null && p.covered < p.owed ? { fill: COLOR.incompleteFill } : {})] as Cell),
          [note, NOTE],
        ],
        Math.max(20, textHeight(x.name, 22, 10.5), textHeight(note, 40, 9)),
      );
      const chart: LineChart = {
        title: `${x.code} ${x.name}（${x.unit}）`,
        categoriesRef: rangeRef(SHEET.trend, first, header, last, header),
        categories,
        series: [{ nameRef: rangeRef(SHEET.trend, 4, valueRow), name: '合计', valuesRef: rangeRef(SHEET.trend, first, valueRow, last, valueRow), values: x.points.map((p) => p.value), color: '1F4E79', markers: true }],
        numFmt: fmt === FMT.integer ? '#,##0' : '0.00',
        from: { col: 0, row: 0 },
        to: { col: 0, row: 0 },
      };
      let lastRow = valueRow;
      const line = (name: string, values: Array<number | null>, note: string, color: string) => {
        lastRow = s.row([['', TEXT], ['', TEXT], ['', TEXT], [name, CENTER], ...values.map((v) => [v, num(fmt)] as Cell), [note, NOTE]], Math.max(20, textHeight(note, 40, 9)));
        chart.series.push({ nameRef: rangeRef(SHEET.trend, 4, lastRow), name, valuesRef: rangeRef(SHEET.trend, first, lastRow, last, lastRow), values, color, dashed: true });
      };
      if (x.points.some((p) => p.target)) {
        const docs = [...new Set(x.points.flatMap((p) => (p.target ? [`${p.target.year}年：${p.target.document}`] : [])))].join('；');
        line('年度目标', x.points.map((p) => p.target?.value ?? null), docs, 'C00000');
      }
      if (x.points.some((p) => p.target?.paced != null)) {
        const latest = [...x.points].reverse().find((p) => p.target?.paced != null)!;
        line('序时目标', x.points.map((p) => p.target?.paced ?? null), `序时方式：${PACE_WORDS[latest.target!.pace]}；${monthLabel(latest.period)}${latest.target!.verdict}`, 'ED7D31');
      }
      for (const c of [1, 2, 3]) if (lastRow !== valueRow) s.merge(valueRow, c, lastRow, c);
      charts.push(chart);
    }
    // two charts a row, below the table
    const top = s.rowNo + 1;
    const height = 18;
    charts.forEach((c, i) => {
      const row = top + Math.floor(i / 2) * (height + 1);
      const [from, to] = i % 2 === 0 ? [0, 7] : [7, 15];
      c.from = { col: from, row };
      c.to = { col: to, row: row + height };
    });
    attachCharts(this.wb, s.ws, charts, 1, 1);
    s.commit();
  }

  // ---- detail sheets ----

  detail(d: DetailSheet): void {
    const r = this.r;
    const name = detailSheetName(d.template.sheetName);
    const fixed: Array<[string, number]> = this.city
      ? [
          ['旗县代码', 10],
          ['旗县名称', 12],
          ['机构数', 8],
          ['上报情况', 12],
        ]
      : [
          ['机构代码', 12],
          ['机构名称', nameWidth(d.rows.map((x) => x.name))],
          ['机构类型', 16],
          ['上报状态', this.multi ? 14 : 9],
        ];
    const valueWidths = d.columns.map((c, j) => {
      let widest = Number.isNaN(d.total[j]!) ? 0 : approxNumberWidth(d.total[j]!, c.valueType);
      for (const row of d.rows) {
        const v = row.values[j]!;
        if (!Number.isNaN(v)) widest = Math.max(widest, approxNumberWidth(v, c.valueType));
      }
      return Math.max(11, Math.min(16, widest + 3));
    });
    const widths = [...fixed.map((f) => f[1]), ...valueWidths, 40];
    const C = widths.length;
    const s = this.sheet(name, widths, { ySplit: DETAIL_HEADER_ROWS[2], xSplit: 2, titleRows: `${DETAIL_HEADER_ROWS[0]}:${DETAIL_HEADER_ROWS[2]}`, across: sum(widths) > 260 });
    const complete = d.owed - d.missing.length;
    s.titles(
      `${d.template.title}明细（${r.area.name}，${r.spec.label}）`,
      `应报 ${d.owed} 家，报齐 ${complete} 家。数值为${r.months.length > 1 ? `${monthsLabel(r.months)}按口径汇总（本月数相加，累计数、期末数取期末月份）的` : ''}各机构上报数，累计数为截至期末的累计值；计算指标按各${this.city ? '旗县' : '机构'}的分子分母计算，合计行按分子分母合计计算。`,
      Math.min(C, 12),
      sum(widths.slice(0, 12)),
    );
    // three header rows: code, name, unit; fixed columns and 备注 span them
    const [h1, , h3] = DETAIL_HEADER_ROWS;
    const nameHeight = Math.max(30, ...d.columns.map((c, j) => textHeight(c.name, valueWidths[j]!, 10.5)));
    s.row([...fixed.map(([h]) => [h, HEADER] as Cell), ...d.columns.map((c) => [c.code, HEADER] as Cell), ['备注', HEADER]], 18);
    s.row([...fixed.map(() => ['', HEADER] as Cell), ...d.columns.map((c) => [c.name, HEADER] as Cell), ['', HEADER]], nameHeight);
    s.row([...fixed.map(() => ['', HEADER] as Cell), ...d.columns.map((c) => [unitLabel(c), { ...HEADER, bold: false, size: 9 }] as Cell), ['', HEADER]], 18);
    fixed.forEach((_, i) => s.merge(h1, i + 1, h3, i + 1));
    s.merge(h1, C, h3, C);

    const formats = d.columns.map((c) => valueFormat(c.valueType, c.unit));
    const valueStyles = formats.map((f) => num(f));
    for (const row of d.rows) {
      const bad = row.status === '未上报' || row.status === '未通过';
      const statusStyle: StyleSpec = bad ? { h: 'center', fill: COLOR.missedFill, color: COLOR.missedFont } : row.status === '有警告' ? { h: 'center', fill: COLOR.warnFill, color: COLOR.warnFont } : CENTER;
      const cells: Cell[] = [
        [row.code, TEXT],
        [row.name, TEXT],
        [row.group, this.city ? CENTER : TEXT],
        [row.status, this.city && !row.status.startsWith('实报 0') && row.note ? { h: 'center', fill: COLOR.incompleteFill } : statusStyle],
      ];
      for (let j = 0; j < d.columns.length; j++) {
        const v = row.values[j]!;
        cells.push([Number.isNaN(v) ? null : v, valueStyles[j]!]);
      }
      cells.push([row.note, NOTE]);
      s.row(cells, row.note ? Math.max(18, textHeight(row.note, 40, 9)) : undefined);
    }
    // 合计 and the institutions each total covers
    const missingNote = d.missing.length ? `缺报 ${d.missing.length} 家：${listUnits(d.missing)}` : '';
    const totalCells: Cell[] = [
      ['合计', { bold: true, fill: COLOR.totalFill }],
      [`应报 ${d.owed} 家`, { bold: true, fill: COLOR.totalFill }],
      ['', { fill: COLOR.totalFill }],
      ['', { fill: COLOR.totalFill }],
    ];
    d.columns.forEach((c, j) => {
      if (!c.additive) totalCells.push(['不可加总', { h: 'center', italic: true, color: COLOR.noteFont, fill: COLOR.totalFill, size: 9 }]);
      else {
        const v = d.total[j]!;
        const incomplete = d.covered[j]! < d.owed;
        totalCells.push([Number.isNaN(v) ? null : v, num(formats[j]!, { bold: true, fill: incomplete ? COLOR.incompleteFill : COLOR.totalFill })]);
      }
    });
    totalCells.push([missingNote, { ...NOTE, fill: COLOR.totalFill }]);
    s.row(totalCells, missingNote ? Math.max(18, textHeight(missingNote, 40, 9)) : undefined);
    const coverCells: Cell[] = [['实报机构数', { fill: COLOR.totalFill }], ['合计所含机构数', { fill: COLOR.totalFill, size: 9 }], ['', { fill: COLOR.totalFill }], ['', { fill: COLOR.totalFill }]];
    d.columns.forEach((_, j) => coverCells.push([d.covered[j]!, num(FMT.count, { fill: COLOR.totalFill })]));
    coverCells.push(['计算指标为分子分母均已上报的机构数', { ...NOTE, fill: COLOR.totalFill }]);
    s.row(coverCells);
    s.commit();
  }

  // ---- 任务台账 ----

  ledger(): void {
    const r = this.r;
    const nameW = Math.min(16, nameWidth(r.ledger.map((x) => x.name)));
    const cols: Array<[string, number]> = [
      ...(this.city ? ([['旗县', 10]] as Array<[string, number]>) : []),
      ['机构代码', 12],
      ['机构名称', nameW],
      ['台账月份', 10],
      ['任务编号', 9],
      ['任务内容', 40],
      ['责任人', 14],
      ['完成时限', 12],
      ['进展状态', 10],
      ['完成进度', 10],
      ['工作措施', 34],
      ['备注', 18],
      ['是否逾期', 9],
    ];
    const widths = cols.map((c) => c[1]);
    const s = this.sheet(SHEET.ledger, widths, { ySplit: 3, xSplit: this.city ? 3 : 2, titleRows: '3:3', filter: { row: 3, to: cols.length } });
    const overdue = r.ledger.filter((l) => l.overdue).length;
    const institutions = new Set(r.ledger.map((l) => l.institution)).size;
    s.titles(
      `${r.area.name}重点工作任务台账（${r.spec.label}）`,
      r.ledger.length
        ? `${institutions} 家机构共 ${r.ledger.length} 项任务，其中逾期未完成 ${overdue} 项（完成时限已到且未完成，整行标红）。各机构取期内最近一个月通过校验的台账。`
        : '本期没有通过校验的任务台账。',
      cols.length,
      sum(widths),
    );
    s.row(
      cols.map(([h]) => [h, HEADER]),
      22,
    );
    for (const l of r.ledger) {
      const x = l.row;
      const base: StyleSpec = l.overdue ? { fill: COLOR.missedFill } : {};
      const progress = typeof x.progress === 'number' && Number.isFinite(x.progress) ? x.progress : null;
      const height = Math.max(18, textHeight(safeText(x.content ?? ''), 40, 10.5), textHeight(safeText(x.measures ?? ''), 34, 10.5), textHeight(safeText(x.remark ?? ''), 18, 10.5), textHeight(l.name, nameW, 10.5));
      s.row(
        [
          ...(this.city ? ([[this.countyName(l.county), base]] as Cell[]) : []),
          [l.institution, base],
          [l.name, { ...base, wrap: true }],
          [monthLabel(l.month), { ...base, h: 'center' }],
          [x.taskNo ?? '', { ...base, h: 'center' }],
          [x.content ?? '', { ...base, wrap: true }],
          [x.owner ?? '', { ...base, wrap: true }],
          [isoDate(x.deadline), { ...base, h: 'center', numFmt: FMT.date }],
          [x.status ?? '', { ...base, h: 'center', ...(x.status === '已滞后' ? { color: COLOR.missedFont, bold: true } : {}) }],
          [progress, { ...base, h: 'right', numFmt: progress !== null && Number.isInteger(progress) ? '0"%"' : FMT.percent }],
          [x.measures ?? '', { ...base, wrap: true }],
          [x.remark ?? '', { ...base, wrap: true }],
          [l.overdue ? '逾期' : '', l.overdue ? { ...base, h: 'center', bold: true, color: COLOR.missedFont } : base],
        ],
        height,
      );
    }
    if (!r.ledger.length) s.row([['本期没有通过校验的任务台账', NOTE]]);
    s.commit();
  }

  // ---- 校验问题 ----

  issues(): void {
    const r = this.r;
    const cols: Array<[string, number]> = [
      ...(this.city ? ([['旗县', 10]] as Array<[string, number]>) : []),
      ['机构代码', 12],
      ['机构名称', nameWidth(r.issues.map((x) => x.name))],
      ['报表', 16],
      ['统计期', 14],
      ['状态', 9],
      ['级别', 7],
      ['工作表', 12],
      ['单元格', 8],
      ['指标代码', 9],
      ['问题说明', 60],
      ['备注', 30],
    ];
    const widths = cols.map((c) => c[1]);
    const s = this.sheet(SHEET.issues, widths, { ySplit: 3, xSplit: this.city ? 3 : 2, titleRows: '3:3', filter: { row: 3, to: cols.length } });
    const errors = r.issues.filter((i) => i.severity === 'error').length;
    const warnings = r.issues.filter((i) => i.severity === 'warning').length;
    s.titles(
      `${r.area.name}报表校验问题（${r.spec.label}）`,
      r.issues.length
        ? `未解决的错误 ${errors} 条（最近一次上传未通过，需更正后重新上传），警告 ${warnings} 条（报表已接收，请核实）。`
        : '本期没有未解决的错误或警告。',
      cols.length,
      sum(widths),
    );
    s.row(
      cols.map(([h]) => [h, HEADER]),
      22,
    );
    const countyOf = (code: string) => this.countyName(code.slice(0, 6));
    for (const i of r.issues) {
      const more = i.more ? `另有 ${i.more} 条未列出，完整报告：${i.reportKey}` : '';
      const sev: StyleSpec = i.severity === 'error' ? { h: 'center', color: COLOR.missedFont, bold: true } : { h: 'center', color: COLOR.warnFont };
      s.row(
        [
          ...(this.city ? ([[countyOf(i.institution), TEXT]] as Cell[]) : []),
          [i.institution, TEXT],
          [i.name, TEXT],
          [this.templateTitle(i.template), TEXT],
          [periodLabel(i.period), CENTER],
          [i.state, i.state === '未解决' ? { h: 'center', fill: COLOR.missedFill, color: COLOR.missedFont } : CENTER],
          [i.severity === 'error' ? '错误' : i.severity === 'warning' ? '警告' : '提示', sev],
          [i.sheet ?? '', TEXT],
          [i.cell ?? '', CENTER],
          [i.element ?? '', CENTER],
          [i.message, WRAP],
          [more, NOTE],
        ],
        Math.max(18, textHeight(safeText(i.message), 60, 10.5), textHeight(more, 30, 9)),
      );
    }
    if (!r.issues.length) s.row([['本期没有未解决的错误或警告', NOTE]]);
    s.commit();
  }

  private templateTitle(id: string): string {
    return this.r.status.byTemplate.find((t) => t.key === id)?.label ?? id;
  }

  private countyName(code: string): string {
    return this.r.counties.find((c) => c.code === code)?.name ?? code;
  }
}

// ---- helpers ----

function summaryNote(row: SummaryRow, L: ConsolidationResult['labels']): string {
  const parts: string[] = [];
  if (!row.additive) parts.push('不可加总，各机构数值见明细表');
  const names = (m: Measure) => listUnits(m.missing);
  const c = row.current;
  if (c.covered === 0) parts.push(`${L.current}无数据`);
  else if (c.missing.length) parts.push(`${L.current}缺报 ${c.missing.length} 家：${names(c)}`);
  const y = row.ytd;
  const sameAsCurrent = y.missing.length === c.missing.length && y.missing.every((m, i) => m.code === c.missing[i]!.code);
  if (!sameAsCurrent) {
    if (y.covered === 0) parts.push('本年累计无数据');
    else if (y.missing.length) parts.push(`本年累计缺报 ${y.missing.length} 家：${names(y)}`);
  }
  for (const [label, m] of [
    [L.previous, row.previous],
    [L.lastYear, row.lastYear],
  ] as const) {
    if (m.covered === 0) parts.push(`${label}无数据`);
    else if (m.missing.length) parts.push(`${label}缺报 ${m.missing.length} 家`);
  }
  // 可比口径: who the comparisons leave out (once when 环比 and 同比 leave out the same)
  const { mom, yoy } = row.comparable;
  const left = (c: typeof mom) => `剔除本期或基期缺报的 ${c.excluded.length} 家：${listUnits(c.excluded)}`;
  const same = mom.excluded.length === yoy.excluded.length && mom.excluded.every((x, i) => x.code === yoy.excluded[i]!.code);
  if (same && mom.excluded.length) parts.push(`${L.mom}、${L.yoy}可比口径（${mom.covered} 家）：${left(mom)}`);
  else {
    if (mom.excluded.length) parts.push(`${L.mom}可比口径（${mom.covered} 家）：${left(mom)}`);
    if (yoy.excluded.length) parts.push(`${L.yoy}可比口径（${yoy.covered} 家）：${left(yoy)}`);
  }
  const t = row.target;
  if (t) {
    if (t.scope) parts.push(`目标按${t.scope.join('、')}考核（${t.covered}/${t.owed} 家）`);
    if (t.failing.length) parts.push(`未达标：${listNames(t.failing)}`);
  }
  return parts.join('；');
}

function unitLabel(c: DetailSheet['columns'][number]): string {
  if (c.kind === 'indicator') return c.unit;
  if (!c.additive) return `${c.unit}（不可加总）`;
  return c.semantics === 'ytd' ? `${c.unit}（累计）` : c.semantics === 'stock' ? `${c.unit}（期末）` : c.unit;
}

/** Points tall a cell must be to show `text` wrapped in `width` column units at `size` pt. */
function textHeight(text: string, width: number, size: number): number {
  if (!text) return 0;
  const perLine = Math.max(1, ((width - 1) * 11) / size);
  let lines = 0;
  for (const line of text.split('\n')) lines += Math.max(1, Math.ceil(displayWidth(line) / perLine));
  return lines * size * 1.45 + 4;
}

function nameWidth(names: readonly string[]): number {
  let w = 12;
  for (const n of names) w = Math.max(w, displayWidth(n) + 2);
  return Math.min(30, w);
}

function approxNumberWidth(v: number, type: string): number {
  const digits = Math.max(1, Math.floor(Math.log10(Math.max(1, Math.abs(v)))) + 1);
  const grouped = digits + Math.floor((digits - 1) / 3);
  return type === 'integer' ? grouped : grouped + 3 + (type === 'rate' || type === 'percent' ? 4 : 0);
}

function isoDate(text: string | null | undefined): Date | string {
  if (typeof text === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const d = new Date(`${text}T00:00:00Z`);
    if (Number.isFinite(d.getTime())) return d;
  }
  return text ?? '';
}

function pct(x: number | null): string {
  return x === null ? '—' : `${x.toFixed(2)}%`;
}

function deadlineText(r: ConsolidationResult): string {
  const days = [...new Set(r.counties.map((c) => c.deadlineDay))];
  const monthly = days.length === 1 ? `次月${days[0]}日24时前` : '各旗县规定的次月截止日';
  // quarterly and annual returns shown in this workbook have their own
  const others = r.dueNext.filter((d) => r.status.rows.some((x) => x.template === d.template)).map((d) => `${d.title}${d.rule}24时前`);
  return others.length ? [`月报${monthly}`, ...others].join('；') : monthly;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

function colLetter(col: number): string {
  let s = '';
  for (let n = col; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}
