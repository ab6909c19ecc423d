/**
 * The definitions workbook a statistician edits in Excel or WPS: its sheets, their header texts
 * (fixed: scripts and people rely on them; extra columns are ignored), the Chinese words of coded
 * values, and what the 说明 sheet says about every column.
 */
import type { PeriodType, Semantics, ValueType } from '../../../schemas/model.ts';

export interface ColumnSpec {
  header: string;
  width: number;
  /** what the 说明 sheet says, and an example */
  help: string;
  example: string;
}

const col = (header: string, width: number, help: string, example: string): ColumnSpec => ({ header, width, help, example });

export const SHEETS = {
  institutions: {
    name: '机构',
    columns: [
      col('旗县代码', 10, '机构所属旗县的 6 位行政区划代码，须在「旗县」表中', '150525'),
      col('机构代码', 12, '旗县代码-三位序号，唯一，定下后不要改；卫健委本身为 -000', '150525-122'),
      col('机构名称', 24, '机构全称，出现在报表、汇总表和提醒中；改名直接改此栏', '八仙筒镇中心卫生院'),
      col('机构类型', 20, '从下拉列表选择（「机构类型」表的类型名称），决定应报哪些报表', '苏木乡镇卫生院'),
      col('额外报表', 12, '机构类型之外还要报的报表编号，多个用顿号分隔；没有则留空', 'T-FY'),
      col('联系人', 14, '接收催报和校验提醒的统计员', '张三'),
      col('电话', 16, '联系电话或手机', '0475-4200001'),
      col('邮箱', 24, '接收提醒的邮箱', 'stat@example.org'),
      col('启用期', 10, '从哪个月起应报（YYYY-MM）；留空表示一直应报。新增机构时留空则取导入时的生效期', '2025-04'),
      col('停用期', 10, '从哪个月起不再应报（YYYY-MM），历史数据保留；撤销或合并的机构填写', '2025-07'),
      col('并入机构', 12, '合并时填写接收并入的机构代码：停用期起，本机构的历史数据计入该机构', '150525-101'),
    ],
  },
  types: {
    name: '机构类型',
    columns: [
      col('类型代码', 26, '英文小写和下划线，唯一，定下后不要改', 'township_hc'),
      col('类型名称', 24, '中文名称，「机构」表的机构类型从中选择', '苏木乡镇卫生院'),
      col('应报报表', 20, '这类机构都要报的报表编号，用顿号分隔', 'T-JC、T-TZ'),
    ],
  },
  templates: {
    name: '报表',
    columns: [
      col('报表', 10, '报表编号 T-两个大写字母，唯一', 'T-JC'),
      col('版本', 8, '由系统维护：数据项的增删或顺序改变时，导入后自动生成新版本；请勿手改', '1'),
      col('名称', 26, '报表标题', '基层医疗卫生机构月报'),
      col('工作表名', 14, '空白报表中数据所在工作表的名称（不超过 28 个字）', '基层月报'),
      col('周期', 8, '月报、季报或年报', '月报'),
      col('截止日', 8, '月报、季报：报告期结束后的次月几日 23:59 前报送（如 5、15）；年报：次年几月几日（如 3-31）；留空则用旗县的截止日', '5'),
      col('启用期', 10, '这一版报表从哪个月起使用（YYYY-MM）；新报表留空则取导入时的生效期', '2025-04'),
    ],
  },
  elements: {
    name: '数据项',
    columns: [
      col('报表', 10, '所属报表编号', 'T-JC'),
      col('指标代码', 10, '两个大写字母加两位或三位数字，全局唯一；行的先后即空白报表中的顺序', 'JC30'),
      col('指标名称', 30, '中文名称', '家庭医生签约服务人次'),
      col('单位', 8, '从下拉列表选择', '人次'),
      col('类型', 8, '整数、小数或百分比（百分比按 95.26 填写）', '整数'),
      col('必填', 6, '是或否；必填项没有发生时填 0', '是'),
      col('口径', 10, '本期数（当月发生，季度、年度相加）、本年累计（1月1日起累计）或期末数（月末在册数）', '本期数'),
      col('可加总', 8, '是或否；满意度、平均时间等不能在机构间相加的填否', '是'),
      col('下限', 8, '合理取值的下限，留空为 0', ''),
      col('上限', 8, '合理取值的上限，留空为不限（百分比不超过 100）', ''),
      col('来源', 30, '依据的文件和原文', '奈曼旗2025年工作安排'),
      col('说明', 30, '填报提示，显示在空白报表中', '本年1月1日起累计'),
    ],
  },
  rules: {
    name: '校验规则',
    columns: [
      col('报表', 10, '所属报表编号', 'T-JC'),
      col('规则编号', 10, '报表前缀-R 两位或三位数字，唯一', 'JC-R17'),
      col('左边', 18, '一个数据项或用 + 连接的几个数据项', 'JC30'),
      col('运算符', 8, '<=、>=、==、< 或 >', '<='),
      col('右边', 18, '一个或几个数据项（用 + 连接），也可以是数字或“数据项+数字”', 'JC28'),
      col('级别', 8, '错误（不通过）或警告（通过但提示核实）', '错误'),
      col('条件', 14, '只在条件成立时检查，如 JC22>0；留空为总是检查', 'JC22>0'),
      col('说明', 30, '规则的依据或提示', '签约服务人次不超过门急诊人次'),
      col('容差(%)', 8, '允许的相对误差（百分比），通常用于“==”的警告规则；留空为不允许误差', '5'),
    ],
  },
  indicators: {
    name: '计算指标',
    columns: [
      col('报表', 10, '所属报表编号', 'T-JC'),
      col('指标代码', 10, '报表前缀-I 两位或三位数字，唯一', 'JC-I16'),
      col('指标名称', 30, '中文名称', '家庭医生签约服务率'),
      col('分子', 18, '一个或用 + 连接的几个数据项', 'JC30'),
      col('分母', 18, '一个或用 + 连接的几个数据项', 'JC28'),
      col('系数', 8, '100（%）、1000（‰）、10000、100000（1/10万）或 1（比值）', '100'),
      col('单位', 8, '%、‰、1/万、1/10万或比值', '%'),
      col('来源', 30, '依据的文件和原文', ''),
    ],
  },
  targets: {
    name: '目标',
    columns: [
      col('旗县代码', 10, '目标所属旗县', '150525'),
      col('年度', 8, '目标年度', '2025'),
      col('指标代码', 10, '计算指标代码或数据项代码', 'JC-I02'),
      col('方向', 6, '>= 表示不低于，<= 表示不高于', '>='),
      col('目标值', 8, '数值；比率按百分数填写，如 62 表示 62%', '62'),
      col('机构类型', 20, '只按这些类型的机构计算（类型名称，顿号分隔）；留空为全部机构', ''),
      col('序时方式', 10, '线性（按已过月份折算）、季度节点或不适用（全年按原值判断）；留空为不适用', '线性'),
      col('文件', 36, '目标所出的文件', '奈卫健字〔2025〕24号'),
      col('原文', 40, '文件中的原话', '健康管理率达到62%'),
    ],
  },
  counties: {
    name: '旗县',
    columns: [
      col('旗县代码', 10, '6 位行政区划代码', '150525'),
      col('旗县名称', 14, '旗县名称', '奈曼旗'),
      col('市代码', 8, '所属盟市的 4 位代码', '1505'),
      col('市名称', 12, '所属盟市名称', '通辽市'),
      col('截止日', 8, '月报次月几日 23:59 前报送（1–28）', '5'),
      col('备注', 30, '其他说明', ''),
    ],
  },
} as const satisfies Record<string, { name: string; columns: readonly ColumnSpec[] }>;

export type SheetKey = keyof typeof SHEETS;

/**
 * Columns an export writes after the fixed ones: a reader uses them when they are there and keeps the
 * stored value when somebody deleted them.
 */
const SUMMARY_COLUMNS = [
  col('总结章节', 12, '工作总结数据稿中这句话所在的部分（基本公共卫生、医疗服务、妇幼健康、疾病防控、中医药、重点任务，或自拟）；台账在「报表」表填写', '基本公共卫生'),
  col('总结句式', 60, '工作总结数据稿的句子，花括号中的占位按同期汇总表填入（见定义管理指南）；留空则不写', '截至{期末}，{地区}规范管理率{JC-I03}，较上年同期{JC-I03.同比}。'),
];
export const EXTRA_COLUMNS: Partial<Record<SheetKey, ColumnSpec[]>> = {
  institutions: [col('来源', 30, '机构信息依据的文件', '')],
  templates: [col('来源', 30, '报表依据的文件', ''), ...SUMMARY_COLUMNS],
  elements: SUMMARY_COLUMNS,
  indicators: SUMMARY_COLUMNS,
  targets: [
    col('季度节点', 16, '序时方式为“季度节点”时：第一至第四季度末应达到的值，用顿号分隔', '15、30、45、62'),
    col('序时说明', 40, '为什么这样考核（随全年累积的指标用线性；全年都应保持的率用不适用）', '分子为本年累计，分母为全年应管理人数'),
  ],
};
export type SheetName = (typeof SHEETS)[SheetKey]['name'];

/** The sheets in workbook order, after 说明. */
export const SHEET_ORDER: SheetKey[] = ['counties', 'institutions', 'types', 'templates', 'elements', 'rules', 'indicators', 'targets'];
export const HELP_SHEET = '说明';
/** very hidden: which definitions version and period the workbook was exported from */
export const META_SHEET = '_hmis_definitions';

export const TYPE_WORDS: Record<ValueType, string> = { integer: '整数', decimal: '小数', percent: '百分比' };
export const SEMANTICS_WORDS: Record<Semantics, string> = { flow: '本期数', ytd: '本年累计', stock: '期末数' };
export const PERIOD_WORDS: Record<PeriodType, string> = { month: '月报', quarter: '季报', year: '年报' };
export const SEVERITY_WORDS = { error: '错误', warning: '警告' } as const;
export const PACE_WORDS = { linear: '线性', quarterly: '季度节点', none: '不适用' } as const;
export const YES = '是';
export const NO = '否';

/** word → code, for a column with a fixed list */
export function reverse<K extends string>(words: Record<K, string>): Map<string, K> {
  return new Map(Object.entries(words).map(([k, v]) => [v as string, k as K]));
}
