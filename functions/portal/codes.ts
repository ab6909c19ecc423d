/**
 * The access codes an operator hands out, derived from PORTAL_SECRET (the same secret the deployed
 * portal-api function has): `PORTAL_SECRET=… npx tsx functions/portal/codes.ts [county…]`.
 * Tab-separated: code, access code, role, county, name. No county: every county of the registry.
 */
import { pathToFileURL } from 'node:url';
import { findCounty, registry } from '../../schemas/index.ts';
import { checkSecret, countyAccessCodes } from './auth.ts';

export function accessCodeTable(secret: string, counties: readonly string[]): string {
  checkSecret(secret);
  const lines = ['机构代码\t访问码\t角色\t旗县\t名称'];
  for (const code of counties) {
    const county = findCounty(code);
    if (!county) throw new Error(`unknown county ${code}`);
    for (const u of countyAccessCodes(secret, code)) lines.push(`${u.code}\t${u.accessCode}\t${u.role === 'commission' ? '卫健委' : '机构'}\t${county.name}\t${u.name}`);
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const counties = process.argv.slice(2);
  try {
    console.log(accessCodeTable(process.env.PORTAL_SECRET ?? '', counties.length ? counties : registry.counties.map((c) => c.code)));
  } catch (err) {
    console.error(`portal codes: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
