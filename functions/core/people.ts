/**
 * Named people and what each may do. Pure: the identity provider (Cognito in AWS, the local stand-in
 * on one machine: functions/adapters/cognito, functions/adapters/local/idp.ts) stores who exists; the
 * definitions say where each one's unit is. The portal and the CLI ask here, never anywhere else.
 *
 *   role      group       unit (the custom:institution attribute)     may
 *   填报员    reporter    an institution code (150525-101, or the       download, upload and see the returns of
 *                         commission's own 150525-000)                  that institution
 *   审核员    reviewer    the county commission, <county>-000           read the county, review (审核)
 *   管理员    admin       the county commission, <county>-000           read the county, users, definitions,
 *                                                                       regenerate, close a month, 操作记录
 *   查看      viewer      a city code (1505)                            read approved data of the city's counties
 *
 * One person may hold several roles of one unit (a commission statistician who reviews and also
 * reports the commission's own T-FY is reporter and reviewer of 150525-000).
 */
import { randomInt } from 'node:crypto';
import type { Definitions } from './definitions/definitions.ts';

export const ROLES = ['reporter', 'reviewer', 'admin', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** The user pool attribute holding a person's unit (institution, commission or city code). */
export const UNIT_ATTRIBUTE = 'custom:institution';

export const ROLE_LABELS: Record<Role, string> = { reporter: '填报员', reviewer: '审核员', admin: '管理员', viewer: '查看' };

/** A role from what people type: 填报员 / reporter … */
export function parseRole(text: string): Role | null {
  const t = text.trim();
  return (ROLES as readonly string[]).includes(t) ? (t as Role) : (ROLES.find((r) => ROLE_LABELS[r] === t) ?? null);
}

/** A person as the identity provider keeps them. */
export interface Person {
  /** the sign-in name: the mobile number, 11 digits */
  username: string;
  name: string;
  /** E.164, +8613800000000 */
  phone: string;
  roles: Role[];
  /** institution code, commission code or city code (see the table above) */
  unit: string;
}

export interface PersonRecord extends Person {
  enabled: boolean;
  /** Cognito's user status: FORCE_CHANGE_PASSWORD until the first sign-in, then CONFIRMED */
  status: string;
  createdAt: string | null;
}

/** Where a person's unit is, from the definitions. */
export interface Scope {
  /** the institution the person reports for (reporters), else null */
  institution: string | null;
  /** the county the person belongs to (null: city viewers) */
  county: string | null;
  /** the city (viewers), else the county's city */
  city: string | null;
  /** the audit trail's partition: county code, or the city code for a viewer */
  audit: string;
  /** institution, commission or city name */
  unitName: string;
}

export const MOBILE_PATTERN = /^1[3-9]\d{9}$/;
const CITY_PATTERN = /^\d{4}$/;

/** The mobile number as typed (spaces, dashes, +86) → 11 digits, or null. */
export function normalizeMobile(text: string): string | null {
  const digits = String(text ?? '').replace(/[\s\-()（）]/g, '').replace(/^(\+?86)(?=1\d{10}$)/, '');
  return MOBILE_PATTERN.test(digits) ? digits : null;
}

export const e164 = (mobile: string): string => `+86${mobile}`;

/**
 * Where a person's unit is in the definitions, or a Chinese reason why the person cannot act:
 * every request checks this against the newest definitions (an institution deactivated or a county
 * removed takes its people's access with it).
 */
export function scopeOf(defs: Definitions, person: Pick<Person, 'roles' | 'unit'>): Scope | string {
  if (!person.roles.length) return '账号未分配角色';
  if (person.roles.includes('viewer')) {
    if (person.roles.length > 1) return '查看账号不能兼任其他角色';
    if (!CITY_PATTERN.test(person.unit)) return `查看账号的单位应为市级代码（4 位），而不是 ${person.unit}`;
    const counties = defs.countiesOf(person.unit);
    if (!counties.length) return `市级代码 ${person.unit} 下没有旗县`;
    return { institution: null, county: null, city: person.unit, audit: person.unit, unitName: counties[0]!.city.name };
  }
  const found = defs.institution(person.unit);
  if (!found) return `单位 ${person.unit} 不在机构名录中`;
  const commission = found.institution.type === 'commission' && person.unit === `${found.county.code}-000`;
  if ((person.roles.includes('reviewer') || person.roles.includes('admin')) && !commission) return '审核员和管理员的单位应为旗县卫健委（旗县代码-000）';
  return {
    institution: person.roles.includes('reporter') ? found.institution.code : null,
    county: found.county.code,
    city: found.county.city.code,
    audit: found.county.code,
    unitName: found.institution.name,
  };
}

/** What a new person must satisfy before the identity provider is asked; a Chinese message per problem. */
export function checkNewPerson(defs: Definitions, input: { name: string; phone: string; roles: Role[]; unit: string }): string[] {
  const problems: string[] = [];
  if (!input.name.trim() || [...input.name.trim()].length > 20) problems.push('请填写姓名（不超过 20 个字）');
  if (!normalizeMobile(input.phone)) problems.push('手机号应为 11 位数字，如 13800000000');
  if (!input.roles.length) problems.push('请至少选择一个角色');
  if (new Set(input.roles).size !== input.roles.length) problems.push('角色重复');
  if (input.roles.length) {
    const scope = scopeOf(defs, input);
    if (typeof scope === 'string') problems.push(scope);
  }
  return problems;
}

/**
 * The password rules, the same in the Cognito user pool (infra/constructs/people.ts) and the local
 * stand-in: at least 8 characters with a lower-case letter, an upper-case letter, a digit and a symbol.
 */
export const PASSWORD_POLICY = { minLength: 8, requireLowercase: true, requireUppercase: true, requireDigits: true, requireSymbols: true, temporaryPasswordValidityDays: 7 } as const;

/** Cognito's symbol set for passwords. */
const SYMBOLS = '^$*.[]{}()?"!@#%&/\\,><\':;|_~`=+-';

/** Why a password breaks PASSWORD_POLICY, in Chinese; null when it is fine. */
export function passwordProblem(password: string): string | null {
  const p = PASSWORD_POLICY;
  if (typeof password !== 'string' || password.length < p.minLength) return `密码至少 ${p.minLength} 位`;
  if (password.length > 256) return '密码过长';
  if (!/[a-z]/.test(password)) return '密码须包含小写字母';
  if (!/[A-Z]/.test(password)) return '密码须包含大写字母';
  if (!/\d/.test(password)) return '密码须包含数字';
  if (![...password].some((c) => SYMBOLS.includes(c))) return '密码须包含符号（如 ! @ # %）';
  return null;
}

/** A temporary password an administrator reads out over the phone: no 0/O, 1/l/I. */
export function temporaryPassword(): string {
  const pick = (set: string) => set[randomInt(set.length)]!;
  const upper = 'ABCDEFGHJKMNPQRSTUVWXYZ';
  const lower = 'abcdefghjkmnpqrstuvwxyz';
  const digits = '23456789';
  return `${pick(upper)}${pick(lower)}${pick(lower)}${pick(lower)}-${pick(digits)}${pick(digits)}${pick(digits)}${pick(digits)}-${pick(upper)}${pick(lower)}`;
}
