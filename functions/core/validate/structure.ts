/**
 * Structure stage: is this our template, in a version we accept, for the institution and period
 * it was uploaded for? Finds the return sheet, the identity cells and the header row.
 */
import type { County, Institution, TemplateDefinition } from '../../../schemas/model.ts';
import type { Definitions } from '../definitions/definitions.ts';
import { ANY_PERIOD_PATTERN, HEADER_SCAN_ROWS, INDICATOR_HEADERS, LABEL, META_SHEET, PERIOD_FORMAT, periodKind } from '../layout.ts';
import { lastMonthOf, parsePeriod, SHANGHAI_OFFSET_MS } from '../consolidate/period.ts';
import { readText } from '../normalize/cell.ts';
import type { Cell, Sheet } from '../parse/index.ts';
import { columnLetter, makeIssue, type Issue } from '../report.ts';
import type { ValidateOptions } from './index.ts';
import { checkWorkbookIdentity, hiddenIdentity, normalizeCode, periodOf, pickReturnSheet } from './return-sheet.ts';

export interface Structure {
  def: TemplateDefinition;
  county: County;
  institution: Institution;
  period: string;
  sheet: Sheet;
  headerRow: number;
  /** header text → column number */
  columns: Map<string, number>;
}

export type StructureResult = { structure: Structure | null; template: { id: string; version: number } | null; institution: string | null; period: string | null; issues: Issue[] };

const DOWNLOAD = '请从系统下载本机构本月的报表模板后填写。';

/** Checks the workbook against the definitions in force for the period it is uploaded for. */
export function checkStructure(sheets: readonly Sheet[], defs: Definitions, options: Omit<ValidateOptions, 'definitions'>): StructureResult {
  const issues: Issue[] = [];
  const result: StructureResult = { structure: null, template: null, institution: options.institution ?? null, period: options.period ?? null, issues };

  const identity = readTemplateIdentity(sheets);
  if (!identity) {
    issues.push(makeIssue('template-unknown', `文件中找不到报表模板标识，这不是本系统的报表模板。${DOWNLOAD}`));
    return result;
  }
  const def = defs.template(identity.id);
  if (!def) {
    issues.push(makeIssue('template-unknown', `模板标识“${identity.id}”不是本系统${options.period ? ` ${options.period} 期` : ''}的报表模板。${DOWNLOAD}`, { value: identity.id }));
    return result;
  }
  if (def.version !== identity.version) {
    result.template = identity;
    const when = options.period ? `统计期 ${options.period} ` : '';
    issues.push(makeIssue('template-version-retired', `模板 ${def.id} 第${identity.version}版不适用于${when}，${when ? '该期' : '现在'}应使用第${def.version}版。${DOWNLOAD}`, { value: `${def.id} v${identity.version}` }));
    return result;
  }
  result.template = { id: def.id, version: def.version };
  if (options.template && options.template !== def.id) {
    issues.push(makeIssue('template-mismatch', `文件是“${def.title}”（${def.id}），但上传到了 ${options.template} 的位置。请上传对应的报表。`, { value: def.id }));
  }

  const hidden = hiddenIdentity(sheets);
  const picked = pickReturnSheet(sheets, def, { institution: options.institution ?? hidden.institution ?? undefined, period: options.period ?? hidden.period ?? undefined }, issues);
  if (!picked) return result;
  const { sheet, header } = picked;

  const period = checkPeriod(sheet, def, options, issues);
  let found = checkInstitution(sheet, def, defs, period ?? options.period ?? null, options, issues);
  if (found && !checkWorkbookIdentity(sheets, sheet, found.institution, (code) => defs.institution(code)?.institution.name, issues)) found = null;
  if (found) result.institution = found.institution.code;
  if (period) result.period = period;
  if (issues.some((i) => i.severity === 'error') || !found || !period) return result;

  result.structure = { def, county: found.county, institution: found.institution, period, sheet, headerRow: header.row, columns: header.columns };
  return result;
}

/** The template identity: the hidden meta sheet, else the visible 报表模板 cell, e.g. "T-JC（第1版）". */
function readTemplateIdentity(sheets: readonly Sheet[]): { id: string; version: number } | null {
  const meta = sheets.find((s) => s.name === META_SHEET);
  if (meta) {
    const id = textAt(meta, 1, 2);
    const version = Number(textAt(meta, 2, 2));
    if (id && Number.isInteger(version) && version > 0) return { id, version };
  }
  for (const sheet of sheets) {
    const cell = valueRightOfLabel(sheet, LABEL.template);
    const text = cell ? textOf(cell) : null;
    const m = text ? /^(T-[A-Z]{2})\s*[（(]\s*第\s*(\d+)\s*版\s*[）)]$/.exec(text) : null;
    if (m) return { id: m[1]!, version: Number(m[2]) };
  }
  return null;
}

function checkInstitution(sheet: Sheet, def: TemplateDefinition, defs: Definitions, period: string | null, options: Omit<ValidateOptions, 'definitions'>, issues: Issue[]) {
  const label = findLabel(sheet, LABEL.institutionCode);
  const cell = label ? valueRightOf(sheet, label) : null;
  const typed = cell ? textOf(cell) : null;
  const code = typed ? normalizeCode(typed).value : null;
  const at = cell ?? (label ? { row: label.row, col: label.col + 1 } : { row: null, col: null });
  const where = { sheet: sheet.name, row: at.row, col: at.col, element: LABEL.institutionCode, value: typed };
  const ref = at.row && at.col ? `${columnLetter(at.col)}${at.row}` : '';
  if (typed && code !== typed) issues.push(makeIssue('normalized-full-width', `${ref}「${LABEL.institutionCode}」为“${typed}”，全角字符已转换，按 ${code} 读取`, where));
  if (!code) {
    issues.push(makeIssue('institution-missing', `${ref}「${LABEL.institutionCode}」未填写。${DOWNLOAD}`, where));
    return null;
  }
  if (options.institution && code !== options.institution) {
    const named = (c: string) => `${c}${defs.institution(c) ? `（${defs.institution(c)!.institution.name}）` : ''}`;
    issues.push(makeIssue('institution-mismatch', `${ref}「${LABEL.institutionCode}」为 ${named(code)}，与上传机构 ${named(options.institution)} 不符。请使用本机构的模板。`, where));
    return null;
  }
  const found = defs.institution(code);
  if (!found) {
    issues.push(makeIssue('institution-unknown', `${ref}「${LABEL.institutionCode}」为 ${code}，不在机构名录中。请联系卫健委核实机构代码。`, where));
    return null;
  }
  const { institution } = found;
  if (period && !defs.active(institution, period)) {
    const why = institution.until && lastMonthOf(period) >= institution.until ? `自 ${institution.until} 起${institution.mergedInto ? `已并入 ${defs.institution(institution.mergedInto)?.institution.name ?? institution.mergedInto}（${institution.mergedInto}），请由该机构报送` : '已停用'}` : `自 ${institution.from} 起才需报送`;
    issues.push(makeIssue('template-not-owed', `${ref}「${LABEL.institutionCode}」为 ${code}：${institution.name}${why}，统计期 ${period} 无需报送。`, where));
    return null;
  }
  const owed = period ? defs.owed(institution, period) : defs.templatesOf(institution);
  if (!owed.includes(def.id)) {
    issues.push(makeIssue('template-not-owed', `${ref}「${LABEL.institutionCode}」为 ${code}：${institution.name}无需报送“${def.title}”（${def.id}），应报 ${owed.join('、') || '（无）'}。请确认下载的模板是否正确。`, where));
    return null;
  }
  return found;
}

/** The 统计期 cell of a sheet and the month it holds (null when unreadable). */
function periodCell(sheet: Sheet): { cell: Cell | null; at: { row: number | null; col: number | null }; period: string | null; shown: string | null; date: boolean } {
  const label = findLabel(sheet, LABEL.period);
  const cell = label ? valueRightOf(sheet, label) : null;
  const at = cell ?? (label ? { row: label.row, col: label.col + 1 } : { row: null, col: null });
  const raw = cell ? cell.value : { kind: 'empty' as const };
  if (raw.kind === 'date') return { cell, at, period: raw.value.toISOString().slice(0, 7), shown: raw.value.toISOString().slice(0, 10), date: true };
  return { cell, at, period: cell ? periodOf(cell) : null, shown: cell ? textOf(cell) : null, date: false };
}

/** The period a workbook says it is for (its first visible sheet with a readable 统计期), before any check. */
export function peekPeriod(sheets: readonly Sheet[]): string | null {
  for (const sheet of sheets) {
    if (sheet.state !== 'visible') continue;
    const { period } = periodCell(sheet);
    if (period && ANY_PERIOD_PATTERN.test(period)) return period;
  }
  return null;
}

function checkPeriod(sheet: Sheet, def: TemplateDefinition, options: Omit<ValidateOptions, 'definitions'>, issues: Issue[]): string | null {
  const { at, period, shown, date } = periodCell(sheet);
  const ref = at.row && at.col ? `${columnLetter(at.col)}${at.row}` : '';
  if (date) issues.push(makeIssue('normalized-date', `${ref}「${LABEL.period}」为日期 ${shown}，按统计期 ${period} 读取`, { sheet: sheet.name, row: at.row, col: at.col, element: LABEL.period, value: shown }));
  const where = { sheet: sheet.name, row: at.row, col: at.col, element: LABEL.period, value: shown };
  if (shown && normalizeCode(shown).changed) issues.push(makeIssue('normalized-full-width', `${ref}「${LABEL.period}」为“${shown}”，全角字符已转换，按 ${period ?? normalizeCode(shown).value} 读取`, where));
  // a return's period is of its own 周期: a month, a quarter or a year
  if (!period || !ANY_PERIOD_PATTERN.test(period) || periodKind(period) !== def.periodType) {
    issues.push(makeIssue('period-invalid', `${ref}「${LABEL.period}」${shown ? `为 ${shown}，` : '未填写，'}“${def.title}”的统计期应为${PERIOD_FORMAT[def.periodType]}。${DOWNLOAD}`, where));
    return null;
  }
  if (options.period && period !== options.period) {
    issues.push(makeIssue('period-mismatch', `${ref}「${LABEL.period}」为 ${period}，与上传的统计期 ${options.period} 不符。请使用该统计期的模板。`, where));
    return null;
  }
  if (periodStart(period) > (options.now ?? new Date()).getTime()) {
    issues.push(makeIssue('period-future', `${ref}「${LABEL.period}」为 ${period}，该统计期尚未开始，不能上报。请在该期开始后再上报，或使用正确统计期的模板。`, where));
    return null;
  }
  return period;
}

/** The first instant of a period (its first month) in Asia/Shanghai (UTC+8, no daylight saving). */
export function periodStart(period: string): number {
  const [y, m] = parsePeriod(period).months[0]!.split('-').map(Number) as [number, number];
  return Date.UTC(y, m - 1, 1) - SHANGHAI_OFFSET_MS;
}

export function headersOf(def: TemplateDefinition): string[] {
  return def.kind === 'indicator' ? [...INDICATOR_HEADERS] : def.columns.map((c) => c.header);
}

/** Header text as compared: no spaces, half-width parentheses. */
export function normalizeHeader(text: string): string {
  return text.replace(/[\s\u00A0\u3000]/g, '').replace(/（/g, '(').replace(/）/g, ')');
}

export function requiredHeaders(def: TemplateDefinition): string[] {
  return def.kind === 'indicator' ? ['指标代码', '本期数值'] : def.columns.filter((c) => c.required).map((c) => c.header);
}

export function findLabel(sheet: Sheet, label: string): Cell | null {
  for (let r = 1; r <= HEADER_SCAN_ROWS; r++) {
    for (const cell of sheet.rows.get(r)?.values() ?? []) {
      const text = textOf(cell);
      if (text && text.replace(/[:：\s]/g, '') === label) return cell;
    }
  }
  return null;
}

export function valueRightOf(sheet: Sheet, label: Cell): Cell | null {
  const row = sheet.rows.get(label.row);
  const next = row?.get(label.col + 1);
  return next && next.value.kind !== 'empty' ? next : null;
}

function valueRightOfLabel(sheet: Sheet, label: string): Cell | null {
  const at = findLabel(sheet, label);
  return at ? valueRightOf(sheet, at) : null;
}

export function textAt(sheet: Sheet, row: number, col: number): string | null {
  const cell = sheet.rows.get(row)?.get(col);
  return cell ? textOf(cell) : null;
}

export function textOf(cell: Cell): string | null {
  const out = readText(cell.value, 200);
  return out.ok ? out.value : null;
}
