/**
 * The work summary's data draft (工作总结数据稿) of a county and period: the consolidation's figures in
 * the sentences a commission writes, one section per area, an appendix table. Pure: it reads the
 * ConsolidationResult (the consolidated workbook's own figures, never recomputed) and the sentence
 * patterns the definitions keep (patterns.ts); docx.ts writes it as Word.
 *
 *   const draft = buildDraft(consolidate(input));
 *   const bytes = await renderDraftDocx(draft);
 */
import type { ConsolidationResult, Measure, MissingUnit, SummaryRow } from '../consolidate/types.ts';
import { listNames } from '../consolidate/compute.ts';
import { monthNumber, monthsLabel, shanghaiTime, yearOf } from '../consolidate/period.ts';
import { fixed2, formatValue } from './format.ts';
import { areaWord, LEDGER_WORDS, parsePattern, SECTION_ORDER, type Token, type Variant } from './patterns.ts';
import { periodLabel } from '../layout.ts';

/** One figure of the draft and where it comes from in the workbook. */
export interface DraftFigure {
  /** data element or indicator code; null for the reporting totals (上报情况) */
  code: string | null;
  /** the 指标汇总 column (本月, 本年累计, 同比 …) or the 上报情况 total it is */
  column: string;
  value: number;
  text: string;
}

/** A run of a paragraph: plain text or a figure (docx.ts marks figures, so a reader can trace each). */
export type DraftRun = { text: string; figure?: DraftFigure };

export interface DraftSection {
  name: string;
  paragraphs: DraftRun[][];
}

export interface AppendixRow {
  code: string;
  name: string;
  unit: string;
  /** as the 指标汇总 shows them: null where it has no value */
  cells: Array<number | null>;
  target: string;
  status: string;
}

export interface Draft {
  /** 奈曼旗2025年3月卫生健康工作总结数据稿 */
  title: string;
  /** the consolidated workbook the figures are from */
  workbookTitle: string;
  generatedAt: Date;
  overview: DraftRun[][];
  sections: DraftSection[];
  appendix: { columns: string[]; rows: AppendixRow[] };
}

export function buildDraft(result: ConsolidationResult): Draft {
  const L = result.labels;
  const last = result.months[result.months.length - 1]!;
  const ytd = result.windows.ytd;
  const words: Record<string, string> = {
    期末: result.spec.kind === 'year' && monthNumber(last) === 12 ? `${yearOf(last)}年底` : `${yearOf(last)}年${monthNumber(last)}月底`,
    本期: result.spec.label,
    累计期间: ytd.length === 1 ? monthsLabel(ytd) : `${yearOf(last)}年1—${monthNumber(last)}月`,
    年度: `${yearOf(last)}年`,
    地区: result.level === 'county' ? areaWord(result.area.name) : result.area.name,
  };

  const sections = new Map<string, DraftRun[][]>();
  const add = (section: string, runs: DraftRun[]) => {
    if (!sections.has(section)) sections.set(section, []);
    sections.get(section)!.push(runs);
  };
  const referenced = new Set<string>();
  for (const s of result.summary) {
    const rows = new Map(s.rows.map((r) => [r.code, r]));
    const codes = new Set(rows.keys());
    // sentences in the order of the first data element they name (an indicator stands for its operands)
    const position = new Map<string, number>(s.template.elements.map((e, i) => [e.code, i]));
    for (const x of s.template.indicators) position.set(x.code, Math.min(...[...x.numerator, ...x.denominator].map((c) => position.get(c) ?? Infinity)));
    const patterned = [...s.template.elements, ...s.template.indicators]
      .filter((x) => x.sentence && x.section)
      .map((x) => ({ x, parsed: parsePattern(x.sentence!, codes) }))
      .map((p) => ({ ...p, at: Math.min(...p.parsed.tokens.flatMap((t) => (t.kind === 'code' ? [position.get(t.code) ?? Infinity] : []))) }))
      .sort((a, b) => a.at - b.at);
    for (const { x, parsed } of patterned) {
      const { tokens, problems } = parsed;
      if (problems.length) continue; // the definitions check refuses such a pattern; an old stored one is skipped
      tokens.forEach((t) => t.kind === 'code' && referenced.add(t.code));
      const runs = fill(tokens, (code) => rows.get(code)!, words, L);
      if (runs) add(x.section!, runs);
    }
  }
  const ledger = result.ledgerTemplate;
  if (ledger?.sentence && ledger.section && result.ledger.length) {
    const { tokens, problems } = parsePattern(ledger.sentence, new Set(), true);
    if (!problems.length) add(ledger.section, ledgerRuns(tokens, result, words));
  }

  const order = [...SECTION_ORDER.filter((n) => sections.has(n)), ...[...sections.keys()].filter((n) => !(SECTION_ORDER as readonly string[]).includes(n))];
  const appendixRows: AppendixRow[] = result.summary.flatMap((s) =>
    s.rows
      .filter((r) => r.kind === 'indicator' || referenced.has(r.code))
      .map((r) => ({
        code: r.code,
        name: r.name,
        unit: r.unit,
        cells: r.additive ? [r.current.value, r.ytd.value, r.lastYear.value, r.yoy?.value ?? null] : [null, null, null, null],
        target: r.target ? targetText(r) : '',
        status: r.target?.verdict ?? '',
      })),
  );
  return {
    title: `${result.area.name}${result.spec.label}卫生健康工作总结数据稿`,
    workbookTitle: result.title,
    generatedAt: result.generatedAt,
    overview: overview(result, words),
    sections: order.map((name) => ({ name, paragraphs: sections.get(name)! })),
    appendix: { columns: ['代码', '指标名称', '单位', L.current, L.ytd, L.lastYear, L.yoy, '目标值', '达标情况'], rows: appendixRows },
  };
}

/** The column of 指标汇总 a variant reads. */
const COLUMN: Record<Variant, (L: ConsolidationResult['labels']) => string> = {
  '': (L) => L.current,
  累计: (L) => L.ytd,
  上期: (L) => L.previous,
  去年同期: (L) => L.lastYear,
  同比: (L) => L.yoy,
  环比: (L) => L.mom,
  目标: () => '目标值',
  达标: () => '达标情况',
};

/** A sentence from its tokens; null when none of its figures has a value (nothing to say). */
function fill(tokens: Token[], rowOf: (code: string) => SummaryRow, words: Record<string, string>, L: ConsolidationResult['labels']): DraftRun[] | null {
  const runs: DraftRun[] = [];
  const missing = new Map<string, MissingUnit>();
  /** 同比/环比 are over the comparable set (可比口径): who they leave out besides the missing */
  const uncompared = new Map<string, { name: string; label: string }>();
  let any = false;
  for (const t of withoutTargetless(tokens, rowOf)) {
    if (t.kind === 'text') runs.push({ text: t.text });
    else if (t.kind === 'word') runs.push({ text: words[t.word] ?? '' });
    else {
      const row = rowOf(t.code);
      const measure = measureOf(row, t.variant);
      // the first reason said for an institution stands (本月's 未上报 before 本年累计's 3月未上报)
      if (measure && measure.value !== null && row.additive) for (const m of measure.missing) if (!missing.has(m.code)) missing.set(m.code, m);
      const change = t.variant === '同比' ? row.yoy : t.variant === '环比' ? row.mom : null;
      if (change) for (const u of row.comparable[t.variant === '同比' ? 'yoy' : 'mom'].excluded) if (!uncompared.has(u.code)) uncompared.set(u.code, { name: u.name, label: COLUMN[t.variant](L) });
      const made = tokenRuns(row, t.variant, L);
      any ||= made.some((r) => r.figure) || (t.variant === '达标' && row.target !== null);
      runs.push(...made);
    }
  }
  if (!any) return null;
  for (const code of missing.keys()) uncompared.delete(code);
  const notes: string[] = [];
  if (missing.size) notes.push(`${listNames([...missing.values()].map((m) => `${m.name}${m.reason}`))}，数据未计入`);
  for (const label of new Set([...uncompared.values()].map((u) => u.label))) {
    notes.push(`${label}按可比口径计算，不含${listNames([...uncompared.values()].filter((u) => u.label === label).map((u) => u.name))}`);
  }
  if (notes.length) {
    // the note goes before the sentence's final 。 when there is one
    const end = runs[runs.length - 1];
    const note = `（${notes.join('；')}）`;
    if (end && !end.figure && end.text.endsWith('。')) end.text = `${end.text.slice(0, -1)}${note}。`;
    else runs.push({ text: note });
  }
  return runs;
}

/**
 * A sentence without the clauses (between ， and ；) that name the target of a row without one: "年度目标
 * {JC-I02.目标}，{JC-I02.达标}" says nothing in a county with no target. A dropped last clause leaves its
 * end (。) to the clause before it.
 */
function withoutTargetless(tokens: Token[], rowOf: (code: string) => SummaryRow): Token[] {
  const clauses: Token[][] = [[]];
  for (const t of tokens) {
    if (t.kind !== 'text') {
      clauses[clauses.length - 1]!.push(t);
      continue;
    }
    for (const piece of t.text.split(/(?<=[，；])/)) {
      clauses[clauses.length - 1]!.push({ kind: 'text', text: piece });
      if (/[，；]$/.test(piece)) clauses.push([]);
    }
  }
  const targetless = (c: Token[]) => c.some((t) => t.kind === 'code' && (t.variant === '目标' || t.variant === '达标') && !rowOf(t.code).target);
  if (!clauses.some(targetless)) return tokens;
  const kept = clauses.filter((c) => !targetless(c));
  const tail = clauses[clauses.length - 1]!.at(-1);
  const end = tail?.kind === 'text' ? /[。；！]?$/.exec(tail.text)![0] : '';
  const last = kept[kept.length - 1]?.at(-1);
  if (targetless(clauses[clauses.length - 1]!) && last?.kind === 'text') kept[kept.length - 1]![kept[kept.length - 1]!.length - 1] = { kind: 'text', text: last.text.replace(/[，；]$/, end) };
  return kept.flat();
}

function measureOf(row: SummaryRow, variant: Variant): Measure | null {
  switch (variant) {
    case '':
    case '同比':
    case '环比':
      return row.current;
    case '累计':
    case '目标':
    case '达标':
      return row.ytd;
    case '上期':
      return row.previous;
    case '去年同期':
      return row.lastYear;
  }
}

function tokenRuns(row: SummaryRow, variant: Variant, L: ConsolidationResult['labels']): DraftRun[] {
  const column = COLUMN[variant](L);
  const figure = (value: number, text: string): DraftRun => ({ text, figure: { code: row.code, column, value, text } });
  if (variant === '同比' || variant === '环比') {
    const c = variant === '同比' ? row.yoy : row.mom;
    if (!c) return [{ text: '无可比数据' }];
    const shown = fixed2(Math.abs(c.value));
    if (shown === '0.00') return [{ text: '持平' }];
    const up = c.value > 0;
    if (c.kind === 'percent') return [{ text: up ? '增长' : '下降' }, figure(Math.abs(c.value), shown), { text: '%' }];
    const unit = row.unit === '%' ? '个百分点' : row.unit === '‰' ? '个千分点' : row.unit === '1/10万' ? '/10万' : '';
    return [{ text: up ? '提高' : '下降' }, figure(Math.abs(c.value), shown), { text: unit }];
  }
  if (variant === '目标') return row.target ? [figure(row.target.value, targetText(row))] : [{ text: '未设定' }];
  if (variant === '达标') {
    const t = row.target;
    if (!t) return [{ text: '未设定目标' }];
    const at = (column: string, value: number, text: string): DraftRun => ({ text, figure: { code: row.code, column, value, text } });
    const runs: DraftRun[] = [];
    // a target measured over some institution types is judged on their value (指标汇总 考核值), not the total
    if (t.scope && t.measured !== null) runs.push({ text: `按${t.scope.join('、')}考核为` }, at('考核值', t.measured, formatValue(t.measured, row.unit)), { text: '，' });
    // 序时进度: what is due by now, and the consolidation's verdict (达到序时进度 / 落后序时进度（差距） / 全年达标 …)
    if (t.paced !== null) runs.push({ text: '序时目标' }, at('序时目标', t.paced, formatValue(t.paced, row.unit)), { text: '，' });
    const verdict = VERDICT_WORDS[t.verdict] ?? t.verdict;
    const gap = t.gap !== null ? /\d+(?:\.\d+)?/.exec(verdict) : null;
    if (gap) runs.push({ text: verdict.slice(0, gap.index) }, at('差距', Math.abs(t.gap!), gap[0]), { text: verdict.slice(gap.index + gap[0].length) });
    else runs.push({ text: verdict });
    return runs;
  }
  const m = measureOf(row, variant)!;
  if (!row.additive || m.value === null) return [{ text: '（无数据）' }];
  return [figure(m.value, formatValue(m.value, row.unit))];
}

/** The consolidation's verdicts (TargetResult.verdict) as a sentence says them; the others as they are. */
const VERDICT_WORDS: Record<string, string> = { 达标: '已达到目标', 未达标: '未达到目标', 无数据: '暂无考核数据' };

/** ≥62% — as 指标汇总 shows the target (a whole number without decimals) */
function targetText(row: SummaryRow): string {
  const t = row.target!;
  const v = Number.isInteger(t.value) ? String(t.value) : fixed2(t.value);
  const unit = row.unit === '%' ? '%' : row.unit === '‰' ? '‰' : row.unit === '1/10万' ? '/10万' : row.unit === '比值' ? '' : row.unit;
  return `${t.direction === '>=' ? '≥' : '≤'}${v}${unit}`;
}

function ledgerRuns(tokens: Token[], result: ConsolidationResult, words: Record<string, string>): DraftRun[] {
  const lines = result.ledger;
  const count = (status: string) => lines.filter((l) => l.row.status === status).length;
  const values: Record<(typeof LEDGER_WORDS)[number], number> = {
    机构数: new Set(lines.map((l) => l.institution)).size,
    任务数: lines.length,
    已完成: count('已完成'),
    推进中: count('推进中'),
    未启动: count('未启动'),
    已滞后: count('已滞后'),
    逾期: lines.filter((l) => l.overdue).length,
  };
  const runs: DraftRun[] = tokens.map((t) => {
    if (t.kind === 'text') return { text: t.text };
    if (t.kind === 'word' && t.word in values) {
      const v = values[t.word as keyof typeof values];
      return { text: String(v), figure: { code: null, column: `任务台账：${t.word}`, value: v, text: String(v) } };
    }
    return { text: t.kind === 'word' ? (words[t.word] ?? '') : '' };
  });
  const overdue = lines.filter((l) => l.overdue);
  if (overdue.length) runs.push({ text: `逾期未完成的任务：${overdue.map((l) => `${l.name}“${l.row.content ?? ''}”（完成时限${l.row.deadline ?? '未填'}，${l.row.status ?? ''}）`).join('；')}。` });
  return runs;
}

/** 报送情况: the 上报情况 totals and who is missing, in the words of the workbook's own totals. */
function overview(result: ConsolidationResult, words: Record<string, string>): DraftRun[][] {
  const o = result.status.overall;
  const fig = (column: string, value: number | null, text?: string): DraftRun =>
    value === null ? { text: '—' } : { text: text ?? String(value), figure: { code: null, column: `上报情况：${column}`, value, text: text ?? String(value) } };
  const first: DraftRun[] = [
    { text: `${words.本期}，${words.地区}应报报表` },
    fig('应报', o.owed),
    { text: '份，实报' },
    fig('实报', o.submitted),
    { text: '份，上报率' },
    fig('上报率', o.rate, o.rate === null ? undefined : `${fixed2(o.rate)}%`),
    { text: '，及时率' },
    fig('及时率', o.timely, o.timely === null ? undefined : `${fixed2(o.timely)}%`),
    { text: '；未通过' },
    fig('未通过', o.rejected),
    { text: '份，未上报' },
    fig('未上报', o.missing),
    { text: '份。' },
  ];
  const absent = result.status.rows.filter((r) => r.status === '未上报' || r.status === '未通过');
  const paragraphs = [first];
  if (absent.length) {
    const byName = absent.map((r) => `${r.name}（${r.templateTitle}${result.months.length > 1 ? `，${periodLabel(r.period)}` : ''}，${r.status}）`);
    paragraphs.push([{ text: `缺报：${byName.join('、')}。以下各项合计均不含缺报机构，缺报不按零计。` }]);
  } else paragraphs.push([{ text: '各机构均已按要求报送。' }]);
  paragraphs.push([{ text: `本稿数字均取自《${result.title}》（生成于${shanghaiTime(result.generatedAt)}），率类指标由分子、分母合计计算。` }]);
  return paragraphs;
}
