/**
 * Consolidation benchmark (`npx tsx bench/consolidate.ts`; not part of the test suite).
 *
 * 1. County month: 奈曼旗 (25 institutions × 5 templates), the sample value model 2024-01…2025-03 in
 *    the in-memory store; load + consolidate + render 2025-03, median of 3. Target: well under 3 s.
 *    The same from DynamoDB (dynalite in this process), with the read units DynamoDB reports.
 * 2. Province scale, synthetic: 3,000 institutions × 100 data elements × 12 months (deterministic
 *    PRNG), consolidated for 2025-12: consolidate + render (streaming writer) against writing the same
 *    cells with exceljs's streaming WorkbookWriter alone, alternately in one process, median of 3;
 *    ratio target ≤ 1.5; peak RSS target < 512 MB. The input holds its values in columns, as the
 *    loader gives them (functions/core/consolidate/values.ts).
 *
 * Options: --skip-county, --skip-province, --runs N, --out FILE (keep the province workbook),
 * --compute-only (consolidate alone, wall and CPU time per run).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { IndicatorTemplate, LedgerTemplate } from '../schemas/model.ts';
import { bundledDefinitions, bundledSource } from '../schemas/index.ts';
import { byMonth, makeEntry, type EntrySpec } from '../functions/core/consolidate/build.ts';
import { consolidate } from '../functions/core/consolidate/compute.ts';
import { loadConsolidationInput } from '../functions/core/consolidate/load.ts';
import { ValueTable } from '../functions/core/consolidate/values.ts';
import type { ConsolidationInput, CountyUnit } from '../functions/core/consolidate/types.ts';
import { renderConsolidated, writeConsolidated } from '../functions/core/render/consolidated.ts';
import { makeIssue } from '../functions/core/report.ts';
import { mulberry32 } from '../fixtures/sample/alloc.ts';
import { generateSamples } from '../fixtures/sample/values.ts';
import { MemoryStore } from '../tests/fakes/memory.ts';
import { makeClients } from '../functions/adapters/aws/clients.ts';
import { DynamoSubmissionStore } from '../functions/adapters/dynamo/store.ts';
import { startLocalStack } from '../functions/adapters/local/stack.ts';
import { buildConsolidatedWorkbook } from '../functions/core/consolidate/index.ts';
import type { SubmissionStore } from '../functions/ports/index.ts';
import { recordFigures } from './results.ts';

const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) || 3;
const OUT = args.includes('--out') ? args[args.indexOf('--out') + 1] : undefined;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;
const peakRss = () => process.resourceUsage().maxRSS * 1024;

// ---- 1. county month ----

/** 奈曼旗's sample submissions 2024-01 … 2025-03, accepted, into `store`. */
async function loadSamples(store: SubmissionStore): Promise<number> {
  const set = generateSamples();
  for (const r of set.records) {
    const spec: EntrySpec =
      r.kind === 'indicator'
        ? { institution: r.institution, template: r.template, period: r.period, values: Object.fromEntries(Object.entries(r.values).filter((e): e is [string, number] => e[1] !== null)), remarks: r.remarks }
        : { institution: r.institution, template: r.template, period: r.period, rows: r.rows.map((x, i) => ({ ...x, row: 8 + i })) };
    const e = makeEntry(spec);
    await store.putVersion(e.current!, e.current!.submission);
    await store.makeCurrent(e.current!);
    await store.recordAttempt(e.current!);
  }
  return set.records.length;
}

/** The same county month read from DynamoDB (dynalite, in memory), with the read units it consumed. */
async function countyMonthDynamo(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'hmis-bench-'));
  const stack = await startLocalStack({ dataDir: dir, dynamodbInMemory: true });
  const clients = makeClients(stack.endpoints);
  try {
    const store = new DynamoSubmissionStore(clients.dynamodb, stack.endpoints.table);
    const count = await loadSamples(store);
    const now = new Date('2025-04-10T02:00:00Z');
    const times: number[] = [];
    const units: number[] = [];
    let reads = 0;
    for (let i = 0; i < RUNS; i++) {
      const before = store.capacity.readUnits;
      const t0 = performance.now();
      const workbook = await buildConsolidatedWorkbook(store, bundledSource(), { level: 'county', code: '150525' }, '2025-03', now);
      times.push(performance.now() - t0);
      units.push(store.capacity.readUnits - before);
      reads = workbook.stats.periodReads + workbook.stats.ledgerReads;
    }
    console.log(`county month from DynamoDB (dynalite, ${count} submissions): median of ${RUNS}: ${median(times).toFixed(0)} ms (target < 3 s); ${reads} paginated queries (run in parallel), ${median(units).toFixed(1)} read units per consolidation`);
    recordFigures('county', { countyMonthMs: median(times), countyMonthReadUnits: median(units), countyMonthQueries: reads });
  } finally {
    clients.destroy();
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function countyMonth(): Promise<void> {
  const store = new MemoryStore();
  const count = await loadSamples(store);
  const now = new Date('2025-04-10T02:00:00Z');
  const times: number[] = [];
  let parts = { load: 0, compute: 0, render: 0, bytes: 0 };
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const input = await loadConsolidationInput(store, bundledDefinitions(), '150525', '2025-03', now);
    const t1 = performance.now();
    const result = consolidate(input);
    const t2 = performance.now();
    const bytes = await renderConsolidated(result);
    const t3 = performance.now();
    times.push(t3 - t0);
    parts = { load: t1 - t0, compute: t2 - t1, render: t3 - t2, bytes: bytes.length };
  }
  console.log(`county month (150525, 2025-03, ${count} sample submissions in the memory store):`);
  console.log(`  load + consolidate + render, median of ${RUNS}: ${median(times).toFixed(0)} ms (runs ${times.map((t) => t.toFixed(0)).join(', ')}; last: load ${parts.load.toFixed(0)}, compute ${parts.compute.toFixed(0)}, render ${parts.render.toFixed(0)} ms; ${(parts.bytes / 1024).toFixed(0)} KB)`);
}

// ---- 2. province synthetic ----

const INSTITUTIONS = 3000;
const COUNTIES = 30;
const ELEMENTS = 100;
const MONTHS = Array.from({ length: 12 }, (_, k) => `2025-${String(k + 1).padStart(2, '0')}`);

function syntheticTemplate(): IndicatorTemplate {
  const elements = Array.from({ length: ELEMENTS }, (_, j) => {
    const code = `SY${String(j).padStart(2, '0')}`;
    const kind = j % 10;
    const nonAdditive = kind === 9 && j >= 50;
    const semantics = kind <= 5 ? 'flow' : kind === 8 ? 'ytd' : 'stock';
    return {
      code,
      name: `合成指标${j + 1}${semantics === 'flow' ? '发生数' : semantics === 'ytd' ? '累计数' : '期末数'}`,
      unit: nonAdditive ? ('%' as const) : ('人' as const),
      type: nonAdditive ? ('percent' as const) : ('integer' as const),
      required: true,
      semantics: nonAdditive ? ('stock' as const) : (semantics as 'flow' | 'ytd' | 'stock'),
      additive: !nonAdditive,
      source: 'synthetic',
    };
  });
  // rates: a flow over a larger flow, a ytd over a stock
  const indicators = Array.from({ length: 15 }, (_, i) => ({
    code: `SY-I${String(i + 1).padStart(2, '0')}`,
    name: `合成比率${i + 1}`,
    numerator: [i % 3 === 2 ? `SY${String(i * 6 + 8).padStart(2, '0')}` : `SY${String(i * 6).padStart(2, '0')}`],
    denominator: [i % 3 === 2 ? `SY${String(i * 6 + 6).padStart(2, '0')}` : `SY${String(i * 6 + 1).padStart(2, '0')}`],
    factor: (i % 5 === 4 ? 1000 : 100) as 100 | 1000,
    unit: (i % 5 === 4 ? '‰' : '%') as '%' | '‰',
    source: 'synthetic',
  }));
  return {
    id: 'T-SY',
    version: 1,
    from: '2020-01',
    kind: 'indicator',
    title: '合成月报（100项）',
    sheetName: '合成月报',
    periodType: 'month',
    source: 'synthetic',
    elements,
    rules: [],
    indicators,
  };
}

function syntheticProvince(): ConsolidationInput {
  const rng = mulberry32(20251231);
  const def = syntheticTemplate();
  const tz = bundledDefinitions().template('T-TZ')! as LedgerTemplate;
  const counties: CountyUnit[] = Array.from({ length: COUNTIES }, (_, c) => {
    const code = String(150100 + c * 10 + 1);
    return {
      code,
      name: `合成旗${c + 1}`,
      deadlineDay: 5,
      institutions: Array.from({ length: INSTITUTIONS / COUNTIES }, (_, i) => ({
        code: `${code}-${String(i + 1).padStart(3, '0')}`,
        name: `合成旗${c + 1}第${i + 1}卫生院`,
        type: 'township_hc',
        typeName: '苏木乡镇卫生院',
        owes: ['T-SY', 'T-TZ'],
      })),
    };
  });
  const warn = makeIssue('history-outlier', 'D20「合成指标13发生数」为 9999，与本机构近6个月的中位数 1000 相差 3 倍以上，请核实', { sheet: '合成月报', row: 20, col: 4, element: 'SY12', value: 9999 });
  const bad = makeIssue('value-negative', 'D9「合成指标2发生数」为 -5，不能为负数', { sheet: '合成月报', row: 9, col: 4, element: 'SY01', value: -5 });
  const entries = [];
  // the values in columns, as the loader holds them (functions/core/consolidate/values.ts); entries keep none
  const table = new ValueTable([def]);
  const values: Record<string, number> = {};
  for (const county of counties) {
    for (const inst of county.institutions) {
      const scale = 200 + Math.floor(rng() * 2000);
      const cumulative = new Float64Array(ELEMENTS);
      for (const [t, period] of MONTHS.entries()) {
        def.elements.forEach((el, j) => {
          const base = scale * (1 + (j % 7));
          if (!el.additive) values[el.code] = Math.round((85 + rng() * 15) * 100) / 100;
          else if (el.semantics === 'flow') values[el.code] = Math.floor(base * (0.9 + rng() * 0.2)) * (j % 6 === 1 ? 2 : 1);
          else if (el.semantics === 'ytd') values[el.code] = cumulative[j]! += Math.floor(base * 0.05 * (0.5 + rng()));
          else values[el.code] = Math.floor(base * 12 + t * 3);
        });
        const roll = rng();
        if (roll < 0.01) continue; // not submitted
        const spec: EntrySpec = { institution: inst.code, template: 'T-SY', period };
        if (roll < 0.013) entries.push(makeEntry({ ...spec, rejected: [bad] }));
        else {
          table.hold(period, def.id, inst.code, values);
          entries.push(makeEntry({ ...spec, values: {}, ...(roll > 0.98 ? { warnings: [warn] } : {}) }));
        }
      }
      const rows = Array.from({ length: 5 }, (_, k) => ({
        row: 8 + k,
        taskNo: String(k + 1),
        content: `重点工作任务${k + 1}：推进基层中医药服务能力建设，完成年度目标`,
        owner: `科室${k + 1}`,
        deadline: k === 0 ? '2025-06-30' : '2025-12-31',
        status: k === 4 ? '已完成' : '推进中',
        progress: k === 4 ? 100 : 20 * k,
        measures: '按月调度，专人负责',
        remark: null,
      }));
      entries.push(makeEntry({ institution: inst.code, template: 'T-TZ', period: '2025-12', rows }));
    }
  }
  return {
    level: 'county',
    area: { code: '150000', name: '合成省（3000家机构）' },
    period: '2025-12',
    months: ['2025-12'],
    counties,
    templates: [def, tz],
    targets: [{ indicator: 'SY-I01', direction: '>=', value: 50, year: 2025, document: '合成目标文件', quote: '不低于50%' }],
    entries: byMonth(entries, MONTHS),
    values: table,
    ledgerRows: new Map(),
    generatedAt: new Date('2026-01-10T02:00:00Z'),
  };
}

class Sink extends Writable {
  bytes = 0;
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.bytes += chunk.length;
    done();
  }
}

/** The same cells, written with exceljs's streaming writer alone: no consolidation, no styles. */
async function baseline(input: ConsolidationInput): Promise<{ cells: number; bytes: number }> {
  const sink = new Sink();
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: sink, useStyles: true, useSharedStrings: true });
  let cells = 0;
  const add = (ws: ExcelJS.Worksheet, values: Array<string | number | null>) => {
    ws.addRow(values).commit();
    cells += values.length;
  };
  const month = input.months[input.months.length - 1]!;
  const entries = input.entries.get(month)!;
  const def = input.templates[0] as IndicatorTemplate;
  const institutions = input.counties.flatMap((c) => c.institutions);
  const byInst = new Map(entries.filter((e) => e.template === def.id).map((e) => [e.institution, e]));
  const columns = input.values!.columns(def.id, def.elements.map((el) => el.code))!;

  const readme = wb.addWorksheet('说明');
  for (let i = 0; i < 40; i++) add(readme, [`说明第${i}行`, i, i * 2, i * 3, '文字', '文字']);
  readme.commit();
  const status = wb.addWorksheet('上报情况');
  for (const inst of institutions) {
    for (const t of inst.owes) {
      const e = t === def.id ? byInst.get(inst.code) : entries.find((x) => x.institution === inst.code && x.template === t);
      add(status, [inst.code, inst.name, t, e?.current ? '已通过' : '未上报', e?.current?.uploadedAt ?? '', '按时', 1, 0, e?.current?.warnings ?? 0, '']);
    }
  }
  status.commit();
  const summary = wb.addWorksheet('指标汇总');
  for (const el of [...def.elements, ...def.indicators]) add(summary, [el.code, el.name, '人', '本月数', 1, 2, 3, 4, 5, 6, null, null, null, null, 2970, 3000, '缺报 30 家']);
  summary.commit();
  const detail = wb.addWorksheet(`${def.sheetName}明细`);
  for (const inst of institutions) {
    const accepted = byInst.get(inst.code)?.current;
    const v = accepted ? input.values!.row(month, inst.code, columns) : null;
    add(detail, [inst.code, inst.name, inst.typeName, accepted ? '已通过' : '未上报', ...def.elements.map((_, j) => (v && !Number.isNaN(v[j]!) ? v[j]! : null)), ...def.indicators.map(() => 55.5), '']);
  }
  detail.commit();
  const ledger = wb.addWorksheet('任务台账');
  for (const e of entries) {
    if (e.current?.submission.kind !== 'ledger') continue;
    for (const r of e.current.submission.rows) add(ledger, [e.institution, e.institution, month, r.taskNo, r.content, r.owner, r.deadline, r.status, r.progress, r.measures, r.remark, '']);
  }
  ledger.commit();
  const issues = wb.addWorksheet('校验问题');
  for (const e of entries) for (const i of e.current?.firstIssues ?? []) add(issues, [e.institution, e.institution, e.template, month, '已接收', '警告', i.sheet, i.cell, i.element, i.message, '']);
  issues.commit();
  await wb.commit();
  return { cells, bytes: sink.bytes };
}

async function ours(input: ConsolidationInput): Promise<{ cells: number; bytes: number; compute: number; render: number }> {
  const t0 = performance.now();
  const result = consolidate(input);
  const t1 = performance.now();
  const sink = new Sink();
  const stats = await writeConsolidated(result, sink);
  return { cells: stats.cells, bytes: sink.bytes, compute: t1 - t0, render: performance.now() - t1 };
}

async function province(): Promise<void> {
  const g0 = performance.now();
  const input = syntheticProvince();
  const gen = performance.now() - g0;
  const rssInput = process.memoryUsage().rss;
  console.log(
    `province synthetic: ${INSTITUTIONS} institutions × ${ELEMENTS} data elements × ${MONTHS.length} months (${[...input.entries.values()].reduce((n, l) => n + l.length, 0)} entries), generated in ${gen.toFixed(0)} ms; RSS with the input held: ${mb(rssInput)}`,
  );
  const a: number[] = [];
  const b: number[] = [];
  let last: Awaited<ReturnType<typeof ours>> | undefined;
  let base: Awaited<ReturnType<typeof baseline>> | undefined;
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now();
    base = await baseline(input);
    b.push(performance.now() - t);
    t = performance.now();
    last = await ours(input);
    a.push(performance.now() - t);
    console.log(`  run ${i + 1}: exceljs streaming writer alone ${b[i]!.toFixed(0)} ms; consolidation ${a[i]!.toFixed(0)} ms (compute ${last.compute.toFixed(0)}, render ${last.render.toFixed(0)}); peak RSS so far ${mb(peakRss())}`);
  }
  const ratio = median(a) / median(b);
  console.log(`  cells: consolidated workbook ${last!.cells} (${mb(last!.bytes)}), baseline ${base!.cells} (${mb(base!.bytes)})`);
  console.log(`  median of ${RUNS}: consolidation ${median(a).toFixed(0)} ms, streaming writer alone ${median(b).toFixed(0)} ms, ratio ${ratio.toFixed(2)} (target ≤ 1.5) ${ratio <= 1.5 ? 'OK' : 'OVER'}`);
  console.log(`  peak RSS of the process: ${mb(peakRss())} (target < 512 MB) ${peakRss() < 512 * 1048576 ? 'OK' : 'OVER'}`);
  recordFigures('province', { provinceMs: median(a), provinceWriterMs: median(b), provinceRatio: ratio, provincePeakRssMb: peakRss() / 1048576, provinceInputRssMb: rssInput / 1048576 });
  if (OUT) {
    await writeFile(OUT, await renderConsolidated(consolidate(input)));
    console.log(`  wrote ${OUT}`);
  }
}

if (args.includes('--compute-only')) {
  const input = syntheticProvince();
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const cpu = process.cpuUsage();
    consolidate(input);
    const used = process.cpuUsage(cpu);
    console.log(`consolidate: ${(performance.now() - t).toFixed(0)} ms (cpu ${((used.user + used.system) / 1000).toFixed(0)} ms)`);
  }
} else {
  if (!args.includes('--skip-county')) {
    await countyMonth();
    await countyMonthDynamo();
  }
  if (!args.includes('--skip-province')) await province();
}
