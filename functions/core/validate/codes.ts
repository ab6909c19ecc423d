/**
 * The catalogue of issue codes. Codes are stable: never renamed, never reused (style.md practice 4).
 * Each has a default severity, the stage that raises it, a short Chinese title for tables and docs,
 * and `fix`: what the statistician does about it, in general terms (each message says it for its
 * own cell). Read it as a table: docs/ISSUE-CODES.md is generated from it (npx tsx docs/issue-codes.ts).
 */
/** access: who uploaded it, checked by ingest before the file is opened (tests/unit/ingest-alerts.test.ts) */
export type Stage = 'access' | 'file' | 'structure' | 'cells' | 'rules' | 'history';

interface CodeInfo {
  severity: 'error' | 'warning' | 'info';
  stage: Stage;
  title: string;
  /** what to do, in Chinese; for info codes, what was done */
  fix: string;
}

const SAVE_AS = '另存为“Excel 工作簿 (*.xlsx)”后重新上传';
const DOWNLOAD = '从报送平台重新下载本机构本月的模板，把数据填入后上传';

export const ISSUE_CODES = {
  // file: bytes → a zip we dare to open
  'file-empty': { severity: 'error', stage: 'file', title: '文件为空', fix: '保存好报表后重新上传，不要上传正在编辑的文件' },
  'file-too-large': { severity: 'error', stage: 'file', title: '文件过大', fix: '删除多余的工作表、图片和大片空白格式后另存为 .xlsx 上传' },
  'file-not-zip': { severity: 'error', stage: 'file', title: '不是 .xlsx 文件（可能是 CSV、HTML 或改了扩展名的文件）', fix: `在 Excel 或 WPS 中打开，${SAVE_AS}` },
  'file-not-xlsx': { severity: 'error', stage: 'file', title: '文件名不是 .xlsx（.xls、.csv、.ods、.et、.pdf、.zip 等）', fix: `在 Excel、WPS 或 LibreOffice 中打开，${SAVE_AS}` },
  'file-legacy-xls': { severity: 'error', stage: 'file', title: '旧版 .xls 文件', fix: `在 Excel 或 WPS 中打开，${SAVE_AS}` },
  'file-encrypted': { severity: 'error', stage: 'file', title: '文件设置了打开密码', fix: '清除打开密码后保存，再上传' },
  'file-corrupt': { severity: 'error', stage: 'file', title: '文件已损坏或不完整', fix: '重新上传原文件；仍不行则在 Excel 或 WPS 中打开后另存为 .xlsx' },
  'file-not-workbook': { severity: 'error', stage: 'file', title: '不是 Excel 工作簿（.ods、.xlsb 或其他压缩包）', fix: `在 WPS、LibreOffice 或 Excel 中打开，${SAVE_AS}` },
  'file-macro-enabled': { severity: 'error', stage: 'file', title: '含宏的工作簿（.xlsm）', fix: `${SAVE_AS}（宏会被删除）` },
  'file-zip-bomb': { severity: 'error', stage: 'file', title: '解压后体积异常', fix: '把报表工作表复制到新建工作簿，另存为 .xlsx 上传' },
  'file-xml-dtd': { severity: 'error', stage: 'file', title: '文件内含 DTD 声明', fix: '在 Excel 或 WPS 中打开后另存为 .xlsx 上传' },
  'file-bad-part-name': { severity: 'error', stage: 'file', title: '文件内部路径非法或重复', fix: '在 Excel 或 WPS 中打开后另存为 .xlsx 上传' },
  'file-too-complex': { severity: 'error', stage: 'file', title: '工作簿结构过于复杂（超大区域、过多合并单元格）', fix: '按消息所说缩小区域或取消多余的合并，再上传' },
  'file-too-many-rows': { severity: 'error', stage: 'file', title: '行数或列数超出模板范围', fix: '删除表格下方和右侧多余的行列（右键 → 删除），再上传' },
  'file-unreadable': { severity: 'error', stage: 'file', title: '无法读取的文件格式变体', fix: '在 Excel 或 WPS 中打开后另存为 .xlsx 上传' },
  'file-timeout': { severity: 'error', stage: 'file', title: '文件读取超时', fix: '只保留模板中的工作表，另存为 .xlsx 上传' },
  // structure: is it our template, for this institution and period?
  'template-unknown': { severity: 'error', stage: 'structure', title: '不是本系统的报表模板', fix: DOWNLOAD },
  'template-version-retired': { severity: 'error', stage: 'structure', title: '模板版本已停用', fix: DOWNLOAD },
  'template-mismatch': { severity: 'error', stage: 'structure', title: '模板与上传位置不符', fix: '上传与所选报表对应的模板' },
  'sheet-missing': { severity: 'error', stage: 'structure', title: '缺少报表工作表', fix: `${DOWNLOAD}；不要删除或重命名工作表` },
  'sheet-ambiguous': { severity: 'error', stage: 'structure', title: '有多张像报表的工作表，无法确定读取哪一张', fix: '删除多余的报表副本，或只保留本月、本机构的那一张' },
  'sheet-chosen': { severity: 'info', stage: 'structure', title: '有多张报表工作表，已读取与上传相符的一张', fix: '已读取统计期和机构与上传相符的工作表，其他工作表未读取' },
  'header-missing': { severity: 'error', stage: 'structure', title: '找不到表头行', fix: '恢复模板原有的表头文字和列的位置' },
  'header-renamed': { severity: 'info', stage: 'structure', title: '表头文字被改动，已按列的位置读取', fix: '列的位置和指标代码未变，已按模板的列读取；以后请勿修改表头' },
  'institution-missing': { severity: 'error', stage: 'structure', title: '未填写机构代码', fix: DOWNLOAD },
  'institution-unknown': { severity: 'error', stage: 'structure', title: '机构不在名录中', fix: '联系卫健委核实机构代码' },
  'institution-mismatch': { severity: 'error', stage: 'structure', title: '机构与上传机构不符', fix: '使用本机构的模板，在本机构名下上传' },
  'institution-identity-mismatch': { severity: 'error', stage: 'structure', title: '模板是为另一机构生成的（机构代码被改过）', fix: '下载本机构的模板重新填写，不要改用其他机构的模板' },
  'template-not-owed': { severity: 'error', stage: 'structure', title: '该机构无需报送此模板', fix: '确认下载的模板是否正确' },
  'period-invalid': { severity: 'error', stage: 'structure', title: '统计期格式错误', fix: DOWNLOAD },
  'uploader-not-allowed': { severity: 'error', stage: 'access', title: '上传者无权报送该机构的报表', fix: '登录本机构的账号，在本机构的目录下上传' },
  'uploader-missing': { severity: 'error', stage: 'access', title: '上传未注明上传者', fix: '登录报送平台上传，或用本机构的账号密钥上传（不接受匿名上传）' },
  'period-mismatch': { severity: 'error', stage: 'structure', title: '统计期与上传统计期不符', fix: '使用该统计期的模板，或在正确的统计期下上传' },
  'period-future': { severity: 'error', stage: 'structure', title: '统计期尚未结束', fix: '统计期开始后再上报' },
  'element-missing': { severity: 'error', stage: 'structure', title: '缺少指标行', fix: '恢复被删除的指标行，或重新下载模板填写' },
  'element-unknown': { severity: 'error', stage: 'structure', title: '未知指标代码', fix: '恢复原有的指标代码，不要增加行' },
  'element-duplicate': { severity: 'error', stage: 'structure', title: '指标重复', fix: '删除重复的行，每个指标只填一行' },
  // cells
  'value-required': { severity: 'error', stage: 'cells', title: '必填项未填', fix: '填写数值；没有发生请填 0（不要填“无”“/”“-”或留空）' },
  'value-not-number': { severity: 'error', stage: 'cells', title: '不是数字', fix: '只填写阿拉伯数字' },
  'value-ambiguous': { severity: 'error', stage: 'cells', title: '数值有歧义', fix: '按消息所说改为明确的数字' },
  'value-negative': { severity: 'error', stage: 'cells', title: '不能为负数', fix: '填写 0 或正数' },
  'value-not-integer': { severity: 'error', stage: 'cells', title: '必须为整数', fix: '填写整数' },
  'value-out-of-range': { severity: 'error', stage: 'cells', title: '超出允许范围', fix: '核实后填写范围内的数值' },
  'value-percent-format': { severity: 'error', stage: 'cells', title: '数量单元格被设成了百分比格式', fix: '把单元格格式改为“常规”或“数值”，再重新填写数值' },
  'value-merged': { severity: 'error', stage: 'cells', title: '数值单元格被合并', fix: '取消合并，每个指标的单元格分别填写自己的数值' },
  'value-too-long': { severity: 'error', stage: 'cells', title: '文字过长', fix: '精简文字' },
  'remark-long': { severity: 'warning', stage: 'cells', title: '备注较长', fix: '把要点写在前 200 字内；超过上限的部分不会保存' },
  'formula-no-result': { severity: 'error', stage: 'cells', title: '公式没有计算结果', fix: '在 Excel 或 WPS 中重新计算并保存，或直接填写数值' },
  'cell-error-value': { severity: 'error', stage: 'cells', title: '公式计算失败，单元格显示错误值', fix: '改正公式引用的单元格，或直接填写数值' },
  'normalized-text-number': { severity: 'info', stage: 'cells', title: '文本格式的数字已按数字读取', fix: '已按数字读取' },
  'normalized-full-width': { severity: 'info', stage: 'cells', title: '全角字符已转换', fix: '全角数字和符号已按半角读取' },
  'normalized-thousands': { severity: 'info', stage: 'cells', title: '千位分隔符已去除', fix: '逗号或空格分隔的千位已去除' },
  'normalized-unit': { severity: 'info', stage: 'cells', title: '数字后的单位已去除', fix: '与指标单位相同的单位已去除，按数字读取' },
  'normalized-placeholder': { severity: 'info', stage: 'cells', title: '“无”“/”“-”按未填写处理', fix: '选填项的“无”“/”“-”按未填写处理' },
  'normalized-percent': { severity: 'info', stage: 'cells', title: '百分数已换算', fix: '百分比格式或带 % 的数值已换算为百分数' },
  'normalized-whitespace': { severity: 'info', stage: 'cells', title: '首尾空格已去除', fix: '首尾空格已去除' },
  'normalized-formula': { severity: 'info', stage: 'cells', title: '公式已取计算结果', fix: '已读取公式的计算结果' },
  'normalized-date': { severity: 'info', stage: 'cells', title: '日期已规范', fix: '已按日期读取' },
  'normalized-merged': { severity: 'info', stage: 'cells', title: '合并单元格的值已用于合并的每一行', fix: '台账中纵向合并的单元格，其值已用于合并范围内的每一行' },
  'ledger-status-invalid': { severity: 'error', stage: 'cells', title: '进展状态不在可选范围', fix: '从下拉列表选择进展状态' },
  'ledger-date-invalid': { severity: 'error', stage: 'cells', title: '完成时限不是有效日期', fix: '填写日期，如 2025-12-31' },
  'ledger-empty': { severity: 'error', stage: 'cells', title: '台账没有任何任务', fix: '至少填写一项重点工作任务' },
  // rules
  'rule-violation': { severity: 'error', stage: 'rules', title: '不符合指标间关系', fix: '核对消息中的几个数值，改正有误的一项' },
  'ledger-progress-mismatch': { severity: 'error', stage: 'rules', title: '完成进度与进展状态不符', fix: '按进展状态改正完成进度（已完成填 100，未启动填 0）' },
  'ledger-overdue': { severity: 'warning', stage: 'rules', title: '任务已超过完成时限', fix: '把进展状态改为“已滞后”，或核实完成时限' },
  'ledger-duplicate-task': { severity: 'warning', stage: 'rules', title: '任务编号重复', fix: '核实是否重复填报，删除重复的行' },
  // history (from the store; ingestion)
  'history-ytd-decrease': { severity: 'warning', stage: 'history', title: '累计数小于上月', fix: '核实本月和上月的累计数；上月有误可更正上月报表' },
  'history-outlier': { severity: 'warning', stage: 'history', title: '与本机构近六个月相差过大', fix: '核实数值；确实如此可在备注中说明原因' },
  'history-stock-jump': { severity: 'warning', stage: 'history', title: '期末数较上月突变', fix: '核实数值；确实如此可在备注中说明原因' },
} as const satisfies Record<string, CodeInfo>;

export type IssueCode = keyof typeof ISSUE_CODES;
export const issueCodes = Object.keys(ISSUE_CODES) as IssueCode[];
