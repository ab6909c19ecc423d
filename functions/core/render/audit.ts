/**
 * The 操作记录 as a workbook (the portal's Excel export): one row per event, newest first, a frozen
 * header with filters. Every value is written as text or a date: nothing a person typed (a reason, a
 * name) can become a formula.
 */
import ExcelJS from 'exceljs';
import { ACTION_LABELS, type AuditEvent } from '../audit.ts';
import { SHANGHAI_OFFSET_MS } from '../consolidate/period.ts';
import { writeWorkbookBuffer } from './deterministic.ts';
import { BORDER_THIN, FONT, FONT_BOLD, FONT_TITLE, HEADER_FILL } from './style.ts';

const COLUMNS: Array<[string, number, (e: AuditEvent) => string]> = [
  ['时间（北京）', 20, (e) => new Date(new Date(e.at).getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ')],
  ['操作', 11, (e) => ACTION_LABELS[e.action] ?? e.action],
  ['结果', 7, (e) => (e.outcome === 'ok' ? '成功' : '拒绝')],
  ['操作人', 12, (e) => e.actor.name ?? ''],
  ['账号', 16, (e) => e.actor.username],
  ['IP 地址', 16, (e) => e.ip ?? ''],
  ['机构', 12, (e) => e.subject.institution ?? ''],
  ['报表', 7, (e) => e.subject.template ?? ''],
  ['统计期', 9, (e) => e.subject.period ?? ''],
  ['详情', 70, (e) => e.detail],
  ['对象', 40, (e) => [e.subject.key, e.subject.versionId ? `版本 ${e.subject.versionId}` : '', e.subject.username ? `账号 ${e.subject.username}` : ''].filter(Boolean).join('；')],
];

export async function writeAuditWorkbook(events: readonly AuditEvent[], title: string, generatedAt: Date): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.created = generatedAt;
  wb.modified = generatedAt;
  const ws = wb.addWorksheet('操作记录', { views: [{ state: 'frozen', ySplit: 2 }] });
  COLUMNS.forEach(([, width], i) => (ws.getColumn(i + 1).width = width));
  ws.getCell(1, 1).value = title;
  ws.getCell(1, 1).font = FONT_TITLE;
  ws.getRow(2).values = COLUMNS.map(([h]) => h);
  ws.getRow(2).eachCell((c) => {
    c.font = FONT_BOLD;
    c.fill = HEADER_FILL;
    c.border = BORDER_THIN;
  });
  for (const e of events) {
    const row = ws.addRow(COLUMNS.map(([, , value]) => value(e)));
    row.eachCell((c) => {
      c.font = FONT;
      c.alignment = { vertical: 'top', wrapText: true };
    });
  }
  ws.autoFilter = { from: { row: 2, column: 1 }, to: { row: 2, column: COLUMNS.length } };
  return writeWorkbookBuffer(wb);
}
