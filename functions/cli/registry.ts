import { parseArgs, stringFlag, UsageError } from './args.ts';
import { findCounty, institutionTypeName, registry, templatesOwed, type County } from '../../schemas/index.ts';

/** `hmis registry [--county C] [--json]`: institutions with code, name, type and the templates each owes. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { county: 'string', json: 'boolean' });
  const code = stringFlag(args, 'county');
  const county = code ? findCounty(code) : undefined;
  if (code && !county) throw new UsageError(`unknown county ${code}; known: ${registry.counties.map((c) => c.code).join(', ')}`);
  const counties = county ? [county] : registry.counties;
  const view = counties.map(describeCounty);
  if (args.flags.json) {
    console.log(JSON.stringify({ institutionTypes: registry.institutionTypes, counties: view }, null, 2));
    return 0;
  }
  for (const c of view) {
    console.log(`${c.name}（${c.code}，${c.city.name}）报送截止：次月${c.deadlineDay}日 23:59`);
    for (const i of c.institutions) console.log(`  ${i.code}  ${i.name.padEnd(16, '　')} ${i.typeName.padEnd(12, '　')} ${i.templates.join(' ')}`);
    for (const t of c.targets) console.log(`  目标 ${t.indicator} ${t.direction} ${t.value}（${t.document}）`);
  }
  return 0;
}

function describeCounty(c: County) {
  return {
    ...c,
    institutions: c.institutions.map((i) => ({ ...i, typeName: institutionTypeName(i.type), templates: templatesOwed(i) })),
  };
}
