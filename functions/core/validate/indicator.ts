/**
 * Cells and consistency rules of an indicator return (T-JC, T-YY, T-FY, T-JK).
 * Rows are found by their element code, not by position; every value is read tolerantly and
 * every normalisation reported.
 */
import type { DataElement, IndicatorTemplate, Rule } from '../../../schemas/model.ts';
import { HEADER_SCAN_ROWS, LABEL } from '../layout.ts';
import { display, readNumber, readRemark, type Note } from '../normalize/cell.ts';
import type { IndicatorSubmission, Reporter } from '../normalize/submission.ts';
import type { Cell, Sheet } from '../parse/index.ts';
import { columnLetter, makeIssue, type Issue } from '../report.ts';
import { checkHistory, type HistoryPoint } from './history.ts';
import { normalizeCode } from './return-sheet.ts';
import { normalizeHeader, textOf, type Structure } from './structure.ts';

interface Located {
  element: DataElement;
  row: number;
  valueCol: number;
  /** A1 of the value cell */
  ref: string;
  value: number | null;
  /** false when the cell was wrong: rules skip it */
  valid: boolean;
}

export function checkIndicatorReturn(s: Structure & { def: IndicatorTemplate }, issues: Issue[], history?: readonly HistoryPoint[]): IndicatorSubmission {
  const { def, sheet } = s;
  const codeCol = s.columns.get(normalizeHeader('指标代码'))!;
  const valueCol = s.columns.get(normalizeHeader('本期数值'))!;
  const remarkCol = s.columns.get(normalizeHeader('备注'));
  const byCode = new Map(def.elements.map((e) => [e.code, e]));
  const rowOf = new Map<string, number>();

  for (const [r, cells] of [...sheet.rows].sort((a, b) => a[0] - b[0])) {
    if (r <= s.headerRow) continue;
    const codeCell = cells.get(codeCol);
    const typed = codeCell ? textOf(codeCell) : null;
    const code = typed ? normalizeCode(typed).value : null;
    const value = cells.get(valueCol);
    if (!code) {
      if (value && value.value.kind !== 'empty') {
        issues.push(makeIssue('element-unknown', `${columnLetter(valueCol)}${r} 有数值但该行没有指标代码，请勿在模板中增加行`, { sheet: sheet.name, row: r, col: valueCol, value: display(value.value) }));
      }
      continue;
    }
    const where = { sheet: sheet.name, row: r, col: codeCol, element: code, value: typed };
    if (code !== typed) issues.push(makeIssue('normalized-full-width', `${columnLetter(codeCol)}${r}「指标代码」为“${typed}”，全角字符已转换，按 ${code} 读取`, where));
    if (!byCode.has(code)) {
      issues.push(makeIssue('element-unknown', `${columnLetter(codeCol)}${r}「指标代码」为 ${code}，不是“${def.title}”的指标，请勿修改指标代码`, where));
    } else if (rowOf.has(code)) {
      issues.push(makeIssue('element-duplicate', `${columnLetter(codeCol)}${r}「指标代码」${code} 与第 ${rowOf.get(code)} 行重复，请删除重复的行，每个指标只填一行`, where));
    } else {
      rowOf.set(code, r);
    }
  }

  const located: Located[] = [];
  const values: Record<string, number> = {};
  const remarks: Record<string, string> = {};
  const merged = checkMergedValues(s, rowOf, valueCol, issues);
  for (const element of def.elements) {
    const row = rowOf.get(element.code);
    if (row === undefined) {
      if (element.required) {
        issues.push(makeIssue('element-missing', `缺少指标 ${element.code}「${element.name}」所在的行，请勿删除模板中的行`, { sheet: sheet.name, element: element.code }));
      }
      continue;
    }
    const ref = `${columnLetter(valueCol)}${row}`;
    if (merged.has(row)) {
      located.push({ element, row, valueCol, ref, value: null, valid: false });
      continue;
    }
    const cell = sheet.rows.get(row)?.get(valueCol);
    const out = readNumber(cell?.value ?? { kind: 'empty' }, cell?.numFmt ?? null, element.type, element.unit);
    const where = { sheet: sheet.name, row, col: valueCol, element: element.code, value: cell ? display(cell.value) : null };
    const prefix = `${ref}「${element.name}」`;
    const shown = cell ? shownAs(where.value) : '';
    const placeholder = out.notes.some((n) => n.code === 'normalized-placeholder');
    const required = out.ok && out.value === null && element.required;
    pushNotes(issues, required && placeholder ? out.notes.filter((n) => n.code !== 'normalized-placeholder') : out.notes, prefix + shown, where);
    let valid = out.ok;
    if (!out.ok) {
      issues.push(makeIssue(out.code, `${prefix}${shown}${out.reason}`, where));
    } else if (required) {
      issues.push(makeIssue('value-required', `${prefix}${placeholder ? shown : '未填写，'}此项为必填。请填写数字：没有发生请填 0，不要填“无”“/”“-”，也不要留空`, where));
      valid = false;
    } else if (out.value !== null && outOfBounds(element, out.value)) {
      issues.push(makeIssue('value-out-of-range', `${prefix}${shown}${outOfBounds(element, out.value)}`, where));
      valid = false;
    } else if (out.value !== null) {
      values[element.code] = out.value;
    }
    located.push({ element, row, valueCol, ref, value: out.ok ? out.value : null, valid });

    const remarkCell = remarkCol ? sheet.rows.get(row)?.get(remarkCol) : undefined;
    if (remarkCell) {
      const remark = readRemark(remarkCell.value);
      const at = { sheet: sheet.name, row, col: remarkCol, element: element.code, value: display(remarkCell.value) };
      pushNotes(issues, remark.notes, `${columnLetter(remarkCol!)}${row}「备注」`, at);
      if (!remark.ok) issues.push(makeIssue(remark.code, `${columnLetter(remarkCol!)}${row}「备注」${remark.reason}`, at));
      else if (remark.value) remarks[element.code] = remark.value;
    }
  }

  for (const rule of def.rules) checkRule(rule, located, sheet.name, issues);
  if (history && !issues.some((i) => i.severity === 'error')) {
    const cells = located.filter((l) => l.valid && l.value !== null).map((l) => ({ element: l.element, ref: l.ref, row: l.row, col: l.valueCol, value: l.value! }));
    issues.push(...checkHistory(s.period, cells, history, sheet.name));
  }

  return {
    kind: 'indicator',
    template: { id: def.id, version: def.version },
    county: s.county.code,
    institution: s.institution.code,
    period: s.period,
    values,
    remarks,
    reporter: readReporter(sheet),
  };
}

/**
 * Value cells merged across rows: one value over several elements. Refused at the merge's first
 * cell, naming each element it covers; returns the rows covered, which are not read.
 */
function checkMergedValues(s: Structure, rowOf: Map<string, number>, valueCol: number, issues: Issue[]): Set<number> {
  const covered = new Set<number>();
  const codeAt = new Map([...rowOf].map(([code, row]) => [row, code]));
  const byCode = new Map((s.def.kind === 'indicator' ? s.def.elements : []).map((e) => [e.code, e]));
  for (const m of s.sheet.merges) {
    if (m.left > valueCol || m.right < valueCol || m.bottom === m.top || m.bottom <= s.headerRow) continue;
    const rows = Array.from({ length: m.bottom - m.top + 1 }, (_, i) => m.top + i).filter((r) => codeAt.has(r));
    if (rows.length === 0) continue;
    rows.forEach((r) => covered.add(r));
    const names = rows.map((r) => `${codeAt.get(r)}「${byCode.get(codeAt.get(r)!)?.name ?? ''}」`).join('、');
    const range = `${columnLetter(m.left)}${m.top}:${columnLetter(m.right)}${m.bottom}`;
    const first = s.sheet.rows.get(m.top)?.get(m.left);
    issues.push(
      makeIssue('value-merged', `${columnLetter(valueCol)}${rows[0]} 所在的 ${range} 是合并单元格，把 ${names}共 ${rows.length} 个指标的数值单元格合并成了一个，无法知道每个指标的数值。请选中 ${range}，点击“合并后居中”取消合并，在每个单元格分别填写各自的数值`, {
        sheet: s.sheet.name,
        row: rows[0],
        col: valueCol,
        element: codeAt.get(rows[0]!) ?? null,
        value: first ? display(first.value) : null,
      }),
    );
  }
  return covered;
}

/** The element's own bounds (下限, 上限 in the definitions), or null when the value is within them. */
function outOfBounds(element: DataElement, value: number): string | null {
  if ((element.min === undefined || value >= element.min) && (element.max === undefined || value <= element.max)) return null;
  const range = [element.min !== undefined ? `不小于 ${element.min}` : '', element.max !== undefined ? `不大于 ${element.max}` : ''].filter(Boolean).join('、');
  return `超出卫健委规定的合理范围（应${range}）。请核实后填写；确实如此请在「备注」中说明并联系卫健委`;
}

const VERB: Record<Rule['op'], string> = { '<=': '不能大于', '>=': '不能小于', '==': '应等于', '<': '应小于', '>': '应大于' };

function compare(l: number, op: Rule['op'], r: number): boolean {
  switch (op) {
    case '<=':
      return l <= r + 1e-9;
    case '>=':
      return l >= r - 1e-9;
    case '<':
      return l < r;
    case '>':
      return l > r;
    case '==':
      return Math.abs(l - r) < 1e-9;
  }
}

/**
 * left op right (+ constant) over sums of elements; skipped when any operand is missing or was wrong,
 * or when the rule's condition does not hold. A tolerance (percent of the right side) widens it.
 */
function checkRule(rule: Rule, located: readonly Located[], sheet: string, issues: Issue[]): void {
  const find = (code: string) => located.find((l) => l.element.code === code);
  const usable = (side: (Located | undefined)[]): side is Located[] => side.every((l) => l && l.valid && l.value !== null);
  const sum = (side: Located[]) => side.reduce((acc, l) => acc + l.value!, 0);
  const condition = rule.when ? rule.when.left.map(find) : [];
  if (rule.when && (!usable(condition) || !compare(sum(condition), rule.when.op, rule.when.value))) return;
  const left = rule.left.map(find);
  const right = rule.right.map(find);
  if (!usable(left) || !usable(right)) return;
  const l = sum(left);
  const r = sum(right) + (rule.constant ?? 0);
  const slack = ((rule.tolerance ?? 0) / 100) * Math.abs(r);
  const holds = rule.op === '==' ? Math.abs(l - r) <= slack + 1e-9 : rule.op === '<=' || rule.op === '<' ? compare(l, rule.op, r + slack) : compare(l, rule.op, r - slack);
  if (holds) return;
  const first = left[0]!;
  const rightText = right.length ? `${describeSide(right, false)}${rule.constant ? ` + ${rule.constant}` : ''}` : String(rule.constant ?? 0);
  const tolerance = rule.tolerance ? `（允许相差 ${rule.tolerance}%）` : '';
  const when = rule.when ? `（${describeSide(condition as Located[], false)} ${rule.when.op} ${rule.when.value}，此规则适用）` : '';
  const message = `${describeSide(left, true)}，${VERB[rule.op]} ${rightText}${tolerance}${when}。请核对这几个数值，改正有误的一项`;
  issues.push(
    makeIssue('rule-violation', message, {
      sheet,
      row: first.row,
      col: first.valueCol,
      element: first.element.code,
      value: first.value,
      severity: rule.severity,
      rule: rule.id,
    }),
  );
}

/** D14「高血压患者规范管理人数」为 25788 (subject) / D13「高血压患者应管理人数」25000, or a sum: D12「A」127 + D13「B」44 = 171 */
function describeSide(side: Located[], subject: boolean): string {
  if (side.length === 1) {
    const [one] = side as [Located];
    return `${one.ref}「${one.element.name}」${subject ? '为 ' : ''}${one.value}`;
  }
  const total = side.reduce((a, l) => a + l.value!, 0);
  return `${side.map((l) => `${l.ref}「${l.element.name}」${l.value}`).join(' + ')} ${subject ? '合计' : '='} ${total}`;
}

/** "为 25788，" or "为“约300”，" */
export function shownAs(value: string | number | boolean | null): string {
  return typeof value === 'string' ? `为“${value}”，` : `为 ${String(value)}，`;
}

export function pushNotes(issues: Issue[], notes: readonly Note[], prefix: string, where: Parameters<typeof makeIssue>[2]): void {
  for (const note of notes) issues.push(makeIssue(note.code, `${prefix}${note.reason}`, where));
}

/** 填报人, 联系电话, 填报日期: optional, kept as text. */
export function readReporter(sheet: Sheet): Reporter {
  const pick = (label: string): string | null => {
    for (let r = 1; r <= HEADER_SCAN_ROWS; r++) {
      const cells = sheet.rows.get(r);
      if (!cells) continue;
      for (const cell of cells.values()) {
        if (textOf(cell)?.replace(/[:：\s]/g, '') === label) {
          const next: Cell | undefined = cells.get(cell.col + 1);
          return next ? textOf(next) : null;
        }
      }
    }
    return null;
  };
  return { name: pick(LABEL.reporter), phone: pick(LABEL.phone), date: pick(LABEL.date) };
}
