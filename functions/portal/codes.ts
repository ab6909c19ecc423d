/**
 * The access codes an operator hands out, derived from PORTAL_SECRET (the same secret the deployed
 * portal-api function has) for the institutions of the definitions: `hmis portal-codes [county…]`.
 * Tab-separated: code, access code, role, county, name.
 */
import type { Definitions } from '../core/definitions/definitions.ts';
import { checkSecret, countyAccessCodes, type Role } from './auth.ts';

export interface PortalUser {
  code: string;
  name: string;
  role: Role;
  accessCode: string;
  county: string;
  countyName: string;
}

/** Every sign-in of the given counties (all when none), commission first in each. */
export function portalUsers(defs: Definitions, secret: string, counties: readonly string[] = []): PortalUser[] {
  checkSecret(secret);
  const codes = counties.length ? counties : defs.counties.map((c) => c.code);
  return codes.flatMap((code) => {
    const county = defs.county(code);
    if (!county) throw new Error(`unknown county ${code}`);
    return countyAccessCodes(defs, secret, code).map((u) => ({ ...u, county: code, countyName: county.name }));
  });
}

export function accessCodeTable(users: readonly PortalUser[]): string {
  return ['机构代码\t访问码\t角色\t旗县\t名称', ...users.map((u) => `${u.code}\t${u.accessCode}\t${u.role === 'commission' ? '卫健委' : '机构'}\t${u.countyName}\t${u.name}`)].join('\n');
}
