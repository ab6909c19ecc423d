/**
 * The richer definitions a commission can write, as the validator applies them: bounds per element,
 * conditional rules (条件), < and >, a number on the right, warning rules with a tolerance (容差).
 */
import type ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { CASES, buildCase } from '../../fixtures/workbooks/cases.ts';
import { elementCells } from '../../functions/core/render/template.ts';
import { writeWorkbookBuffer } from '../../functions/core/render/deterministic.ts';
import { fixedDefinitions } from '../../functions/core/definitions/source.ts';
import type { DefinitionsVersion } from '../../functions/core/definitions/log.ts';
import { validateUpload } from '../../functions/core/validate/index.ts';
import { bundledContent, bundledLog, type IndicatorTemplate, type Rule } from '../../schemas/index.ts';

const NOW = new Date('2025-04-10T00:00:00+08:00');
const BASE = CASES.find((c) => c.name === 'rule-JC-R03')!;

const RULES: Rule[] = [
  { id: 'JC-R90', left: ['JC29'], op: '>=', right: [], constant: 1, severity: 'error', when: { left: ['JC28'], op: '>', value: 1000 }, source: '门急诊超过1000人次的机构每月至少开展1次健康教育' },
  { id: 'JC-R91', left: ['JC21'], op: '==', right: ['JC20'], severity: 'warning', tolerance: 5 },
  { id: 'JC-R92', left: ['JC19'], op: '<', right: ['JC18'], severity: 'error' },
];

/** the bundled T-JC with the rules above and a 上限 on JC01, in force from 2025-03 */
function definitions() {
  const jc = structuredClone(bundledContent().templates.find((t) => t.id === 'T-JC')) as IndicatorTemplate;
  jc.rules.push(...RULES);
  jc.elements[0]!.max = 50_000;
  const v2: DefinitionsVersion = { version: 2, effective: '2025-03', createdAt: '', by: 'test', summary: [], changes: [{ entity: 'template', key: 'T-JC', set: jc }] };
  return fixedDefinitions({ versions: [...bundledLog().versions, v2] });
}

async function check(values: Record<string, number>) {
  const wb: ExcelJS.Workbook = buildCase({ ...BASE, edit: undefined });
  const ws = wb.getWorksheet('基层月报')!;
  const cells = elementCells(bundledContent().templates.find((t) => t.id === 'T-JC') as IndicatorTemplate);
  for (const [code, v] of Object.entries(values)) ws.getCell(cells.get(code)!).value = v;
  const { report } = await validateUpload(await writeWorkbookBuffer(wb), { ...BASE.options, now: NOW, definitions: definitions() });
  return report.issues.filter((i) => i.severity !== 'info').map((i) => [i.rule ?? i.code, i.severity, i.cell, i.message] as const);
}

describe('rules and bounds from the definitions', () => {
  it('a consistent return passes every one of them', async () => {
    expect(await check({})).toEqual([]);
  });

  it('a conditional rule applies only when its 条件 holds, and a number may stand on the right', async () => {
    const [issue] = await check({ JC29: 0 });
    expect(issue).toEqual(['JC-R90', 'error', 'D36', expect.stringContaining('D36「健康教育活动次数」为 0，不能小于 1（D35「门急诊人次」2100 > 1000，此规则适用）')]);
    expect(await check({ JC29: 0, JC28: 900 })).toEqual([]);
  });

  it('a tolerance widens an equality: within 5 % nothing, beyond it a warning', async () => {
    expect(await check({ JC21: 290 })).toEqual([]); // 300 − 290 = 10 ≤ 15
    const [issue] = await check({ JC21: 280 });
    expect(issue).toEqual(['JC-R91', 'warning', 'D28', expect.stringContaining('应等于 D27「免疫规划疫苗应种剂次」300（允许相差 5%）')]);
  });

  it('< is strict', async () => {
    const [issue] = await check({ JC19: 12 });
    expect(issue).toEqual(['JC-R92', 'error', 'D26', expect.stringContaining('应小于 D25「执业(助理)医师数」12')]);
  });

  it('a value beyond the element’s 上限 is refused and says the range', async () => {
    const issues = await check({ JC01: 60_000, JC02: 17_800 });
    expect(issues).toContainEqual(['value-out-of-range', 'error', 'D8', expect.stringContaining('应不大于 50000')]);
  });
});
