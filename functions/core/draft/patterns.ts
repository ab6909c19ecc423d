/**
 * 总结句式: the sentences of the work summary's data draft, kept with the definitions (a data element's,
 * an indicator's or a ledger's `sentence`, in its `section`), filled from the period's consolidation.
 *
 * Placeholders:
 *   {JC06}            本期 (本月/本季/本年) of a data element or indicator, as 指标汇总 shows it
 *   {JC05.累计}       本年累计;  {JC06.上期} 上月/上季/上年;  {JC06.去年同期}
 *   {JC-I03.同比}     the change against 去年同期: 提高1.95个百分点 / 增长3.20% / 下降… / 持平
 *   {JC-I03.环比}     the change against 上期
 *   {JC-I02.目标}     ≥62%;  {JC-I02.达标} how the target is judged (本年累计, 序时进度 as 指标汇总 judges it):
 *                     序时目标15.50%，达到序时进度 / 落后序时进度（2.10 个百分点） / 全年达标 / 已达到目标 / 未达到目标 …
 *                     (a row without a target: the clause naming {X.目标} or {X.达标} is left out)
 *   {JC-I03.同比}/{.环比} over the comparable set (可比口径): who it leaves out is said after the sentence
 *   {期末} 2025年3月底   {本期} 2025年3月   {累计期间} 2025年1—3月   {年度} 2025年   {地区} 全旗 (全县, 全区)
 *   ledgers: {机构数} {任务数} {已完成} {推进中} {未启动} {已滞后} {逾期}
 * A code must be an element or indicator of the same template (a ledger's: only the ledger words).
 */

export const PLACE_WORDS = ['期末', '本期', '累计期间', '年度', '地区'] as const;
export const LEDGER_WORDS = ['机构数', '任务数', '已完成', '推进中', '未启动', '已滞后', '逾期'] as const;
export const VARIANTS = ['累计', '上期', '去年同期', '同比', '环比', '目标', '达标'] as const;
export type Variant = (typeof VARIANTS)[number] | '';

/** The order of the sections in a draft; sections the commission adds come after, in definitions order. */
export const SECTION_ORDER = ['基本公共卫生', '医疗服务', '妇幼健康', '疾病防控', '中医药', '重点任务'] as const;

export type Token = { kind: 'text'; text: string } | { kind: 'word'; word: string } | { kind: 'code'; code: string; variant: Variant };

const PLACEHOLDER = /\{([^{}]{1,40})\}/g;

/** A pattern as text and placeholders; `problems` says what is wrong with it (unknown code, variant, word). */
export function parsePattern(pattern: string, codes: ReadonlySet<string>, ledger = false): { tokens: Token[]; problems: string[] } {
  const tokens: Token[] = [];
  const problems: string[] = [];
  let at = 0;
  const literal = (text: string) => {
    if (/[{}]/.test(text)) problems.push(`「${text}」中的花括号不成对`);
    tokens.push({ kind: 'text', text });
  };
  for (const m of pattern.matchAll(PLACEHOLDER)) {
    if (m.index! > at) literal(pattern.slice(at, m.index));
    at = m.index! + m[0].length;
    const inner = m[1]!.trim();
    if ((PLACE_WORDS as readonly string[]).includes(inner) || (ledger && (LEDGER_WORDS as readonly string[]).includes(inner))) {
      tokens.push({ kind: 'word', word: inner });
      continue;
    }
    const [code, variant = ''] = inner.split('.') as [string, string?];
    if (ledger) problems.push(`「{${inner}}」不是台账句式可用的占位（${[...PLACE_WORDS, ...LEDGER_WORDS].join('、')}）`);
    else if (!codes.has(code)) problems.push(`「{${inner}}」中的 ${code} 不是本报表的数据项或计算指标`);
    else if (variant && !(VARIANTS as readonly string[]).includes(variant)) problems.push(`「{${inner}}」中的 .${variant} 不可用，可用：${VARIANTS.map((v) => `.${v}`).join('、')}`);
    else {
      tokens.push({ kind: 'code', code, variant: variant as Variant });
      continue;
    }
    tokens.push({ kind: 'text', text: m[0] });
  }
  if (at < pattern.length) literal(pattern.slice(at));
  return { tokens, problems };
}

/** 全旗 / 全县 / 全区 / 全市 from the county's name (奈曼旗 → 全旗) */
export function areaWord(countyName: string): string {
  const last = countyName.slice(-1);
  return ['旗', '县', '区', '市'].includes(last) ? `全${last}` : countyName;
}
