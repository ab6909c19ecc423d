/**
 * Definitions as data: the log of versions in force from a period, the whole-set check, the change in
 * words, the workbook a statistician edits (export → edit → import), and the cached source.
 */
import ExcelJS from 'exceljs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkDefinitions, neverHolds } from '../../functions/core/definitions/check.ts';
import { diffDefinitions } from '../../functions/core/definitions/diff.ts';
import { checkImport, importDefinitions } from '../../functions/core/definitions/import.ts';
import { applyChanges, resolveDefinitions, targetKey, type DefinitionsLog, type DefinitionsVersion } from '../../functions/core/definitions/log.ts';
import { StoredDefinitions } from '../../functions/core/definitions/source.ts';
import { openDefinitionsWorkbook, readDefinitions, writeDefinitionsWorkbook } from '../../functions/core/definitions/workbook.ts';
import { bundledContent, bundledLog, type DefinitionsContent } from '../../schemas/index.ts';
import { MemoryDefinitions } from '../fakes/memory.ts';

const NOW = new Date('2025-03-20T10:00:00+08:00');
const base = () => structuredClone(bundledContent());

async function exported(content: DefinitionsContent = base(), version = 1): Promise<Buffer> {
  return writeDefinitionsWorkbook(content, { version, period: null }, NOW);
}

/** The exported workbook, edited as a statistician would in Excel (here with exceljs). */
async function edited(edit: (wb: ExcelJS.Workbook) => void, bytes?: Buffer): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load((bytes ?? (await exported())) as unknown as ExcelJS.Buffer);
  edit(wb);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** Appends a row after the last filled one, values by header. */
function append(wb: ExcelJS.Workbook, sheet: string, values: Record<string, string | number>): number {
  const ws = wb.getWorksheet(sheet)!;
  const headers = (ws.getRow(1).values as unknown[]).map((v) => String(v ?? ''));
  let last = 1;
  ws.eachRow((row, n) => {
    if (row.getCell(1).value !== null && row.getCell(1).value !== undefined && row.getCell(1).value !== '') last = n;
  });
  const row = ws.getRow(last + 1);
  for (const [h, v] of Object.entries(values)) row.getCell(headers.indexOf(h)).value = v;
  row.commit();
  return last + 1;
}

/** Sets one cell of the first row whose cell under `keyHeader` is `key`. */
function set(wb: ExcelJS.Workbook, sheet: string, match: Record<string, string>, header: string, value: string | number | null): number {
  const ws = wb.getWorksheet(sheet)!;
  const headers = (ws.getRow(1).values as unknown[]).map((v) => String(v ?? ''));
  let at = 0;
  ws.eachRow((row, n) => {
    if (at || n === 1) return;
    if (Object.entries(match).every(([h, v]) => String(row.getCell(headers.indexOf(h)).value ?? '') === v)) at = n;
  });
  if (!at) throw new Error(`no row ${JSON.stringify(match)} in ${sheet}`);
  ws.getRow(at).getCell(headers.indexOf(header)).value = value;
  return at;
}

const logOf = (...more: DefinitionsVersion[]): DefinitionsLog => ({ versions: [...bundledLog().versions, ...more] });

describe('the log: versions in force from a period', () => {
  it('the bundled seed is one version, in force from the beginning, and resolves to the bundled content', () => {
    const log = bundledLog();
    expect(log.versions).toHaveLength(1);
    expect(log.versions[0]!.effective).toBeNull();
    expect(resolveDefinitions(log, '2025-03').content).toEqual(bundledContent());
  });

  it('a change is in force from its period on, never before', () => {
    const v2: DefinitionsVersion = {
      version: 2,
      effective: '2025-04',
      createdAt: NOW.toISOString(),
      by: 't',
      summary: [],
      changes: [{ entity: 'institution', key: '150525-101', set: { name: '八仙筒镇卫生院' } }],
    };
    const log = logOf(v2);
    expect(resolveDefinitions(log, '2025-03').institution('150525-101')!.institution.name).toBe('八仙筒镇中心卫生院');
    expect(resolveDefinitions(log, '2025-04').institution('150525-101')!.institution.name).toBe('八仙筒镇卫生院');
    expect(resolveDefinitions(log, null).version).toBe(2);
    expect(resolveDefinitions(log, '2025-03').version).toBe(1);
  });

  it('an import that takes effect before a pending one neither loses nor leaks it (changes are per field)', () => {
    const later: DefinitionsVersion = { version: 2, effective: '2026-01', createdAt: '', by: '', summary: [], changes: [{ entity: 'institution', key: '150525-101', set: { name: '新名称' } }] };
    const earlier: DefinitionsVersion = { version: 3, effective: '2025-12', createdAt: '', by: '', summary: [], changes: [{ entity: 'institution', key: '150525-101', set: { contact: { name: '新统计员', phone: '1' } } }] };
    const log = logOf(later, earlier);
    const dec = resolveDefinitions(log, '2025-12').institution('150525-101')!.institution;
    const jan = resolveDefinitions(log, '2026-01').institution('150525-101')!.institution;
    expect([dec.name, dec.contact?.name]).toEqual(['八仙筒镇中心卫生院', '新统计员']);
    expect([jan.name, jan.contact?.name]).toEqual(['新名称', '新统计员']);
  });

  it('null removes a field; a target is keyed by county, year, indicator and scope', () => {
    const key = targetKey('150525', { year: 2025, indicator: 'JC-I02' });
    const after = applyChanges(base(), [
      { entity: 'institution', key: '150525-101', set: { contact: null } },
      { entity: 'target', key, set: null },
    ]);
    const county = after.counties.find((c) => c.code === '150525')!;
    expect(county.institutions.find((i) => i.code === '150525-101')!.contact).toBeUndefined();
    expect(county.targets.some((t) => t.indicator === 'JC-I02')).toBe(false);
    expect(base().counties.find((c) => c.code === '150525')!.targets.some((t) => t.indicator === 'JC-I02')).toBe(true);
  });
});

describe('checking a definitions set as a whole', () => {
  it('the bundled set has no problem', () => {
    expect(checkDefinitions(base())).toEqual([]);
  });

  it('finds unknown references, duplicates, impossible rules, a merge into nothing, a code outside its county', () => {
    const c = base();
    const jc = c.templates.find((t) => t.id === 'T-JC')!;
    if (jc.kind !== 'indicator') throw new Error('T-JC');
    jc.rules.push({ id: 'JC-R90', left: ['JC98'], op: '<=', right: ['JC01'], severity: 'error' });
    jc.rules.push({ id: 'JC-R91', left: ['JC01'], op: '<', right: ['JC01'], severity: 'error' });
    jc.indicators.push({ code: 'JC-I90', name: 'x', numerator: ['JC01'], denominator: ['JC97'], factor: 100, unit: '%', source: '' });
    const naiman = c.counties.find((x) => x.code === '150525')!;
    naiman.institutions.push({ ...naiman.institutions[1]!, code: '150525-001' });
    naiman.institutions.push({ code: '150425-777', name: '外县', type: 'township_hc', extraTemplates: [], source: '' });
    naiman.institutions.push({ code: '150525-130', name: '并入', type: 'township_hc', extraTemplates: [], until: '2025-04', mergedInto: '150525-999', source: '' });
    naiman.targets.push({ indicator: 'JC-I99', direction: '>=', value: 1, year: 2025, document: 'x', quote: '' });
    const found = checkDefinitions(c).map((p) => [p.code, p.sheet, p.field, p.value]);
    expect(found).toEqual(
      expect.arrayContaining([
        ['definitions-reference', '校验规则', '左边', 'JC98'],
        ['definitions-rule-impossible', '校验规则', '运算符', '<'],
        ['definitions-reference', '计算指标', '分母', 'JC97'],
        ['definitions-duplicate', '机构', '机构代码', '150525-001'],
        ['definitions-value-invalid', '机构', '机构代码', '150425-777'],
        ['definitions-reference', '机构', '并入机构', '150525-999'],
        ['definitions-reference', '目标', '指标代码', 'JC-I99'],
      ]),
    );
  });

  it('a rule can never hold when, values being ≥ 0 and within bounds, the sides cannot compare that way', () => {
    const el = new Map([
      ['A', { type: 'integer' }],
      ['B', { type: 'integer' }],
      ['P', { type: 'percent' }],
      ['C', { type: 'integer', max: 10 }],
    ]);
    expect(neverHolds(['A'], '<', ['A'], 0, el)).toBe(true);
    expect(neverHolds(['A'], '<=', ['A'], 0, el)).toBe(false);
    expect(neverHolds(['A'], '<', [], 0, el)).toBe(true); // A < 0
    expect(neverHolds(['A', 'B'], '<', ['A'], 0, el)).toBe(true); // B < 0
    expect(neverHolds(['A'], '<', ['A', 'B'], 0, el)).toBe(false);
    expect(neverHolds(['P'], '>', [], 100, el)).toBe(true); // a percent over 100
    expect(neverHolds(['C'], '>=', [], 11, el)).toBe(true);
    expect(neverHolds(['A'], '==', ['A'], 1, el)).toBe(true);
    expect(neverHolds(['A'], '==', ['B'], 5, el)).toBe(false);
  });
});

describe('what an edit changes, in words', () => {
  it('new institution, new data element (a new template version), a changed target', () => {
    const next = base();
    const naiman = next.counties.find((c) => c.code === '150525')!;
    naiman.institutions.push({ code: '150525-122', name: '新建社区卫生服务站', type: 'community_hc', extraTemplates: [], source: '' });
    naiman.targets.find((t) => t.indicator === 'JC-I02')!.value = 65;
    const jc = next.templates.find((t) => t.id === 'T-JC')!;
    if (jc.kind !== 'indicator') throw new Error('T-JC');
    jc.elements.push({ code: 'JC30', name: '家庭医生签约服务人次', unit: '人次', type: 'integer', required: false, semantics: 'flow', additive: true, source: '' });
    const diff = diffDefinitions(base(), next, '2025-04', bundledLog());
    expect(diff.summary).toEqual([
      '新增机构 1 家：新建社区卫生服务站（150525-122）',
      'T-JC 启用新版本（第2版，自 2025-04 起；之前各期仍按第1版校验）',
      'T-JC 新增数据项 JC30「家庭医生签约服务人次」',
      '目标 JC-I02（奈曼旗 2025 年）由 62 改为 65',
    ]);
    const after = resolveDefinitions(logOf({ version: 2, effective: '2025-04', createdAt: '', by: '', summary: diff.summary, changes: diff.changes }), '2025-04');
    expect(after.institution('150525-122')!.institution.from).toBe('2025-04');
    expect(after.template('T-JC')).toMatchObject({ version: 2, from: '2025-04' });
  });

  it('a rule or a wording changes the content, not the layout: the version number stays', () => {
    const next = base();
    const jc = next.templates.find((t) => t.id === 'T-JC')!;
    if (jc.kind !== 'indicator') throw new Error('T-JC');
    jc.elements[0]!.name = '常住人口';
    jc.rules.push({ id: 'JC-R17', left: ['JC07'], op: '==', right: ['JC06'], severity: 'warning', tolerance: 5, when: { left: ['JC06'], op: '>', value: 0 } });
    const diff = diffDefinitions(base(), next, '2025-04', bundledLog());
    const change = diff.changes.find((c) => c.entity === 'template')!;
    expect(change.set).toMatchObject({ id: 'T-JC', version: 1 });
    expect(diff.summary).toEqual(['T-JC 修改数据项 JC01「常住人口」', 'T-JC 新增校验规则 JC-R17']);
  });

  it('a row deleted from 机构 deactivates the institution from the effective period, history kept', () => {
    const next = base();
    const naiman = next.counties.find((c) => c.code === '150525')!;
    naiman.institutions = naiman.institutions.filter((i) => i.code !== '150525-116');
    const diff = diffDefinitions(base(), next, '2025-07', bundledLog());
    expect(diff.changes).toEqual([{ entity: 'institution', key: '150525-116', set: { until: '2025-07' } }]);
    expect(diff.summary[0]).toContain('自 2025-07 起停用');
  });
});

describe('the definitions workbook', () => {
  it('has the fixed sheets and headers, frozen, with dropdowns, a 说明 sheet and where it came from', async () => {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await exported()) as unknown as ExcelJS.Buffer);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['说明', '旗县', '机构', '机构类型', '报表', '数据项', '校验规则', '计算指标', '目标', '_hmis_definitions']);
    const headers = (name: string) => (wb.getWorksheet(name)!.getRow(1).values as unknown[]).slice(1);
    expect(headers('机构')).toEqual(['旗县代码', '机构代码', '机构名称', '机构类型', '额外报表', '联系人', '电话', '邮箱', '启用期', '停用期', '并入机构', '来源']);
    expect(headers('机构类型')).toEqual(['类型代码', '类型名称', '应报报表']);
    expect(headers('报表')).toEqual(['报表', '版本', '名称', '工作表名', '周期', '截止日', '启用期', '来源', '总结章节', '总结句式']);
    expect(headers('数据项')).toEqual(['报表', '指标代码', '指标名称', '单位', '类型', '必填', '口径', '可加总', '下限', '上限', '来源', '说明', '总结章节', '总结句式']);
    expect(headers('校验规则')).toEqual(['报表', '规则编号', '左边', '运算符', '右边', '级别', '条件', '说明', '容差(%)']);
    expect(headers('计算指标')).toEqual(['报表', '指标代码', '指标名称', '分子', '分母', '系数', '单位', '来源', '总结章节', '总结句式']);
    expect(headers('目标')).toEqual(['旗县代码', '年度', '指标代码', '方向', '目标值', '机构类型', '序时方式', '文件', '原文', '季度节点', '序时说明']);
    const inst = wb.getWorksheet('机构')!;
    expect(inst.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(inst.getCell('D2').dataValidation).toMatchObject({ type: 'list', formulae: ["'机构类型'!$B$2:$B$200"] });
    expect(wb.getWorksheet('数据项')!.getCell('E3').dataValidation).toMatchObject({ type: 'list', formulae: ['"整数,小数,百分比"'] });
    const help = wb.getWorksheet('说明')!;
    const explained = new Set<string>();
    help.eachRow((row) => explained.add(`${String(row.getCell(1).value)}|${String(row.getCell(2).value)}`));
    for (const h of headers('目标')) expect(explained.has(`目标|${String(h)}`), String(h)).toBe(true);
    expect(wb.getWorksheet('_hmis_definitions')!.state).toBe('veryHidden');
  });

  it('export → import → export gives the same definitions, whatever the commission typed (property)', async () => {
    const text = fc.string({ minLength: 1, maxLength: 12, unit: fc.constantFrom(...'卫生院社区中心（）()·-蒙医甲乙丙ABC123 ') }).map((s) => s.trim()).filter((s) => s.length > 0);
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          name: text,
          phone: fc.option(fc.stringMatching(/^[0-9]{4}-[0-9]{7}$/), { nil: undefined }),
          target: fc.double({ min: 0, max: 1000, noNaN: true }),
          hint: fc.option(text, { nil: undefined }),
          max: fc.option(fc.integer({ min: 1, max: 100000 }), { nil: undefined }),
          tolerance: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
          until: fc.option(fc.constantFrom('2025-04', '2026-01'), { nil: undefined }),
        }),
        async (e) => {
          const c = base();
          const naiman = c.counties.find((x) => x.code === '150525')!;
          const inst = naiman.institutions.find((i) => i.code === '150525-110')!;
          inst.name = e.name;
          inst.contact = { name: e.name, ...(e.phone ? { phone: e.phone } : {}) };
          if (e.until) inst.until = e.until;
          naiman.targets[0]!.value = e.target;
          const jc = c.templates.find((t) => t.id === 'T-JC')!;
          if (jc.kind !== 'indicator') throw new Error('T-JC');
          if (e.hint) jc.elements[3]!.hint = e.hint;
          if (e.max) jc.elements[3]!.max = e.max;
          if (e.tolerance !== undefined) jc.rules[0]!.tolerance = e.tolerance;
          const opened = await openDefinitionsWorkbook(await exported(c));
          if (!opened.ok) throw new Error('not opened');
          const read = readDefinitions(opened.sheets, base());
          expect(read.issues).toEqual([]);
          expect(read.content).toEqual(c);
          const again = await openDefinitionsWorkbook(await exported(read.content!));
          expect(again.ok && readDefinitions(again.sheets, base()).content).toEqual(c);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('reads what people type: full-width codes, a month typed as a date, ≥ for >=, a type by its name', async () => {
    const bytes = await edited((wb) => {
      set(wb, '机构', { 机构代码: '150525-110' }, '停用期', '２０２５－０７');
      set(wb, '目标', { 旗县代码: '150525', 指标代码: 'JC-I02' }, '方向', '≥');
      append(wb, '机构', { 旗县代码: '１５０５２５', 机构代码: '150525-122', 机构名称: '新建站', 机构类型: '社区卫生服务中心', 启用期: '2025年4月' });
    });
    const opened = await openDefinitionsWorkbook(bytes);
    if (!opened.ok) throw new Error('not opened');
    const read = readDefinitions(opened.sheets, base());
    expect(read.issues).toEqual([]);
    const naiman = read.content!.counties.find((c) => c.code === '150525')!;
    expect(naiman.institutions.find((i) => i.code === '150525-110')!.until).toBe('2025-07');
    expect(naiman.institutions.find((i) => i.code === '150525-122')).toMatchObject({ type: 'community_hc', from: '2025-04' });
  });
});

describe('importing an edited workbook', () => {
  const importing = (bytes: Buffer, store = new MemoryDefinitions(bundledLog()), dryRun = false) => importDefinitions(store, bytes, { effective: '2025-04', by: '统计科 张某', now: NOW, dryRun });

  it('stores a new version with who, when, the effective period and the change in words', async () => {
    const store = new MemoryDefinitions(bundledLog());
    const bytes = await edited((wb) => {
      append(wb, '机构', { 旗县代码: '150525', 机构代码: '150525-122', 机构名称: '新建社区卫生服务站', 机构类型: '社区卫生服务中心' });
      append(wb, '数据项', { 报表: 'T-JC', 指标代码: 'JC30', 指标名称: '家庭医生签约服务人次', 单位: '人次', 类型: '整数', 必填: '否', 口径: '本期数' });
      set(wb, '目标', { 旗县代码: '150525', 指标代码: 'JC-I02' }, '目标值', 65);
    });
    const { report } = await importing(bytes, store);
    expect(report).toMatchObject({ status: 'accepted', version: 2, baseVersion: 1, effective: '2025-04' });
    expect(report.summary).toEqual(['新增机构 1 家：新建社区卫生服务站（150525-122）', 'T-JC 启用新版本（第2版，自 2025-04 起；之前各期仍按第1版校验）', 'T-JC 新增数据项 JC30「家庭医生签约服务人次」', '目标 JC-I02（奈曼旗 2025 年）由 62 改为 65']);
    const log = await store.read();
    expect(log.versions[1]).toMatchObject({ version: 2, effective: '2025-04', by: '统计科 张某', createdAt: NOW.toISOString(), summary: report.summary });
  });

  it('a dry run and an unchanged workbook store nothing', async () => {
    const store = new MemoryDefinitions(bundledLog());
    expect((await importing(await exported(), store)).report.status).toBe('unchanged');
    const bytes = await edited((wb) => set(wb, '目标', { 旗县代码: '150525', 指标代码: 'JC-I02' }, '目标值', 65));
    expect((await importing(bytes, store, true)).report).toMatchObject({ status: 'accepted', dryRun: true });
    expect((await store.read()).versions).toHaveLength(1);
  });

  // the classes of a broken workbook the issue names, each with the cell a statistician must fix
  const BROKEN: Array<[string, (wb: ExcelJS.Workbook) => string, string]> = [
    ['a rule naming an unknown element', (wb) => `C${append(wb, '校验规则', { 报表: 'T-JC', 规则编号: 'JC-R17', 左边: 'JC98', 运算符: '<=', 右边: 'JC01', 级别: '错误' })}`, '「JC98」不是 T-JC 的数据项'],
    ['an indicator naming an unknown element', (wb) => `E${append(wb, '计算指标', { 报表: 'T-JC', 指标代码: 'JC-I16', 指标名称: 'x', 分子: 'JC01', 分母: 'JC97', 系数: 100, 单位: '%' })}`, '「JC97」不是 T-JC 的数据项'],
    ['a duplicate code', (wb) => `B${append(wb, '数据项', { 报表: 'T-JC', 指标代码: 'JC01', 指标名称: '重复', 单位: '人', 类型: '整数', 必填: '是', 口径: '期末数' })}`, '「JC01」与第 2 行重复'],
    ['a rule that can never hold', (wb) => `D${append(wb, '校验规则', { 报表: 'T-JC', 规则编号: 'JC-R17', 左边: 'JC01', 运算符: '<', 右边: 'JC01', 级别: '错误' })}`, '在任何取值下都不可能成立'],
    ['a target on an unknown indicator', (wb) => `C${append(wb, '目标', { 旗县代码: '150525', 年度: 2025, 指标代码: 'JC-I99', 方向: '>=', 目标值: 50, 文件: '文件' })}`, '「JC-I99」不是已定义的计算指标或数据项'],
    ['an institution code outside its county', (wb) => `B${append(wb, '机构', { 旗县代码: '150525', 机构代码: '150425-199', 机构名称: '外县', 机构类型: '苏木乡镇卫生院' })}`, '不在旗县 150525 之下'],
    ['text where a number belongs', (wb) => `E${set(wb, '目标', { 旗县代码: '150525', 指标代码: 'JC-I02' }, '目标值', '六十五')}`, '「六十五」不是数字'],
    ['a merge into an unknown institution', (wb) => `K${set(wb, '机构', { 机构代码: '150525-115' }, '并入机构', '150525-999') && set(wb, '机构', { 机构代码: '150525-115' }, '停用期', '2025-04')}`, '「150525-999」不在机构名录中'],
    ['a 总结句式 naming a code its return does not have', (wb) => `J${set(wb, '计算指标', { 指标代码: 'JC-I03' }, '总结句式', '规范管理率{JC-I03}，{YY01}')}`, '「{YY01}」中的 YY01 不是本报表的数据项或计算指标'],
    ['a 总结句式 without its 总结章节', (wb) => `I${set(wb, '计算指标', { 指标代码: 'JC-I03' }, '总结章节', null)}`, '请填写总结句式所属的章节'],
  ];

  it('keeps the 总结句式 with the definitions: an edited sentence is a new version of the return, in words', async () => {
    const store = new MemoryDefinitions(bundledLog());
    const sentence = '{地区}高血压患者规范管理率{JC-I03}（{期末}），较上年同期{JC-I03.同比}。';
    const { report } = await importing(await edited((wb) => set(wb, '计算指标', { 指标代码: 'JC-I03' }, '总结句式', sentence)), store);
    expect(report).toMatchObject({ status: 'accepted', summary: ['T-JC 修改计算指标 JC-I03「高血压患者规范管理率」'] });
    const defs = resolveDefinitions(await store.read(), '2025-04');
    const t = defs.template('T-JC');
    expect(t?.kind === 'indicator' && t.indicators.find((x) => x.code === 'JC-I03')).toMatchObject({ section: '基本公共卫生', sentence });
    // the earlier months keep the sentence they had
    const before = resolveDefinitions(await store.read(), '2025-03').template('T-JC');
    expect(before?.kind === 'indicator' && before.indicators.find((x) => x.code === 'JC-I03')!.sentence).toContain('截至{期末}');
  });

  it.each(BROKEN)('refuses %s with the sheet, the cell and a Chinese message, and changes nothing', async (_name, edit, words) => {
    const store = new MemoryDefinitions(bundledLog());
    let cell = '';
    const bytes = await edited((wb) => {
      cell = edit(wb);
    });
    const { report } = await importing(bytes, store);
    expect(report.status).toBe('rejected');
    const sheet = report.issues[0]!.sheet!;
    expect(report.issues.map((i) => i.message)).toContainEqual(expect.stringContaining(`${sheet}!${cell}`));
    expect(report.issues.some((i) => i.message.includes(words) && i.cell === cell)).toBe(true);
    expect((await store.read()).versions).toHaveLength(1);
  });

  it('refuses a workbook without its sheets or headers, and bytes that are not a workbook', async () => {
    const noSheet = await edited((wb) => wb.removeWorksheet(wb.getWorksheet('目标')!.id));
    expect((await importing(noSheet)).report.issues[0]).toMatchObject({ code: 'definitions-sheet-missing' });
    const renamed = await edited((wb) => {
      wb.getWorksheet('机构')!.getCell('C1').value = '名称';
    });
    expect((await importing(renamed)).report.issues[0]).toMatchObject({ code: 'definitions-header-missing', sheet: '机构', cell: null, row: 1 });
    expect((await importing(Buffer.from('not a workbook'))).report.issues[0]).toMatchObject({ code: 'definitions-file' });
  });

  it('compares the edit with the version it was exported from: another import in between is kept', async () => {
    const store = new MemoryDefinitions(bundledLog());
    const fromV1 = await exported();
    const a = await edited((wb) => set(wb, '目标', { 旗县代码: '150525', 指标代码: 'JC-I02' }, '目标值', 65), fromV1);
    const b = await edited((wb) => set(wb, '机构', { 机构代码: '150525-101' }, '电话', '0475-9999999'), fromV1);
    expect((await importing(a, store)).report.version).toBe(2);
    expect((await importing(b, store)).report).toMatchObject({ status: 'accepted', version: 3, baseVersion: 1, summary: ['机构 150525-101（八仙筒镇中心卫生院）联系人或联系方式修改'] });
    const now = resolveDefinitions(await store.read(), '2025-04');
    expect(now.county('150525')!.targets.find((t) => t.indicator === 'JC-I02')!.value).toBe(65);
    expect(now.institution('150525-101')!.institution.contact?.phone).toBe('0475-9999999');
  });

  it('an effective period that is not a month is refused before anything is read', async () => {
    const { report } = await checkImport(await exported(), bundledLog(), { effective: '2025-Q2', by: 'x', now: NOW });
    expect(report.issues[0]).toMatchObject({ code: 'definitions-effective' });
  });
});

describe('the stored source: cached per process, a new version seen within its age', () => {
  it('checks the head at most every maxAgeMs and reads the log only when the version moved', async () => {
    const store = new MemoryDefinitions(bundledLog());
    let clock = 0;
    const source = new StoredDefinitions(store, { maxAgeMs: 30_000, clock: () => clock });
    expect((await source.at('2025-04')).template('T-JC')!.version).toBe(1);
    const bytes = await edited((wb) => append(wb, '数据项', { 报表: 'T-JC', 指标代码: 'JC30', 指标名称: 'x', 单位: '人次', 类型: '整数', 必填: '否', 口径: '本期数' }));
    await importDefinitions(store, bytes, { effective: '2025-04', by: 'x', now: NOW });
    clock = 29_000;
    expect((await source.at('2025-04')).template('T-JC')!.version).toBe(1);
    expect(store.heads).toBe(2); // the first load and the import's own
    clock = 31_000;
    expect((await source.at('2025-04')).template('T-JC')!.version).toBe(2);
    expect((await source.at('2025-03')).template('T-JC')!.version).toBe(1);
    const reads = store.reads;
    clock = 62_000;
    await source.at('2025-04');
    expect(store.reads).toBe(reads); // same version: the head only
  });
});
