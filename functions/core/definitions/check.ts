/**
 * Whether a definitions set makes sense as a whole: every reference resolves, nothing is defined
 * twice, no rule can never hold, lifecycles are in order. Each problem names the sheet, the row
 * (by its key) and the column of the definitions workbook it concerns, so an import can point at
 * the cell; the bundled JSON seed is checked by the same function.
 */
import type { DefinitionsContent, IndicatorTemplate, Rule, RuleOp } from '../../../schemas/model.ts';
import { targetKey } from './log.ts';
import { SHEETS, type SheetName } from './layout.ts';
import type { DefinitionCode } from './report.ts';
import { parsePattern, SECTION_ORDER } from '../draft/patterns.ts';

export interface Problem {
  code: DefinitionCode;
  sheet: SheetName;
  /** the row's key: an institution code, `T-JC|JC05`, a target key … */
  key: string;
  /** the column header */
  field: string;
  /** what the message is about (shown in 「」 before it): the cell's value or the part of it at fault */
  value: string;
  message: string;
}

export function checkDefinitions(content: DefinitionsContent): Problem[] {
  const out: Problem[] = [];
  const problem: Report = (code, sheet, key, field, value, message) => out.push({ code, sheet, key, field, value: value === undefined || value === null ? '' : String(value), message });
  const S = SHEETS;

  const templateIds = new Set<string>();
  for (const t of content.templates) {
    if (templateIds.has(t.id)) problem('definitions-duplicate', S.templates.name, t.id, '报表', t.id, '报表编号重复');
    templateIds.add(t.id);
  }
  const typeCodes = new Map<string, string>();
  for (const t of content.institutionTypes) {
    if (typeCodes.has(t.code)) problem('definitions-duplicate', S.types.name, t.code, '类型代码', t.code, '机构类型代码重复');
    typeCodes.set(t.code, t.name);
    for (const id of t.templates) if (!templateIds.has(id)) problem('definitions-reference', S.types.name, t.code, '应报报表', id, '不是已定义的报表');
  }
  const names = new Map<string, string>();
  for (const t of content.institutionTypes) {
    if (names.has(t.name)) problem('definitions-duplicate', S.types.name, t.code, '类型名称', t.name, `与类型 ${names.get(t.name)} 的名称重复`);
    names.set(t.name, t.code);
  }

  checkSummaryPatterns(content, problem);
  // templates: elements, rules, indicators
  const measurable = new Map<string, string>();
  for (const t of content.templates) {
    if (t.kind !== 'indicator') continue;
    checkTemplate(t, problem);
    for (const e of t.elements) measurable.set(e.code, t.id);
    for (const x of t.indicators) {
      if (measurable.has(x.code) && measurable.get(x.code) !== t.id) problem('definitions-duplicate', S.indicators.name, `${t.id}|${x.code}`, '指标代码', x.code, `已在 ${measurable.get(x.code)} 中使用，代码须全局唯一`);
      measurable.set(x.code, t.id);
    }
  }
  const elementOwner = new Map<string, string>();
  for (const t of content.templates) {
    if (t.kind !== 'indicator') continue;
    for (const e of t.elements) {
      const other = elementOwner.get(e.code);
      if (other && other !== t.id) problem('definitions-duplicate', S.elements.name, `${t.id}|${e.code}`, '指标代码', e.code, `已在 ${other} 中使用，代码须全局唯一`);
      elementOwner.set(e.code, t.id);
    }
  }

  // counties and institutions
  const countyCodes = new Set<string>();
  const all = new Map<string, { county: string; until?: string; from?: string; mergedInto?: string }>();
  for (const c of content.counties) {
    if (countyCodes.has(c.code)) problem('definitions-duplicate', S.counties.name, c.code, '旗县代码', c.code, '旗县代码重复');
    countyCodes.add(c.code);
    for (const i of c.institutions) {
      if (all.has(i.code)) problem('definitions-duplicate', S.institutions.name, i.code, '机构代码', i.code, '机构代码重复');
      all.set(i.code, { county: c.code, ...(i.until ? { until: i.until } : {}), ...(i.from ? { from: i.from } : {}), ...(i.mergedInto ? { mergedInto: i.mergedInto } : {}) });
      if (!i.code.startsWith(`${c.code}-`)) problem('definitions-value-invalid', S.institutions.name, i.code, '机构代码', i.code, `不在旗县 ${c.code} 之下：机构代码应为 ${c.code}-三位序号`);
      if (!typeCodes.has(i.type)) problem('definitions-reference', S.institutions.name, i.code, '机构类型', i.type, '不是已定义的机构类型');
      for (const id of i.extraTemplates) if (!templateIds.has(id)) problem('definitions-reference', S.institutions.name, i.code, '额外报表', id, '不是已定义的报表');
      if (i.from && i.until && i.until <= i.from) problem('definitions-lifecycle', S.institutions.name, i.code, '停用期', i.until, `停用期应晚于启用期 ${i.from}`);
      if (i.mergedInto && !i.until) problem('definitions-lifecycle', S.institutions.name, i.code, '停用期', '', `填写了并入机构 ${i.mergedInto}，须同时填写停用期（即并入的月份）`);
    }
  }
  for (const [code, i] of all) {
    if (!i.mergedInto) continue;
    const target = all.get(i.mergedInto);
    if (!target) {
      problem('definitions-reference', S.institutions.name, code, '并入机构', i.mergedInto, '不在机构名录中，不能并入');
      continue;
    }
    if (target.county !== i.county) problem('definitions-lifecycle', S.institutions.name, code, '并入机构', i.mergedInto, '与本机构不在同一旗县');
    if (i.mergedInto === code) problem('definitions-lifecycle', S.institutions.name, code, '并入机构', i.mergedInto, '机构不能并入自身');
    else if (target.until && i.until && target.until <= i.until && !target.mergedInto) problem('definitions-lifecycle', S.institutions.name, code, '并入机构', i.mergedInto, `自 ${target.until} 起已停用，不能在 ${i.until} 接收并入`);
    else if (target.from && i.until && target.from > i.until) problem('definitions-lifecycle', S.institutions.name, code, '并入机构', i.mergedInto, `的启用期 ${target.from} 晚于本机构的停用期 ${i.until}，中间有月份无人报送`);
    // a chain must end: A → B → A never does
    let at: string | undefined = i.mergedInto;
    for (let n = 0; at && n <= all.size; n++) {
      if (at === code) {
        problem('definitions-lifecycle', S.institutions.name, code, '并入机构', i.mergedInto, `并入关系形成循环（${code} → … → ${code}）`);
        break;
      }
      at = all.get(at)?.mergedInto;
    }
  }

  // targets
  for (const c of content.counties) {
    const seen = new Set<string>();
    for (const t of c.targets) {
      const key = targetKey(c.code, t);
      if (seen.has(key)) problem('definitions-duplicate', S.targets.name, key, '指标代码', t.indicator, `${c.code} ${t.year} 年的这项目标重复`);
      seen.add(key);
      if (!measurable.has(t.indicator)) problem('definitions-reference', S.targets.name, key, '指标代码', t.indicator, '不是已定义的计算指标或数据项');
      for (const type of t.institutionTypes ?? []) if (!typeCodes.has(type)) problem('definitions-reference', S.targets.name, key, '机构类型', type, '不是已定义的机构类型');
    }
  }
  return out;
}

type Report = (code: DefinitionCode, sheet: SheetName, key: string, field: string, value: unknown, message: string) => void;

/** 总结句式: every placeholder known, a section with every sentence (functions/core/draft/patterns.ts). */
function checkSummaryPatterns(content: DefinitionsContent, problem: Report): void {
  const check = (sheet: SheetName, key: string, x: { section?: string; sentence?: string }, codes: ReadonlySet<string>, ledger: boolean) => {
    if (x.section && !x.sentence) problem('definitions-value-invalid', sheet, key, '总结句式', '', `填写了总结章节「${x.section}」，请同时填写总结句式`);
    if (!x.sentence) return;
    if (!x.section) problem('definitions-value-invalid', sheet, key, '总结章节', '', `请填写总结句式所属的章节，如 ${SECTION_ORDER.join('、')}`);
    for (const message of parsePattern(x.sentence, codes, ledger).problems) problem('definitions-value-invalid', sheet, key, '总结句式', x.sentence, message);
  };
  for (const t of content.templates) {
    if (t.kind === 'ledger') {
      check(SHEETS.templates.name, t.id, t, new Set(), true);
      continue;
    }
    const codes = new Set([...t.elements.map((e) => e.code), ...t.indicators.map((x) => x.code)]);
    for (const e of t.elements) check(SHEETS.elements.name, `${t.id}|${e.code}`, e, codes, false);
    for (const x of t.indicators) check(SHEETS.indicators.name, `${t.id}|${x.code}`, x, codes, false);
  }
}

function checkTemplate(t: IndicatorTemplate, problem: Report): void {
  const S = SHEETS;
  const elements = new Map(t.elements.map((e) => [e.code, e]));
  const seen = new Set<string>();
  for (const e of t.elements) {
    const key = `${t.id}|${e.code}`;
    if (seen.has(e.code)) problem('definitions-duplicate', S.elements.name, key, '指标代码', e.code, `在 ${t.id} 中重复`);
    seen.add(e.code);
    if (e.min !== undefined && e.max !== undefined && e.min > e.max) problem('definitions-value-invalid', S.elements.name, key, '下限', e.min, `下限大于上限 ${e.max}`);
    if (e.min !== undefined && e.min < 0) problem('definitions-value-invalid', S.elements.name, key, '下限', e.min, '下限不能为负数（所有数据项都不能为负）');
    if (e.type === 'percent' && e.max !== undefined && e.max > 100) problem('definitions-value-invalid', S.elements.name, key, '上限', e.max, '百分比的上限不能超过 100');
  }
  const ruleIds = new Set<string>();
  for (const r of t.rules) {
    const key = `${t.id}|${r.id}`;
    if (ruleIds.has(r.id)) problem('definitions-duplicate', S.rules.name, key, '规则编号', r.id, `在 ${t.id} 中重复`);
    ruleIds.add(r.id);
    const unknown = (codes: readonly string[], field: string) => {
      for (const c of codes) if (!elements.has(c)) problem('definitions-reference', S.rules.name, key, field, c, `不是 ${t.id} 的数据项`);
      return codes.some((c) => !elements.has(c));
    };
    const bad = [unknown(r.left, '左边'), unknown(r.right, '右边'), r.when ? unknown(r.when.left, '条件') : false].some(Boolean);
    if (bad) continue;
    if (neverHolds(r.left, r.op, r.right, r.constant ?? 0, elements)) {
      problem('definitions-rule-impossible', S.rules.name, key, '运算符', r.op, `规则 ${r.left.join('+')} ${r.op} ${sideText(r.right, r.constant)} 在任何取值下都不可能成立（所有数值都不小于 0${hasBounds(r, elements) ? '，且在下限、上限之内' : ''}）`);
    } else if (r.when && neverHolds(r.when.left, r.when.op, [], r.when.value, elements)) {
      problem('definitions-rule-impossible', S.rules.name, key, '条件', conditionText(r.when), '这个条件在任何取值下都不可能成立，规则永远不会执行');
    }
  }
  const indicatorCodes = new Set<string>();
  for (const x of t.indicators) {
    const key = `${t.id}|${x.code}`;
    if (indicatorCodes.has(x.code)) problem('definitions-duplicate', S.indicators.name, key, '指标代码', x.code, `在 ${t.id} 中重复`);
    indicatorCodes.add(x.code);
    for (const c of x.numerator) if (!elements.has(c)) problem('definitions-reference', S.indicators.name, key, '分子', c, `不是 ${t.id} 的数据项`);
    for (const c of x.denominator) if (!elements.has(c)) problem('definitions-reference', S.indicators.name, key, '分母', c, `不是 ${t.id} 的数据项`);
  }
}

function hasBounds(r: Rule, elements: ReadonlyMap<string, { min?: number; max?: number }>): boolean {
  return [...r.left, ...r.right].some((c) => elements.get(c)?.min !== undefined || elements.get(c)?.max !== undefined);
}

export function sideText(codes: readonly string[], constant?: number): string {
  const parts = [...codes];
  if (constant !== undefined && (constant !== 0 || !codes.length)) parts.push(String(constant));
  return parts.join('+');
}

export function conditionText(when: NonNullable<Rule['when']>): string {
  return `${when.left.join('+')}${when.op}${when.value}`;
}

/**
 * Whether Σleft op Σright + constant can never hold, whatever the values: every value is ≥ 0, within
 * its element's bounds (a percent ≤ 100). Elements on both sides cancel; the rest spans an interval.
 */
export function neverHolds(left: readonly string[], op: RuleOp, right: readonly string[], constant: number, elements: ReadonlyMap<string, { min?: number; max?: number; type: string }>): boolean {
  const count = new Map<string, number>();
  for (const c of left) count.set(c, (count.get(c) ?? 0) + 1);
  for (const c of right) count.set(c, (count.get(c) ?? 0) - 1);
  let lo = 0;
  let hi = 0;
  for (const [code, n] of count) {
    if (n === 0) continue;
    const e = elements.get(code);
    const min = Math.max(0, e?.min ?? 0);
    const max = e?.max ?? (e?.type === 'percent' ? 100 : Infinity);
    if (n > 0) {
      lo += n * min;
      hi += n * max;
    } else {
      lo += n * max;
      hi += n * min;
    }
  }
  // left − right spans [lo, hi]; the rule is (left − right) op constant
  switch (op) {
    case '<':
      return lo >= constant;
    case '<=':
      return lo > constant;
    case '>':
      return hi <= constant;
    case '>=':
      return hi < constant;
    case '==':
      return constant < lo || constant > hi;
  }
}
