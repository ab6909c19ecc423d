/**
 * The definitions workbook: written from a definitions set (export), read back into one (import).
 * Reading is as careful as reading a return: the bytes pass the gate and the bounded parser, every
 * cell is read tolerantly (full-width characters, numbers as text, dates typed into 启用期), and every
 * refusal names the sheet and the cell. Columns are found by their header text, so extra columns and
 * another column order are fine.
 */
import ExcelJS from 'exceljs';
import {
  DefinitionsContent,
  ELEMENT_CODE,
  INDICATOR_FACTORS,
  INDICATOR_UNITS,
  INSTITUTION_CODE,
  MONTH_ID,
  RULE_OPS,
  TEMPLATE_ID,
  UNITS,
  type County,
  type DataElement,
  type Indicator,
  type Institution,
  type InstitutionType,
  type Pace,
  type Rule,
  type RuleOp,
  type Target,
  type TemplateDefinition,
} from '../../../schemas/model.ts';
import { gateUpload } from '../gate/index.ts';
import { parseWorkbook, type Cell, type RawValue, type Sheet } from '../parse/index.ts';
import { writeWorkbookBuffer } from '../render/deterministic.ts';
import { BORDER_THIN, FONT, FONT_BOLD, FONT_NOTE, FONT_TITLE, HEADER_FILL, INPUT_FILL } from '../render/style.ts';
import { checkDefinitions, conditionText, sideText, type Problem } from './check.ts';
import { targetKey } from './log.ts';
import {
  HELP_SHEET,
  META_SHEET,
  NO,
  PACE_WORDS,
  PERIOD_WORDS,
  SEMANTICS_WORDS,
  SEVERITY_WORDS,
  SHEET_ORDER,
  SHEETS,
  EXTRA_COLUMNS,
  TYPE_WORDS,
  YES,
  reverse,
  type SheetKey,
} from './layout.ts';
import { defIssue, type DefinitionIssue } from './report.ts';

/** Where an exported workbook came from: an import compares the edit with exactly that. */
export interface WorkbookBase {
  version: number;
  /** the month the exported definitions were in force for; null: every version */
  period: string | null;
}

const GENERATOR = 'hmis-sheets definitions';
/** rows prepared with dropdowns below the data, for what the commission adds */
const SPARE_ROWS = 500;
/** one of a list of codes or names: 、 ， , ; space */
const LIST_SEPARATORS = /[、,，;；\s]+/;

// ---- export ----

/** The definitions as a workbook a statistician edits; the same content and time give the same bytes. */
export async function writeDefinitionsWorkbook(content: DefinitionsContent, base: WorkbookBase, exportedAt: Date): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = GENERATOR;
  wb.lastModifiedBy = GENERATOR;
  wb.created = exportedAt;
  wb.modified = exportedAt;
  wb.title = `卫生健康统计报表定义（第${base.version}版）`;

  addHelpSheet(wb, base);
  const typeName = new Map(content.institutionTypes.map((t) => [t.code, t.name]));
  const rows: Record<SheetKey, Array<Array<string | number | null>>> = {
    counties: content.counties.map((c) => [c.code, c.name, c.city.code, c.city.name, c.deadlineDay, c.notes ?? null]),
    institutions: content.counties.flatMap((c) =>
      c.institutions.map((i) => [c.code, i.code, i.name, typeName.get(i.type) ?? i.type, i.extraTemplates.join('、') || null, i.contact?.name || null, i.contact?.phone ?? null, i.contact?.email ?? null, i.from ?? null, i.until ?? null, i.mergedInto ?? null, i.source || null]),
    ),
    types: content.institutionTypes.map((t) => [t.code, t.name, t.templates.join('、')]),
    templates: content.templates.map((t) => [t.id, t.version, t.title, t.sheetName, PERIOD_WORDS[t.periodType], t.deadlineMonth ? `${t.deadlineMonth}-${t.deadlineDay ?? 1}` : (t.deadlineDay ?? null), t.from, t.source || null, ...(t.kind === 'ledger' ? [t.section ?? null, t.sentence ?? null] : [])]),
    elements: content.templates.flatMap((t) =>
      t.kind === 'indicator'
        ? t.elements.map((e) => [t.id, e.code, e.name, e.unit, TYPE_WORDS[e.type], e.required ? YES : NO, SEMANTICS_WORDS[e.semantics], e.additive ? YES : NO, e.min ?? null, e.max ?? null, e.source || null, e.hint ?? null, e.section ?? null, e.sentence ?? null])
        : [],
    ),
    rules: content.templates.flatMap((t) =>
      t.kind === 'indicator'
        ? t.rules.map((r) => [t.id, r.id, r.left.join('+'), r.op, sideText(r.right, r.constant), SEVERITY_WORDS[r.severity], r.when ? conditionText(r.when) : null, r.source ?? null, r.tolerance ?? null])
        : [],
    ),
    indicators: content.templates.flatMap((t) => (t.kind === 'indicator' ? t.indicators.map((x) => [t.id, x.code, x.name, x.numerator.join('+'), x.denominator.join('+'), x.factor, x.unit, x.source || null, x.section ?? null, x.sentence ?? null]) : [])),
    targets: content.counties.flatMap((c) =>
      c.targets.map((t) => [c.code, t.year, t.indicator, t.direction, t.value, (t.institutionTypes ?? []).map((x) => typeName.get(x) ?? x).join('、') || null, PACE_WORDS[t.pace ?? 'none'], t.document, t.quote || null, t.milestones?.join('、') ?? null, t.paceNote ?? null]),
    ),
  };
  for (const key of SHEET_ORDER) addDataSheet(wb, key, rows[key]);
  addMetaSheet(wb, base, exportedAt);
  return writeWorkbookBuffer(wb);
}

function addDataSheet(wb: ExcelJS.Workbook, key: SheetKey, rows: Array<Array<string | number | null>>): void {
  const spec = SHEETS[key];
  const columns = [...spec.columns, ...(EXTRA_COLUMNS[key] ?? [])];
  const ws = wb.addWorksheet(spec.name, { views: [{ state: 'frozen', xSplit: 0, ySplit: 1, topLeftCell: 'A2', activeCell: 'A2' }] });
  columns.forEach((c, n) => {
    const column = ws.getColumn(n + 1);
    column.width = c.width;
    // codes and months stay text: Excel would turn 2025-04 into a date and 150525 into a number
    if (TEXT_HEADERS.has(c.header)) column.numFmt = '@';
  });
  const header = ws.getRow(1);
  columns.forEach((c, n) => {
    const cell = header.getCell(n + 1);
    cell.value = c.header;
    cell.font = FONT_BOLD;
    cell.fill = HEADER_FILL;
    cell.border = BORDER_THIN;
    cell.alignment = { vertical: 'middle', horizontal: 'center' };
  });
  header.height = 20;
  rows.forEach((values, r) => {
    const row = ws.getRow(r + 2);
    values.forEach((v, n) => {
      const cell = row.getCell(n + 1);
      if (v !== null && v !== '') cell.value = v;
      cell.font = FONT;
      cell.border = BORDER_THIN;
    });
  });
  const last = rows.length + 1 + SPARE_ROWS;
  const lists = dropdowns(key);
  columns.forEach((c, n) => {
    const list = lists[c.header];
    if (!list) return;
    const letter = ws.getColumn(n + 1).letter;
    (ws as unknown as { dataValidations: { add(range: string, rule: ExcelJS.DataValidation): void } }).dataValidations.add(`${letter}2:${letter}${last}`, {
      type: 'list',
      allowBlank: true,
      formulae: [list],
      showErrorMessage: true,
      errorStyle: 'stop',
      errorTitle: c.header,
      error: `请从下拉列表中选择：${c.help}`,
    });
  });
  ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: columns.length } };
}

/** 总结章节 and 总结句式 of a row (the work summary's draft); absent columns: none */
function summaryOf(r: Row): { section?: string; sentence?: string } {
  const section = r.get('总结章节');
  const sentence = r.get('总结句式');
  return { ...(section ? { section } : {}), ...(sentence ? { sentence } : {}) };
}

const TEXT_HEADERS = new Set(['旗县代码', '机构代码', '类型代码', '市代码', '启用期', '停用期', '并入机构', '报表', '指标代码', '规则编号', '左边', '右边', '条件', '分子', '分母', '电话']);

const quoted = (words: readonly string[]) => `"${words.join(',')}"`;

function dropdowns(key: SheetKey): Record<string, string> {
  switch (key) {
    case 'institutions':
      return { 机构类型: `'${SHEETS.types.name}'!$B$2:$B$${200}` };
    case 'templates':
      return { 周期: quoted(Object.values(PERIOD_WORDS)) };
    case 'elements':
      return { 单位: quoted(UNITS), 类型: quoted(Object.values(TYPE_WORDS)), 必填: quoted([YES, NO]), 口径: quoted(Object.values(SEMANTICS_WORDS)), 可加总: quoted([YES, NO]) };
    case 'rules':
      return { 运算符: quoted(RULE_OPS), 级别: quoted(Object.values(SEVERITY_WORDS)) };
    case 'indicators':
      return { 系数: quoted(INDICATOR_FACTORS.map(String)), 单位: quoted(INDICATOR_UNITS) };
    case 'targets':
      return { 方向: quoted(['>=', '<=']), 序时方式: quoted(Object.values(PACE_WORDS)) };
    default:
      return {};
  }
}

function addHelpSheet(wb: ExcelJS.Workbook, base: WorkbookBase): void {
  const ws = wb.addWorksheet(HELP_SHEET);
  ws.getColumn(1).width = 12;
  ws.getColumn(2).width = 14;
  ws.getColumn(3).width = 70;
  ws.getColumn(4).width = 24;
  ws.getCell('A1').value = `卫生健康统计报表定义（第${base.version}版${base.period ? `，${base.period} 执行的定义` : ''}）`;
  ws.getCell('A1').font = FONT_TITLE;
  const intro = [
    '本工作簿是报表系统的“定义”：机构、机构类型、报表、数据项、校验规则、计算指标和年度目标。修改后导入系统，自生效期起用于空白报表、校验、上报情况、催报和汇总表；生效期之前的各期不受影响。',
    '导入：hmis definitions import 本文件.xlsx --effective 2025-04 --by 姓名（先加 --dry-run 预览），或在门户的「定义管理」页上传。系统先检查整个工作簿：有错误时一项也不改，并指出工作表和单元格。',
    '新增：在表末空行填写。停用机构：填写停用期（不要删行；删行等于自生效期起停用）。合并：被合并机构填写停用期和并入机构，接收机构照常填写。',
    '数据项的增删或顺序改变会使报表生成新版本；已下载的旧版本报表只能用于生效期之前的各期。工作表名称和表头文字不能改，可在右侧增加自己的列。',
  ];
  intro.forEach((text, n) => {
    const cell = ws.getCell(`A${n + 2}`);
    cell.value = text;
    cell.font = FONT_NOTE;
    cell.alignment = { wrapText: true, vertical: 'top' };
    ws.mergeCells(`A${n + 2}:D${n + 2}`);
    ws.getRow(n + 2).height = 32;
  });
  let r = intro.length + 3;
  const header = ws.getRow(r);
  ['工作表', '列', '说明', '示例'].forEach((h, n) => {
    const cell = header.getCell(n + 1);
    cell.value = h;
    cell.font = FONT_BOLD;
    cell.fill = HEADER_FILL;
    cell.border = BORDER_THIN;
  });
  for (const key of SHEET_ORDER) {
    for (const c of [...SHEETS[key].columns, ...(EXTRA_COLUMNS[key] ?? [])]) {
      r++;
      const row = ws.getRow(r);
      [SHEETS[key].name, c.header, c.help, c.example].forEach((v, n) => {
        const cell = row.getCell(n + 1);
        cell.value = v;
        cell.font = FONT;
        cell.border = BORDER_THIN;
        cell.alignment = { wrapText: true, vertical: 'top' };
        if (n === 3) cell.fill = INPUT_FILL;
      });
    }
  }
  ws.views = [{ state: 'frozen', xSplit: 0, ySplit: intro.length + 3, topLeftCell: `A${intro.length + 4}`, activeCell: 'A1' }];
}

function addMetaSheet(wb: ExcelJS.Workbook, base: WorkbookBase, exportedAt: Date): void {
  const ws = wb.addWorksheet(META_SHEET, { state: 'veryHidden' });
  const rows: Array<[string, string | number]> = [
    ['version', base.version],
    ['period', base.period ?? ''],
    ['exportedAt', exportedAt.toISOString()],
    ['generator', GENERATOR],
  ];
  rows.forEach(([k, v], n) => {
    ws.getCell(n + 1, 1).value = k;
    ws.getCell(n + 1, 2).value = v;
  });
}

// ---- import ----

export type OpenResult = { ok: true; sheets: Sheet[]; base: WorkbookBase | null } | { ok: false; issues: DefinitionIssue[] };

/** The bytes of an uploaded definitions workbook, through the gate and the bounded parser. */
export async function openDefinitionsWorkbook(bytes: Uint8Array): Promise<OpenResult> {
  const gate = gateUpload(bytes);
  if (!gate.ok) return { ok: false, issues: gate.issues.map((i) => defIssue('definitions-file', i.message)) };
  const parsed = await parseWorkbook(bytes, gate.sheets, { deadlineMs: 8_000, maxCells: 400_000, date1904: gate.date1904 });
  if (!parsed.ok) return { ok: false, issues: parsed.issues.map((i) => defIssue('definitions-file', i.message)) };
  return { ok: true, sheets: parsed.sheets, base: readBase(parsed.sheets) };
}

/**
 * The definitions an opened workbook holds (null, with issues, when anything is wrong). `base` supplies
 * what the workbook does not show: a ledger template's columns, a 来源 column somebody deleted.
 */
export function readDefinitions(sheets: readonly Sheet[], base: DefinitionsContent): { content: DefinitionsContent | null; issues: DefinitionIssue[] } {
  const reader = new Reader(sheets, base);
  const content = reader.read();
  return { content, issues: reader.issues };
}

function readBase(sheets: readonly Sheet[]): WorkbookBase | null {
  const meta = sheets.find((s) => s.name === META_SHEET);
  if (!meta) return null;
  const get = (key: string) => {
    for (const cells of meta.rows.values()) if (text(cells.get(1)) === key) return text(cells.get(2));
    return '';
  };
  const version = Number(get('version'));
  const period = get('period');
  if (!Number.isInteger(version) || version < 1) return null;
  return { version, period: MONTH_ID.test(period) ? period : null };
}

/** One data row of a sheet: its number and the text of each known column. */
interface Row {
  row: number;
  /** the cell's text as typed */
  get(header: string): string;
  /** the cell's text with full-width characters folded: for codes, numbers, months and symbols */
  code(header: string): string;
  cell(header: string): Cell | undefined;
}

class Reader {
  readonly issues: DefinitionIssue[] = [];
  /** `${sheet}|${key}` → row number, for the problems of the whole-set check */
  private readonly rowOf = new Map<string, number>();
  private readonly columns = new Map<string, Map<string, number>>();
  private broken = false;
  /** county codes of the 旗县 sheet, rows with other mistakes included: those are reported once, not again on every row that names them */
  private readonly countyCodes = new Set<string>();

  constructor(
    private readonly sheets: readonly Sheet[],
    private readonly base: DefinitionsContent,
  ) {}

  read(): DefinitionsContent | null {
    const rows = {} as Record<SheetKey, Row[]>;
    for (const key of SHEET_ORDER) rows[key] = this.rows(key);
    if (this.broken) return null;

    const types = this.types(rows.types);
    const templates = this.templates(rows);
    const counties = this.counties(rows.counties);
    this.institutions(rows.institutions, counties, types);
    this.targets(rows.targets, counties, types);
    if (this.issues.length) return null;

    const content: DefinitionsContent = { institutionTypes: types.list, counties: [...counties.values()], templates };
    const parsed = DefinitionsContent.safeParse(content);
    if (!parsed.success) {
      for (const i of parsed.error.issues.slice(0, 20)) this.issues.push(defIssue('definitions-value-invalid', `定义不完整：${i.path.join('.')} ${i.message}`));
      return null;
    }
    for (const p of checkDefinitions(parsed.data)) this.problem(p);
    return this.issues.length ? null : parsed.data;
  }

  private problem(p: Problem): void {
    const row = this.rowOf.get(`${p.sheet}|${p.key}`) ?? null;
    const col = this.columns.get(p.sheet)?.get(p.field) ?? null;
    this.issues.push(defIssue(p.code, p.message, { sheet: p.sheet, row, col, value: p.value || null }));
  }

  private fail(code: Parameters<typeof defIssue>[0], sheet: string, r: Row | null, header: string | null, message: string, value?: string): void {
    const col = header ? (this.columns.get(sheet)?.get(header) ?? null) : null;
    this.issues.push(defIssue(code, message, { sheet, row: r?.row ?? null, col, value: value ?? (r && header ? r.get(header) || null : null) }));
  }

  /** The data rows of a sheet, columns found by header text in row 1. */
  private rows(key: SheetKey): Row[] {
    const spec = SHEETS[key];
    const sheet = this.sheets.find((s) => s.name === spec.name);
    if (!sheet) {
      this.issues.push(defIssue('definitions-sheet-missing', `缺少工作表「${spec.name}」。请在系统导出的定义工作簿上修改，不要删除或重命名工作表。`));
      this.broken = true;
      return [];
    }
    const headerCells = sheet.rows.get(1) ?? new Map<number, Cell>();
    const columns = new Map<string, number>();
    for (const cell of headerCells.values()) {
      const h = text(cell).replace(/\s+/g, '').replace(/（/g, '(').replace(/）/g, ')');
      if (h && !columns.has(h)) columns.set(h, cell.col);
    }
    this.columns.set(spec.name, columns);
    for (const [n, c] of spec.columns.entries()) {
      if (columns.has(c.header)) continue;
      this.issues.push(defIssue('definitions-header-missing', `第 1 行缺少表头“${c.header}”（应在第 ${n + 1} 列附近）。表头文字不能修改。`, { sheet: spec.name, row: 1 }));
      this.broken = true;
    }
    const out: Row[] = [];
    for (const [r, cells] of [...sheet.rows].sort((a, b) => a[0] - b[0])) {
      if (r === 1) continue;
      const cellOf = (header: string) => {
        const col = columns.get(header);
        return col === undefined ? undefined : cells.get(col);
      };
      const row: Row = { row: r, get: (h) => text(cellOf(h)), code: (h) => fold(text(cellOf(h))), cell: cellOf };
      if (spec.columns.every((c) => row.get(c.header) === '')) continue;
      out.push(row);
    }
    return out;
  }

  private key(sheet: string, key: string, r: Row, header: string): boolean {
    const at = `${sheet}|${key}`;
    if (this.rowOf.has(at)) {
      this.fail('definitions-duplicate', sheet, r, header, `与第 ${this.rowOf.get(at)} 行重复`);
      return false;
    }
    this.rowOf.set(at, r.row);
    return true;
  }

  private required(sheet: string, r: Row, header: string): string | null {
    const v = r.get(header);
    if (!v) this.fail('definitions-value-invalid', sheet, r, header, `“${header}”未填写`);
    return v || null;
  }

  private pattern(sheet: string, r: Row, header: string, re: RegExp, what: string): string | null {
    if (this.required(sheet, r, header) === null) return null;
    const v = r.code(header);
    if (!re.test(v)) {
      this.fail('definitions-value-invalid', sheet, r, header, `格式不对，应为${what}`);
      return null;
    }
    return v;
  }

  private number(sheet: string, r: Row, header: string, opts: { required?: boolean; integer?: boolean; min?: number; max?: number } = {}): number | undefined | null {
    const v = r.code(header);
    if (!v) {
      if (opts.required) this.fail('definitions-value-invalid', sheet, r, header, `“${header}”未填写`);
      return opts.required ? null : undefined;
    }
    const n = Number(v.replace(/[,\s]/g, '').replace(/%$/, ''));
    if (!Number.isFinite(n)) {
      this.fail('definitions-value-invalid', sheet, r, header, `不是数字，“${header}”应填数字`);
      return null;
    }
    if (opts.integer && !Number.isInteger(n)) {
      this.fail('definitions-value-invalid', sheet, r, header, `应为整数`);
      return null;
    }
    if ((opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
      this.fail('definitions-value-invalid', sheet, r, header, `应在 ${opts.min ?? '-∞'} 到 ${opts.max ?? '∞'} 之间`);
      return null;
    }
    return n;
  }

  private word<K extends string>(sheet: string, r: Row, header: string, words: Record<K, string>, fallback?: K): K | null {
    const v = r.code(header);
    if (!v && fallback !== undefined) return fallback;
    const found = reverse(words).get(v) ?? (Object.hasOwn(words, v) ? (v as K) : undefined);
    if (!found) {
      this.fail('definitions-value-invalid', sheet, r, header, `${v ? '不在可选范围内' : '未填写'}，应为${Object.values(words).join('、')}之一`);
      return null;
    }
    return found;
  }

  private yesNo(sheet: string, r: Row, header: string, fallback?: boolean): boolean | null {
    const v = r.code(header).toUpperCase();
    if (!v && fallback !== undefined) return fallback;
    if (['是', 'Y', 'YES', 'TRUE', '1', '√'].includes(v)) return true;
    if (['否', 'N', 'NO', 'FALSE', '0', '×'].includes(v)) return false;
    this.fail('definitions-value-invalid', sheet, r, header, `应为“是”或“否”`);
    return null;
  }

  private month(sheet: string, r: Row, header: string): string | undefined | null {
    const cell = r.cell(header);
    const v = r.code(header);
    if (!v) return undefined;
    const m = /^(\d{4})\s*(?:-|年|\/|\.)\s*(\d{1,2})\s*(?:月|(?:-|\/|\.)\d{1,2}(?:[ T].*)?)?$/.exec(v);
    const month = m ? `${m[1]}-${m[2]!.padStart(2, '0')}` : null;
    if (!month || !MONTH_ID.test(month)) {
      this.fail('definitions-value-invalid', sheet, r, header, `不是月份，应为“年-月”，如 2025-04${cell?.value.kind === 'number' ? '（单元格是数字，请设为文本后填写）' : ''}`);
      return null;
    }
    return month;
  }

  /** 截止日: a day of the next month (5), or a month and day after the period (3-31, 3月31日: a year's return) */
  private deadline(sheet: string, r: Row): { deadlineDay?: number; deadlineMonth?: number } | null {
    const v = r.code('截止日');
    if (!v) return {};
    const m = /^(?:(\d{1,2})\s*(?:-|月|\/|\.)\s*)?(\d{1,2})\s*日?$/.exec(v);
    const month = m?.[1] ? Number(m[1]) : undefined;
    const day = m ? Number(m[2]) : NaN;
    if (!m || day < 1 || day > 31 || (month !== undefined && (month < 1 || month > 12))) {
      this.fail('definitions-value-invalid', sheet, r, '截止日', '格式不对：填次月几日（如 5），或报告期结束后第几个月的几日（如年报 3-31，即次年3月31日）');
      return null;
    }
    return { deadlineDay: day, ...(month !== undefined ? { deadlineMonth: month } : {}) };
  }

  /** JC03+JC04 (left, 分子, 分母): element codes only */
  private codes(sheet: string, r: Row, header: string): string[] | null {
    const side = this.side(sheet, r, header, false);
    return side ? side.codes : null;
  }

  /** JC02, YY05+YY06, 2, JC01+100: element codes and, where allowed, one number */
  private side(sheet: string, r: Row, header: string, constant: boolean): { codes: string[]; constant?: number } | null {
    const v = r.code(header).replace(/\s+/g, '');
    if (!v) {
      this.fail('definitions-value-invalid', sheet, r, header, `“${header}”未填写`);
      return null;
    }
    return this.expression(sheet, r, header, v, constant);
  }

  private expression(sheet: string, r: Row, header: string, v: string, constant: boolean): { codes: string[]; constant?: number } | null {
    const codes: string[] = [];
    let sum: number | undefined;
    for (const token of v.split('+')) {
      if (ELEMENT_CODE.test(token)) codes.push(token);
      else if (constant && token !== '' && Number.isFinite(Number(token))) sum = (sum ?? 0) + Number(token);
      else {
        this.fail('definitions-value-invalid', sheet, r, header, `中的“${token}”不是数据项代码${constant ? '或数字' : ''}（数据项代码如 JC01，多个用 + 连接）`, v);
        return null;
      }
    }
    if (!codes.length && !constant) {
      this.fail('definitions-value-invalid', sheet, r, header, '至少要有一个数据项代码', v);
      return null;
    }
    return { codes, ...(sum !== undefined ? { constant: sum } : {}) };
  }

  /** a list in one cell (、 , ; or spaces between): codes folded, names as typed */
  private list(r: Row, header: string, names = false): string[] {
    const v = names ? r.get(header) : r.code(header);
    return v ? v.split(LIST_SEPARATORS).filter(Boolean) : [];
  }

  // -- sheets --

  private types(rows: Row[]): { list: InstitutionType[]; byName: Map<string, string> } {
    const S = SHEETS.types.name;
    const list: InstitutionType[] = [];
    for (const r of rows) {
      const code = this.pattern(S, r, '类型代码', /^[a-z_]+$/, '英文小写字母和下划线，如 township_hc');
      const name = this.required(S, r, '类型名称');
      const templates = this.list(r, '应报报表');
      for (const id of templates) if (!TEMPLATE_ID.test(id)) this.fail('definitions-value-invalid', S, r, '应报报表', `中的“${id}”不是报表编号（如 T-JC）`);
      if (code === null || name === null || !this.key(S, code, r, '类型代码')) continue;
      list.push({ code, name, templates });
    }
    return { list, byName: new Map(list.map((t) => [t.name, t.code])) };
  }

  private counties(rows: Row[]): Map<string, County> {
    const S = SHEETS.counties.name;
    const out = new Map<string, County>();
    for (const r of rows) {
      const code = this.pattern(S, r, '旗县代码', /^\d{6}$/, '6 位数字的行政区划代码，如 150525');
      if (code) this.countyCodes.add(code);
      const name = this.required(S, r, '旗县名称');
      const cityCode = this.pattern(S, r, '市代码', /^\d{4}$/, '4 位数字，如 1505');
      const cityName = this.required(S, r, '市名称');
      const deadlineDay = this.number(S, r, '截止日', { required: true, integer: true, min: 1, max: 28 });
      if (code === null || name === null || cityCode === null || cityName === null || typeof deadlineDay !== 'number' || !this.key(S, code, r, '旗县代码')) continue;
      const notes = r.get('备注');
      out.set(code, { code, name, city: { code: cityCode, name: cityName }, deadlineDay, institutions: [], targets: [], ...(notes ? { notes } : {}) });
    }
    for (const c of this.base.counties) {
      if (!this.countyCodes.has(c.code)) this.issues.push(defIssue('definitions-removed', `中缺少 ${c.name}（${c.code}）：旗县不能删除，它的历史数据仍要汇总。不再使用时，停用其所有机构即可。`, { sheet: S }));
    }
    return out;
  }

  private institutions(rows: Row[], counties: Map<string, County>, types: { byName: Map<string, string>; list: InstitutionType[] }): void {
    const S = SHEETS.institutions.name;
    const baseOf = new Map(this.base.counties.flatMap((c) => c.institutions.map((i) => [i.code, i])));
    const hasSource = this.columns.get(S)?.has('来源') ?? false;
    for (const r of rows) {
      const countyCode = this.required(S, r, '旗县代码') && r.code('旗县代码');
      const code = this.pattern(S, r, '机构代码', INSTITUTION_CODE, '“旗县代码-三位序号”，如 150525-122');
      const name = this.required(S, r, '机构名称');
      const typeText = this.required(S, r, '机构类型');
      const type = typeText ? (types.byName.get(typeText) ?? (types.list.some((t) => t.code === typeText) ? typeText : null)) : null;
      if (typeText && !type) this.fail('definitions-reference', S, r, '机构类型', '不是「机构类型」表中的类型名称，请从下拉列表选择');
      const extras = this.list(r, '额外报表');
      for (const id of extras) if (!TEMPLATE_ID.test(id)) this.fail('definitions-value-invalid', S, r, '额外报表', `中的“${id}”不是报表编号（如 T-FY）`);
      const from = this.month(S, r, '启用期');
      const until = this.month(S, r, '停用期');
      const mergedInto = r.code('并入机构');
      if (mergedInto && !INSTITUTION_CODE.test(mergedInto)) this.fail('definitions-value-invalid', S, r, '并入机构', '格式不对，应为机构代码，如 150525-101');
      const county = countyCode ? counties.get(countyCode) : undefined;
      if (countyCode && !this.countyCodes.has(countyCode)) this.fail('definitions-reference', S, r, '旗县代码', '不是「旗县」表中的旗县代码');
      if (!county || code === null || name === null || !type || from === null || until === null || !this.key(S, code, r, '机构代码')) continue;
      const contact = { name: r.get('联系人'), phone: r.get('电话'), email: r.get('邮箱') };
      const source = hasSource ? r.get('来源') : (baseOf.get(code)?.source ?? '');
      const institution: Institution = {
        code,
        name,
        type,
        extraTemplates: extras,
        ...(contact.name || contact.phone || contact.email ? { contact: { name: contact.name, ...(contact.phone ? { phone: contact.phone } : {}), ...(contact.email ? { email: contact.email } : {}) } } : {}),
        ...(from ? { from } : {}),
        ...(until ? { until } : {}),
        ...(mergedInto ? { mergedInto } : {}),
        source,
      };
      county.institutions.push(institution);
    }
  }

  private templates(rows: Record<SheetKey, Row[]>): TemplateDefinition[] {
    const S = SHEETS.templates.name;
    const baseOf = new Map(this.base.templates.map((t) => [t.id, t]));
    const hasSource = this.columns.get(S)?.has('来源') ?? false;
    const out: TemplateDefinition[] = [];
    const ids = new Set<string>();
    for (const r of rows.templates) {
      const id = this.pattern(S, r, '报表', TEMPLATE_ID, '“T-两个大写字母”，如 T-JC');
      const title = this.required(S, r, '名称');
      const sheetName = this.required(S, r, '工作表名');
      const periodType = this.word(S, r, '周期', PERIOD_WORDS, 'month');
      const deadline = this.deadline(S, r);
      const from = this.month(S, r, '启用期');
      if (sheetName && sheetName.length > 28) this.fail('definitions-value-invalid', S, r, '工作表名', '超过 28 个字');
      if (id === null || title === null || sheetName === null || !periodType || deadline === null || from === null || !this.key(S, id, r, '报表')) continue;
      ids.add(id);
      const before = baseOf.get(id);
      const common = {
        id,
        version: before?.version ?? 1,
        from: from ?? before?.from ?? '2000-01',
        title,
        sheetName,
        periodType,
        ...deadline,
        source: hasSource ? r.get('来源') : (before?.source ?? ''),
      };
      if (before?.kind === 'ledger') {
        out.push({ ...common, kind: 'ledger', columns: before.columns, preparedRows: before.preparedRows, maxRows: before.maxRows, ...summaryOf(r) });
        continue;
      }
      out.push({ ...common, kind: 'indicator', elements: [], rules: [], indicators: [] });
    }
    const indicatorOf = (sheet: string, r: Row) => {
      const id = this.required(sheet, r, '报表') && r.code('报表');
      if (id === null) return null;
      const def = out.find((t) => t.id === id);
      if (!def) {
        if (!ids.has(id)) this.fail('definitions-reference', sheet, r, '报表', '不是「报表」表中的报表编号');
        return null;
      }
      if (def.kind !== 'indicator') {
        this.fail('definitions-value-invalid', sheet, r, '报表', '是台账，台账的列不在此定义');
        return null;
      }
      return def;
    };
    for (const r of rows.elements) {
      const S2 = SHEETS.elements.name;
      const def = indicatorOf(S2, r);
      const e = this.element(r);
      if (!def || !e || !this.key(S2, `${def.id}|${e.code}`, r, '指标代码')) continue;
      def.elements.push(e);
    }
    for (const r of rows.rules) {
      const S2 = SHEETS.rules.name;
      const def = indicatorOf(S2, r);
      const rule = this.rule(r);
      if (!def || !rule || !this.key(S2, `${def.id}|${rule.id}`, r, '规则编号')) continue;
      def.rules.push(rule);
    }
    for (const r of rows.indicators) {
      const S2 = SHEETS.indicators.name;
      const def = indicatorOf(S2, r);
      const x = this.indicator(r);
      if (!def || !x || !this.key(S2, `${def.id}|${x.code}`, r, '指标代码')) continue;
      def.indicators.push(x);
    }
    for (const def of out) {
      if (def.kind === 'indicator' && !def.elements.length) this.fail('definitions-value-invalid', S, null, null, `报表 ${def.id} 没有任何数据项：请在「数据项」表中填写`, def.id);
    }
    return out;
  }

  private element(r: Row): DataElement | null {
    const S = SHEETS.elements.name;
    const code = this.pattern(S, r, '指标代码', ELEMENT_CODE, '两个大写字母加两位或三位数字，如 JC30');
    const name = this.required(S, r, '指标名称');
    const unit = this.word(S, r, '单位', Object.fromEntries(UNITS.map((u) => [u, u])) as Record<(typeof UNITS)[number], string>);
    const type = this.word(S, r, '类型', TYPE_WORDS);
    const required = this.yesNo(S, r, '必填');
    const semantics = this.word(S, r, '口径', SEMANTICS_WORDS);
    const additive = this.yesNo(S, r, '可加总', true);
    const min = this.number(S, r, '下限');
    const max = this.number(S, r, '上限');
    if (code === null || name === null || !unit || !type || required === null || !semantics || additive === null || min === null || max === null) return null;
    const hint = r.get('说明');
    return { code, name, unit, type, required, semantics, additive, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}), source: r.get('来源'), ...(hint ? { hint } : {}), ...summaryOf(r) };
  }

  private rule(r: Row): Rule | null {
    const S = SHEETS.rules.name;
    const id = this.pattern(S, r, '规则编号', /^[A-Z]{2}-R\d{2,3}$/, '“两个大写字母-R两位或三位数字”，如 JC-R17');
    const left = this.codes(S, r, '左边');
    const op = this.op(S, r, '运算符');
    const right = this.side(S, r, '右边', true);
    const severity = this.word(S, r, '级别', SEVERITY_WORDS, 'error');
    const tolerance = this.number(S, r, '容差(%)', { min: 0, max: 100 });
    const conditionText = r.code('条件').replace(/\s+/g, '');
    let when: Rule['when'];
    if (conditionText) {
      const m = /^(.+?)(<=|>=|==|=|<|>|≤|≥)(-?\d+(?:\.\d+)?)$/.exec(conditionText);
      const side = m ? this.expression(S, r, '条件', m[1]!, false) : null;
      if (!m) this.fail('definitions-value-invalid', S, r, '条件', '格式不对，应为“数据项 运算符 数字”，如 JC22>0');
      else if (side) when = { left: side.codes, op: opOf(m[2]!)!, value: Number(m[3]) };
      if (!when) return null;
    }
    if (id === null || !left || !op || !right || !severity || tolerance === null) return null;
    const note = r.get('说明');
    return {
      id,
      left,
      op,
      right: right.codes,
      ...(right.constant !== undefined ? { constant: right.constant } : {}),
      severity,
      ...(when ? { when } : {}),
      ...(tolerance !== undefined ? { tolerance } : {}),
      ...(note ? { source: note } : {}),
    };
  }

  private op(sheet: string, r: Row, header: string): RuleOp | null {
    const v = r.code(header).replace(/\s+/g, '');
    const op = opOf(v);
    if (!op) this.fail('definitions-value-invalid', sheet, r, header, `${v ? '不是可用的运算符' : '未填写'}，应为 <=、>=、==、< 或 >`);
    return op;
  }

  private indicator(r: Row): Indicator | null {
    const S = SHEETS.indicators.name;
    const code = this.pattern(S, r, '指标代码', /^[A-Z]{2}-I\d{2,3}$/, '“两个大写字母-I两位或三位数字”，如 JC-I16');
    const name = this.required(S, r, '指标名称');
    const numerator = this.codes(S, r, '分子');
    const denominator = this.codes(S, r, '分母');
    const factor = this.number(S, r, '系数', { required: true });
    if (typeof factor === 'number' && !(INDICATOR_FACTORS as readonly number[]).includes(factor)) this.fail('definitions-value-invalid', S, r, '系数', `应为 ${INDICATOR_FACTORS.join('、')} 之一`);
    const unit = this.word(S, r, '单位', Object.fromEntries(INDICATOR_UNITS.map((u) => [u, u])) as Record<(typeof INDICATOR_UNITS)[number], string>);
    if (code === null || name === null || !numerator || !denominator || typeof factor !== 'number' || !(INDICATOR_FACTORS as readonly number[]).includes(factor) || !unit) return null;
    return { code, name, numerator, denominator, factor: factor as Indicator['factor'], unit, source: r.get('来源'), ...summaryOf(r) };
  }

  private targets(rows: Row[], counties: Map<string, County>, types: { byName: Map<string, string>; list: InstitutionType[] }): void {
    const S = SHEETS.targets.name;
    for (const r of rows) {
      const countyCode = this.required(S, r, '旗县代码') && r.code('旗县代码');
      const year = this.number(S, r, '年度', { required: true, integer: true, min: 2000, max: 2100 });
      const indicator = this.required(S, r, '指标代码') && r.code('指标代码');
      const direction = this.op(S, r, '方向');
      if (direction && direction !== '>=' && direction !== '<=') this.fail('definitions-value-invalid', S, r, '方向', '应为 >=（不低于）或 <=（不高于）');
      const value = this.number(S, r, '目标值', { required: true });
      const pace = this.word<Pace>(S, r, '序时方式', PACE_WORDS, 'none');
      const document = this.required(S, r, '文件');
      const milestones = this.list(r, '季度节点').map(Number);
      if (milestones.length && (milestones.length !== 4 || milestones.some((m) => !Number.isFinite(m)))) this.fail('definitions-value-invalid', S, r, '季度节点', '应为四个数字（第一至第四季度末的节点值），用顿号分隔，如 15、30、45、62');
      if (pace === 'quarterly' && milestones.length !== 4) this.fail('definitions-value-invalid', S, r, '序时方式', '为“季度节点”时须在“季度节点”列填写四个季度的节点值');
      const paceNote = r.get('序时说明');
      const typeNames = this.list(r, '机构类型', true);
      const scope: string[] = [];
      for (const t of typeNames) {
        const code = types.byName.get(t) ?? (types.list.some((x) => x.code === t) ? t : null);
        if (code) scope.push(code);
        else this.fail('definitions-reference', S, r, '机构类型', '不是「机构类型」表中的类型名称', t);
      }
      const county = countyCode ? counties.get(countyCode) : undefined;
      if (countyCode && !this.countyCodes.has(countyCode)) this.fail('definitions-reference', S, r, '旗县代码', '不是「旗县」表中的旗县代码');
      if (!county || typeof year !== 'number' || indicator === null || (direction !== '>=' && direction !== '<=') || typeof value !== 'number' || !pace || document === null || scope.length !== typeNames.length || (milestones.length && milestones.length !== 4) || milestones.some((m) => !Number.isFinite(m))) continue;
      const target: Target = {
        indicator,
        direction,
        value,
        year,
        ...(scope.length ? { institutionTypes: scope } : {}),
        pace,
        ...(milestones.length ? { milestones } : {}),
        ...(paceNote ? { paceNote } : {}),
        document,
        quote: r.get('原文'),
      };
      if (!this.key(S, targetKey(county.code, target), r, '指标代码')) continue;
      county.targets.push(target);
    }
  }
}

function opOf(v: string): RuleOp | null {
  const map: Record<string, RuleOp> = { '<=': '<=', '>=': '>=', '==': '==', '=': '==', '<': '<', '>': '>', '≤': '<=', '≥': '>=' };
  return map[v] ?? null;
}

/** A cell as trimmed text: a formula's result, a date as YYYY-MM-DD. */
export function text(cell: Cell | undefined): string {
  if (!cell) return '';
  return rawText(cell.value).trim();
}

/** Codes, numbers and months as people type them: full-width characters folded (ＪＣ０１ → JC01, ２０２５－04 → 2025-04). */
const fold = (v: string): string => v.normalize('NFKC').replace(/[\u2010-\u2015\u2212]/g, '-').trim();

function rawText(v: RawValue): string {
  switch (v.kind) {
    case 'empty':
      return '';
    case 'number':
      return String(v.value);
    case 'text':
      return v.value;
    case 'boolean':
      return v.value ? YES : NO;
    case 'date':
      return v.value.toISOString().slice(0, 10);
    case 'error':
      return v.value;
    case 'formula':
      return v.result ? rawText(v.result) : '';
  }
}
