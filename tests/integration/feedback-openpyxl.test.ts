/**
 * The marked-up workbook as another program reads it: Debian's openpyxl (an independent .xlsx
 * reader) sees 校验结果 first with internal hyperlinks to the cells, and a note and a fill on each
 * problem cell. Includes an upload saved by openpyxl with a cell note, which exceljs's full load()
 * cannot read (absolute comment part names): the values fallback must still mark it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASES } from '../../fixtures/workbooks/cases.ts';
import { caseFile } from '../../fixtures/workbooks/make.ts';
import { buildFeedback, FEEDBACK_SHEET, MARK_ARGB, type FeedbackMode } from '../../functions/core/render/feedback.ts';
import type { Report } from '../../functions/core/report.ts';
import { validateUpload } from '../../functions/core/validate/index.ts';
import { bundledSource } from '../../schemas/index.ts';

const run = promisify(execFile);
/** Debian's python has openpyxl; the `python3` on PATH may be a pyenv without it */
const PYTHON = '/usr/bin/python3';
const NOW = new Date('2025-04-10T00:00:00+08:00');
const CONTEXT = { uploadedAt: '2025-04-03T02:15:07.000Z', fileName: '上传.xlsx' };

const READ = `
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
out = {"sheets": wb.sheetnames, "states": [ws.sheet_state for ws in wb.worksheets], "active": wb.active.title, "links": {}, "cells": {}}
first = wb.worksheets[0]
out["frozen"] = first.freeze_panes
for row in first.iter_rows():
    for c in row:
        if c.hyperlink is not None:
            out["links"][c.coordinate] = {"location": c.hyperlink.location, "target": c.hyperlink.target, "text": c.value}
for ws in wb.worksheets[1:]:
    for row in ws.iter_rows():
        for c in row:
            if c.comment is not None:
                out["cells"][ws.title + "!" + c.coordinate] = {"comment": c.comment.text, "fill": c.fill.fgColor.rgb if c.fill and c.fill.fill_type == "solid" else None, "value": c.value}
print(json.dumps(out, ensure_ascii=False, default=str))
`;

interface Read {
  sheets: string[];
  states: string[];
  active: string;
  frozen: string | null;
  links: Record<string, { location: string | null; target: string | null; text: string }>;
  cells: Record<string, { comment: string; fill: string | null; value: unknown }>;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hmis-feedback-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function openpyxl(bytes: Buffer, name: string): Promise<Read> {
  const file = join(dir, `${name}.xlsx`);
  await writeFile(file, bytes);
  const { stdout } = await run(PYTHON, ['-c', READ, file], { maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as Read;
}

async function feedback(bytes: Buffer, options: { institution: string; period: string; template: string }): Promise<{ report: Report; mode: FeedbackMode; bytes: Buffer }> {
  const { report } = await validateUpload(bytes, { definitions: bundledSource(),  ...options, now: NOW });
  const result = await buildFeedback(bytes, report, CONTEXT);
  return { report, mode: result.mode, bytes: result.bytes };
}

function expectMarked(read: Read, report: Report): void {
  expect(read.sheets[0]).toBe(FEEDBACK_SHEET);
  expect(read.active).toBe(FEEDBACK_SHEET);
  const problems = report.issues.filter((i) => i.severity !== 'info' && i.cell);
  expect(problems.length).toBeGreaterThan(0);
  for (const issue of problems) {
    const cell = read.cells[`${issue.sheet}!${issue.cell}`];
    expect(cell, `${issue.sheet}!${issue.cell}`).toBeDefined();
    expect(cell!.comment).toContain(issue.message);
    expect(cell!.fill).toBe(MARK_ARGB[issue.severity as 'error' | 'warning']);
  }
  const locations = Object.values(read.links).map((l) => l.location);
  for (const issue of problems) expect(locations).toContain(`'${issue.sheet}'!${issue.cell}`);
  // internal links only: no external target a click would try to open
  for (const l of Object.values(read.links)) expect(l.target).toBeNull();
}

describe('feedback workbook read back by openpyxl', () => {
  it.each(['rule-JC-R03', 'ledger-progress-mismatch', 'ledger-overdue', 'value-not-integer'])('%s', async (name) => {
    const c = CASES.find((x) => x.name === name)!;
    const out = await feedback(await readFile(caseFile(c)), c.options as { institution: string; period: string; template: string });
    expect(out.mode).toBe('in-place');
    const read = await openpyxl(out.bytes, name);
    expectMarked(read, out.report);
    expect(read.states.at(-1)).toBe('veryHidden');
    expect(read.frozen).toMatch(/^A\d+$/);
  });

  it('an upload saved by openpyxl with a note of its own: exceljs cannot load it, the values copy is marked', async () => {
    const c = CASES.find((x) => x.name === 'valid-T-JC')!;
    const saved = join(dir, 'saved-by-openpyxl.xlsx');
    await run(PYTHON, [
      '-c',
      `
import sys, openpyxl
from openpyxl.comments import Comment
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb["基层月报"]
ws["D14"] = 1501
ws["E8"].comment = Comment("含流动人口", "张某")
wb.save(sys.argv[2])
`,
      caseFile(c),
      saved,
    ]);
    const out = await feedback(await readFile(saved), c.options as { institution: string; period: string; template: string });
    expect(out.report.issues.map((i) => [i.cell, i.code])).toEqual([['D14', 'rule-violation']]);
    expect(out.mode).toBe('values');
    const read = await openpyxl(out.bytes, 'saved-by-openpyxl.feedback');
    expectMarked(read, out.report);
    expect(read.cells['基层月报!D14']!.value).toBe(1501);
    expect(read.sheets).toEqual([FEEDBACK_SHEET, '填报说明', '基层月报', '_hmis']);
    expect(read.states).toEqual(['visible', 'visible', 'visible', 'veryHidden']);
  });

  it('a file that is no workbook: 校验结果 alone', async () => {
    const out = await feedback(Buffer.from('PK\u0003\u0004 not really a zip'), { institution: '150525-101', period: '2025-03', template: 'T-JC' });
    expect(out.mode).toBe('summary');
    const read = await openpyxl(out.bytes, 'not-a-zip');
    expect(read.sheets).toEqual([FEEDBACK_SHEET]);
    expect(read.links).toEqual({});
  });
});
