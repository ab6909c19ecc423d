/**
 * The blank template workbook an institution downloads, written from the template definition and
 * the layout constants the parser reads by (layout.ts). Sheets: 填报说明, the return sheet, and the
 * very hidden _hmis sheet carrying the template identity.
 */
import { createHash } from 'node:crypto';
import type ExcelJS from 'exceljs';
import { Workbook } from './workbook.ts';
import {
  COL,
  DATE_ROW,
  FIRST_DATA_ROW,
  HEADER_ROW,
  INDICATOR_HEADERS,
  INSTITUTION_ROW,
  INSTRUCTIONS_SHEET,
  LABEL,
  META_KEYS,
  META_SHEET,
  NOTE_ROW,
  ANY_PERIOD_PATTERN,
  PERIOD_ROW,
  REPORTER_ROW,
  TITLE_ROW,
  periodKind,
  periodLabel,
} from '../layout.ts';
import { deadlineLabel as deadlineText, deadlineOf, deadlineRule, parsePeriod } from '../consolidate/period.ts';
import {
  LEDGER_STATUSES,
  type County,
  type DataElement,
  type IndicatorTemplate,
  type Institution,
  type LedgerColumn,
  type LedgerTemplate,
  type Semantics,
  type TemplateDefinition,
  type ValueType,
} from '../../../schemas/model.ts';
import { writeWorkbookBuffer } from './deterministic.ts';
import {
  BORDER_THIN,
  FONT,
  FONT_BOLD,
  FONT_NOTE,
  FONT_TITLE,
  HEADER_FILL,
  INPUT_FILL,
  NUMFMT,
  PREFILLED_FILL,
  printSetup,
  wrappedHeight,
} from './style.ts';

export const GENERATOR = 'hmis-sheets';

/**
 * Password of the sheet protection. Protection keeps the layout the parser relies on from being
 * edited by accident; it is not a security boundary (the validator checks everything anyway).
 */
export const SHEET_PASSWORD = 'hmis';

/** Column widths of an indicator return: 指标代码, 指标名称, 单位, 本期数值, 备注. */
const INDICATOR_WIDTHS = [12, 42, 10, 14, 30] as const;

const SEMANTICS: Record<Semantics, { label: string; note: string }> = {
  ytd: { label: '本年累计', note: '本年累计：本年1月1日起累计' },
  stock: { label: '月末数', note: '月末数：本月最后一天的实有数' },
  flow: { label: '本月数', note: '本月数：本月发生数' },
};

const VALUE_TYPE_TEXT: Record<ValueType, string> = {
  integer: '整数，不小于0',
  decimal: '数值，可有小数，不小于0',
  percent: '0至100的数值，95.26%填95.26',
};

/** Builds the blank template; a caller may set values into the input cells before writing. */
export function buildTemplateWorkbook(def: TemplateDefinition, county: County, institution: Institution, period: string): ExcelJS.Workbook {
  if (!ANY_PERIOD_PATTERN.test(period) || periodKind(period) !== def.periodType) throw new Error(`buildTemplateWorkbook: a ${def.periodType} period is needed for ${def.id}, got ${JSON.stringify(period)}`);
  const date = periodStart(period);
  const wb = new Workbook();
  wb.creator = GENERATOR;
  wb.lastModifiedBy = GENERATOR;
  wb.created = date;
  wb.modified = date;
  wb.title = returnTitle(def, county, period);
  wb.subject = `${def.id}（第${def.version}版）`;
  wb.keywords = `${def.id} v${def.version} ${institution.code} ${period}`;

  addInstructionsSheet(wb, def, county, institution, period);
  addReturnSheet(wb, def, county, institution, period);
  addMetaSheet(wb, def, institution, period);
  return wb;
}

/** The template as .xlsx bytes; the same arguments always give the same bytes. */
export async function writeTemplate(def: TemplateDefinition, county: County, institution: Institution, period: string): Promise<Buffer> {
  return writeWorkbookBuffer(buildTemplateWorkbook(def, county, institution, period));
}

/** `${county} ${title}（2025年3月）`, the title row of the return sheet. */
export function returnTitle(def: TemplateDefinition, county: County, period: string): string {
  return `${county.name} ${def.title}（${periodLabel(period)}）`;
}

/** 2025-03, 5 → 2025年4月5日23:59; 2025-Q1, 15 → 2025年4月15日23:59; 2024, 31, 3 → 2025年3月31日23:59 */
export function deadlineLabel(period: string, deadlineDay: number, monthsAfter = 1): string {
  return deadlineText(deadlineOf(period, deadlineDay, monthsAfter));
}

/** 次月5日 / 季度终了后次月15日 / 次年3月31日 */
function templateDeadlineRule(def: TemplateDefinition, county: County): string {
  return deadlineRule(def.periodType, def.deadlineDay ?? county.deadlineDay, def.deadlineMonth);
}

/** Cells a statistician fills in on the return sheet, as A1 addresses (for tests and samples). */
export function inputCells(def: TemplateDefinition): string[] {
  const cells = [`B${REPORTER_ROW}`, `D${REPORTER_ROW}`, `B${DATE_ROW}`];
  if (def.kind === 'indicator') {
    def.elements.forEach((_, i) => cells.push(address(COL.value, FIRST_DATA_ROW + i), address(COL.remark, FIRST_DATA_ROW + i)));
  } else {
    for (let r = FIRST_DATA_ROW; r < FIRST_DATA_ROW + def.preparedRows; r++) def.columns.forEach((_, c) => cells.push(address(c + 1, r)));
  }
  return cells;
}

/** The value cell of each element of an indicator return, e.g. JC07 → D14. */
export function elementCells(def: IndicatorTemplate): Map<string, string> {
  return new Map(def.elements.map((e, i) => [e.code, address(COL.value, FIRST_DATA_ROW + i)]));
}

// ---- the return sheet ----

function addReturnSheet(wb: ExcelJS.Workbook, def: TemplateDefinition, county: County, institution: Institution, period: string): void {
  const ledger = def.kind === 'ledger';
  const widths = ledger ? def.columns.map((c) => c.width) : [...INDICATOR_WIDTHS];
  const lastCol = widths.length;
  const ws = wb.addWorksheet(def.sheetName, {
    views: [{ state: 'frozen', xSplit: 0, ySplit: HEADER_ROW, topLeftCell: `A${FIRST_DATA_ROW}`, activeCell: ledger ? `A${FIRST_DATA_ROW}` : address(COL.value, FIRST_DATA_ROW) }],
    pageSetup: { ...printSetup(ledger ? 'landscape' : 'portrait'), printTitlesRow: `${HEADER_ROW}:${HEADER_ROW}` },
    headerFooter: {
      oddFooter: `&L${def.id}（第${def.version}版） ${institution.code}&C第 &P 页，共 &N 页&R${periodLabel(period)}`,
    },
  });
  widths.forEach((w, i) => (ws.getColumn(i + 1).width = w));
  const totalWidth = widths.reduce((a, b) => a + b, 0);

  // row 1: title, row 2: short note, both across the used columns
  const title = ws.getCell(TITLE_ROW, 1);
  title.value = returnTitle(def, county, period);
  title.font = FONT_TITLE;
  title.alignment = { horizontal: 'center', vertical: 'middle' };
  ws.mergeCells(TITLE_ROW, 1, TITLE_ROW, lastCol);
  ws.getRow(TITLE_ROW).height = 36;

  const noteText = ledger
    ? `黄色单元格为填报区域；进展状态从下拉列表选择（${LEDGER_STATUSES.join('、')}），已完成的完成进度填100，未启动的填0；完成时限填日期，如${period.slice(0, 4)}-06-30。`
    : '黄色单元格为填报区域，只填数字；比率由系统计算，无需填写；百分比填数值（95.26%填95.26）；指标口径（本年累计、月末数、本月数）在选中数值单元格时提示，并见「填报说明」。';
  const note = ws.getCell(NOTE_ROW, 1);
  note.value = noteText;
  note.font = FONT_NOTE;
  note.alignment = { horizontal: 'left', vertical: 'middle', wrapText: true };
  ws.mergeCells(NOTE_ROW, 1, NOTE_ROW, lastCol);
  ws.getRow(NOTE_ROW).height = wrappedHeight(noteText, totalWidth, 14);

  // rows 3–6: identity (prefilled, locked) and reporter (input)
  label(ws, INSTITUTION_ROW, 1, LABEL.institutionCode);
  prefilled(ws, INSTITUTION_ROW, 2, institution.code);
  label(ws, INSTITUTION_ROW, 3, LABEL.institutionName);
  prefilled(ws, INSTITUTION_ROW, 4, institution.name);
  label(ws, PERIOD_ROW, 1, LABEL.period);
  prefilled(ws, PERIOD_ROW, 2, period);
  label(ws, PERIOD_ROW, 3, LABEL.template);
  prefilled(ws, PERIOD_ROW, 4, `${def.id}（第${def.version}版）`);
  // institution names and the template label are longer than column D: merge rightwards (the value stays in D)
  const span = mergeSpan(widths, 4, 30);
  if (span > 4) for (const r of [INSTITUTION_ROW, PERIOD_ROW]) ws.mergeCells(r, 4, r, span);
  label(ws, REPORTER_ROW, 1, LABEL.reporter);
  input(ws.getCell(REPORTER_ROW, 2), NUMFMT.text);
  label(ws, REPORTER_ROW, 3, LABEL.phone);
  input(ws.getCell(REPORTER_ROW, 4), NUMFMT.text);
  label(ws, DATE_ROW, 1, LABEL.date);
  const dateCell = ws.getCell(DATE_ROW, 2);
  input(dateCell, NUMFMT.date, 'center');
  dateCell.dataValidation = dateValidation('填报日期', '填写填报当天的日期，如 2025-04-03。');
  for (const r of [INSTITUTION_ROW, PERIOD_ROW, REPORTER_ROW, DATE_ROW]) ws.getRow(r).height = 20;

  if (def.kind === 'indicator') indicatorBody(ws, def);
  else ledgerBody(ws, def);

  protect(ws);
}

function indicatorBody(ws: ExcelJS.Worksheet, def: IndicatorTemplate): void {
  header(ws, INDICATOR_HEADERS);
  const last = FIRST_DATA_ROW + def.elements.length - 1;
  def.elements.forEach((el, i) => {
    const r = FIRST_DATA_ROW + i;
    const row = ws.getRow(r);
    row.height = 20;
    fixed(row.getCell(COL.code), el.code, 'center');
    // the semantics go into the value cell's input message, not a cell note: a note's comments part,
    // once re-saved by openpyxl (absolute part names), makes exceljs's loader throw
    fixed(row.getCell(COL.name), el.name, 'left');
    fixed(row.getCell(COL.unit), el.unit, 'center');
    const value = row.getCell(COL.value);
    input(value, NUMFMT[el.type], 'right');
    value.dataValidation = valueValidation(el);
    input(row.getCell(COL.remark), NUMFMT.text, 'left');
  });
  // one rule for the whole remark range, not per cell
  dataValidations(ws).add(`${address(COL.remark, FIRST_DATA_ROW)}:${address(COL.remark, last)}`, {
    type: 'textLength',
    operator: 'lessThanOrEqual',
    formulae: [200],
    allowBlank: true,
    showErrorMessage: true,
    errorStyle: 'stop',
    errorTitle: '备注过长',
    error: '备注不超过200个字。',
  });
}

function ledgerBody(ws: ExcelJS.Worksheet, def: LedgerTemplate): void {
  header(
    ws,
    def.columns.map((c) => c.header),
  );
  const last = FIRST_DATA_ROW + def.preparedRows - 1;
  def.columns.forEach((col, i) => {
    const c = i + 1;
    for (let r = FIRST_DATA_ROW; r <= last; r++) input(ws.getCell(r, c), ledgerNumFmt(col), ledgerAlign(col), col.type === 'text' && col.width >= 30);
    const rule = ledgerValidation(col);
    if (rule) dataValidations(ws).add(`${address(c, FIRST_DATA_ROW)}:${address(c, last)}`, rule);
  });
}

function header(ws: ExcelJS.Worksheet, headers: readonly string[]): void {
  const row = ws.getRow(HEADER_ROW);
  row.height = 24;
  headers.forEach((h, i) => {
    const cell = row.getCell(i + 1);
    cell.value = h;
    cell.font = FONT_BOLD;
    cell.fill = HEADER_FILL;
    cell.border = BORDER_THIN;
    cell.alignment = { horizontal: 'center', vertical: 'middle', wrapText: true };
  });
}

// ---- cells ----

function label(ws: ExcelJS.Worksheet, r: number, c: number, text: string): void {
  const cell = ws.getCell(r, c);
  cell.value = text;
  cell.font = FONT_BOLD;
  cell.alignment = { horizontal: 'right', vertical: 'middle', indent: 1 };
}

/** Prefilled identity: text (never a date or number), locked. */
function prefilled(ws: ExcelJS.Worksheet, r: number, c: number, text: string): void {
  const cell = ws.getCell(r, c);
  cell.value = text;
  cell.numFmt = NUMFMT.text;
  cell.font = FONT;
  cell.fill = PREFILLED_FILL;
  cell.border = BORDER_THIN;
  cell.alignment = { horizontal: 'left', vertical: 'middle', indent: 1 };
}

function fixed(cell: ExcelJS.Cell, text: string, horizontal: 'left' | 'center'): void {
  cell.value = text;
  cell.font = FONT;
  cell.border = BORDER_THIN;
  cell.alignment = { horizontal, vertical: 'middle', indent: horizontal === 'left' ? 1 : 0 };
}

function input(cell: ExcelJS.Cell, numFmt: string, horizontal: 'left' | 'center' | 'right' = 'left', wrapText = false): void {
  cell.numFmt = numFmt;
  cell.font = FONT;
  cell.fill = INPUT_FILL;
  cell.border = BORDER_THIN;
  cell.alignment = { horizontal, vertical: 'middle', wrapText };
  cell.protection = { locked: false };
}

function elementNote(el: DataElement): string {
  const lines = [SEMANTICS[el.semantics].note];
  if (el.hint && !lines[0]!.includes(el.hint)) lines.push(el.hint);
  lines.push(`${VALUE_TYPE_TEXT[el.type]}${el.required ? '' : '；选填'}`);
  return lines.join('\n');
}

// ---- data validation: input cells only, never whole columns ----

function valueValidation(el: DataElement): ExcelJS.DataValidation {
  const what = `「${el.code} ${el.name}」`;
  const bounds = el.min !== undefined || el.max !== undefined ? `合理范围：${el.min ?? 0}–${el.max ?? '不限'}` : '';
  const prompt = [SEMANTICS[el.semantics].note, el.hint && !SEMANTICS[el.semantics].note.includes(el.hint) ? el.hint : '', `单位：${el.unit}`, bounds, el.required ? '必填' : '选填']
    .filter(Boolean)
    .join('；');
  const common = {
    allowBlank: true,
    showErrorMessage: true,
    errorStyle: 'stop',
    showInputMessage: true,
    promptTitle: truncate(`${el.code} ${SEMANTICS[el.semantics].label}`, 32),
    prompt: truncate(`${prompt}。`, 255),
  } as const;
  switch (el.type) {
    case 'integer':
      return { ...common, type: 'whole', operator: 'greaterThanOrEqual', formulae: [0], errorTitle: '请填写整数', error: truncate(`${what}只能填写大于或等于0的整数，不要填写小数、文字或单位。`, 255) };
    case 'decimal':
      return { ...common, type: 'decimal', operator: 'greaterThanOrEqual', formulae: [0], errorTitle: '请填写数值', error: truncate(`${what}只能填写大于或等于0的数值，不要填写文字或单位。`, 255) };
    case 'percent':
      return { ...common, type: 'decimal', operator: 'between', formulae: [0, 100], errorTitle: '请填写0至100之间的数值', error: truncate(`${what}填写0至100之间的数值，如95.26%填95.26，不要带%，也不要填0.9526。`, 255) };
  }
}

const DATE_MIN = new Date(Date.UTC(2000, 0, 1));
const DATE_MAX = new Date(Date.UTC(2099, 11, 31));

function dateValidation(what: string, prompt: string): ExcelJS.DataValidation {
  return {
    type: 'date',
    operator: 'between',
    formulae: [DATE_MIN, DATE_MAX],
    allowBlank: true,
    showErrorMessage: true,
    errorStyle: 'stop',
    errorTitle: '请填写日期',
    error: `${what}请填写日期，格式如 2025-04-03。`,
    showInputMessage: true,
    promptTitle: what,
    prompt,
  };
}

function ledgerValidation(col: LedgerColumn): ExcelJS.DataValidation | undefined {
  switch (col.type) {
    case 'status':
      return {
        type: 'list',
        formulae: [`"${LEDGER_STATUSES.join(',')}"`],
        allowBlank: true,
        showErrorMessage: true,
        errorStyle: 'stop',
        errorTitle: `${col.header}不在可选范围`,
        error: `${col.header}请从下拉列表选择：${LEDGER_STATUSES.join('、')}。`,
      };
    case 'percent':
      return {
        type: 'decimal',
        operator: 'between',
        formulae: [0, 100],
        allowBlank: true,
        showErrorMessage: true,
        errorStyle: 'stop',
        errorTitle: '请填写0至100之间的数值',
        error: `${col.header}填写0至100之间的数值，不带%：已完成填100，未启动填0。`,
      };
    case 'date':
      return dateValidation(col.header, '填写完成时限，如 2025-06-30。');
    case 'text':
      return undefined;
  }
}

function ledgerNumFmt(col: LedgerColumn): string {
  // text columns as text, so 1-2 stays 1-2 instead of becoming 2 January
  return col.type === 'date' ? NUMFMT.date : col.type === 'percent' ? '0' : NUMFMT.text;
}

function ledgerAlign(col: LedgerColumn): 'left' | 'center' | 'right' {
  if (col.type === 'date' || col.type === 'status' || col.key === 'taskNo') return 'center';
  return col.type === 'percent' ? 'right' : 'left';
}

/** exceljs keeps rules keyed by address or range; its typings do not expose the collection. */
function dataValidations(ws: ExcelJS.Worksheet): { add(range: string, rule: ExcelJS.DataValidation): void } {
  return (ws as unknown as { dataValidations: { add(range: string, rule: ExcelJS.DataValidation): void } }).dataValidations;
}

// ---- protection ----

/**
 * Excel's SHA-512 hash of SHEET_PASSWORD with a fixed salt (exceljs's protect() draws a random one,
 * so its bytes differ on every write). Precomputed: 100,000 rounds cost ~350 ms per cold start.
 * A unit test recomputes it with hashPassword().
 */
export const SHEET_PROTECTION_HASH = {
  algorithmName: 'SHA-512',
  saltValue: 'k/WudLQFlDmfWz4GJ7nnhg==',
  hashValue: '841iRum3PcJBgzzzn3jZPsdYfTW8PGXEtQtao4mm1lbz7I99D+95gdVPnpaB/Wm39hVltVEUJfYXG8X1DLv+xw==',
  spinCount: 100_000,
} as const;

/** Everything is locked except input cells (unlocked by their style); columns and rows may be resized. */
function protect(ws: ExcelJS.Worksheet): void {
  (ws as unknown as { sheetProtection: object }).sheetProtection = {
    sheet: true,
    objects: false,
    scenarios: false,
    // in exceljs's model `true` means "allowed": the user may resize columns and rows, nothing else
    formatColumns: true,
    formatRows: true,
    ...SHEET_PROTECTION_HASH,
  };
}

/** ECMA-376 agile password hash, as Excel computes it for sheet protection. */
export function hashPassword(password: string, salt: Buffer, spinCount: number): { saltValue: string; hashValue: string } {
  let key = createHash('sha512').update(salt).update(Buffer.from(password, 'utf16le')).digest();
  const iterator = Buffer.alloc(4);
  for (let i = 0; i < spinCount; i++) {
    iterator.writeUInt32LE(i, 0);
    key = createHash('sha512').update(key).update(iterator).digest();
  }
  return { saltValue: salt.toString('base64'), hashValue: key.toString('base64') };
}

// ---- 填报说明 ----

const INSTRUCTION_WIDTHS = [12, 40, 10, 50] as const;

function addInstructionsSheet(wb: ExcelJS.Workbook, def: TemplateDefinition, county: County, institution: Institution, period: string): void {
  const ws = wb.addWorksheet(INSTRUCTIONS_SHEET, {
    pageSetup: printSetup('portrait'),
    headerFooter: { oddFooter: '&C第 &P 页，共 &N 页' },
  });
  INSTRUCTION_WIDTHS.forEach((w, i) => (ws.getColumn(i + 1).width = w));
  const width = INSTRUCTION_WIDTHS.reduce((a, b) => a + b, 0);
  let r = 1;

  const paragraph = (text: string, font: Partial<ExcelJS.Font> = FONT, height?: number) => {
    const cell = ws.getCell(r, 1);
    cell.value = text;
    cell.font = font;
    cell.alignment = { horizontal: 'left', vertical: 'middle', wrapText: true };
    ws.mergeCells(r, 1, r, INSTRUCTION_WIDTHS.length);
    ws.getRow(r).height = height ?? wrappedHeight(text, width);
    r++;
  };

  const title = ws.getCell(r, 1);
  title.value = `${county.name} ${def.title} 填报说明`;
  title.font = FONT_TITLE;
  title.alignment = { horizontal: 'center', vertical: 'middle' };
  ws.mergeCells(r, 1, r, INSTRUCTION_WIDTHS.length);
  ws.getRow(r).height = 36;
  r++;

  const returnSheet = `「${def.sheetName}」`;
  paragraph('一、本模板', FONT_BOLD, 22);
  paragraph(`1. 本工作簿是${county.name}卫生健康统计报送的标准模板：${def.title}（模板 ${def.id}，第${def.version}版），供${institution.name}（机构代码 ${institution.code}）填报${periodLabel(period)}数据，请勿用于其他机构或其他${def.periodType === 'month' ? '月份' : '统计期'}。`);
  paragraph(`2. 报送时限：${templateDeadlineRule(def, county)}23:59前，即${deadlineLabel(period, def.deadlineDay ?? county.deadlineDay, def.deadlineMonth)}前。`);
  paragraph(`3. 机构代码、机构名称、统计期、报表模板已预先填好并锁定，请勿修改。`);

  paragraph('二、怎样填写', FONT_BOLD, 22);
  const steps =
    def.kind === 'indicator'
      ? [
          `只填写${returnSheet}工作表中的黄色单元格：「本期数值」「备注」以及填报人、联系电话、填报日期。其他单元格已锁定，请勿增删行列、修改表头或重命名工作表。`,
          '「本期数值」只填数字，不要填写单位、文字、空格或公式；人数、人次、例数等填写整数。没有发生的填0，不要留空；选填指标没有数据时可以留空。',
          '比率（各类“率”、占比、医护比、床护比等）无需填写，由系统根据分子、分母自动计算。',
          '单位为“%”的指标（如患者满意度）直接填百分数的数值，例如95.26%填95.26，不要填0.9526，也不要带%。',
          `指标口径：${semanticsSentence(def)}。各指标的口径见下表，选中「本期数值」单元格时也会提示。`,
          '需要说明的情况（如数据来源变化、数值异常的原因）写在「备注」列。',
        ]
      : [
          `只填写${returnSheet}工作表中的黄色单元格。每项任务填一行，从第${FIRST_DATA_ROW}行起连续填写，中间不要留空行；模板预留${def.preparedRows}行，任务更多时请联系${county.name}卫生健康委员会。`,
          `进展状态从下拉列表选择：${LEDGER_STATUSES.join('、')}。`,
          '完成进度填0至100之间的数字，不带%。已完成的任务完成进度填100；未启动的任务完成进度填0。',
          `完成时限填日期，格式如${period.slice(0, 4)}-06-30。完成时限不晚于统计期最后一天而尚未完成的任务，进展状态应填“已滞后”，否则系统将提示逾期。`,
          `${def.columns.filter((c) => c.required).map((c) => c.header).join('、')}为必填项；${def.columns.filter((c) => !c.required).map((c) => c.header).join('、')}为选填项。`,
          '填写填报人、联系电话、填报日期。',
        ];
  steps.forEach((s, i) => paragraph(`${i + 1}. ${s}`));

  paragraph('三、怎样上传', FONT_BOLD, 22);
  [
    '用 Excel、WPS 或 LibreOffice 填写后，直接保存为 .xlsx 文件；不要另存为 .xls、.et、.csv 或其他格式，不要设置打开密码。',
    '通过统计报送平台上传本文件。系统会在1分钟内给出结果：通过，或者把您的工作簿退回，并在每个有误的单元格上标注原因；修改后重新上传即可，重新上传的文件将替换之前上传的版本。',
  ].forEach((s, i) => paragraph(`${i + 1}. ${s}`));

  paragraph(def.kind === 'indicator' ? '四、指标口径一览' : '四、台账各列说明', FONT_BOLD, 22);
  const tableHeader = def.kind === 'indicator' ? ['指标代码', '指标名称', '单位', '口径及填写要求'] : ['列', '列名', '是否必填', '填写要求'];
  tableHeader.forEach((h, i) => {
    const cell = ws.getCell(r, i + 1);
    cell.value = h;
    cell.font = FONT_BOLD;
    cell.fill = HEADER_FILL;
    cell.border = BORDER_THIN;
    cell.alignment = { horizontal: 'center', vertical: 'middle' };
  });
  ws.getRow(r).height = 20;
  r++;
  const rows: string[][] =
    def.kind === 'indicator'
      ? def.elements.map((el) => [el.code, el.name, el.unit, elementNote(el).replace(/\n/g, '；')])
      : def.columns.map((col, i) => [String.fromCharCode(65 + i), col.header, col.required ? '必填' : '选填', ledgerColumnText(col)]);
  for (const values of rows) {
    values.forEach((v, i) => {
      const cell = ws.getCell(r, i + 1);
      cell.value = v;
      cell.font = FONT;
      cell.border = BORDER_THIN;
      cell.alignment = { horizontal: i === 1 || i === 3 ? 'left' : 'center', vertical: 'middle', wrapText: true };
    });
    // no explicit height: Excel, WPS and LibreOffice fit unmerged wrapped rows themselves
    r++;
  }
  protect(ws);
}

/** Only the semantics the template uses, in the order ytd, stock, flow. */
function semanticsSentence(def: IndicatorTemplate): string {
  const used = new Set(def.elements.map((e) => e.semantics));
  const parts: Record<Semantics, string> = {
    ytd: '“本年累计”指标填本年1月1日起累计到本月末的数',
    stock: '“月末数”指标填本月最后一天的实有数',
    flow: '“本月数”指标只填本月发生数',
  };
  return (['ytd', 'stock', 'flow'] as const).filter((k) => used.has(k)).map((k) => parts[k]).join('；');
}

function ledgerColumnText(col: LedgerColumn): string {
  switch (col.type) {
    case 'status':
      return `从下拉列表选择：${LEDGER_STATUSES.join('、')}`;
    case 'percent':
      return '0至100之间的数字，不带%；已完成填100，未启动填0';
    case 'date':
      return '日期，格式如 2025-06-30';
    case 'text':
      return col.key === 'taskNo' ? '任务编号，如 1、2、3 或文件中的序号' : '文字';
  }
}

// ---- _hmis ----

function addMetaSheet(wb: ExcelJS.Workbook, def: TemplateDefinition, institution: Institution, period: string): void {
  const ws = wb.addWorksheet(META_SHEET, { state: 'veryHidden' });
  const values: Record<(typeof META_KEYS)[number], string | number> = {
    template: def.id,
    version: def.version,
    institution: institution.code,
    period,
    generator: GENERATOR,
  };
  META_KEYS.forEach((key, i) => {
    ws.getCell(i + 1, 1).value = key;
    const cell = ws.getCell(i + 1, 2);
    cell.value = values[key];
    if (typeof values[key] === 'string') cell.numFmt = NUMFMT.text;
  });
  ws.getColumn(1).width = 14;
  ws.getColumn(2).width = 16;
  protect(ws);
}

// ---- helpers ----

function periodStart(period: string): Date {
  const [y, m] = parsePeriod(period).months[0]!.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 1, 1));
}

/** The last column of a merge starting at `from` (1-based) that is at least `minWidth` wide. */
function mergeSpan(widths: readonly number[], from: number, minWidth: number): number {
  let to = from;
  let w = widths[from - 1] ?? 0;
  while (w < minWidth && to < widths.length) w += widths[to++]!;
  return to;
}

function address(col: number, row: number): string {
  let s = '';
  for (let c = col; c > 0; c = Math.floor((c - 1) / 26)) s = String.fromCharCode(65 + ((c - 1) % 26)) + s;
  return `${s}${row}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}
