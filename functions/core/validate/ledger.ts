/**
 * Cells and rules of a ledger (T-TZ 重点工作任务台账): one record per row, columns by header.
 * Rules (domain.md): status from the list; 已完成 ⇒ 100%; 未启动 ⇒ 0%; a deadline before the
 * period's end and not 已完成 is overdue.
 */
import { LEDGER_STATUSES, type LedgerColumn, type LedgerTemplate } from '../../../schemas/model.ts';
import { display, readDate, readNumber, readRemark, readText, type Outcome } from '../normalize/cell.ts';
import type { LedgerRow, LedgerSubmission } from '../normalize/submission.ts';
import type { Cell, RawValue, Sheet } from '../parse/index.ts';
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

  const mergedFrom = verticalMerges(sheet, s.headerRow);
  for (const [r, cells] of [...sheet.rows].sort((a, b) => a[0] - b[0])) {
    if (r <= s.headerRow) continue;
    const read = new Map<LedgerColumn['key'], { value: string | number | null; ok: boolean; ref: string; col: number; raw: RawValue }>();
    // a row is a record by its own cells; values given by a merge above only fill it in
    let anything = false;
    let rowOk = true;
    const rowIssues: Issue[] = [];
    for (const { column, col } of cols) {
      if (!col) continue;
      const own = cells.get(col);
      if (own && own.value.kind !== 'empty') anything = true;
      const from = own && own.value.kind !== 'empty' ? undefined : mergedFrom.get(`${r}:${col}`);
      const raw = (from ?? own)?.value ?? { kind: 'empty' as const };
      const numFmt = (from ?? own)?.numFmt ?? null;
      const out = readColumn(column, raw, numFmt, date1904);
      const ref = `${columnLetter(col)}${r}`;
      const notes = column.required && out.notes.length ? out.notes.filter(notPlaceholder) : out.notes;
      // what a message says about the cell, made only for a cell that has one (most have none)
      if (from || notes.length || !out.ok) {
        const where = { sheet: sheet.name, row: r, col, element: column.header, value: display(raw) };
        const prefix = `${ref}「${column.header}」`;
        const shown = raw.kind === 'empty' ? '' : shownAs(where.value);
        if (from) rowIssues.push(makeIssue('normalized-merged', `${prefix}与 ${columnLetter(from.col)}${from.row} 合并，已按合并单元格的值“${String(display(raw))}”读取（合并单元格的值用于合并范围内的每一行）`, where));
        pushNotes(rowIssues, notes, prefix + shown, where);
        if (!out.ok) {
          rowIssues.push(makeIssue(out.code, `${prefix}${shown}${out.reason}`, where));
          rowOk = false;
        }
      }
      read.set(column.key, { value: out.ok ? out.value : null, ok: out.ok, ref, col, raw });
    }
    if (!anything) continue;
    issues.push(...rowIssues);
    records++;
    if (records > def.maxRows) {
      issues.push(makeIssue('file-too-many-rows', `台账超过 ${def.maxRows} 行上限（第 ${r} 行起），请拆分或精简`, { sheet: sheet.name, row: r }));
      break;
    }
    for (const { column } of cols) {
      const got = read.get(column.key);
      // empty, or 无 / - in a number column: read as nothing, which a required column may not be
      if (column.required && got && got.ok && got.value === null) {
        issues.push(makeIssue('value-required', `${got.ref}「${column.header}」${got.raw.kind === 'empty' ? '未填写' : shownAs(display(got.raw)).replace(/，$/, '')}，此项为必填。请填写${REQUIRED_HINT[column.type]}`, { sheet: sheet.name, row: r, col: got.col, element: column.header }));
        rowOk = false;
      }
    }
    if (!rowOk) continue;
    const row: LedgerRow = {
      row: r,
      taskNo: String(valueOf(read, 'taskNo')),
      content: String(valueOf(read, 'content')),
      owner: String(valueOf(read, 'owner')),
      deadline: String(valueOf(read, 'deadline')),
      status: String(valueOf(read, 'status')),
      progress: Number(valueOf(read, 'progress')),
      measures: (valueOf(read, 'measures') as string | null) ?? null,
      remark: (valueOf(read, 'remark') as string | null) ?? null,
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

const notPlaceholder = (n: { code: string }): boolean => n.code !== 'normalized-placeholder';
const valueOf = (read: Map<LedgerColumn['key'], { value: string | number | null }>, key: LedgerColumn['key']) => read.get(key)?.value ?? null;

/** what to type into an empty required ledger cell */
const REQUIRED_HINT: Record<LedgerColumn['type'], string> = {
  text: '内容（如责任科室和责任人）',
  date: '日期，如 2025-12-31',
  status: `进展状态，从下拉列表选择（${LEDGER_STATUSES.join('、')}）`,
  percent: '0 至 100 的数字：已完成填 100，未启动填 0',
};

/**
 * Vertical merges in the ledger's rows (one 责任人 over three tasks): "row:col" of every cell below
 * a merge's first row → the first cell, whose value the whole merge shows.
 */
function verticalMerges(sheet: Sheet, headerRow: number): Map<string, Cell> {
  const out = new Map<string, Cell>();
  for (const m of sheet.merges) {
    const first = sheet.rows.get(m.top)?.get(m.left);
    if (m.bottom === m.top || m.top <= headerRow || !first) continue;
    for (let r = m.top + 1; r <= m.bottom; r++) out.set(`${r}:${m.left}`, first);
  }
  return out;
}

function readColumn(column: LedgerColumn, raw: RawValue, numFmt: string | null, date1904: boolean): Outcome<string | number> {
  if (column.key === 'remark') return readRemark(raw);
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
        return { ok: false, code: 'ledger-status-invalid', reason: `不在可选范围，请从下拉列表选择：${LEDGER_STATUSES.join('、')}`, notes: out.notes };
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
      makeIssue('ledger-progress-mismatch', `${progress.ref}「完成进度(%)」为 ${row.progress}，但 ${status.ref}「进展状态」为“${row.status}”，完成进度应为 ${expected}，请改正完成进度或进展状态`, {
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
      makeIssue('ledger-overdue', `${status.ref}「进展状态」为“${row.status}”，但 ${deadline.ref}「完成时限」${row.deadline} 已到期且未完成，状态应为“已滞后”。请把进展状态改为“已滞后”，或核实完成时限`, {
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
