import { shanghaiMonth } from '../core/consolidate/period.ts';
import { sideText } from '../core/definitions/check.ts';
import { parseArgs, stringFlag } from './args.ts';
import { commandDefinitions } from './local.ts';

/** `hmis templates [--period P] [--json] [--data-dir D]`: every template in force, with elements, semantics, rules and indicators. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { period: 'string', json: 'boolean', 'data-dir': 'string' });
  const period = stringFlag(args, 'period') ?? shanghaiMonth(new Date());
  const source = await commandDefinitions(stringFlag(args, 'data-dir'));
  try {
    const defs = await source.definitions.at(period);
    if (args.flags.json) {
      console.log(JSON.stringify({ period, definitionsVersion: defs.version, templates: defs.templates }, null, 2));
      return 0;
    }
    for (const t of defs.templates) {
      const types = defs.institutionTypes.filter((x) => x.templates.includes(t.id)).map((x) => x.name);
      console.log(`${t.id} 第${t.version}版（自 ${t.from} 起）${t.title}  报送机构类型：${types.join('、') || '（无，仅额外指定的机构）'}`);
      if (t.kind === 'ledger') {
        console.log(`  台账列：${t.columns.map((c) => c.header).join('、')}`);
        continue;
      }
      for (const e of t.elements) console.log(`  ${e.code} ${e.name}（${e.unit}，${e.semantics}${e.required ? '' : '，选填'}）`);
      for (const r of t.rules) console.log(`  规则 ${r.id}: ${r.left.join('+')} ${r.op} ${sideText(r.right, r.constant)}${r.severity === 'warning' ? '（警告）' : ''}${r.when ? `，当 ${r.when.left.join('+')}${r.when.op}${r.when.value}` : ''}`);
      for (const x of t.indicators) console.log(`  指标 ${x.code} ${x.name} = ${x.numerator.join('+')}/${x.denominator.join('+')} ×${x.factor}`);
    }
    return 0;
  } finally {
    await source.close();
  }
}
