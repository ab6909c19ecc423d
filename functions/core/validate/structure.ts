/**
 * Structure stage: is this our template, in a version we accept, for the institution and period
 * it was uploaded for? Finds the return sheet, the identity cells and the header row.
 */
import {
  findInstitution,
  findTemplate,
  templates,
  templatesOwed,
  type County,
  type Institution,
  type TemplateDefinition,
} from '../../../schemas/index.ts';
import { HEADER_SCAN_ROWS, INDICATOR_HEADERS, LABEL, META_SHEET, PERIOD_PATTERN } from '../layout.ts';
import { SHANGHAI_OFFSET_MS } from '../consolidate/period.ts';
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

export function checkStructure(sheets: readonly Sheet[], options: ValidateOptions): StructureResult {
  const issues: Issue[] = [];
  const result: StructureResult = { structure: null, template: null, institution: options.institution ?? null, period: options.period ?? null, issues };

  const identity = readTemplateIdentity(sheets);
  if (!identity) {
    issues.push(makeIssue('template-unknown', `文件中找不到报表模板标识，这不是本系统的报表模板。${DOWNLOAD}`));
    return result;
  }
  const def = findTemplate(identity.id, identity.version);
  if (!def) {
    const known = templates.some((t) => t.id === identity.id);
    issues.push(
      known
        ? makeIssue('template-version-retired', `模板 ${identity.id} 第${identity.version}版不存在或已停用。${DOWNLOAD}`, { value: `${identity.id} v${identity.version}` })
        : makeIssue('template-unknown', `模板标识“${identity.id}”不是本系统的报表模板。${DOWNLOAD}`, { value: identity.id }),
    );
    return result;
  }
  result.template = { id: def.id, version: def.version };
  if (!def.accepting) {
    issues.push(makeIssue('template-version-retired', `模板 ${def.id} 第${def.version}版已停用，不再接收。${DOWNLOAD}`, { value: `${def.id} v${def.version}` }));
    return result;
  }
  if (options.template && options.template !== def.id) {
    issues.push(makeIssue('template-mismatch', `文件是“${def.title}”（${def.id}），但上传到了 ${options.template} 的位置。请上传对应的报表。`, { value: def.id }));
  }

  const hidden = hiddenIdentity(sheets);
  const picked = pickReturnSheet(sheets, def, { institution: options.institution ?? hidden.institution ?? undefined, period: options.period ?? hidden.period ?? undefined }, issues);
  if (!picked) return result;
  const { sheet, header } = picked;

  let found = checkInstitution(sheet, def, options, issues);
  if (found && !checkWorkbookIdentity(sheets, sheet, found.institution, (code) => findInstitution(code)?.institution.name, issues)) found = null;
  const period = checkPeriod(sheet, options, issues);
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

function checkInstitution(sheet: Sheet, def: TemplateDefinition, options: ValidateOptions, issues: Issue[]) {
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
    const named = (c: string) => `${c}${findInstitution(c) ? `（${findInstitution(c)!.institution.name}）` : ''}`;
    issues.push(makeIssue('institution-mismatch', `${ref}「${LABEL.institutionCode}」为 ${named(code)}，与上传机构 ${named(options.institution)} 不符。请使用本机构的模板。`, where));
    return null;
  }
  const found = findInstitution(code);
  if (!found) {
    issues.push(makeIssue('institution-unknown', `${ref}「${LABEL.institutionCode}」为 ${code}，不在机构名录中。请联系卫健委核实机构代码。`, where));
    return null;
  }
  if (!templatesOwed(found.institution).includes(def.id)) {
    issues.push(makeIssue('template-not-owed', `${ref}「${LABEL.institutionCode}」为 ${code}：${found.institution.name}无需报送“${def.title}”（${def.id}），应报 ${templatesOwed(found.institution).join('、')}。请确认下载的模板是否正确。`, where));
    return null;
  }
  return found;
}

function checkPeriod(sheet: Sheet, options: ValidateOptions, issues: Issue[]): string | null {
  const label = findLabel(sheet, LABEL.period);
  const cell = label ? valueRightOf(sheet, label) : null;
  const at = cell ?? (label ? { row: label.row, col: label.col + 1 } : { row: null, col: null });
  const ref = at.row && at.col ? `${columnLetter(at.col)}${at.row}` : '';
  const raw = cell ? cell.value : { kind: 'empty' as const };
  let period: string | null = null;
  let shown: string | null = null;
  if (raw.kind === 'date') {
    period = raw.value.toISOString().slice(0, 7);
    shown = raw.value.toISOString().slice(0, 10);
    issues.push(makeIssue('normalized-date', `${ref}「${LABEL.period}」为日期 ${shown}，按统计期 ${period} 读取`, { sheet: sheet.name, row: at.row, col: at.col, element: LABEL.period, value: shown }));
  } else if (cell) {
    shown = textOf(cell);
    period = periodOf(cell);
  }
  const where = { sheet: sheet.name, row: at.row, col: at.col, element: LABEL.period, value: shown };
  if (shown && normalizeCode(shown).changed) issues.push(makeIssue('normalized-full-width', `${ref}「${LABEL.period}」为“${shown}”，全角字符已转换，按 ${period ?? normalizeCode(shown).value} 读取`, where));
  if (!period || !PERIOD_PATTERN.test(period)) {
    issues.push(makeIssue('period-invalid', `${ref}「${LABEL.period}」${shown ? `为 ${shown}，` : '未填写，'}应为“年-月”，如 2025-03。${DOWNLOAD}`, where));
    return null;
  }
  if (options.period && period !== options.period) {
    issues.push(makeIssue('period-mismatch', `${ref}「${LABEL.period}」为 ${period}，与上传的统计期 ${options.period} 不符。请使用该统计期的模板。`, where));
    return null;
  }
  if (periodStart(period) > (options.now ?? new Date()).getTime()) {
    issues.push(makeIssue('period-future', `${ref}「${LABEL.period}」为 ${period}，该统计期尚未开始，不能上报。请在该月开始后再上报，或使用正确统计期的模板。`, where));
    return null;
  }
  return period;
}

/** The first instant of a month in Asia/Shanghai (UTC+8, no daylight saving). */
export function periodStart(period: string): number {
  const [y, m] = period.split('-').map(Number) as [number, number];
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
