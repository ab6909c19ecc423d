/**
 * Cells and rules of a ledger (T-TZ 重点工作任务台账): one record per row, columns by header.
 * Rules (domain.md): status from the list; 已完成 ⇒ 100%; 未启动 ⇒ 0%; a deadline before the
 * period's end and not 已完成 is overdue.
 */
import { LEDGER_STATUSES, type LedgerColumn, type LedgerTemplate } from '../../../schemas/model.ts';
import { display, readDate, readNumber, readText, type Outcome } from '../normalize/cell.ts';
import type { LedgerRow, LedgerSubmission } from '../normalize/submission.ts';
import type { RawValue } from '../parse/index.ts';
import { columnLetter, makeIssue, type Issue } from '../report.ts';
import { pushNotes, readReporter, shownAs } from './indicator.ts';
import { normalizeHeader, type Structure } from './structure.ts';

const MAX_TEXT = 500;

export function checkLedger(s: Structure & { def: LedgerTemplate }, date1904: boolean, issues: Issue[]): LedgerSubmission {
  const { def, sheet } = s;
  const cols = def.columns.map((c) => ({ column: c, col: s.columns.get(normalizeHeader(c.header)) }));
  const rows: LedgerRow[] = [];
  const periodEnd = lastDayOf(s.period);
  const taskRows = new Map<string, number>();
  let records = 0;

  for (const [r, cells] of [...sheet.rows].sort((a, b) => a[0] - b[0])) {
    if (r <= s.headerRow) continue;
    const read = new Map<LedgerColumn['key'], { value: string | number | null; ref: string; col: number; raw: RawValue }>();
    let anything = false;
    let rowOk = true;
    for (const { column, col } of cols) {
      if (!col) continue;
      const raw = cells.get(col)?.value ?? { kind: 'empty' as const };
      const numFmt = cells.get(col)?.numFmt ?? null;
      if (raw.kind !== 'empty') anything = true;
      const out = readColumn(column, raw, numFmt, date1904);
      const ref = `${columnLetter(col)}${r}`;
      const where = { sheet: sheet.name, row: r, col, element: column.header, value: display(raw) };
      const prefix = `${ref}「${column.header}」`;
      const shown = raw.kind === 'empty' ? '' : shownAs(where.value);
      pushNotes(issues, out.notes, prefix + shown, where);
      if (!out.ok) {
        issues.push(makeIssue(out.code, `${prefix}${shown}${out.reason}`, where));
        rowOk = false;
      }
      read.set(column.key, { value: out.ok ? out.value : null, ref, col, raw });
    }
    if (!anything) continue;
    records++;
    if (records > def.maxRows) {
      issues.push(makeIssue('file-too-many-rows', `台账超过 ${def.maxRows} 行上限（第 ${r} 行起），请拆分或精简`, { sheet: sheet.name, row: r }));
      break;
    }
    for (const { column } of cols) {
      const got = read.get(column.key);
      if (column.required && got && got.value === null && got.raw.kind === 'empty') {
        issues.push(makeIssue('value-required', `${got.ref}「${column.header}」未填写，此项为必填`, { sheet: sheet.name, row: r, col: got.col, element: column.header }));
        rowOk = false;
      }
    }
    if (!rowOk) continue;
    const v = (k: LedgerColumn['key']) => read.get(k)?.value ?? null;
    const row: LedgerRow = {
      row: r,
      taskNo: String(v('taskNo')),
      content: String(v('content')),
      owner: String(v('owner')),
      deadline: String(v('deadline')),
      status: String(v('status')),
      progress: Number(v('progress')),
      measures: (v('measures') as string | null) ?? null,
      remark: (v('remark') as string | null) ?? null,
    };
    checkRowRules(row, read, sheet.name, periodEnd, issues);
    const dup = taskRows.get(row.taskNo);
    if (dup !== undefined) {
      const at = read.get('taskNo')!;
      issues.push(makeIssue('ledger-duplicate-task', `${at.ref}「任务编号」${row.taskNo} 与第 ${dup} 行重复，请核实是否重复填报`, { sheet: sheet.name, row: r, col: at.col, element: '任务编号', value: row.taskNo }));
    } else {
      taskRows.set(row.taskNo, r);
    }
    rows.push(row);
  }
  if (records === 0) {
    issues.push(makeIssue('ledger-empty', `工作表“${sheet.name}”中没有任何任务记录，请至少填写一项重点工作任务`, { sheet: sheet.name }));
  }
  return {
    kind: 'ledger',
    template: { id: def.id, version: def.version },
    county: s.county.code,
    institution: s.institution.code,
    period: s.period,
    rows,
    reporter: readReporter(sheet),
  };
}

function readColumn(column: LedgerColumn, raw: RawValue, numFmt: string | null, date1904: boolean): Outcome<string | number> {
  switch (column.type) {
    case 'text':
      return readText(raw, MAX_TEXT);
    case 'date':
      return readDate(raw, date1904);
    case 'percent':
      return readNumber(raw, numFmt, 'percent');
    case 'status': {
      const out = readText(raw, MAX_TEXT);
      if (!out.ok || out.value === null) return out;
      if (!(LEDGER_STATUSES as readonly string[]).includes(out.value)) {
        return { ok: false, code: 'ledger-status-invalid', reason: `应为 ${LEDGER_STATUSES.join('、')} 之一`, notes: out.notes };
      }
      return out;
    }
  }
}

type Read = Map<LedgerColumn['key'], { ref: string; col: number }>;

function checkRowRules(row: LedgerRow, read: Read, sheet: string, periodEnd: string, issues: Issue[]): void {
  const progress = read.get('progress')!;
  const status = read.get('status')!;
  const expected = row.status === '已完成' ? 100 : row.status === '未启动' ? 0 : null;
  if (expected !== null && row.progress !== expected) {
    issues.push(
      makeIssue('ledger-progress-mismatch', `${progress.ref}「完成进度(%)」为 ${row.progress}，但 ${status.ref}「进展状态」为“${row.status}”，完成进度应为 ${expected}`, {
        sheet,
        row: row.row,
        col: progress.col,
        element: '完成进度(%)',
        value: row.progress,
      }),
    );
  }
  if (row.deadline <= periodEnd && row.status !== '已完成' && row.status !== '已滞后') {
    const deadline = read.get('deadline')!;
    issues.push(
      makeIssue('ledger-overdue', `${status.ref}「进展状态」为“${row.status}”，但 ${deadline.ref}「完成时限」${row.deadline} 已到期且未完成，状态应为“已滞后”`, {
        sheet,
        row: row.row,
        col: status.col,
        element: '进展状态',
        value: row.status,
      }),
    );
  }
}

/** YYYY-MM → its last day, YYYY-MM-DD */
export function lastDayOf(period: string): string {
  const [y, m] = period.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}
