/**
 * exceljs's Workbook alone: its in-memory model with xlsx load and write, without the streaming
 * reader and writer and the unzip and archive libraries they bring, which exceljs's main entry also
 * loads. That halves what the ingest function compiles of exceljs at every cold start, although only
 * an upload with issues runs it (issue 17). Same classes as `import 'exceljs'`.
 */
import type ExcelJS from 'exceljs';
// @ts-expect-error untyped CommonJS module
import WorkbookModule from 'exceljs/lib/doc/workbook.js';
// @ts-expect-error untyped CommonJS module
import EnumsModule from 'exceljs/lib/doc/enums.js';

export const Workbook = WorkbookModule as typeof ExcelJS.Workbook;
export const ValueType = (EnumsModule as { ValueType: typeof ExcelJS.ValueType }).ValueType;
