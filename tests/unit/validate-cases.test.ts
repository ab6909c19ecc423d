import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { validateUpload } from '../../functions/core/validate/index.ts';
import { issueCodes, ISSUE_CODES } from '../../functions/core/validate/codes.ts';
import { bundledDefinitions, bundledSource } from '../../schemas/index.ts';
import { CASES } from '../../fixtures/workbooks/cases.ts';
import { caseBytes, caseFile } from '../../fixtures/workbooks/make.ts';

const NOW = new Date('2025-04-10T00:00:00+08:00');

describe('one workbook per quirk and per rule', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const bytes = await readFile(caseFile(c));
    const { report, submission } = await validateUpload(bytes, { definitions: bundledSource(),  ...c.options, now: NOW });
    const seen = [...new Set(report.issues.map((i) => `${i.cell ?? '-'} ${i.code}`))].sort();
    const expected = [...new Set(c.issues.map(([cell, code]) => `${cell ?? '-'} ${code}`))].sort();
    expect(seen).toEqual(expected);
    expect(report.status).toBe(c.expect);
    expect(submission === null).toBe(c.expect === 'rejected');
    for (const issue of report.issues) {
      expect(issue.message).toMatch(/[\u4e00-\u9fff]/);
      if (issue.cell) expect(issue.message).toContain(issue.cell);
    }
  });

  it('the committed workbooks are what cases.ts generates (run fixtures/workbooks/make.ts)', async () => {
    for (const c of CASES.slice(0, 8)) expect((await caseBytes(c)).equals(await readFile(caseFile(c))), c.name).toBe(true);
  });

  it('every consistency rule of every template has a case', () => {
    const ruleIds = bundledDefinitions().templates.flatMap((t) => (t.kind === 'indicator' ? t.rules.map((r) => r.id) : []));
    for (const id of ruleIds) expect(CASES.some((c) => c.name === `rule-${id}`), id).toBe(true);
  });

  it('every cell/structure/rule issue code is produced by some case (file codes: gate tests; history codes: history tests)', () => {
    const covered = new Set(CASES.flatMap((c) => c.issues.map(([, code]) => code)));
    const needed = issueCodes.filter((code) => ['structure', 'cells', 'rules'].includes(ISSUE_CODES[code].stage));
    expect(needed.filter((code) => !covered.has(code))).toEqual([]);
  });

  it('names the cell, the element and the value, as the domain example does', async () => {
    const c = CASES.find((x) => x.name === 'rule-JC-R03')!;
    const { report } = await validateUpload(await readFile(caseFile(c)), { ...c.options, now: NOW, definitions: bundledSource() });
    expect(report.issues[0]!.message).toBe('D14「高血压患者规范管理人数」为 1501，不能大于 D13「高血压患者应管理人数」1500');
    expect(report.issues[0]).toMatchObject({ sheet: '基层月报', cell: 'D14', row: 14, column: 'D', element: 'JC07', value: 1501, rule: 'JC-R03' });
  });
});
