/**
 * Cells and consistency rules of an indicator return (T-JC, T-YY, T-FY, T-JK).
 * Rows are found by their element code, not by position; every value is read tolerantly and
 * every normalisation reported.
 */
import type { DataElement, IndicatorTemplate, Rule } from '../../../schemas/model.ts';
import { HEADER_SCAN_ROWS, LABEL } from '../layout.ts';
import { display, readNumber, readText, type Note } from '../normalize/cell.ts';
import type { IndicatorSubmission, Reporter } from '../normalize/submission.ts';
import type { Cell, Sheet } from '../parse/index.ts';
import { columnLetter, makeIssue, type Issue } from '../report.ts';
import { checkHistory, type HistoryPoint } from './history.ts';
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
    const code = codeCell ? textOf(codeCell) : null;
    const value = cells.get(valueCol);
    if (!code) {
      if (value && value.value.kind !== 'empty') {
        issues.push(makeIssue('element-unknown', `${columnLetter(valueCol)}${r} 有数值但该行没有指标代码，请勿在模板中增加行`, { sheet: sheet.name, row: r, col: valueCol, value: display(value.value) }));
      }
      continue;
    }
    const where = { sheet: sheet.name, row: r, col: codeCol, element: code, value: code };
    if (!byCode.has(code)) {
      issues.push(makeIssue('element-unknown', `${columnLetter(codeCol)}${r}「指标代码」为 ${code}，不是“${def.title}”的指标，请勿修改指标代码`, where));
    } else if (rowOf.has(code)) {
      issues.push(makeIssue('element-duplicate', `${columnLetter(codeCol)}${r}「指标代码」${code} 与第 ${rowOf.get(code)} 行重复`, where));
    } else {
      rowOf.set(code, r);
    }
  }

  const located: Located[] = [];
  const values: Record<string, number> = {};
  const remarks: Record<string, string> = {};
  for (const element of def.elements) {
    const row = rowOf.get(element.code);
    if (row === undefined) {
      if (element.required) {
        issues.push(makeIssue('element-missing', `缺少指标 ${element.code}「${element.name}」所在的行，请勿删除模板中的行`, { sheet: sheet.name, element: element.code }));
      }
      continue;
    }
    const ref = `${columnLetter(valueCol)}${row}`;
    const cell = sheet.rows.get(row)?.get(valueCol);
    const out = readNumber(cell?.value ?? { kind: 'empty' }, cell?.numFmt ?? null, element.type);
    const where = { sheet: sheet.name, row, col: valueCol, element: element.code, value: cell ? display(cell.value) : null };
    const prefix = `${ref}「${element.name}」`;
    const shown = cell ? shownAs(where.value) : '';
    pushNotes(issues, out.notes, prefix + shown, where);
    let valid = out.ok;
    if (!out.ok) {
      issues.push(makeIssue(out.code, `${prefix}${shown}${out.reason}`, where));
    } else if (out.value === null && element.required) {
      issues.push(makeIssue('value-required', `${prefix}未填写，此项为必填（没有发生请填 0）`, where));
      valid = false;
    } else if (out.value !== null) {
      values[element.code] = out.value;
    }
    located.push({ element, row, valueCol, ref, value: out.ok ? out.value : null, valid });

    if (remarkCol) {
      const remarkCell = sheet.rows.get(row)?.get(remarkCol);
      const remark = remarkCell ? readText(remarkCell.value, 200) : null;
      if (remark && !remark.ok) {
        issues.push(makeIssue(remark.code, `${columnLetter(remarkCol)}${row}「备注」${remark.reason}`, { sheet: sheet.name, row, col: remarkCol, element: element.code, value: display(remarkCell!.value) }));
      } else if (remark?.value) {
        remarks[element.code] = remark.value;
      }
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

/** left op right over sums of elements; skipped when any operand is missing or was wrong. */
function checkRule(rule: Rule, located: readonly Located[], sheet: string, issues: Issue[]): void {
  const find = (code: string) => located.find((l) => l.element.code === code);
  const left = rule.left.map(find);
  const right = rule.right.map(find);
  const operands = [...left, ...right];
  if (operands.some((l) => !l || !l.valid || l.value === null)) return;
  const sum = (side: (Located | undefined)[]) => side.reduce((acc, l) => acc + l!.value!, 0);
  const [l, r] = [sum(left), sum(right)];
  const holds = rule.op === '<=' ? l <= r : rule.op === '>=' ? l >= r : Math.abs(l - r) < 1e-9;
  if (holds) return;
  const verb = rule.op === '<=' ? '不能大于' : rule.op === '>=' ? '不能小于' : '应等于';
  const first = left[0]!;
  const message = `${describeSide(left as Located[], true)}，${verb} ${describeSide(right as Located[], false)}`;
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
