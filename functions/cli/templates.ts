import { parseArgs } from './args.ts';
import { templates } from '../../schemas/index.ts';

/** `hmis templates [--json]`: every definition, with elements, semantics, rules and indicators. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { json: 'boolean' });
  if (args.flags.json) {
    console.log(JSON.stringify({ templates }, null, 2));
    return 0;
  }
  for (const t of templates) {
    console.log(`${t.id} 第${t.version}版 ${t.title}${t.accepting ? '' : '（已停用）'}  报送机构类型：${t.submitters.join('、')}`);
    if (t.kind === 'ledger') {
      console.log(`  台账列：${t.columns.map((c) => c.header).join('、')}`);
      continue;
    }
    for (const e of t.elements) console.log(`  ${e.code} ${e.name}（${e.unit}，${e.semantics}${e.required ? '' : '，选填'}）`);
    for (const r of t.rules) console.log(`  规则 ${r.id}: ${r.left.join('+')} ${r.op} ${r.right.join('+')}${r.severity === 'warning' ? '（警告）' : ''}`);
    for (const x of t.indicators) console.log(`  指标 ${x.code} ${x.name} = ${x.numerator.join('+')}/${x.denominator.join('+')} ×${x.factor}`);
  }
  return 0;
}
