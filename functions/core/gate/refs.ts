/**
 * A1 references: how many cells a ref, a sqref list or a defined name's formula covers.
 * Counts are upper bounds (overlapping ranges count twice), which is what a limit needs.
 */

export const SHEET_ROWS = 1_048_576;
export const SHEET_COLUMNS = 16_384;

/** column letters → 1-based number; 0 when not letters */
export function columnNumber(letters: string): number {
  let n = 0;
  for (let i = 0; i < letters.length; i++) {
    const c = letters.charCodeAt(i) | 0x20; // lower-case
    if (c < 97 || c > 122) return 0;
    n = n * 26 + (c - 96);
  }
  return n;
}

export interface CellRef {
  col: number;
  row: number;
}

/** "AB12" / "$AB$12" → { col, row }; null when not a cell ref. */
export function parseCellRef(s: string): CellRef | null {
  let i = 0;
  const n = s.length;
  if (s.charCodeAt(i) === 36) i++; // $
  let col = 0;
  const colStart = i;
  for (; i < n; i++) {
    const c = s.charCodeAt(i) | 0x20;
    if (c < 97 || c > 122) break;
    col = col * 26 + (c - 96);
  }
  if (i === colStart || i - colStart > 3) return null;
  if (s.charCodeAt(i) === 36) i++;
  let row = 0;
  const rowStart = i;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return null;
    row = row * 10 + (c - 48);
  }
  if (i === rowStart) return null;
  return { col, row };
}

export interface RangeSize {
  /** cells covered */
  cells: number;
  /** largest row and column reached (for dimension checks) */
  maxRow: number;
  maxCol: number;
}

// a cell or cell range, a column range (D:D) or a row range (2:2); $ allowed anywhere
const RANGE =
  /(?<![\w.$])\$?([A-Za-z]{1,3})\$?(\d+)(?::\$?([A-Za-z]{1,3})\$?(\d+))?(?![\w(.])|(?<![\w.$])\$?([A-Za-z]{1,3}):\$?([A-Za-z]{1,3})(?![\w(.])|(?<![\w.$:])\$?(\d+):\$?(\d+)(?![\w(.:])/g;

/**
 * Sums the cells of every range found in `text`: a sqref ("B2 D:D 4:6"), a ref ("A1:F20"),
 * or a defined name's formula ('月报'!$A:$A,Sheet2!$1:$3). Quoted sheet names and string
 * literals are skipped so their contents are not read as references.
 */
export function rangeSize(text: string): RangeSize {
  const cleaned = text.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"/g, 'S');
  let cells = 0;
  let maxRow = 0;
  let maxCol = 0;
  RANGE.lastIndex = 0;
  for (let m = RANGE.exec(cleaned); m; m = RANGE.exec(cleaned)) {
    let rows: number;
    let cols: number;
    if (m[1] !== undefined) {
      const c1 = columnNumber(m[1]);
      const r1 = Number(m[2]);
      const c2 = m[3] !== undefined ? columnNumber(m[3]) : c1;
      const r2 = m[4] !== undefined ? Number(m[4]) : r1;
      rows = Math.abs(r2 - r1) + 1;
      cols = Math.abs(c2 - c1) + 1;
      maxRow = Math.max(maxRow, r1, r2);
      maxCol = Math.max(maxCol, c1, c2);
    } else if (m[5] !== undefined) {
      const c1 = columnNumber(m[5]);
      const c2 = columnNumber(m[6]!);
      rows = SHEET_ROWS;
      cols = Math.abs(c2 - c1) + 1;
      maxRow = SHEET_ROWS;
      maxCol = Math.max(maxCol, c1, c2);
    } else {
      const r1 = Number(m[7]);
      const r2 = Number(m[8]);
      rows = Math.abs(r2 - r1) + 1;
      cols = SHEET_COLUMNS;
      maxRow = Math.max(maxRow, r1, r2);
      maxCol = SHEET_COLUMNS;
    }
    cells += rows * cols;
  }
  return { cells, maxRow, maxCol };
}
