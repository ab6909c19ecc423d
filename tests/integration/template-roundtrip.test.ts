/**
 * The blank template survives the programs institutions really use: filled and saved by another
 * .xlsx library (openpyxl), then opened and saved again by LibreOffice. Identity cells, values and
 * positions must come back where the parser reads them.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATE_ROW, FIRST_DATA_ROW, META_KEYS, META_SHEET, REPORTER_ROW } from '../../functions/core/layout.ts';
import { elementCells, writeTemplate } from '../../functions/core/render/template.ts';
import { validateUpload } from '../../functions/core/validate/index.ts';
import { type IndicatorTemplate, type LedgerTemplate, type TemplateDefinition, bundledDefinitions, bundledSource } from '../../schemas/index.ts';

const run = promisify(execFile);

/** Debian's python has openpyxl; the `python3` on PATH may be a pyenv without it */
const PYTHON = '/usr/bin/python3';
const SOFFICE = ['/usr/bin/soffice', '/usr/local/bin/soffice', '/opt/libreoffice/program/soffice'].find((p) => existsSync(p));
const PERIOD = '2025-03';
const CASES = [
  ['T-JC', '150525-101'],
  ['T-YY', '150525-001'],
  ['T-FY', '150525-000'],
  ['T-JK', '150525-003'],
  ['T-TZ', '150525-101'],
] as const;

/** A1 address → value; dates as `date:YYYY-MM-DD` so they cross into python as dates */
type Fill = Record<string, string | number>;

/** Plausible numbers that satisfy the template's rules (numerator ≤ denominator, sums), so a validator can accept them. */
function indicatorFill(def: IndicatorTemplate): Fill {
  const values = new Map<string, number>();
  def.elements.forEach((el, i) => {
    values.set(el.code, el.type === 'percent' ? 90 + ((i * 7) % 10) + 0.26 : el.type === 'decimal' ? 1.75 : 1000 + ((i * 7919) % 5000));
  });
  const sum = (codes: string[]) => codes.reduce((s, c) => s + values.get(c)!, 0);
  for (let pass = 0; pass < 20; pass++) {
    let changed = false;
    for (const rule of def.rules) {
      const [left, right] = rule.op === '>=' ? [rule.right, rule.left] : [rule.left, rule.right];
      const l = sum(left);
      const r = sum(right);
      if (rule.op === '==' ? l === r : l <= r) continue;
      changed = true;
      if (rule.op === '==' && left.length === 1) values.set(left[0]!, r);
      else for (const c of left) values.set(c, Math.floor((values.get(c)! * r * 0.9) / l));
    }
    if (!changed) break;
  }
  const cells = elementCells(def);
  const fill: Fill = {};
  for (const [code, cell] of cells) fill[cell] = values.get(code)!;
  fill[`E${FIRST_DATA_ROW}`] = '含流动人口';
  return fill;
}

function ledgerFill(def: LedgerTemplate): Fill {
  const col = (key: string) => String.fromCharCode(65 + def.columns.findIndex((c) => c.key === key));
  const tasks = [
    ['1', '完善家庭医生签约服务，重点人群签约覆盖率达到90%', '王医生', '2025-06-30', '推进中', 40],
    ['2', '开展65岁及以上老年人健康体检', '李医生', '2025-02-28', '已完成', 100],
    ['3', '建立中医药健康管理台账', '赵医生', '2025-12-31', '未启动', 0],
  ] as const;
  const fill: Fill = {};
  tasks.forEach(([no, content, owner, deadline, status, progress], i) => {
    const r = FIRST_DATA_ROW + i;
    fill[`${col('taskNo')}${r}`] = no;
    fill[`${col('content')}${r}`] = content;
    fill[`${col('owner')}${r}`] = owner;
    fill[`${col('deadline')}${r}`] = `date:${deadline}`;
    fill[`${col('status')}${r}`] = status;
    fill[`${col('progress')}${r}`] = progress;
    fill[`${col('measures')}${r}`] = '每月督导，按季度通报';
  });
  return fill;
}

function fillFor(def: TemplateDefinition): Fill {
  return {
    [`B${REPORTER_ROW}`]: '张晓燕',
    [`D${REPORTER_ROW}`]: '04755212345',
    [`B${DATE_ROW}`]: 'date:2025-04-03',
    ...(def.kind === 'indicator' ? indicatorFill(def) : ledgerFill(def)),
  };
}

const FILL_PY = `
import datetime, json, sys
import openpyxl
src, dst, sheet, cells = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
wb = openpyxl.load_workbook(src)
ws = wb[sheet]
for addr, v in cells.items():
    if isinstance(v, str) and v.startswith('date:'):
        v = datetime.datetime.fromisoformat(v[5:])
    ws[addr] = v
wb.save(dst)
`;

interface Case {
  id: string;
  code: string;
  def: TemplateDefinition;
  fill: Fill;
  /** the files to check, by producer */
  files: { openpyxl: string; libreoffice: string; blankLibreoffice: string };
}

let dir: string;
const cases: Case[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hmis-roundtrip-'));
  const blankDir = join(dir, 'blank');
  const filledDir = join(dir, 'filled');
  const loDir = join(dir, 'lo');
  const loBlankDir = join(dir, 'lo-blank');
  await Promise.all([blankDir, filledDir, loDir, loBlankDir].map((d) => mkdir(d)));
  for (const [id, code] of CASES) {
    const found = bundledDefinitions().institution(code)!;
    const def = bundledDefinitions().template(id)!;
    const name = `${id}_${code}_${PERIOD}.xlsx`;
    const blank = join(blankDir, name);
    await writeFile(blank, await writeTemplate(def, found.county, found.institution, PERIOD));
    const fill = fillFor(def);
    await run(PYTHON, ['-c', FILL_PY, blank, join(filledDir, name), def.sheetName, JSON.stringify(fill)], { timeout: 60_000 });
    cases.push({
      id,
      code,
      def,
      fill,
      files: { openpyxl: join(filledDir, name), libreoffice: join(loDir, name), blankLibreoffice: join(loBlankDir, name) },
    });
  }
  // LibreOffice is part of the test kit (.ci/run installs libreoffice-calc-nogui): its absence is a failure, not a skip
  if (!SOFFICE) throw new Error('LibreOffice (soffice) is required: apt-get install -y libreoffice-calc-nogui');
  {
    // one soffice per batch (start-up dominates); a private profile avoids locks with any other instance
    const profile = join(tmpdir(), `lo-profile-${randomUUID()}`);
    try {
      for (const [from, to] of [
        [filledDir, loDir],
        [blankDir, loBlankDir],
      ] as const) {
        const inputs = cases.map((c) => join(from, `${c.id}_${c.code}_${PERIOD}.xlsx`));
        await run(SOFFICE, [`-env:UserInstallation=file://${profile}`, '--headless', '--norestore', '--convert-to', 'xlsx', '--outdir', to, ...inputs], {
          timeout: 90_000,
        });
      }
    } finally {
      await rm(profile, { recursive: true, force: true });
    }
  }
}, 240_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function load(path: string): Promise<{ wb: ExcelJS.Workbook; zip: JSZip; bytes: Buffer }> {
  const bytes = await readFile(path);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes as unknown as ExcelJS.Buffer);
  return { wb, zip: await JSZip.loadAsync(bytes), bytes };
}

function expected(v: string | number): unknown {
  return typeof v === 'string' && v.startsWith('date:') ? new Date(`${v.slice(5)}T00:00:00Z`) : v;
}

function actual(cell: ExcelJS.Cell): unknown {
  const v = cell.value;
  // a producer may store a text cell as rich text
  if (v && typeof v === 'object' && 'richText' in v) return v.richText.map((r) => r.text).join('');
  return v;
}

/** sheet name → part path, from workbook.xml and its relationships (relative or absolute targets) */
async function sheetPart(zip: JSZip, name: string): Promise<string> {
  const workbook = await zip.file('xl/workbook.xml')!.async('string');
  const rels = await zip.file('xl/_rels/workbook.xml.rels')!.async('string');
  const rid = [...workbook.matchAll(/<sheet\b[^>]*>/g)].map((m) => m[0]).find((t) => t.includes(`name="${name}"`))?.match(/r:id="([^"]+)"/)?.[1];
  const rel = [...rels.matchAll(/<Relationship\b[^>]*>/g)].map((m) => m[0]).find((t) => t.includes(`Id="${rid}"`));
  const target = rel?.match(/Target="([^"]+)"/)?.[1];
  if (!target) throw new Error(`no part for sheet ${name}`);
  return target.startsWith('/') ? target.slice(1) : `xl/${target}`;
}

/**
 * Addresses of unlocked cells, read from the XML: exceljs only understands locked="0", while
 * LibreOffice writes locked="false", so exceljs reports LibreOffice's unlocked cells as locked.
 */
async function unlockedCells(zip: JSZip, sheet: string): Promise<Set<string>> {
  const styles = await zip.file('xl/styles.xml')!.async('string');
  const cellXfs = /<cellXfs\b[^>]*>([\s\S]*?)<\/cellXfs>/.exec(styles)?.[1] ?? '';
  const unlockedXf = [...cellXfs.matchAll(/<xf\b[^>]*?(?:\/>|>[\s\S]*?<\/xf>)/g)].map((m) => /<protection\b[^>]*\blocked="(0|false)"/.test(m[0]));
  const xml = await zip.file(await sheetPart(zip, sheet))!.async('string');
  const cells = new Set<string>();
  for (const m of xml.matchAll(/<c\b[^>]*\br="([A-Z]+\d+)"[^>]*>/g)) {
    const style = Number(/\bs="(\d+)"/.exec(m[0])?.[1] ?? 0);
    if (unlockedXf[style]) cells.add(m[1]!);
  }
  return cells;
}

/** identity and values as the parser will see them */
function checkWorkbook(wb: ExcelJS.Workbook, c: Case, { filled }: { filled: boolean }): void {
  const found = bundledDefinitions().institution(c.code)!;
  const ws = wb.getWorksheet(c.def.sheetName);
  expect(ws, `sheet ${c.def.sheetName}`).toBeDefined();
  // LibreOffice writes mixed-script text (T-JC（第1版）) as rich text: compare the text
  expect(actual(ws!.getCell('B3'))).toBe(c.code);
  expect(actual(ws!.getCell('D3'))).toBe(found.institution.name);
  expect(actual(ws!.getCell('B4'))).toBe(PERIOD);
  expect(actual(ws!.getCell('D4'))).toBe(`${c.id}（第${c.def.version}版）`);
  expect(actual(ws!.getCell('A7'))).toBe(c.def.kind === 'ledger' ? c.def.columns[0]!.header : '指标代码');

  const meta = wb.getWorksheet(META_SHEET);
  expect(meta, '_hmis sheet').toBeDefined();
  const identity = Object.fromEntries(META_KEYS.map((_, i) => [actual(meta!.getCell(i + 1, 1)), actual(meta!.getCell(i + 1, 2))]));
  expect(identity).toEqual({ template: c.id, version: c.def.version, institution: c.code, period: PERIOD, generator: 'hmis-sheets' });
  // LibreOffice has no "very hidden": it saves the sheet as hidden
  expect(['veryHidden', 'hidden']).toContain(meta!.state);

  if (c.def.kind === 'indicator') {
    c.def.elements.forEach((el, i) => expect(ws!.getCell(FIRST_DATA_ROW + i, 1).value).toBe(el.code));
  }
  for (const [addr, v] of Object.entries(c.fill)) {
    const cell = ws!.getCell(addr);
    expect(actual(cell), addr).toEqual(filled ? expected(v) : null);
  }
}

async function checkUnlocked(zip: JSZip, c: Case): Promise<void> {
  const unlocked = await unlockedCells(zip, c.def.sheetName);
  for (const addr of Object.keys(c.fill)) expect(unlocked.has(addr), `${addr} stays unlocked`).toBe(true);
  const locked = ['A1', 'B3', 'B4', 'D3', 'D4', 'A7', ...(c.def.kind === 'indicator' ? ['A8', 'B8', 'C8'] : ['H7'])];
  for (const addr of locked) expect(unlocked.has(addr), `${addr} stays locked`).toBe(false);
}

/** no whole-column or whole-sheet validation ranges and defined names: exceljs would run out of memory on them */
async function checkNoUnboundedRanges(zip: JSZip): Promise<void> {
  for (const name of Object.keys(zip.files).filter((n) => /^xl\/worksheets\/[^/]+\.xml$/.test(n))) {
    const xml = await zip.file(name)!.async('string');
    for (const m of xml.matchAll(/<dataValidation\b[^>]*\bsqref="([^"]+)"/g)) {
      expect(m[1], `${name} validation`).not.toMatch(/(^|\s)[A-Z]+:[A-Z]+(\s|$)|1048576/);
    }
  }
  const workbook = await zip.file('xl/workbook.xml')!.async('string');
  for (const m of workbook.matchAll(/<definedName [^>]*>([^<]*)<\/definedName>/g)) {
    expect(m[1], 'defined name').not.toMatch(/\$[A-Z]+:\$[A-Z]+|1048576/);
  }
}

describe.each(CASES)('%s for %s', (id) => {
  const get = () => cases.find((c) => c.id === id)!;

  it('is filled and saved by openpyxl; identity and values are where the parser reads them', async () => {
    const c = get();
    const { wb, zip } = await load(c.files.openpyxl);
    checkWorkbook(wb, c, { filled: true });
    expect(wb.getWorksheet(META_SHEET)!.state).toBe('veryHidden');
    await checkUnlocked(zip, c);
    await checkNoUnboundedRanges(zip);
  });

  it('survives LibreOffice opening and saving the filled file', async () => {
    const c = get();
    const { wb, zip } = await load(c.files.libreoffice);
    checkWorkbook(wb, c, { filled: true });
    await checkUnlocked(zip, c);
    await checkNoUnboundedRanges(zip);
    const sheetXml = await zip.file(await sheetPart(zip, c.def.sheetName))!.async('string');
    expect(sheetXml, 'return sheet still protected').toMatch(/<sheetProtection\b[^>]*\bsheet="(1|true)"/);
    expect(sheetXml, 'validation kept').toMatch(/<dataValidation\b/);
  });

  it('survives LibreOffice opening and saving the blank file', async () => {
    const c = get();
    const { wb, zip } = await load(c.files.blankLibreoffice);
    checkWorkbook(wb, c, { filled: false });
    await checkUnlocked(zip, c);
    await checkNoUnboundedRanges(zip);
  });

  it('is accepted by the validator after openpyxl and LibreOffice saved it', async () => {
    const c = get();
    for (const f of [c.files.openpyxl, c.files.libreoffice]) {
      const { report } = await validateUpload(await readFile(f), { definitions: bundledSource(),  institution: c.code, period: PERIOD, template: c.id, now: new Date('2025-04-02T00:00:00Z') });
      expect(report.issues.filter((i) => i.severity !== 'info'), f).toEqual([]);
      expect(report.status, f).toBe('accepted');
    }
  });
});
