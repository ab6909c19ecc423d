/**
 * One linear pass over a worksheet part: the extent of its rows and cells, and the ranges
 * (data validations, conditional formats, merges, autofilter) that make exceljs blow up.
 * One issue per kind per sheet is enough for the statistician to find and fix it.
 */
import { makeIssue, type Issue } from '../report.ts';
import { msg, type RangeKind } from './messages.ts';
import { parseCellRef, rangeSize } from './refs.ts';
import { attributeValue, elementText, readAttributes, unescapeXml, walkTags } from './xml.ts';

export interface SheetLimits {
  maxMergedRanges: number;
  maxRangeCells: number;
  maxRows: number;
  maxColumns: number;
}

export function scanWorksheet(text: string, sheet: string | null, limits: SheetLimits): Issue[] {
  const issues: Issue[] = [];
  const reported = new Set<string>();
  const once = (kind: string, issue: () => Issue): void => {
    if (reported.has(kind)) return;
    reported.add(kind);
    issues.push(issue());
  };
  const checkRow = (row: number): void => {
    if (row > limits.maxRows) once('rows', () => makeIssue('file-too-many-rows', msg.tooManyRows(sheet, row, limits.maxRows), { sheet, row }));
  };
  const checkCol = (col: number, row: number | null): void => {
    if (col > limits.maxColumns) {
      once('columns', () => makeIssue('file-too-many-rows', msg.tooManyColumns(sheet, col, limits.maxColumns), { sheet, row, col: col <= 16384 ? col : null }));
    }
  };
  const checkRange = (kind: RangeKind, ref: string): void => {
    const { cells } = rangeSize(ref);
    if (cells > limits.maxRangeCells) {
      once(kind, () => makeIssue('file-too-complex', msg.range(kind, sheet, ref, cells, limits.maxRangeCells), { sheet, value: ref }));
    }
  };

  let rowNumber = 0;
  let rowCount = 0;
  let colNumber = 0;
  let cellsInRow = 0;
  let merges = 0;
  let lastParent: 'dataValidation' | 'conditionalFormatting' = 'dataValidation';
  // the hot path: every tag of sheets up to tens of MB comes through here
  walkTags(text, (local, nameEnd) => {
    const length = nameEnd - local;
    if (length === 1 && text.charCodeAt(local) === 99) {
      // <c>: a cell without r follows the previous one; count cells too, so repeated refs can't hide width
      const r = attributeValue(text, nameEnd, 'r');
      const ref = r !== undefined ? parseCellRef(r) : null;
      colNumber = ref ? ref.col : colNumber + 1;
      cellsInRow++;
      checkCol(Math.max(colNumber, cellsInRow), rowNumber || null);
      if (ref) checkRow(ref.row);
    } else if (length === 3 && text.startsWith('row', local)) {
      const value = attributeValue(text, nameEnd, 'r');
      const r = value !== undefined ? Number(value.trim()) : NaN;
      rowNumber = Number.isFinite(r) && r > 0 ? r : rowNumber + 1;
      rowCount++;
      colNumber = 0;
      cellsInRow = 0;
      checkRow(Math.max(rowNumber, rowCount));
    } else if (length >= 5 && RARE.has(text.slice(local, nameEnd))) {
      const name = text.slice(local, nameEnd);
      const tag = readAttributes(text, nameEnd);
      switch (name) {
        case 'dimension': {
          const { maxRow, maxCol } = rangeSize(unescapeXml(tag.attrs.ref ?? ''));
          checkRow(maxRow);
          checkCol(maxCol, null);
          break;
        }
        case 'mergeCell':
          merges++;
          if (merges === limits.maxMergedRanges + 1) {
            once('merges', () => makeIssue('file-too-complex', msg.tooManyMerges(sheet, countMerges(text), limits.maxMergedRanges), { sheet }));
          }
          if (tag.attrs.ref !== undefined) checkRange('mergeCell', unescapeXml(tag.attrs.ref));
          break;
        case 'dataValidation':
        case 'conditionalFormatting':
          // x14 variants keep their range in a child <xm:sqref>, met below
          lastParent = name;
          if (tag.attrs.sqref !== undefined) checkRange(name, unescapeXml(tag.attrs.sqref));
          break;
        case 'autoFilter':
          if (tag.attrs.ref !== undefined) checkRange('autoFilter', unescapeXml(tag.attrs.ref));
          break;
        case 'sqref':
          // <xm:sqref> of x14 data validations and conditional formats (and sparklines, single cells)
          if (!tag.selfClosing) checkRange(lastParent, elementText(text, tag.end));
          break;
      }
    }
  });
  return issues;
}

const RARE = new Set(['dimension', 'mergeCell', 'dataValidation', 'conditionalFormatting', 'autoFilter', 'sqref']);

const MERGE = /<(?:[A-Za-z_][\w.-]*:)?mergeCell[\s/>]/g;
const countMerges = (text: string): number => text.match(MERGE)?.length ?? 0;
