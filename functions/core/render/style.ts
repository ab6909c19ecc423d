/**
 * Shared look of the workbooks we write: fonts safe for Chinese, the yellow of input cells,
 * borders, and the print setup. Kept in one place so templates and feedback workbooks match.
 */
import type ExcelJS from 'exceljs';

/** 宋体 is on every Chinese Windows and WPS install; LibreOffice substitutes a CJK font. */
export const FONT_NAME = '宋体';

export const FONT: Partial<ExcelJS.Font> = { name: FONT_NAME, size: 11 };
export const FONT_BOLD: Partial<ExcelJS.Font> = { name: FONT_NAME, size: 11, bold: true };
export const FONT_TITLE: Partial<ExcelJS.Font> = { name: FONT_NAME, size: 16, bold: true };
export const FONT_NOTE: Partial<ExcelJS.Font> = { name: FONT_NAME, size: 10, color: { argb: 'FF595959' } };

/** light yellow: the cells a statistician fills in */
export const INPUT_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFFF2CC' } };
/** light grey: header rows */
export const HEADER_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFD9D9D9' } };
/** very light grey: prefilled identity cells (institution, period, template) */
export const PREFILLED_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFF2F2F2' } };

const THIN: Partial<ExcelJS.Border> = { style: 'thin', color: { argb: 'FF808080' } };
export const BORDER_THIN: Partial<ExcelJS.Borders> = { top: THIN, left: THIN, bottom: THIN, right: THIN };

/** Number formats of input cells. Percent elements are typed as 95.26, so never a % format. */
export const NUMFMT = {
  integer: '0',
  decimal: '0.00',
  percent: '0.00',
  date: 'yyyy-mm-dd',
  text: '@',
} as const;

/** A4 (paperSize 9), fit to one page wide, as many pages tall as needed. Margins in inches. */
export function printSetup(orientation: 'portrait' | 'landscape'): Partial<ExcelJS.PageSetup> {
  return {
    paperSize: 9,
    orientation,
    fitToPage: true,
    fitToWidth: 1,
    fitToHeight: 0,
    horizontalCentered: true,
    margins: { left: 0.5, right: 0.5, top: 0.6, bottom: 0.7, header: 0.3, footer: 0.3 },
  };
}

/** Width of text in Excel column units: CJK and full-width characters count double. */
export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(ch) ? 2 : 1;
  return w;
}

/** Row height (points) that shows `text` wrapped in a cell `width` columns wide; errs on the tall side, as fonts differ. */
export function wrappedHeight(text: string, width: number, lineHeight = 15): number {
  const lines = text.split('\n').reduce((n, line) => n + Math.max(1, Math.ceil(displayWidth(line) / Math.max(1, (width - 2) * 0.9))), 0);
  return lines * lineHeight + 4;
}
