/**
 * What an edited definitions set changes against the one it was edited from, as changes the log
 * can apply from an effective period, and in words (新增机构 1 家：…；T-JC 新增数据项 JC30；目标 JC-I02
 * 由 62 改为 65). A template whose rows or columns change gets the next version number; one whose
 * wording, rules or indicators change keeps its number (uploads keep matching it).
 */
import type { County, DefinitionsContent, Institution, InstitutionType, Target, TemplateDefinition } from '../../../schemas/model.ts';
import { templateVersionsEver, targetKey, type Change, type DefinitionsLog, type FieldChanges } from './log.ts';
import { PACE_WORDS, PERIOD_WORDS } from './layout.ts';

export interface Diff {
  changes: Change[];
  /** the change in words, one phrase each; empty when nothing changed */
  summary: string[];
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The changes from `base` to `next`, in force from `effective`. Institutions missing from `next`
 * are deactivated from `effective` (history is kept, never deleted); new ones start then unless they
 * say otherwise; a template's new layout starts then.
 */
export function diffDefinitions(base: DefinitionsContent, next: DefinitionsContent, effective: string, log: DefinitionsLog): Diff {
  const changes: Change[] = [];
  const words: string[] = [];

  // institution types
  const baseTypes = new Map(base.institutionTypes.map((t) => [t.code, t]));
  const nextTypes = new Map(next.institutionTypes.map((t) => [t.code, t]));
  const addedTypes: string[] = [];
  for (const t of next.institutionTypes) {
    const b = baseTypes.get(t.code);
    if (!b) {
      changes.push({ entity: 'type', key: t.code, set: t });
      addedTypes.push(`${t.name}（${t.code}）`);
      continue;
    }
    const set = fieldChanges<InstitutionType>(b, t, ['name', 'templates']);
    if (!set) continue;
    changes.push({ entity: 'type', key: t.code, set });
    if (set.name) words.push(`机构类型 ${t.code} 名称由“${b.name}”改为“${t.name}”`);
    if (set.templates) words.push(`机构类型“${t.name}”应报报表由 ${listOr(b.templates)} 改为 ${listOr(t.templates)}`);
  }
  if (addedTypes.length) words.unshift(`新增机构类型 ${addedTypes.length} 个：${addedTypes.join('、')}`);
  for (const t of base.institutionTypes) {
    if (nextTypes.has(t.code)) continue;
    changes.push({ entity: 'type', key: t.code, set: null });
    words.push(`删除机构类型“${t.name}”（${t.code}）`);
  }

  // templates (before institutions: an institution may owe a new one)
  const baseTemplates = new Map(base.templates.map((t) => [t.id, t]));
  const nextIds = new Set(next.templates.map((t) => t.id));
  for (const t of next.templates) {
    const b = baseTemplates.get(t.id);
    const ever = templateVersionsEver(log, t.id);
    const newest = ever.length ? ever[ever.length - 1]!.version : 0;
    if (!b) {
      const def = { ...t, version: newest + 1, from: later(t.from, effective) } as TemplateDefinition;
      changes.push({ entity: 'template', key: t.id, set: def });
      words.push(`新增报表 ${t.id}「${t.title}」（${PERIOD_WORDS[t.periodType]}，自 ${def.from} 起）`);
      continue;
    }
    const { version: _v, from: _f, ...bRest } = b;
    const { version: _nv, from: _nf, ...nRest } = t;
    if (same(bRest, nRest)) continue;
    const relayout = layoutOf(b) !== layoutOf(t);
    const def = (relayout ? { ...t, version: newest + 1, from: later(t.from, effective) } : { ...t, version: b.version, from: b.from }) as TemplateDefinition;
    changes.push({ entity: 'template', key: t.id, set: def });
    words.push(...templateWords(b, def, relayout));
  }
  for (const t of base.templates) {
    if (nextIds.has(t.id)) continue;
    changes.push({ entity: 'template', key: t.id, set: null });
    words.push(`停用报表 ${t.id}「${t.title}」`);
  }

  // counties, institutions, targets
  const baseCounties = new Map(base.counties.map((c) => [c.code, c]));
  const added: string[] = [];
  for (const c of next.counties) {
    const b = baseCounties.get(c.code);
    const { institutions: _i, targets: _t, ...fields } = c;
    if (!b) {
      changes.push({ entity: 'county', key: c.code, set: fields });
      words.push(`新增旗县 ${c.name}（${c.code}）`);
    } else {
      const set = fieldChanges<Omit<County, 'institutions' | 'targets'>>(b, c, ['name', 'city', 'deadlineDay', 'notes']);
      if (set) {
        changes.push({ entity: 'county', key: c.code, set });
        if (set.name) words.push(`旗县 ${c.code} 名称由“${b.name}”改为“${c.name}”`);
        if (set.deadlineDay) words.push(`${c.name}月报截止日由次月 ${b.deadlineDay} 日改为次月 ${c.deadlineDay} 日`);
        if (set.city) words.push(`${c.name}所属盟市改为 ${c.city.name}（${c.city.code}）`);
        if (set.notes !== undefined) words.push(`${c.name}备注修改`);
      }
    }
    const baseInst = new Map((b?.institutions ?? []).map((i) => [i.code, i]));
    for (const i of c.institutions) {
      const bi = baseInst.get(i.code);
      if (!bi) {
        const from = i.from ?? (log.versions.length ? effective : undefined);
        changes.push({ entity: 'institution', key: i.code, set: { ...i, ...(from ? { from } : {}) } });
        added.push(`${i.name}（${i.code}）`);
        continue;
      }
      const set = fieldChanges<Institution>(bi, i, ['name', 'type', 'extraTemplates', 'contact', 'from', 'until', 'mergedInto', 'source']);
      if (!set) continue;
      changes.push({ entity: 'institution', key: i.code, set });
      words.push(...institutionWords(bi, i, set, next));
    }
    const nextInst = new Set(c.institutions.map((i) => i.code));
    for (const bi of b?.institutions ?? []) {
      if (nextInst.has(bi.code) || (bi.until && bi.until <= effective)) continue;
      changes.push({ entity: 'institution', key: bi.code, set: { until: effective } });
      words.push(`机构 ${bi.name}（${bi.code}）自 ${effective} 起停用（表中已删除该行；历史数据保留）`);
    }
    const baseTargets = new Map((b?.targets ?? []).map((t) => [targetKey(c.code, t), t]));
    const nextKeys = new Set<string>();
    for (const t of c.targets) {
      const key = targetKey(c.code, t);
      nextKeys.add(key);
      const bt = baseTargets.get(key);
      if (bt && same(normTarget(bt), normTarget(t))) continue;
      changes.push({ entity: 'target', key, set: t });
      words.push(bt ? targetChangeWords(c, bt, t) : `新增目标 ${c.name} ${t.year} 年 ${t.indicator} ${t.direction} ${t.value}（${t.document}）`);
    }
    for (const [key, bt] of baseTargets) {
      if (nextKeys.has(key)) continue;
      changes.push({ entity: 'target', key, set: null });
      words.push(`删除目标 ${c.name} ${bt.year} 年 ${bt.indicator} ${bt.direction} ${bt.value}`);
    }
  }
  if (added.length) words.unshift(`新增机构 ${added.length} 家：${added.join('、')}`);
  // counties are never deleted (their history is the commission's); check.ts refuses it at import
  return { changes: orderChanges(changes), summary: words };
}

/** counties before their institutions and targets; types and templates before what refers to them */
function orderChanges(changes: Change[]): Change[] {
  const rank = { type: 0, template: 1, county: 2, institution: 3, target: 4 } as const;
  return changes.map((c, n) => ({ c, n })).sort((a, b) => rank[a.c.entity] - rank[b.c.entity] || a.n - b.n).map((x) => x.c);
}

const later = (a: string | undefined, b: string): string => (a && a > b ? a : b);

/** What makes a workbook of one version readable by another: the sheet, the rows and the columns. */
export function layoutOf(t: TemplateDefinition): string {
  return JSON.stringify([t.kind, t.sheetName, t.periodType, t.kind === 'indicator' ? t.elements.map((e) => e.code) : t.columns.map((c) => [c.key, c.header])]);
}

function fieldChanges<T extends object>(before: T, after: T, fields: ReadonlyArray<keyof T>): FieldChanges<T> | null {
  const out: FieldChanges<T> = {};
  let any = false;
  for (const f of fields) {
    const a = before[f];
    const b = after[f];
    if (same(a ?? null, b ?? null)) continue;
    out[f] = (b === undefined ? null : b) as T[keyof T] | null;
    any = true;
  }
  return any ? out : null;
}

function institutionWords(before: Institution, after: Institution, set: FieldChanges<Institution>, next: DefinitionsContent): string[] {
  const who = `机构 ${after.code}`;
  const typeName = (code: string) => next.institutionTypes.find((t) => t.code === code)?.name ?? code;
  const out: string[] = [];
  if ('name' in set) out.push(`${who} 更名：由“${before.name}”改为“${after.name}”`);
  if ('type' in set) out.push(`${who}（${after.name}）类型由“${typeName(before.type)}”改为“${typeName(after.type)}”`);
  if ('extraTemplates' in set) out.push(`${who}（${after.name}）额外报表由 ${listOr(before.extraTemplates)} 改为 ${listOr(after.extraTemplates)}`);
  if ('mergedInto' in set) out.push(after.mergedInto ? `${who}（${after.name}）自 ${after.until} 起并入 ${after.mergedInto}` : `${who}（${after.name}）取消并入`);
  else if ('until' in set) out.push(after.until ? `${who}（${after.name}）自 ${after.until} 起停用` : `${who}（${after.name}）恢复启用`);
  if ('from' in set) out.push(`${who}（${after.name}）启用期改为 ${after.from ?? '（一直应报）'}`);
  if ('contact' in set) out.push(`${who}（${after.name}）联系人或联系方式修改`);
  if ('source' in set) out.push(`${who}（${after.name}）来源修改`);
  return out;
}

function templateWords(before: TemplateDefinition, after: TemplateDefinition, relayout: boolean): string[] {
  const id = after.id;
  const out: string[] = [];
  if (relayout) out.push(`${id} 启用新版本（第${after.version}版，自 ${after.from} 起；之前各期仍按第${before.version}版校验）`);
  const fields: Array<[keyof TemplateDefinition, string]> = [
    ['title', '名称'],
    ['sheetName', '工作表名'],
    ['periodType', '周期'],
    ['deadlineDay', '截止日'],
    ['deadlineMonth', '截止月'],
    ['source', '来源'],
  ];
  for (const [f, word] of fields) if (!same(before[f] ?? null, after[f] ?? null)) out.push(`${id} ${word}由“${String(show(before[f]))}”改为“${String(show(after[f]))}”`);
  if (before.kind === 'ledger' && after.kind === 'ledger' && (before.section !== after.section || before.sentence !== after.sentence)) out.push(`${id} 总结句式修改`);
  if (before.kind !== 'indicator' || after.kind !== 'indicator') return out;
  out.push(...listWords(id, '数据项', before.elements, after.elements, (e) => e.code, (e) => `${e.code}「${e.name}」`));
  out.push(...listWords(id, '校验规则', before.rules, after.rules, (r) => r.id, (r) => r.id));
  out.push(...listWords(id, '计算指标', before.indicators, after.indicators, (x) => x.code, (x) => `${x.code}「${x.name}」`));
  return out;
}

function show(v: unknown): unknown {
  if (v === undefined || v === null || v === '') return '（空）';
  return typeof v === 'string' && v in PERIOD_WORDS ? PERIOD_WORDS[v as keyof typeof PERIOD_WORDS] : v;
}

function listWords<T>(id: string, what: string, before: readonly T[], after: readonly T[], key: (x: T) => string, label: (x: T) => string): string[] {
  const b = new Map(before.map((x) => [key(x), x]));
  const a = new Map(after.map((x) => [key(x), x]));
  const added = after.filter((x) => !b.has(key(x))).map(label);
  const removed = before.filter((x) => !a.has(key(x))).map(label);
  const changed = after.filter((x) => b.has(key(x)) && !same(b.get(key(x)), x)).map(label);
  const out: string[] = [];
  if (added.length) out.push(`${id} 新增${what} ${added.join('、')}`);
  if (removed.length) out.push(`${id} 删除${what} ${removed.join('、')}`);
  if (changed.length) out.push(`${id} 修改${what} ${changed.join('、')}`);
  return out;
}

function normTarget(t: Target): Target {
  return { ...t, ...(t.institutionTypes ? { institutionTypes: [...t.institutionTypes].sort() } : {}) };
}

function targetChangeWords(c: County, before: Target, after: Target): string {
  const parts: string[] = [];
  if (before.value !== after.value || before.direction !== after.direction) parts.push(`由 ${before.direction === after.direction ? '' : before.direction + ' '}${before.value} 改为 ${before.direction === after.direction ? '' : after.direction + ' '}${after.value}`);
  if ((before.pace ?? 'none') !== (after.pace ?? 'none')) parts.push(`序时方式改为${PACE_WORDS[after.pace ?? 'none']}`);
  if (before.document !== after.document || before.quote !== after.quote) parts.push('依据文件修改');
  return `目标 ${after.indicator}（${c.name} ${after.year} 年）${parts.join('，') || '修改'}`;
}

const listOr = (ids: readonly string[]): string => (ids.length ? ids.join('、') : '（无）');

