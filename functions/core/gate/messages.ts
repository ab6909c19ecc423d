/**
 * Messages of the gate, written for a township health-centre statistician:
 * what is wrong, then what to click to fix it.
 */
import { columnLetter } from '../report.ts';
import type { CfbKind, NotZipKind } from './sniff.ts';
import { mb } from './zip.ts';

const SAVE_AS_XLSX = '请在 Excel 或 WPS 中打开，另存为“Excel 工作簿 (*.xlsx)”后重新上传。';
const RESAVE = `请在 Excel 或 WPS 中打开报表，确认内容无误后另存为“Excel 工作簿 (*.xlsx)”，再上传新保存的文件。`;

/** How to save as .xlsx in each program people use. */
const HOW_TO_SAVE_XLSX =
  '另存为 .xlsx 的方法：Excel：文件 → 另存为 → 保存类型选“Excel 工作簿 (*.xlsx)”；WPS：文件 → 另存为 → 文件类型选“Microsoft Excel 文件 (*.xlsx)”；LibreOffice：文件 → 另存为 → 文件类型选“Excel 2007-365 (.xlsx)”，提示格式时点“使用 Excel 2007-365!”。';

/** What a file name's extension says the file is, for file-not-xlsx. */
const KIND_BY_EXTENSION: Record<string, string> = {
  xls: '旧版 Excel 97-2003 工作簿（.xls）',
  xlsm: '启用宏的 Excel 工作簿（.xlsm）',
  xlsb: 'Excel 二进制工作簿（.xlsb）',
  xltx: 'Excel 模板（.xltx）',
  xlt: 'Excel 模板（.xlt）',
  csv: 'CSV 文本文件（.csv）',
  txt: '文本文件（.txt）',
  ods: 'OpenDocument 表格（.ods）',
  et: 'WPS 表格专用格式（.et）',
  ett: 'WPS 表格模板（.ett）',
  wps: 'WPS 文字文档（.wps）',
  doc: 'Word 文档（.doc）',
  docx: 'Word 文档（.docx）',
  pdf: 'PDF 文档（.pdf）',
  zip: '压缩包（.zip）',
  rar: '压缩包（.rar）',
  '7z': '压缩包（.7z）',
  jpg: '图片（.jpg）',
  jpeg: '图片（.jpeg）',
  png: '图片（.png）',
};

export const msg = {
  notXlsx: (fileName: string) => {
    const shown = printable(fileName);
    const dot = fileName.lastIndexOf('.');
    const ext = dot > 0 ? fileName.slice(dot + 1).trim().toLowerCase() : '';
    const kind = KIND_BY_EXTENSION[ext] ?? (ext ? `“.${printable(ext)}”格式的文件` : '没有扩展名的文件');
    const first = /^(zip|rar|7z)$/.test(ext)
      ? '如果报表在压缩包里，请解压后上传其中的 .xlsx 文件；否则请用 Excel、WPS 或 LibreOffice 打开报表，另存为 .xlsx 后上传。'
      : /^(pdf|jpg|jpeg|png|doc|docx|wps|txt)$/.test(ext)
        ? '请上传填写好的报表工作簿本身（.xlsx），而不是导出的文档或图片；如果手上只有其他格式，请用 Excel、WPS 或 LibreOffice 打开报表模板填写后保存为 .xlsx。'
        : '请用 Excel、WPS 或 LibreOffice 打开这个文件，另存为 .xlsx 后重新上传。';
    return `文件“${shown}”是${kind}，系统只接收 Excel 工作簿（.xlsx）。${first}${HOW_TO_SAVE_XLSX}`;
  },

  empty: () => '文件是空的（0 字节）。请在 Excel 或 WPS 中保存好报表后再上传，不要上传正在编辑或未保存完的文件。',

  tooLarge: (bytes: number, max: number) =>
    `文件大小为 ${mb(bytes)} MB，超过上限 ${mb(max)} MB。报表文件通常只有几十 KB 到几 MB；请删除多余的图片、工作表和大片空白格式后另存为 .xlsx 重新上传。`,

  notZip: (kind: NotZipKind) => {
    switch (kind) {
      case 'text':
        return `文件是文本格式（如 CSV），只是扩展名改成了 .xlsx，不是 Excel 工作簿。${SAVE_AS_XLSX}`;
      case 'html':
        return `文件是网页 (HTML) 格式，常见于从其他系统“导出 Excel”得到的文件，不是真正的 Excel 工作簿。${SAVE_AS_XLSX}`;
      case 'xml-spreadsheet':
        return `文件是“XML 电子表格 2003”格式，不是 .xlsx 工作簿。${SAVE_AS_XLSX}`;
      case 'pdf':
        return '文件是 PDF 文档，不是 Excel 工作簿。请上传填写好的 .xlsx 报表文件，而不是打印或导出的 PDF。';
      case 'image':
        return '文件是图片，不是 Excel 工作簿。请上传填写好的 .xlsx 报表文件，不要上传截图或照片。';
      case 'archive':
        return '文件是 RAR、7z 或 gzip 压缩包，不是 Excel 工作簿。请解压后上传其中的 .xlsx 报表文件。';
      default:
        return `文件不是 Excel 工作簿（文件开头没有 .xlsx 的格式标记），可能是其他类型的文件改了扩展名。${SAVE_AS_XLSX}`;
    }
  },

  cfb: (kind: CfbKind) => {
    switch (kind) {
      case 'encrypted':
        return '文件设置了打开密码，系统无法读取。请在 Excel 中打开文件，点击“文件 → 信息 → 保护工作簿 → 用密码进行加密”，清空密码后保存（WPS：“文件 → 文档加密 → 密码加密”，清空打开密码），再重新上传。';
      case 'word':
        return '文件是旧版 Word 文档 (.doc)，不是 Excel 工作簿。请上传填写好的 .xlsx 报表文件。';
      case 'powerpoint':
        return '文件是旧版 PowerPoint 演示文稿 (.ppt)，不是 Excel 工作簿。请上传填写好的 .xlsx 报表文件。';
      default:
        return `文件是旧版 Excel 97-2003 (.xls) 格式。${SAVE_AS_XLSX}`;
    }
  },

  corrupt: (detail: string) =>
    `文件已损坏或格式异常（${detail}）。如果是上传或拷贝中断，重新上传原文件即可；否则${RESAVE}如果原文件也打不开，请重新填写模板。`,

  unreadable: (detail: string) => `文件的压缩格式比较特殊，系统无法可靠读取（${detail}），通常是由其他软件生成或转换的文件。${RESAVE}`,

  tooManyEntries: (count: number, max: number) =>
    `文件内部包含 ${count} 个部件，超过上限 ${max} 个，通常是工作表、图片或批注过多。请删除多余的工作表和图片，或只把报表工作表复制到一个新建工作簿中另存为 .xlsx 后上传。`,

  badName: (name: string, reason: string) =>
    `文件内部路径非法或重复（“${printable(name)}”：${reason}），Excel 和 WPS 自身不会生成这样的文件，为安全起见已拒收。${RESAVE}`,

  bomb: (detail: string) =>
    `文件解压后体积异常（${detail}），为保护系统已拒收。正常填写的报表不会这样；请在 Excel 或 WPS 中打开报表，把需要的工作表复制到新建工作簿，另存为 .xlsx 后重新上传。`,

  dtd: (part: string) =>
    `文件内部的“${part}”含有 DTD 声明（<!DOCTYPE 或 <!ENTITY），Excel 和 WPS 自身不会生成这样的内容，为安全起见已拒收。${RESAVE}`,

  noContentTypes: () =>
    '文件是一个普通的 ZIP 压缩包，不是 Excel 工作簿。如果报表在压缩包里，请解压后上传其中的 .xlsx 文件；否则请在 Excel 或 WPS 中打开报表，另存为“Excel 工作簿 (*.xlsx)”后上传。',

  notWorkbook: (kind: OtherKind) => {
    switch (kind) {
      case 'ods':
        return '文件是 OpenDocument 表格 (.ods) 格式，不是 Excel 工作簿。请在 WPS 或 LibreOffice 中打开，另存为“Excel 工作簿 (*.xlsx)”后重新上传。';
      case 'opendocument':
        return '文件是 OpenDocument 文档（如 .odt），不是 Excel 工作簿。请上传填写好的 .xlsx 报表文件。';
      case 'xlsb':
        return '文件是“Excel 二进制工作簿 (.xlsb)”格式，系统无法读取。请在 Excel 中打开，另存为“Excel 工作簿 (*.xlsx)”后重新上传。';
      case 'template':
        return '文件是 Excel 模板 (.xltx) 格式，不是工作簿。请在 Excel 中打开，另存为“Excel 工作簿 (*.xlsx)”后重新上传。';
      case 'word':
        return '文件是 Word 文档 (.docx)，不是 Excel 工作簿。请上传填写好的 .xlsx 报表文件。';
      case 'powerpoint':
        return '文件是 PowerPoint 演示文稿 (.pptx)，不是 Excel 工作簿。请上传填写好的 .xlsx 报表文件。';
      default:
        return `文件是 Office 格式的压缩包，但里面没有 Excel 工作簿。${SAVE_AS_XLSX}`;
    }
  },

  twoWorkbooks: () => '工作簿主部件不唯一',

  macro: () =>
    '文件是启用宏的工作簿（.xlsm，含 VBA 宏或宏表），为安全起见系统不接收含宏的文件。请在 Excel 中点击“文件 → 另存为”，保存类型选“Excel 工作簿 (*.xlsx)”（宏会被删除），然后上传新保存的文件。',

  definedName: (name: string, formula: string, cells: number, max: number) => {
    const [label, fix] = builtInName(name);
    return `${label}引用了 ${clip(formula)}，覆盖约 ${cells.toLocaleString('en-US')} 个单元格，超过上限 ${max.toLocaleString('en-US')} 个（整列、整行或整张表）。${fix}`;
  },

  range: (what: RangeKind, sheet: string | null, ref: string, cells: number, max: number) => {
    const where = sheet ? `工作表“${sheet}”` : '一个工作表';
    const size = `覆盖约 ${cells.toLocaleString('en-US')} 个单元格，超过上限 ${max.toLocaleString('en-US')} 个`;
    switch (what) {
      case 'dataValidation':
        return `${where}的 ${clip(ref)} 设置了数据验证（如下拉列表），${size}（整列或整行）。请选中这些单元格，在“数据 → 数据验证”中点“全部清除”，再只对实际填报的区域（例如 D2:D500）重新设置后上传。`;
      case 'conditionalFormatting':
        return `${where}的 ${clip(ref)} 设置了条件格式，${size}（整列或整行）。请在“开始 → 条件格式 → 管理规则”中把“应用于”改为实际使用的区域（例如 $B$2:$B$500）后上传。`;
      case 'mergeCell':
        return `${where}的合并单元格 ${clip(ref)} ${size}。请选中该区域，点击“合并后居中”取消合并，只合并表头需要的几个单元格后上传。`;
      case 'autoFilter':
        return `${where}的筛选范围 ${clip(ref)} ${size}。请在“数据 → 筛选”中取消筛选，只选中表格区域重新筛选后上传。`;
    }
  },

  tooManyMerges: (sheet: string | null, count: number, max: number) =>
    `${sheet ? `工作表“${sheet}”` : '一个工作表'}有 ${count} 处合并单元格，超过上限 ${max} 处。请取消不必要的合并（选中数据区域，点击“合并后居中”取消合并，只保留表头的合并）后上传。`,

  tooManyRows: (sheet: string | null, row: number, max: number) =>
    `${sheet ? `工作表“${sheet}”` : '一个工作表'}的内容或格式延伸到了第 ${row.toLocaleString('en-US')} 行，超过上限 ${max.toLocaleString('en-US')} 行。请删除表格下方多余的行（选中多余的行 → 右键 → 删除，而不是按 Delete 键只清除内容）后保存上传。`,

  tooManyColumns: (sheet: string | null, col: number, max: number) =>
    `${sheet ? `工作表“${sheet}”` : '一个工作表'}的内容或格式延伸到了第 ${col} 列（${col <= 16384 ? columnLetter(col) : '超出'} 列），超过上限 ${max} 列（${columnLetter(max)} 列）。请删除表格右侧多余的列（选中多余的列 → 右键 → 删除）后保存上传。`,

  missingPart: (what: string) => `工作簿内部结构不完整：${what}`,

  unexpected: () => `文件已损坏或格式异常，系统无法读取。${RESAVE}`,
};

export type OtherKind = 'ods' | 'opendocument' | 'xlsb' | 'template' | 'word' | 'powerpoint' | 'office';
export type RangeKind = 'dataValidation' | 'conditionalFormatting' | 'mergeCell' | 'autoFilter';

function builtInName(name: string): [string, string] {
  switch (name.toLowerCase()) {
    case '_xlnm.print_area':
      return ['打印区域', '请在“页面布局 → 打印区域”中点“取消打印区域”，再只选中报表区域重新“设置打印区域”后上传。'];
    case '_xlnm.print_titles':
      return ['打印标题', '请在“页面布局 → 打印标题”中清除“顶端标题行”和“从左侧重复的列数”，或只填表头所在的几行，然后上传。'];
    case '_xlnm._filterdatabase':
      return ['筛选区域', '请在“数据 → 筛选”中取消筛选，只选中表格区域重新筛选后上传。'];
    default:
      return [
        `名称“${printable(name)}”`,
        '请在“公式 → 名称管理器”中删除该名称，或把引用范围改为实际使用的区域（例如 $A$1:$H$200）后上传。',
      ];
  }
}

const clip = (s: string): string => (s.length > 80 ? `${s.slice(0, 77)}…` : s);

// names from a hostile file are shown, but never with control characters
// eslint-disable-next-line no-control-regex
const printable = (s: string): string => clip(s.replace(/[\x00-\x1f\x7f]/g, '?'));
