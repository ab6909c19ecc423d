import { realpathSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../functions/cli/main.ts';
import {
  DATE_ROW,
  FIRST_DATA_ROW,
  HEADER_ROW,
  INDICATOR_HEADERS,
  INSTRUCTIONS_SHEET,
  META_KEYS,
  META_SHEET,
  REPORTER_ROW,
} from '../../functions/core/layout.ts';
import { setZipTimestamps } from '../../functions/core/render/deterministic.ts';
import {
  buildTemplateWorkbook,
  deadlineLabel,
  elementCells,
  hashPassword,
  inputCells,
  SHEET_PASSWORD,
  SHEET_PROTECTION_HASH,
  writeTemplate,
} from '../../functions/core/render/template.ts';
import { LEDGER_STATUSES, type TemplateDefinition, bundledDefinitions } from '../../schemas/index.ts';

const PERIOD = '2025-03';
const CASES = [
  ['T-JC', '150525-101'],
  ['T-YY', '150525-001'],
  ['T-FY', '150525-000'],
  ['T-JK', '150525-003'],
  ['T-TZ', '150525-101'],
] as const;

function subject(id: string, code: string) {
  const found = bundledDefinitions().institution(code);
  if (!found) throw new Error(`no institution ${code}`);
  return { def: bundledDefinitions().template(id)!, ...found };
}

interface Written {
  def: TemplateDefinition;
  bytes: Buffer;
  wb: ExcelJS.Workbook;
  ws: ExcelJS.Worksheet;
  /** raw XML of the return sheet and of the workbook part */
  sheetXml: string;
  metaXml: string;
  workbookXml: string;
}

/** sheet name → its part, following workbook.xml and its relationships */
async function sheetParts(zip: JSZip): Promise<Map<string, string>> {
  const workbook = await zip.file('xl/workbook.xml')!.async('string');
  const rels = await zip.file('xl/_rels/workbook.xml.rels')!.async('string');
  const targets = new Map([...rels.matchAll(/<Relationship [^>]*Id="([^"]+)"[^>]*Target="([^"]+)"/g)].map((m) => [m[1]!, m[2]!]));
  const parts = new Map<string, string>();
  for (const m of workbook.matchAll(/<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"/g)) {
    parts.set(m[1]!, 'xl/' + targets.get(m[2]!)!.replace(/^\/?xl\//, ''));
  }
  return parts;
}

const written = new Map<string, Written>();

beforeAll(async () => {
  for (const [id, code] of CASES) {
    const { def, county, institution } = subject(id, code);
    const bytes = await writeTemplate(def, county, institution, PERIOD);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(bytes as unknown as ExcelJS.Buffer);
    const zip = await JSZip.loadAsync(bytes);
    const parts = await sheetParts(zip);
    written.set(id, {
      def,
      bytes,
      wb,
      ws: wb.getWorksheet(def.sheetName)!,
      sheetXml: await zip.file(parts.get(def.sheetName)!)!.async('string'),
      metaXml: await zip.file(parts.get(META_SHEET)!)!.async('string'),
      workbookXml: await zip.file('xl/workbook.xml')!.async('string'),
    });
  }
});

function get(id: string): Written {
  return written.get(id)!;
}

/** every cell of a sqref ("D8", "D8:D36", or several separated by spaces) */
function expandSqref(sqref: string): string[] {
  const cells: string[] = [];
  for (const part of sqref.trim().split(/\s+/)) {
    const m = /^([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?$/.exec(part);
    if (!m) throw new Error(`sqref ${part} is not a bounded cell range`);
    const [c1, r1] = [colNumber(m[1]!), Number(m[2])];
    const [c2, r2] = m[3] ? [colNumber(m[3]), Number(m[4])] : [c1, r1];
    for (let r = r1; r <= r2; r++) for (let c = c1; c <= c2; c++) cells.push(`${colLetter(c)}${r}`);
  }
  return cells;
}
const colNumber = (s: string) => [...s].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0);
const colLetter = (n: number): string => (n > 26 ? colLetter(Math.floor((n - 1) / 26)) : '') + String.fromCharCode(65 + ((n - 1) % 26));

describe.each(CASES)('%s template for %s', (id, code) => {
  it('has the sheets in order: 填报说明, the return sheet, a very hidden _hmis', () => {
    const { wb, def, workbookXml } = get(id);
    expect(wb.worksheets.map((w) => w.name)).toEqual([INSTRUCTIONS_SHEET, def.sheetName, META_SHEET]);
    expect(wb.getWorksheet(INSTRUCTIONS_SHEET)!.state).toBe('visible');
    expect(wb.getWorksheet(def.sheetName)!.state).toBe('visible');
    expect(wb.getWorksheet(META_SHEET)!.state).toBe('veryHidden');
    expect(workbookXml).toMatch(/<sheet [^>]*name="_hmis" state="veryHidden"/);
  });

  it('records the template identity in _hmis A1:B5, protected', () => {
    const { wb, def, metaXml } = get(id);
    const meta = wb.getWorksheet(META_SHEET)!;
    const rows = META_KEYS.map((_, i) => [meta.getCell(i + 1, 1).value, meta.getCell(i + 1, 2).value]);
    expect(rows).toEqual([
      ['template', id],
      ['version', def.version],
      ['institution', code],
      ['period', PERIOD],
      ['generator', 'hmis-sheets'],
    ]);
    expect(metaXml).toMatch(/<sheetProtection [^>]*sheet="1"/);
  });

  it('has the title, the identity rows and the header row where layout.ts says', () => {
    const { ws, def } = get(id);
    const { county, institution } = subject(id, code);
    expect(ws.getCell('A1').value).toBe(`${county.name} ${def.title}（2025年3月）`);
    const lastCol = def.kind === 'ledger' ? def.columns.length : INDICATOR_HEADERS.length;
    expect(ws.model.merges).toContain(`A1:${colLetter(lastCol)}1`);
    expect(String(ws.getCell('A2').value)).toContain('黄色单元格为填报区域');
    expect([ws.getCell('A3').value, ws.getCell('B3').value, ws.getCell('C3').value, ws.getCell('D3').value]).toEqual([
      '机构代码',
      code,
      '机构名称',
      institution.name,
    ]);
    // the period is text, not a date
    expect([ws.getCell('A4').value, ws.getCell('B4').value, ws.getCell('C4').value, ws.getCell('D4').value]).toEqual([
      '统计期',
      '2025-03',
      '报表模板',
      `${id}（第${def.version}版）`,
    ]);
    expect(ws.getCell('B4').type).toBe(ExcelJS.ValueType.String);
    expect([ws.getCell('A5').value, ws.getCell('C5').value, ws.getCell('A6').value]).toEqual(['填报人', '联系电话', '填报日期']);
    const headers = ws.getRow(HEADER_ROW).values as unknown[];
    if (def.kind === 'ledger') {
      expect(headers.slice(1)).toEqual(['任务编号', '任务内容', '责任人', '完成时限', '进展状态', '完成进度(%)', '工作措施', '备注']);
    } else {
      expect(headers.slice(1)).toEqual(['指标代码', '指标名称', '单位', '本期数值', '备注']);
      def.elements.forEach((el, i) => {
        const row = ws.getRow(FIRST_DATA_ROW + i);
        expect([row.getCell(1).value, row.getCell(2).value, row.getCell(3).value]).toEqual([el.code, el.name, el.unit]);
      });
      expect(ws.getCell(FIRST_DATA_ROW + def.elements.length, 1).value).toBeNull();
    }
  });

  it('unlocks and colours exactly the input cells; everything else is locked; the sheet is protected', () => {
    const { ws, def, sheetXml } = get(id);
    const inputs = new Set(inputCells(def));
    const lastRow = def.kind === 'ledger' ? FIRST_DATA_ROW + def.preparedRows : FIRST_DATA_ROW + def.elements.length;
    const lastCol = def.kind === 'ledger' ? def.columns.length + 1 : INDICATOR_HEADERS.length + 1;
    const unlocked: string[] = [];
    for (let r = 1; r <= lastRow; r++) {
      for (let c = 1; c <= lastCol; c++) {
        const cell = ws.getCell(r, c);
        if (cell.protection?.locked === false) unlocked.push(cell.address);
        if (inputs.has(cell.address)) {
          expect((cell.fill as ExcelJS.FillPattern | undefined)?.fgColor?.argb, cell.address).toBe('FFFFF2CC');
          expect(cell.border?.top?.style, cell.address).toBe('thin');
        }
      }
    }
    expect(unlocked.sort()).toEqual([...inputs].sort());
    const protection = /<sheetProtection [^>]*\/>/.exec(sheetXml)?.[0] ?? '';
    expect(protection).toMatch(/ sheet="1"/);
    expect(protection).toMatch(/ algorithmName="SHA-512"/);
    expect(protection).toMatch(/ formatColumns="0"/);
    expect(protection).toMatch(/ formatRows="0"/);
    expect(protection).not.toMatch(/formatCells|selectLockedCells|selectUnlockedCells/);
  });

  it('validates input cells only, in bounded ranges, with Chinese messages', () => {
    const { def, sheetXml } = get(id);
    const rules = [...sheetXml.matchAll(/<dataValidation ([^>]*)>/g)].map((m) => m[1]!);
    expect(rules.length).toBeGreaterThan(0);
    const inputs = new Set(inputCells(def));
    const covered = new Set<string>();
    for (const attrs of rules) {
      const sqref = /sqref="([^"]+)"/.exec(attrs)![1]!;
      expect(sqref).not.toMatch(/^[A-Z]+:[A-Z]+$|\$|1048576/);
      for (const cell of expandSqref(sqref)) {
        expect(inputs.has(cell), `${sqref} covers ${cell}, not an input cell`).toBe(true);
        covered.add(cell);
      }
      expect(attrs).toMatch(/showErrorMessage="1"/);
      expect(attrs).toMatch(/errorTitle="[^"]*[\u4e00-\u9fff]/);
      expect(attrs).toMatch(/error="[^"]*[\u4e00-\u9fff]/);
    }
    expect(covered.has(`B${DATE_ROW}`)).toBe(true);
    if (def.kind === 'indicator') {
      def.elements.forEach((_, i) => expect(covered.has(`D${FIRST_DATA_ROW + i}`)).toBe(true));
    } else {
      const last = FIRST_DATA_ROW + def.preparedRows - 1;
      for (const key of ['deadline', 'status', 'progress']) {
        const col = colLetter(def.columns.findIndex((c) => c.key === key) + 1);
        expect(rules.some((a) => a.includes(`sqref="${col}${FIRST_DATA_ROW}:${col}${last}"`)), key).toBe(true);
      }
    }
  });

  it('sets rule types and number formats by value type', () => {
    const { ws, def } = get(id);
    expect(ws.getCell(`B${DATE_ROW}`).numFmt).toBe('yyyy-mm-dd');
    expect(ws.getCell(`B${DATE_ROW}`).dataValidation?.type).toBe('date');
    expect(ws.getCell(`D${REPORTER_ROW}`).numFmt).toBe('@');
    if (def.kind === 'indicator') {
      def.elements.forEach((el, i) => {
        const cell = ws.getCell(FIRST_DATA_ROW + i, 4);
        const dv = cell.dataValidation!;
        if (el.type === 'integer') {
          expect([cell.numFmt, dv.type, dv.operator, dv.formulae]).toEqual(['0', 'whole', 'greaterThanOrEqual', [0]]);
        } else if (el.type === 'decimal') {
          expect([cell.numFmt, dv.type, dv.operator, dv.formulae]).toEqual(['0.00', 'decimal', 'greaterThanOrEqual', [0]]);
        } else {
          expect([cell.numFmt, dv.type, dv.formulae]).toEqual(['0.00', 'decimal', [0, 100]]);
        }
        expect(dv.errorStyle ?? 'stop').toBe('stop');
      });
    } else {
      const col = (key: string) => def.columns.findIndex((c) => c.key === key) + 1;
      for (const r of [FIRST_DATA_ROW, FIRST_DATA_ROW + def.preparedRows - 1]) {
        expect(ws.getCell(r, col('deadline')).numFmt).toBe('yyyy-mm-dd');
        expect(ws.getCell(r, col('deadline')).dataValidation?.type).toBe('date');
        expect(ws.getCell(r, col('progress')).numFmt).toBe('0');
        expect(ws.getCell(r, col('progress')).dataValidation).toMatchObject({ type: 'decimal', formulae: [0, 100] });
        expect(ws.getCell(r, col('status')).dataValidation).toMatchObject({ type: 'list', formulae: [`"${LEDGER_STATUSES.join(',')}"`] });
        expect(ws.getCell(r, col('taskNo')).numFmt).toBe('@');
      }
      expect(ws.getCell(FIRST_DATA_ROW + def.preparedRows, col('status')).dataValidation).toBeUndefined();
    }
  });

  it('freezes the header and is set up for A4 printing', () => {
    const { ws, def, workbookXml } = get(id);
    expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: HEADER_ROW });
    expect(ws.pageSetup).toMatchObject({
      paperSize: 9,
      orientation: def.kind === 'ledger' ? 'landscape' : 'portrait',
      fitToPage: true,
      fitToWidth: 1,
      fitToHeight: 0,
      printTitlesRow: '7:7',
    });
    expect(ws.headerFooter.oddFooter).toContain('第 &P 页，共 &N 页');
    expect(workbookXml).toContain(`<definedName name="_xlnm.Print_Titles" localSheetId="1">&apos;${def.sheetName}&apos;!$7:$7</definedName>`);
    expect(ws.getCell('A1').font?.bold).toBe(true);
    expect(ws.getCell('A1').font?.name).toBe('宋体');
  });

  it('explains the template on 填报说明', () => {
    const { wb, def } = get(id);
    const text = (wb.getWorksheet(INSTRUCTIONS_SHEET)!.getSheetValues() as unknown[][])
      .flat()
      .filter((v) => typeof v === 'string')
      .join('\n');
    expect(text).toContain('次月5日23:59前');
    expect(text).toContain(deadlineLabel(PERIOD, 5));
    expect(text).toContain('黄色单元格');
    expect(text).toContain('.xlsx');
    if (def.kind === 'ledger') {
      expect(text).toContain(LEDGER_STATUSES.join('、'));
      expect(text).toContain('已完成的任务完成进度填100');
      expect(text).toContain('未启动的任务完成进度填0');
    } else {
      expect(text).toContain('比率');
      expect(text).toContain('95.26');
      expect(text).toContain('本月发生数');
      if (def.elements.some((e) => e.semantics === 'ytd')) expect(text).toContain('本年1月1日起累计');
      for (const el of def.elements) expect(text).toContain(el.code);
    }
  });

  it('writes the same bytes every time, whatever the clock says', async () => {
    const { def, county, institution } = subject(id, code);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(new Date('2031-07-09T13:14:15Z'));
      const again = await writeTemplate(def, county, institution, PERIOD);
      expect(again.equals(get(id).bytes)).toBe(true);
    } finally {
      vi.useRealTimers();
    }
    const zip = await JSZip.loadAsync(get(id).bytes);
    for (const file of Object.values(zip.files)) expect(file.date.toISOString()).toBe('2025-03-01T00:00:00.000Z');
    expect(get(id).wb.created.toISOString()).toBe('2025-03-01T00:00:00.000Z');
  });
});

describe('T-JC cell positions', () => {
  it('puts JC06 in D13 and JC07 in D14, as the domain example message says', () => {
    const { ws, def } = get('T-JC');
    const cells = elementCells(def as Extract<TemplateDefinition, { kind: 'indicator' }>);
    expect(cells.get('JC01')).toBe('D8');
    expect(cells.get('JC06')).toBe('D13');
    expect(cells.get('JC07')).toBe('D14');
    expect([ws.getCell('A13').value, ws.getCell('B13').value]).toEqual(['JC06', '高血压患者应管理人数']);
    expect([ws.getCell('A14').value, ws.getCell('B14').value]).toEqual(['JC07', '高血压患者规范管理人数']);
  });

  it('prompts the period semantics when a value cell is selected', () => {
    const { ws } = get('T-JC');
    const prompt = (addr: string) => {
      const dv = ws.getCell(addr).dataValidation;
      expect(dv?.showInputMessage, addr).toBe(true);
      return `${dv?.promptTitle} ${dv?.prompt}`;
    };
    expect(prompt('D8')).toContain('月末数'); // JC01 stock
    expect(prompt('D12')).toContain('本年1月1日起累计'); // JC05 ytd
    expect(prompt('D27')).toContain('本月发生数'); // JC20 flow
    expect(prompt('D8')).toContain('单位：人');
  });
});

describe('building', () => {
  it('refuses a malformed period', () => {
    const { def, county, institution } = subject('T-JC', '150525-101');
    for (const p of ['2025-3', '2025-13', '202503', '', '2025-Q1', '2025']) expect(() => buildTemplateWorkbook(def, county, institution, p)).toThrow(/a month period is needed for T-JC/);
  });

  it('takes values set into input cells, as a sample generator does', async () => {
    const { def, county, institution } = subject('T-JC', '150525-101');
    const wb = buildTemplateWorkbook(def, county, institution, PERIOD);
    const ws = wb.getWorksheet(def.sheetName)!;
    ws.getCell('D14').value = 25788;
    ws.getCell('D13').value = 30000;
    const back = new ExcelJS.Workbook();
    await back.xlsx.load(await wb.xlsx.writeBuffer());
    expect(back.getWorksheet(def.sheetName)!.getCell('D14').value).toBe(25788);
    expect(back.getWorksheet(def.sheetName)!.getCell('D14').protection?.locked).toBe(false);
  });

  it('dates December deadlines in January of the next year', () => {
    expect(deadlineLabel('2025-12', 5)).toBe('2026年1月5日23:59');
    expect(deadlineLabel('2025-03', 10)).toBe('2025年4月10日23:59');
  });

  it('hashes the protection password as Excel (and exceljs) do', () => {
    const require = createRequire(import.meta.url);
    const Encryptor = require('exceljs/lib/utils/encryptor.js') as {
      convertPasswordToHash(p: string, alg: string, salt: string, spin: number): string;
    };
    const salt = Buffer.from('0123456789abcdef');
    const ours = hashPassword('hmis', salt, 1000);
    expect(ours.hashValue).toBe(Encryptor.convertPasswordToHash('hmis', 'SHA512', salt.toString('base64'), 1000));
  });

  it('protects with the precomputed hash of SHEET_PASSWORD', () => {
    const { saltValue, hashValue, spinCount } = SHEET_PROTECTION_HASH;
    expect(hashPassword(SHEET_PASSWORD, Buffer.from(saltValue, 'base64'), spinCount).hashValue).toBe(hashValue);
    expect(get('T-JC').sheetXml).toContain(`hashValue="${hashValue}"`);
  });

  it('sets every zip entry time in place', async () => {
    const zip = new JSZip();
    zip.file('a.txt', 'a');
    zip.file('dir/b.txt', 'b');
    const bytes = setZipTimestamps(await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }), new Date('2024-02-29T10:20:30Z'));
    const back = await JSZip.loadAsync(bytes);
    expect(Object.keys(back.files).length).toBe(3);
    for (const f of Object.values(back.files)) expect(f.date.toISOString()).toBe('2024-02-29T10:20:30.000Z');
    expect(await back.file('dir/b.txt')!.async('string')).toBe('b');
  });
});

describe('hmis template', () => {
  let dir: string;
  const errors: string[] = [];
  const logs: string[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hmis-template-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    errors.length = 0;
    logs.length = 0;
  });
  const run = (args: string[]) => {
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.join(' ')));
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void logs.push(a.join(' ')));
    return main(['template', ...args]);
  };

  it('writes the template to --out and prints the path', async () => {
    const out = join(dir, 'sub', 't.xlsx');
    expect(await run(['--template', 'T-JC', '--institution', '150525-101', '--period', PERIOD, '--out', out])).toBe(0);
    expect(logs).toEqual([out]);
    expect((await readFile(out)).equals(get('T-JC').bytes)).toBe(true);
  });

  it('names the file after template, institution and period without --out', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(await run(['--template', 'T-TZ', '--institution', '150525-101', '--period', PERIOD])).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    const expected = join(dir, `T-TZ_150525-101_${PERIOD}.xlsx`);
    expect((await stat(expected)).size).toBeGreaterThan(0);
    expect(logs[0]).toBe(join(realpathSync(dir), `T-TZ_150525-101_${PERIOD}.xlsx`));
  });

  it.each([
    ['an unknown template', ['--template', 'T-XX', '--institution', '150525-101', '--period', PERIOD], /未知的报表模板 T-XX/],
    ['an unknown institution', ['--template', 'T-JC', '--institution', '150525-999', '--period', PERIOD], /150525-999 不在名录中/],
    ['a template the institution does not owe', ['--template', 'T-YY', '--institution', '150525-101', '--period', PERIOD], /无需报送 T-YY/],
    ['a malformed period', ['--template', 'T-JC', '--institution', '150525-101', '--period', '2025-13'], /统计期 2025-13 格式错误/],
    ['a period without leading zero', ['--template', 'T-JC', '--institution', '150525-101', '--period', '2025-3'], /格式错误/],
    ['a missing flag', ['--template', 'T-JC', '--period', PERIOD], /--institution is required/],
    ['an unknown flag', ['--template', 'T-JC', '--institution', '150525-101', '--period', PERIOD, '--bogus', 'x'], /unknown option --bogus/],
  ])('exits 2 on %s', async (_, args, message) => {
    expect(await run([...args, '--out', join(dir, 'never.xlsx')])).toBe(2);
    expect(errors.join('\n')).toMatch(message);
    await expect(stat(join(dir, 'never.xlsx'))).rejects.toThrow();
  });
});
