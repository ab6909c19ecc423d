import type { County } from '../../schemas/model.ts';
import type { Definitions } from '../core/definitions/definitions.ts';
import { shanghaiMonth } from '../core/consolidate/period.ts';
import { parseArgs, stringFlag, UsageError } from './args.ts';
import { commandDefinitions } from './local.ts';

/**
 * `hmis registry [--county C] [--period P] [--json] [--data-dir D]`: institutions with code, name, type
 * and the templates each owes, as the definitions in force for P (default: this month) say; from the
 * stack on D, else the bundled initial definitions.
 */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { county: 'string', period: 'string', json: 'boolean', 'data-dir': 'string' });
  const period = stringFlag(args, 'period') ?? shanghaiMonth(new Date());
  const source = await commandDefinitions(stringFlag(args, 'data-dir'));
  try {
    const defs = await source.definitions.at(period);
    const code = stringFlag(args, 'county');
    const county = code ? defs.county(code) : undefined;
    if (code && !county) throw new UsageError(`unknown county ${code}; known: ${defs.counties.map((c) => c.code).join(', ')}`);
    const view = (county ? [county] : defs.counties).map((c) => describeCounty(defs, c, period));
    if (args.flags.json) {
      console.log(JSON.stringify({ period, definitionsVersion: defs.version, institutionTypes: defs.institutionTypes, counties: view }, null, 2));
      return 0;
    }
    console.log(`定义第 ${defs.version} 版，${period} 执行`);
    for (const c of view) {
      console.log(`${c.name}（${c.code}，${c.city.name}）报送截止：次月${c.deadlineDay}日 23:59`);
      for (const i of c.institutions) {
        const state = i.active ? '' : i.mergedInto ? `（自 ${i.until} 起并入 ${i.mergedInto}）` : i.until && i.until <= period ? `（自 ${i.until} 起停用）` : `（自 ${i.from} 起启用）`;
        console.log(`  ${i.code}  ${i.name.padEnd(16, '　')} ${i.typeName.padEnd(12, '　')} ${i.templates.join(' ')}${state}`);
      }
      for (const t of c.targets) console.log(`  目标 ${t.year} ${t.indicator} ${t.direction} ${t.value}（${t.document}）`);
    }
    return 0;
  } finally {
    await source.close();
  }
}

function describeCounty(defs: Definitions, c: County, period: string) {
  return {
    ...c,
    institutions: c.institutions.map((i) => ({ ...i, typeName: defs.typeName(i.type), active: defs.active(i, period), templates: defs.owed(i, period) })),
  };
}
