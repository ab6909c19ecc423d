/**
 * The data draft as a Word document (the `docx` package): a title, 报送情况, one heading per area with its
 * sentences, and the appendix table of the period's indicators. Every figure is a run of the character
 * style 数据 (DraftFigure), dark blue, so a reader (and a test reading document.xml) sees which words
 * are figures from the consolidated workbook.
 */
import { AlignmentType, BorderStyle, Document, HeadingLevel, Packer, Paragraph, Table, TableCell, TableRow, TextRun, WidthType } from 'docx';
import { shanghaiTime } from '../consolidate/period.ts';
import type { Draft, DraftRun } from './index.ts';
import { formatValue, fixed2 } from './format.ts';

export const FIGURE_STYLE = 'DraftFigure';
export const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const NUMBERS = ['一', '二', '三', '四', '五', '六', '七', '八', '九', '十', '十一', '十二'];
const BODY_FONT = { eastAsia: '仿宋', ascii: 'Times New Roman', hAnsi: 'Times New Roman' };
const HEAD_FONT = { eastAsia: '黑体', ascii: 'Times New Roman', hAnsi: 'Times New Roman' };

export async function renderDraftDocx(draft: Draft): Promise<Buffer> {
  const runs = (list: DraftRun[]) => list.map((r) => new TextRun(r.figure ? { text: r.text, style: FIGURE_STYLE } : { text: r.text }));
  const body = (list: DraftRun[]) => new Paragraph({ children: runs(list), indent: { firstLine: 640 }, spacing: { line: 480 } });
  const heading = (text: string) => new Paragraph({ heading: HeadingLevel.HEADING_1, children: [new TextRun({ text, font: HEAD_FONT })] });

  const children: Array<Paragraph | Table> = [
    new Paragraph({ heading: HeadingLevel.TITLE, alignment: AlignmentType.CENTER, children: [new TextRun({ text: draft.title, font: { eastAsia: '方正小标宋简体', ascii: 'Times New Roman', hAnsi: 'Times New Roman' } })] }),
    new Paragraph({
      alignment: AlignmentType.CENTER,
      children: [new TextRun({ text: `（数据稿：数字取自《${draft.workbookTitle}》，生成于${shanghaiTime(draft.generatedAt)}；蓝色为数据，其余文字由定义中的“总结句式”生成，请修改润色后使用）`, size: 20, color: '595959' })],
    }),
  ];
  let n = 0;
  children.push(heading(`${NUMBERS[n++]}、报送情况`), ...draft.overview.map(body));
  for (const s of draft.sections) children.push(heading(`${NUMBERS[n++] ?? n}、${s.name}`), ...s.paragraphs.map(body));
  children.push(heading('附表：主要指标'), appendixTable(draft));

  const doc = new Document({
    creator: 'hmis-sheets',
    title: draft.title,
    description: `数字取自《${draft.workbookTitle}》`,
    styles: {
      default: {
        document: { run: { font: BODY_FONT, size: 32 } },
        title: { run: { size: 44, bold: false } },
        heading1: { run: { font: HEAD_FONT, size: 32, bold: false, color: '000000' }, paragraph: { spacing: { before: 240, after: 120 } } },
      },
      characterStyles: [{ id: FIGURE_STYLE, name: '数据', basedOn: 'DefaultParagraphFont', run: { color: '1F4E79' } }],
    },
    sections: [{ properties: { page: { margin: { top: 2098, bottom: 1984, left: 1588, right: 1474 } } }, children }],
  });
  return Packer.toBuffer(doc);
}

function appendixTable(draft: Draft): Table {
  const border = { style: BorderStyle.SINGLE, size: 4, color: '808080' };
  const borders = { top: border, bottom: border, left: border, right: border };
  const cell = (text: string, opts: { bold?: boolean; right?: boolean; figure?: boolean } = {}) =>
    new TableCell({
      borders,
      children: [new Paragraph({ alignment: opts.right ? AlignmentType.RIGHT : AlignmentType.LEFT, children: [new TextRun({ text, size: 18, bold: opts.bold ?? false, ...(opts.figure ? { style: FIGURE_STYLE } : {}) })] })],
    });
  const header = new TableRow({ tableHeader: true, children: draft.appendix.columns.map((c) => cell(c, { bold: true })) });
  const rows = draft.appendix.rows.map(
    (r) =>
      new TableRow({
        children: [
          cell(r.code),
          cell(r.name),
          cell(r.unit),
          ...r.cells.map((v, i) => (v === null ? cell('') : cell(i === 3 ? fixed2(v) : formatValue(v, r.unit), { right: true, figure: true }))),
          cell(r.target),
          cell(r.status),
        ],
      }),
  );
  return new Table({ width: { size: 100, type: WidthType.PERCENTAGE }, rows: [header, ...rows] });
}
