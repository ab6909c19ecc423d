import { readFile } from 'node:fs/promises';
import type { IndicatorSubmission, LedgerSubmission } from '../../functions/core/normalize/submission.ts';
import { REMARK_MAX } from '../../functions/core/normalize/cell.ts';
import { describe, expect, it } from 'vitest';
import { validateUpload } from '../../functions/core/validate/index.ts';
import { issueCodes, ISSUE_CODES } from '../../functions/core/validate/codes.ts';
import { bundledDefinitions, bundledSource } from '../../schemas/index.ts';
import { CASES } from '../../fixtures/workbooks/cases.ts';
import { issueCodesMarkdown } from '../../functions/cli/codes.ts';
import { caseBytes, caseFile } from '../../fixtures/workbooks/make.ts';

const NOW = new Date('2025-04-10T00:00:00+08:00');
const run = async (name: string) => {
  const c = CASES.find((x) => x.name === name)!;
  return validateUpload(await readFile(caseFile(c)), { ...c.options, now: NOW, definitions: bundledSource() });
};

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
    expect(report.issues[0]!.message).toBe('D14「高血压患者规范管理人数」为 1501，不能大于 D13「高血压患者应管理人数」1500。请核对这几个数值，改正有误的一项');
    expect(report.issues[0]).toMatchObject({ sheet: '基层月报', cell: 'D14', row: 14, column: 'D', element: 'JC07', value: 1501, rule: 'JC-R03' });
  });

  it('every error and warning tells the user what to do (请…), and the catalogue says it for every code', async () => {
    for (const c of CASES) {
      const { report } = await validateUpload(await readFile(caseFile(c)), { ...c.options, now: NOW, definitions: bundledSource() });
      for (const issue of report.issues.filter((i) => i.severity !== 'info')) expect(issue.message, `${c.name} ${issue.code}`).toContain('请');
    }
    for (const code of issueCodes) expect(ISSUE_CODES[code].fix, code).toMatch(/[\u4e00-\u9fff]/);
  });

  it('docs/ISSUE-CODES.md is the catalogue as it is (npx hmis codes --markdown > docs/ISSUE-CODES.md)', async () => {
    expect(await readFile('docs/ISSUE-CODES.md', 'utf8')).toBe(issueCodesMarkdown());
  });

  it('typed numbers store the numbers meant', async () => {
    const typed = (await run('openpyxl-typed')).submission as IndicatorSubmission;
    expect(typed.values).toMatchObject({ JC01: 18000, JC02: 17800, JC15: 520, JC22: 8, JC28: 2100, JC29: 2 });
    const yy = (await run('placeholder-optional')).submission as IndicatorSubmission;
    for (const code of ['YY05', 'YY06', 'YY07']) expect(yy.values[code]).toBeUndefined();
  });

  it('a long remark is stored whole up to the cap, and cut there', async () => {
    expect(((await run('remark-long')).submission as IndicatorSubmission).remarks.JC01).toHaveLength(300);
    const capped = await run('remark-over-cap');
    expect((capped.submission as IndicatorSubmission).remarks.JC01).toBe('备注说明'.repeat(300).slice(0, REMARK_MAX));
    expect(capped.report.issues[0]!.message).toContain(`${REMARK_MAX} 字的存储上限`);
  });

  it('a vertical merge in a ledger gives its value to every row of the merge', async () => {
    for (const name of ['ledger-merged-owner', 'openpyxl-ledger-merged', 'libreoffice-ledger-merged']) {
      const rows = ((await run(name)).submission as LedgerSubmission).rows;
      expect(rows.map((r) => r.owner), name).toEqual(['公卫科 李某', '公卫科 李某', '公卫科 李某']);
    }
  });

  it('of several sheets that look like the return, reads the one matching the upload and names it; else names every candidate', async () => {
    const chosen = await run('sheet-per-month');
    expect(chosen.report.issues[0]).toMatchObject({ code: 'sheet-chosen', sheet: '3月' });
    expect((chosen.submission as IndicatorSubmission).period).toBe('2025-03');
    const copy = (await run('sheet-copy')).report.issues[0]!;
    for (const name of ['“基层月报”', '“基层月报 (2)”']) expect(copy.message).toContain(name);
  });

  it('with sheets besides the template’s own, every message names the sheet it read', async () => {
    const { report } = await run('scratch-sheet');
    expect(report.issues[0]!.message).toMatch(/^工作表“基层月报”D35「门急诊人次」为 -5/);
    const single = await run('value-negative');
    expect(single.report.issues[0]!.message).toMatch(/^D35/);
  });

  it('someone else’s template with B3 overwritten names both institutions', async () => {
    for (const name of ['identity-overwritten', 'identity-name-overwritten']) {
      const message = (await run(name)).report.issues[0]!.message;
      expect(message, name).toContain('青龙山镇中心卫生院');
      expect(message, name).toContain('150525-101（八仙筒镇中心卫生院）');
    }
  });

  it('a missing header is named with where it was expected', async () => {
    expect((await run('header-missing')).report.issues[0]!.message).toContain('“本期数值”应在 D7');
    expect((await run('header-renamed-codes-changed')).report.issues[0]!.message).toContain('D7 为“3月数值”');
  });
});
