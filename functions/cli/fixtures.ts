/**
 * `hmis fixtures --out DIR [--periods 2025-01,2025-03,2025-Q1] [--institutions 150525-101,...] [--seed N]`:
 * writes the sample submissions of 奈曼旗 (every template every institution owes, 2024-01 … 2025-03,
 * plus the deliberate wrong ones) and DIR/manifest.json.
 */
import path from 'node:path';
import { parseArgs, requireFlag, stringFlag, UsageError } from './args.ts';
import { SAMPLE_ALL_PERIODS, SAMPLE_COUNTY, SAMPLE_PERIODS, SAMPLE_SEED } from '../../fixtures/sample/values.ts';
import { writeFixtures } from '../../fixtures/sample/write.ts';
import { bundledDefinitions } from '../../schemas/index.ts';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { out: 'string', periods: 'string', institutions: 'string', seed: 'string' });
  if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
  const out = requireFlag(args, 'out');
  const periods = list(stringFlag(args, 'periods'));
  const institutions = list(stringFlag(args, 'institutions'));
  const seedText = stringFlag(args, 'seed');
  const seed = seedText === undefined ? SAMPLE_SEED : Number(seedText);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UsageError(`--seed must be a whole number 0…4294967295, got ${seedText}`);

  const unknownPeriod = periods?.find((p) => !SAMPLE_ALL_PERIODS.includes(p));
  if (unknownPeriod) throw new UsageError(`--periods: ${unknownPeriod} is not a sample period (${SAMPLE_PERIODS[0]} … ${SAMPLE_PERIODS[SAMPLE_PERIODS.length - 1]}, 2024-Q1 … 2025-Q1, 2024)`);
  const county = bundledDefinitions().county(SAMPLE_COUNTY)!;
  const unknownInst = institutions?.find((code) => !county.institutions.some((i) => i.code === code));
  if (unknownInst) throw new UsageError(`--institutions: ${unknownInst} is not an institution of ${county.name} (${county.code})`);

  const started = performance.now();
  const { manifest, bytes } = await writeFixtures(out, { seed, periods, institutions });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const count = (expect: string) => manifest.files.filter((f) => f.expect === expect).length;
  console.log(
    `已写入 ${manifest.files.length} 个样例文件（${(bytes / 1024 / 1024).toFixed(1)} MB，${seconds} 秒）到 ${path.resolve(out)}：` +
      `应通过 ${count('accepted')}，应有警告 ${count('accepted_with_warnings')}，应退回 ${count('rejected')}；清单见 manifest.json`,
  );
  return 0;
}

function list(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!items.length) throw new UsageError('an empty list');
  return items;
}
