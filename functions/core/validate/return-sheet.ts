/**
 * Finding the return in the workbooks people really send, for checkStructure: which sheets look
 * like the return (a copy "基层月报 (2)", one sheet per month), a header whose text was edited while
 * its columns and codes stayed put, and a workbook made for another institution whose 机构代码 was
 * overwritten. Nothing is read silently: a choice or a tolerance is an info issue, a doubt an error.
 * No registry here: the caller passes what it knows about institutions.
 */
import type { TemplateDefinition } from '../../../schemas/model.ts';
import { HEADER_ROW, HEADER_SCAN_ROWS, LABEL, META_KEYS, META_SHEET } from '../layout.ts';
import { toHalfWidth } from '../normalize/cell.ts';
import type { Cell, Sheet } from '../parse/index.ts';
import { columnLetter, makeIssue, type Issue } from '../report.ts';
import { findLabel, headersOf, normalizeHeader, requiredHeaders, textAt, textOf, valueRightOf } from './structure.ts';

export interface HeaderRow {
  row: number;
  /** normalised header text → column number */
  columns: Map<string, number>;
}

/** What the upload says the return is for (the S3 key, else the workbook's hidden identity). */
export interface Wanted {
  institution?: string | undefined;
  period?: string | undefined;
}

/**
 * The return sheet and its header row. Every sheet whose header is found is a candidate; with
 * several, the one whose 机构代码 and 统计期 match the upload is read (and named in a note), else
 * the upload is refused naming every candidate.
 */
export function pickReturnSheet(sheets: readonly Sheet[], def: TemplateDefinition, wanted: Wanted, issues: Issue[]): { sheet: Sheet; header: HeaderRow } | null {
  const looked = sheets.filter((s) => s.name !== META_SHEET).map((sheet) => ({ sheet, header: locateHeader(sheet, def) }));
  const candidates = looked.flatMap(({ sheet, header }) => ('found' in header ? [{ sheet, header: header.found, notes: header.notes, id: identityOf(sheet) }] : []));
  if (candidates.length === 0) {
    const named = looked.find((l) => l.sheet.name === def.sheetName) ?? looked.find((l) => 'problem' in l.header && l.header.labelled);
    if (!named) {
      issues.push(makeIssue('sheet-missing', `找不到报表工作表“${def.sheetName}”。请勿删除或重命名模板中的工作表；请从系统下载本机构本月的报表模板后填写。`, { sheet: def.sheetName }));
      return null;
    }
    const problem = named.header as { problem: string; row: number | null };
    issues.push(makeIssue('header-missing', problem.problem, { sheet: named.sheet.name, row: problem.row }));
    return null;
  }
  let chosen = candidates[0]!;
  if (candidates.length > 1) {
    const matching = candidates.filter((c) => (!wanted.institution || c.id.institution === wanted.institution) && (!wanted.period || c.id.period === wanted.period));
    const list = candidates.map((c) => `“${c.sheet.name}”（机构代码 ${c.id.institution ?? '未填'}，统计期 ${c.id.period ?? '未填'}）`).join('、');
    const upload = [wanted.institution, wanted.period].filter(Boolean).join('，');
    if (matching.length !== 1 || (!wanted.institution && !wanted.period)) {
      const why = !upload ? '上传时没有指明机构和统计期' : matching.length === 0 ? `没有一张与上传的机构和统计期（${upload}）相符` : `其中 ${matching.length} 张都与上传的机构和统计期（${upload}）相符`;
      issues.push(
        makeIssue('sheet-ambiguous', `工作簿中有 ${candidates.length} 张工作表都像“${def.sheetName}”：${list}，${why}，无法确定该读取哪一张。请删除多余的副本，只保留本机构本月的一张后重新上传。`, {
          value: candidates.map((c) => c.sheet.name).join('、'),
        }),
      );
      return null;
    }
    chosen = matching[0]!;
    const others = candidates.filter((c) => c !== chosen).map((c) => `“${c.sheet.name}”`).join('、');
    issues.push(makeIssue('sheet-chosen', `工作簿中有 ${candidates.length} 张像报表的工作表：${list}。已读取与上传相符的“${chosen.sheet.name}”，${others}未读取。请以后每月只保留一张报表工作表。`, { sheet: chosen.sheet.name, value: chosen.sheet.name }));
  }
  for (const note of chosen.notes) issues.push({ ...note, sheet: chosen.sheet.name });
  return { sheet: chosen.sheet, header: chosen.header };
}

type Located = { found: HeaderRow; notes: Issue[] } | { problem: string; row: number | null; labelled: boolean };

/**
 * The header row: every required header by its text (anywhere in the row), as always. Where a
 * header's text was changed (本期数值 → 3月数值), the column the template puts it in is accepted
 * when the other headers sit where the template puts them, the sheet carries the identity labels
 * (so 填报说明's table is never taken for the return), and, in an indicator return, every element
 * code is in the code column; each such column is a header-renamed note.
 */
export function locateHeader(sheet: Sheet, def: TemplateDefinition): Located {
  const keys = headersOf(def).map(normalizeHeader);
  const required = requiredHeaders(def).map(normalizeHeader);
  const labelled = findLabel(sheet, LABEL.institutionCode) !== null;
  let problem: { problem: string; row: number } | null = null;
  for (let r = 1; r <= HEADER_SCAN_ROWS; r++) {
    const cells = sheet.rows.get(r);
    if (!cells) continue;
    const columns = new Map<string, number>();
    for (const cell of cells.values()) {
      const text = textOf(cell);
      const key = text ? normalizeHeader(text) : '';
      if (keys.includes(key) && !columns.has(key)) columns.set(key, cell.col);
    }
    const strict = required.every((h) => columns.has(h));
    const origin = originOf(columns, keys);
    if (!strict && (origin === null || !labelled || findLabel(sheet, LABEL.institutionCode)!.row >= r)) continue;
    const notes: Issue[] = [];
    const empty: string[] = [];
    if (origin !== null) {
      keys.forEach((key, i) => {
        if (columns.has(key)) return;
        const col = origin + i;
        const text = col >= 1 ? textAt(sheet, r, col) : null;
        const ref = `${columnLetter(Math.max(col, 1))}${r}`;
        if (!text || keys.includes(normalizeHeader(text))) {
          if (required.includes(key)) empty.push(`“${headersOf(def)[i]}”应在 ${ref}，该单元格${text ? `为“${text}”` : '为空'}`);
          return;
        }
        columns.set(key, col);
        notes.push(
          makeIssue('header-renamed', `${ref} 的表头为“${text}”，模板为“${headersOf(def)[i]}”。列的位置和${def.kind === 'indicator' ? '指标代码' : '其他表头'}都未改动，已按“${headersOf(def)[i]}”读取这一列。请勿修改模板的表头。`, {
            row: r,
            col,
            element: headersOf(def)[i],
            value: text,
          }),
        );
      });
    }
    if (strict) return { found: { row: r, columns }, notes };
    const intact = def.kind === 'indicator' ? codesIntact(sheet, def, r, columns.get(normalizeHeader('指标代码'))) : notes.length <= 1;
    if (empty.length === 0 && intact) return { found: { row: r, columns }, notes };
    const renamed = notes.map((n) => `“${n.element}”（${n.cell} 为“${String(n.value)}”）`).join('、');
    problem ??= {
      row: r,
      problem: `工作表“${sheet.name}”第 ${r} 行的表头不完整：${[...empty, ...(intact ? [] : [`${renamed}被改动，且${def.kind === 'indicator' ? '指标代码不完整' : '改动的表头不止一个'}，无法确认各列的含义`])].join('；')}。请恢复模板原有的表头（${headersOf(def).join('、')}），不要增删或移动列。`,
    };
  }
  return problem
    ? { ...problem, labelled }
    : { problem: `工作表“${sheet.name}”中找不到表头行（${headersOf(def).join('、')}，模板中在第 ${HEADER_ROW} 行）。请恢复模板原有的表头，不要修改、增删或移动表头。`, row: null, labelled };
}

/** The column of the first header, when at least two found headers sit as the template places them. */
function originOf(columns: Map<string, number>, keys: readonly string[]): number | null {
  const origins = [...columns].map(([key, col]) => col - keys.indexOf(key));
  return origins.length >= 2 && origins.every((o) => o === origins[0]) ? origins[0]! : null;
}

/** Every element code of the template, below the header in the code column. */
function codesIntact(sheet: Sheet, def: TemplateDefinition & { kind: 'indicator' }, headerRow: number, codeCol: number | undefined): boolean {
  if (codeCol === undefined) return false;
  const codes = new Set<string>();
  for (const [r, cells] of sheet.rows) {
    const cell = r > headerRow ? cells.get(codeCol) : undefined;
    const text = cell ? textOf(cell) : null;
    if (text) codes.add(normalizeCode(text).value);
  }
  return def.elements.every((e) => codes.has(e.code));
}

/** A sheet's 机构代码 and 统计期, as typed (normalised), for choosing among candidates. */
function identityOf(sheet: Sheet): { institution: string | null; period: string | null } {
  const read = (label: string): Cell | null => {
    const at = findLabel(sheet, label);
    return at ? valueRightOf(sheet, at) : null;
  };
  const code = read(LABEL.institutionCode);
  const period = read(LABEL.period);
  return { institution: code ? normalizeCode(textOf(code) ?? '').value || null : null, period: period ? periodOf(period) : null };
}

/**
 * 统计期 as written in the template (2025-03, 2025-Q1, 2025) or as people write it: 2025年3月, 2025/3,
 * 2025－03, a date; 2025年第1季度, 2025年一季度, 2025Q1; 2025年, 2025年度.
 */
export function periodOf(cell: Cell): string | null {
  if (cell.value.kind === 'date') return cell.value.value.toISOString().slice(0, 7);
  const text = textOf(cell);
  if (!text) return null;
  const t = normalizeCode(text).value.replace(/\s+/g, '');
  const month = /^(\d{4})(?:-|年|\/|\.)(\d{1,2})月?$/.exec(t);
  if (month) return `${month[1]}-${month[2]!.padStart(2, '0')}`;
  const quarter = /^(\d{4})(?:-|年)?(?:Q|第)?([1-4一二三四])(?:季度|季)?$/i.exec(t);
  if (quarter && /Q|季/i.test(t)) return `${quarter[1]}-Q${'1234一二三四'.indexOf(quarter[2]!) % 4 + 1}`;
  const year = /^(\d{4})(?:年度?)?$/.exec(t);
  return year ? year[1]! : null;
}

/** Codes and periods typed with full-width characters or dash look-alikes: 150525－116 → 150525-116. */
export function normalizeCode(text: string): { value: string; changed: boolean } {
  const value = toHalfWidth(text).replace(/[\u2010-\u2015\u2212]/g, '-');
  return { value, changed: value !== text };
}

/** The identity the template was generated with, from the very hidden sheet (institution, period). */
export function hiddenIdentity(sheets: readonly Sheet[]): { institution: string | null; period: string | null } {
  const meta = sheets.find((s) => s.name === META_SHEET);
  const at = (key: (typeof META_KEYS)[number]) => (meta ? textAt(meta, META_KEYS.indexOf(key) + 1, 2) : null);
  return { institution: at('institution'), period: at('period') };
}

/**
 * Someone else's template with 机构代码 overwritten: the hidden identity or the 机构名称 cell names
 * another institution than the one the return claims to be. Pushes institution-identity-mismatch
 * naming both; returns false then.
 */
export function checkWorkbookIdentity(
  sheets: readonly Sheet[],
  sheet: Sheet,
  claimed: { code: string; name: string },
  nameOf: (code: string) => string | undefined,
  issues: Issue[],
): boolean {
  const codeLabel = findLabel(sheet, LABEL.institutionCode);
  const codeCell = codeLabel ? valueRightOf(sheet, codeLabel) : null;
  const ref = codeCell ? `${columnLetter(codeCell.col)}${codeCell.row}` : '';
  const where = { sheet: sheet.name, row: codeCell?.row ?? null, col: codeCell?.col ?? null, element: LABEL.institutionCode, value: claimed.code };
  const refuse = (other: string, source: string) =>
    issues.push(
      makeIssue(
        'institution-identity-mismatch',
        `这份工作簿是为${other}生成的模板（${source}），但 ${ref}「${LABEL.institutionCode}」被改成了 ${claimed.code}（${claimed.name}）。请从系统下载${claimed.name}自己的模板重新填写，不要改用其他机构的模板。`,
        where,
      ),
    );
  const hidden = hiddenIdentity(sheets).institution;
  if (hidden && hidden !== claimed.code) {
    const name = nameOf(hidden);
    refuse(`${name ?? '另一机构'}（${hidden}）`, '见工作簿中隐藏的模板信息');
    return false;
  }
  const nameLabel = findLabel(sheet, LABEL.institutionName);
  const nameCell = nameLabel ? valueRightOf(sheet, nameLabel) : null;
  const written = nameCell ? textOf(nameCell) : null;
  const bare = (s: string) => toHalfWidth(s).replace(/\s/g, '');
  if (written && bare(written) !== bare(claimed.name)) {
    refuse(`“${written}”`, `见 ${columnLetter(nameCell!.col)}${nameCell!.row}「${LABEL.institutionName}」`);
    return false;
  }
  return true;
}
