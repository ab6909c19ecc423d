/**
 * What the commission looks at (issue 15), measured on the local stack (dynalite and s3rver over HTTP):
 *
 * 1. A trend: 36 months of a county's indicator (JC-I03, 21 institutions owing T-JC) from the store in
 *    one call (trend(): definitions, one GSI query per institution, one consolidation per month), median
 *    of 9. Data: 奈曼旗's sample returns 2024-01 … 2025-03, copied 15 and 30 months back (45 months).
 *    Target < 300 ms.
 * 2. The lake: rewriting 奈曼旗's 2024 (every current return of every template: 300 returns) from the
 *    store into lake/year=2024/county=150525/values.parquet on S3, median of 5, per return. Target < 50 ms.
 * 3. SQL over a province's lake: 3 years × 100 counties (3,000 institutions, 100 values a month each:
 *    10.8 M rows in 300 files written by lakeParquet), the view `values` opened and one aggregate query
 *    run (as `hmis query` does), median of 5. Target < 2 s.
 *
 *   npx tsx bench/commission.ts
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledSource } from '../schemas/index.ts';
import { makeEntry, type EntrySpec } from '../functions/core/consolidate/build.ts';
import { shiftPeriod } from '../functions/core/validate/history.ts';
import { trend } from '../functions/core/trend/index.ts';
import { lakeKeyOf, lakeParquet, writeLake, type LakeRow } from '../functions/core/lake/index.ts';
import { generateSamples } from '../fixtures/sample/values.ts';
import { makeClients } from '../functions/adapters/aws/clients.ts';
import { DynamoSubmissionStore } from '../functions/adapters/dynamo/store.ts';
import { S3ObjectStore } from '../functions/adapters/s3/objects.ts';
import { startLocalStack } from '../functions/adapters/local/stack.ts';
import { lakeConnection, plainRows } from '../functions/cli/lake.ts';
import type { SubmissionStore } from '../functions/ports/index.ts';
import { recordFigures } from './results.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const NOW = new Date('2025-04-10T02:00:00Z');

/** the sample's accepted returns (T-JC only when `jcOnly`), shifted back by `months`, made current */
async function load(store: SubmissionStore, shift: number, jcOnly: boolean): Promise<number> {
  let n = 0;
  for (const r of generateSamples().records) {
    if (jcOnly && r.template !== 'T-JC') continue;
    const period = shiftPeriod(r.period, -shift);
    const spec: EntrySpec =
      r.kind === 'indicator'
        ? { institution: r.institution, template: r.template, period, values: Object.fromEntries(Object.entries(r.values).filter((e): e is [string, number] => e[1] !== null)) }
        : { institution: r.institution, template: r.template, period, rows: r.rows.map((x, i) => ({ ...x, row: 8 + i })) };
    await store.makeCurrent(makeEntry(spec).current!);
    n++;
  }
  return n;
}

async function onTheStack(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'hmis-bench-commission-'));
  const stack = await startLocalStack({ dataDir: dir, dynamodbInMemory: true });
  const clients = makeClients(stack.endpoints);
  try {
    const store = new DynamoSubmissionStore(clients.dynamodb, stack.endpoints.table);
    const returns = (await load(store, 0, false)) + (await load(store, 15, true)) + (await load(store, 30, true));
    const definitions = bundledSource();
    await trend(store, definitions, { county: '150525', codes: ['JC-I03'], months: 36, to: '2025-03' }, NOW); // warm
    const times: number[] = [];
    let points = 0;
    for (let i = 0; i < 9; i++) {
      const t0 = performance.now();
      const [s] = await trend(store, definitions, { county: '150525', codes: ['JC-I03'], months: 36, to: '2025-03' }, NOW);
      times.push(performance.now() - t0);
      points = s!.points.filter((p) => p.value !== null).length;
    }
    console.log(`trend, 36 months of JC-I03 for 奈曼旗 (${returns} returns stored, ${points} months with values): median of 9 ${median(times).toFixed(0)} ms (target < 300 ms)`);

    const lakeDeps = { definitions, objects: new S3ObjectStore(clients.s3), store, reportsBucket: stack.endpoints.buckets.reports };
    const lake: number[] = [];
    let written = { returns: 0, rows: 0, bytes: 0 };
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      written = await writeLake(lakeDeps, '150525', 2024);
      lake.push(performance.now() - t0);
    }
    const perReturn = median(lake) / written.returns;
    console.log(`lake: 奈曼旗 2024 rewritten from the store (${written.returns} returns, ${written.rows} values, ${(written.bytes / 1024).toFixed(0)} KB): median of 5 ${median(lake).toFixed(0)} ms, ${perReturn.toFixed(2)} ms per return (target < 50 ms)`);
    recordFigures('commission-stack', { trendCountyMs: median(times), lakeCountyYearMs: median(lake), lakeReturns: written.returns, lakePerReturnMs: perReturn });
  } finally {
    clients.destroy();
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A province's lake: 100 counties × 30 institutions × 12 months × 100 values a year, 3 years. */
async function provinceQuery(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'hmis-bench-lake-'));
  try {
    const rows: LakeRow[] = [];
    for (let inst = 1; inst <= 30; inst++) {
      for (let m = 1; m <= 12; m++) {
        for (let e = 1; e <= 100; e++) {
          rows.push({
            city: '1500',
            institution: `000000-${String(inst).padStart(3, '0')}`,
            institution_name: `机构${inst}`,
            institution_type: 'township_hc',
            template: 'T-XX',
            template_version: 1,
            period: `2025-${String(m).padStart(2, '0')}`,
            period_type: 'month',
            element: `XX${String(e).padStart(3, '0')}`,
            element_name: `数据项${e}`,
            value: (inst * 7919 + m * 104729 + e * 1299709) % 100_000,
            unit: '人',
            review_state: null,
            version_id: `v${inst}-${m}`,
          });
        }
      }
    }
    const t0 = performance.now();
    const file = lakeParquet(rows);
    const buildMs = performance.now() - t0;
    for (let year = 2023; year <= 2025; year++) {
      for (let c = 1; c <= 100; c++) {
        const key = lakeKeyOf(year, `15${String(c).padStart(4, '0')}`);
        await mkdir(join(root, key, '..'), { recursive: true });
        await writeFile(join(root, key), file);
      }
    }
    const sql = "SELECT year, county, period, sum(value) AS total FROM values WHERE element = 'XX028' GROUP BY ALL ORDER BY ALL";
    const times: number[] = [];
    let count = 0;
    for (let i = 0; i < 5; i++) {
      const t1 = performance.now();
      const db = await lakeConnection(root);
      try {
        count = plainRows((await db.connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[]).length;
      } finally {
        db.close();
      }
      times.push(performance.now() - t1);
    }
    console.log(`DuckDB over a province's lake (300 files, ${(rows.length * 300 / 1e6).toFixed(1)} M rows, ${(file.length / 1048576).toFixed(1)} MiB a file, built in ${buildMs.toFixed(0)} ms): open + "${sql}" (${count} rows) median of 5 ${median(times).toFixed(0)} ms (target < 2 s)`);
    recordFigures('commission-province', { lakeProvinceQueryMs: median(times), lakeProvinceRowsM: (rows.length * 300) / 1e6, lakeCountyYearFileBuildMs: buildMs });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await onTheStack();
await provinceQuery();
