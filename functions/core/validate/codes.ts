/**
 * The catalogue of issue codes. Codes are stable: never renamed, never reused (style.md practice 4).
 * Each has a default severity, the stage that raises it, and a short Chinese title for tables and docs.
 */
/** access: who uploaded it, checked by ingest before the file is opened (tests/unit/ingest-alerts.test.ts) */
export type Stage = 'access' | 'file' | 'structure' | 'cells' | 'rules' | 'history';

interface CodeInfo {
  severity: 'error' | 'warning' | 'info';
  stage: Stage;
  title: string;
}

export const ISSUE_CODES = {
  // file: bytes → a zip we dare to open
  'file-empty': { severity: 'error', stage: 'file', title: '文件为空' },
  'file-too-large': { severity: 'error', stage: 'file', title: '文件过大' },
  'file-not-zip': { severity: 'error', stage: 'file', title: '不是 .xlsx 文件（可能是 CSV、HTML 或改了扩展名的文件）' },
  'file-legacy-xls': { severity: 'error', stage: 'file', title: '旧版 .xls 文件' },
  'file-encrypted': { severity: 'error', stage: 'file', title: '文件设置了打开密码' },
  'file-corrupt': { severity: 'error', stage: 'file', title: '文件已损坏或不完整' },
  'file-not-workbook': { severity: 'error', stage: 'file', title: '不是 Excel 工作簿（.ods、.xlsb 或其他压缩包）' },
  'file-macro-enabled': { severity: 'error', stage: 'file', title: '含宏的工作簿（.xlsm）' },
  'file-zip-bomb': { severity: 'error', stage: 'file', title: '解压后体积异常' },
  'file-xml-dtd': { severity: 'error', stage: 'file', title: '文件内含 DTD 声明' },
  'file-bad-part-name': { severity: 'error', stage: 'file', title: '文件内部路径非法或重复' },
  'file-too-complex': { severity: 'error', stage: 'file', title: '工作簿结构过于复杂（超大区域、过多合并单元格）' },
  'file-too-many-rows': { severity: 'error', stage: 'file', title: '行数或列数超出模板范围' },
  'file-unreadable': { severity: 'error', stage: 'file', title: '无法读取的文件格式变体' },
  'file-timeout': { severity: 'error', stage: 'file', title: '文件读取超时' },
  // structure: is it our template, for this institution and period?
  'template-unknown': { severity: 'error', stage: 'structure', title: '不是本系统的报表模板' },
  'template-version-retired': { severity: 'error', stage: 'structure', title: '模板版本已停用' },
  'template-mismatch': { severity: 'error', stage: 'structure', title: '模板与上传位置不符' },
  'sheet-missing': { severity: 'error', stage: 'structure', title: '缺少报表工作表' },
  'header-missing': { severity: 'error', stage: 'structure', title: '找不到表头行' },
  'institution-missing': { severity: 'error', stage: 'structure', title: '未填写机构代码' },
  'institution-unknown': { severity: 'error', stage: 'structure', title: '机构不在名录中' },
  'institution-mismatch': { severity: 'error', stage: 'structure', title: '机构与上传机构不符' },
  'template-not-owed': { severity: 'error', stage: 'structure', title: '该机构无需报送此模板' },
  'period-invalid': { severity: 'error', stage: 'structure', title: '统计期格式错误' },
  'uploader-not-allowed': { severity: 'error', stage: 'access', title: '上传者无权报送该机构的报表' },
  'uploader-missing': { severity: 'error', stage: 'access', title: '上传未注明上传者' },
  'period-mismatch': { severity: 'error', stage: 'structure', title: '统计期与上传统计期不符' },
  'period-future': { severity: 'error', stage: 'structure', title: '统计期尚未结束' },
  'element-missing': { severity: 'error', stage: 'structure', title: '缺少指标行' },
  'element-unknown': { severity: 'error', stage: 'structure', title: '未知指标代码' },
  'element-duplicate': { severity: 'error', stage: 'structure', title: '指标重复' },
  // cells
  'value-required': { severity: 'error', stage: 'cells', title: '必填项未填' },
  'value-not-number': { severity: 'error', stage: 'cells', title: '不是数字' },
  'value-ambiguous': { severity: 'error', stage: 'cells', title: '数值有歧义' },
  'value-negative': { severity: 'error', stage: 'cells', title: '不能为负数' },
  'value-not-integer': { severity: 'error', stage: 'cells', title: '必须为整数' },
  'value-out-of-range': { severity: 'error', stage: 'cells', title: '超出允许范围' },
  'value-too-long': { severity: 'error', stage: 'cells', title: '文字过长' },
  'formula-no-result': { severity: 'error', stage: 'cells', title: '公式没有计算结果' },
  'cell-error-value': { severity: 'error', stage: 'cells', title: '单元格为错误值' },
  'normalized-text-number': { severity: 'info', stage: 'cells', title: '文本格式的数字已按数字读取' },
  'normalized-full-width': { severity: 'info', stage: 'cells', title: '全角数字已转换' },
  'normalized-thousands': { severity: 'info', stage: 'cells', title: '千位分隔符已去除' },
  'normalized-percent': { severity: 'info', stage: 'cells', title: '百分数已换算' },
  'normalized-whitespace': { severity: 'info', stage: 'cells', title: '首尾空格已去除' },
  'normalized-formula': { severity: 'info', stage: 'cells', title: '公式已取计算结果' },
  'normalized-date': { severity: 'info', stage: 'cells', title: '日期已规范' },
  'ledger-status-invalid': { severity: 'error', stage: 'cells', title: '进展状态不在可选范围' },
  'ledger-date-invalid': { severity: 'error', stage: 'cells', title: '完成时限不是有效日期' },
  'ledger-empty': { severity: 'error', stage: 'cells', title: '台账没有任何任务' },
  // rules
  'rule-violation': { severity: 'error', stage: 'rules', title: '不符合指标间关系' },
  'ledger-progress-mismatch': { severity: 'error', stage: 'rules', title: '完成进度与进展状态不符' },
  'ledger-overdue': { severity: 'warning', stage: 'rules', title: '任务已超过完成时限' },
  'ledger-duplicate-task': { severity: 'warning', stage: 'rules', title: '任务编号重复' },
  // history (from the store; ingestion)
  'history-ytd-decrease': { severity: 'warning', stage: 'history', title: '累计数小于上月' },
  'history-outlier': { severity: 'warning', stage: 'history', title: '与本机构近六个月相差过大' },
  'history-stock-jump': { severity: 'warning', stage: 'history', title: '期末数较上月突变' },
} as const satisfies Record<string, CodeInfo>;

export type IssueCode = keyof typeof ISSUE_CODES;
export const issueCodes = Object.keys(ISSUE_CODES) as IssueCode[];
