/**
 * Sign-in, sign-out and 用户管理 (functions/portal/api.ts lists the routes). A county administrator
 * manages the people of its county: institutions' reporters and the commission's reviewers and
 * administrators. City viewers are created by the operator (`hmis users add --role 查看`).
 */
import type { Definitions } from '../core/definitions/definitions.ts';
import { checkNewPerson, e164, normalizeMobile, parseRole, passwordProblem, ROLE_LABELS, scopeOf, temporaryPassword, type PersonRecord, type Role } from '../core/people.ts';
import { IdentityError, type SignInOutcome } from '../ports/index.ts';
import type { Kit } from './api.ts';
import { REFRESH_COOKIE, SESSION_COOKIE, SIGN_IN_FAILED_EVENT, type Principal } from './auth.ts';
import { ApiError, cookieOf, json, text, type ApiRequest, type ApiResponse, type Route } from './http.ts';

const REFUSALS: Record<Extract<SignInOutcome, { kind: 'refused' }>['reason'], [number, string]> = {
  credentials: [401, '手机号或密码不正确'],
  disabled: [401, '账号已停用，请联系本旗县卫健委的管理员'],
  'temporary-expired': [401, '临时密码已过期（7 天），请联系管理员重置密码'],
  'password-policy': [400, '新密码不符合要求'],
  'session-expired': [401, '设置新密码超时，请重新登录'],
};

const STATUS_LABELS: Record<string, string> = { FORCE_CHANGE_PASSWORD: '待首次登录', CONFIRMED: '正常', RESET_REQUIRED: '待重置' };

export function peopleRoutes(kit: Kit): Record<string, Route> {
  const { deps } = kit;

  /** The audit scope of a person named at sign-in: their county (or city), '-' when unknown. */
  async function scopeOfName(username: string): Promise<string> {
    const person = username ? await deps.identity.getUser(username).catch(() => null) : null;
    if (!person) return '-';
    const scope = scopeOf(await deps.definitions.latest(), person);
    return typeof scope === 'string' ? '-' : scope.audit;
  }

  async function refused(request: ApiRequest, username: string, reason: keyof typeof REFUSALS, message: string): Promise<never> {
    kit.log({ level: 'warn', event: SIGN_IN_FAILED_EVENT, username: username.slice(0, 20), reason, ip: request.ip ?? null });
    const [status, shown] = REFUSALS[reason];
    await kit.record(request, null, {
      action: 'sign-in',
      outcome: 'refused',
      scope: await scopeOfName(username),
      actor: { username: username.slice(0, 20) || '—', name: null },
      subject: { username: username.slice(0, 20) },
      detail: `登录失败：${shown}`,
    });
    throw new ApiError(status, reason === 'password-policy' ? `${shown}：${message}` : shown);
  }

  /** Tokens from the pool → cookies, the page's view of the person, an audit line. */
  async function enter(request: ApiRequest, outcome: SignInOutcome, username: string, detail: string): Promise<ApiResponse> {
    if (outcome.kind === 'refused') return refused(request, username, outcome.reason, outcome.message);
    if (outcome.kind === 'new-password') {
      await kit.record(request, null, { action: 'sign-in', scope: await scopeOfName(username), actor: { username, name: null }, subject: { username }, detail: '临时密码正确，须设置新密码' });
      return json(200, { challenge: 'new-password', session: outcome.session, username });
    }
    let signed;
    try {
      signed = await kit.signedIn(outcome.tokens.accessToken, outcome.tokens.refreshToken, outcome.tokens.expiresIn);
    } catch (err) {
      // a person whose unit is gone: no session is left behind
      await deps.identity.signOut({ accessToken: outcome.tokens.accessToken, refreshToken: outcome.tokens.refreshToken });
      if (err instanceof ApiError) {
        await kit.record(request, null, { action: 'sign-in', outcome: 'refused', scope: await scopeOfName(username), actor: { username, name: null }, subject: { username }, detail: `登录被拒绝：${err.message}` });
      }
      throw err;
    }
    await kit.record(request, signed.principal, { action: 'sign-in', subject: { username }, detail });
    return json(200, signed.me, signed.cookies);
  }

  async function target(p: Principal, username: string): Promise<PersonRecord> {
    const person = normalizeMobile(username) ? await deps.identity.getUser(normalizeMobile(username)!) : null;
    if (!person || !inCounty(person.unit, p.county!)) throw new ApiError(404, '本旗县没有该账号');
    return person;
  }

  async function who(request: ApiRequest): Promise<{ p: Principal; county: string; person: PersonRecord }> {
    const p = await kit.principal(request);
    const county = kit.admin(p);
    const person = await target(p, text(kit.body(request), 'username'));
    return { p, county, person };
  }

  const describe = (defs: Definitions, person: Pick<PersonRecord, 'name' | 'username' | 'roles' | 'unit'>) =>
    `${person.name}（${person.username}），${person.roles.map((r) => ROLE_LABELS[r]).join('、')}，${unitName(defs, person.unit)}`;

  return {
    'POST /api/login': async (request) => {
      const body = kit.body(request);
      const typed = text(body, 'username');
      const username = normalizeMobile(typed);
      const password = typeof body.password === 'string' ? body.password : '';
      if (!username || !password) return refused(request, typed, 'credentials', 'not a mobile number');
      return enter(request, await deps.identity.signIn(username, password), username, '登录');
    },

    'POST /api/login/new-password': async (request) => {
      const body = kit.body(request);
      const username = normalizeMobile(text(body, 'username')) ?? '';
      const password = typeof body.newPassword === 'string' ? body.newPassword : '';
      const problem = passwordProblem(password);
      if (problem) throw new ApiError(400, `新密码不符合要求：${problem}`);
      return enter(request, await deps.identity.completeNewPassword(username, text(body, 'session'), password), username, '设置新密码并登录');
    },

    'POST /api/logout': async (request) => {
      kit.body(request);
      const accessToken = cookieOf(request, SESSION_COOKIE);
      const refreshToken = cookieOf(request, REFRESH_COOKIE);
      const p = await kit.principal(request).catch(() => null);
      await deps.identity.signOut({ ...(accessToken ? { accessToken } : {}), ...(refreshToken ? { refreshToken } : {}) });
      if (p) await kit.record(request, p, { action: 'sign-out', subject: { username: p.username }, detail: '退出登录' });
      return json(200, { ok: true }, kit.cleared());
    },

    'GET /api/users': async (request) => {
      const county = kit.admin(await kit.principal(request));
      const defs = await deps.definitions.latest();
      const users = (await deps.identity.listUsers())
        .filter((u) => inCounty(u.unit, county))
        .sort((a, b) => a.unit.localeCompare(b.unit) || a.name.localeCompare(b.name, 'zh'))
        .map((u) => ({ ...u, roleLabels: u.roles.map((r) => ROLE_LABELS[r]), unitName: unitName(defs, u.unit), statusLabel: u.enabled ? (STATUS_LABELS[u.status] ?? u.status) : '已停用' }));
      const institutions = defs.county(county)?.institutions.filter((i) => !i.until).map((i) => ({ code: i.code, name: i.name, commission: i.code === `${county}-000` })) ?? [];
      return json(200, { county, users, institutions });
    },

    'POST /api/users': async (request) => {
      const p = await kit.principal(request);
      const county = kit.admin(p);
      const body = kit.body(request);
      const roles = (Array.isArray(body.roles) ? body.roles : []).map((r) => parseRole(String(r)));
      if (roles.some((r) => r === null)) throw new ApiError(400, '角色应为 填报员、审核员 或 管理员');
      if (roles.includes('viewer')) throw new ApiError(403, '查看账号（市级）由运维人员创建');
      const institution = text(body, 'institution') || `${county}-000`;
      if (!inCounty(institution, county)) throw new ApiError(403, '只能为本旗县的机构创建账号');
      const username = normalizeMobile(text(body, 'phone'));
      const person = { username: username ?? '', name: text(body, 'name'), phone: username ? e164(username) : text(body, 'phone'), roles: roles as Role[], unit: institution };
      const defs = await deps.definitions.latest();
      const problems = checkNewPerson(defs, person);
      if (problems.length) throw new ApiError(400, problems.join('；'));
      const password = temporaryPassword();
      try {
        await deps.identity.createUser(person, password);
      } catch (err) {
        if (err instanceof IdentityError && err.code === 'user-exists') throw new ApiError(409, `手机号 ${person.username} 已有账号`);
        throw err;
      }
      await kit.record(request, p, { action: 'user', subject: { username: person.username, institution }, detail: `新增用户：${describe(defs, person)}` });
      return json(200, { username: person.username, temporaryPassword: password });
    },

    'POST /api/users/disable': async (request) => {
      const { p, person } = await who(request);
      if (person.username === p.username) throw new ApiError(400, '不能停用自己的账号');
      await deps.identity.setEnabled(person.username, false);
      await kit.record(request, p, { action: 'user', subject: { username: person.username, institution: person.unit }, detail: `停用用户：${describe(await deps.definitions.latest(), person)}` });
      return json(200, { ok: true });
    },

    'POST /api/users/enable': async (request) => {
      const { p, person } = await who(request);
      await deps.identity.setEnabled(person.username, true);
      await kit.record(request, p, { action: 'user', subject: { username: person.username, institution: person.unit }, detail: `启用用户：${describe(await deps.definitions.latest(), person)}` });
      return json(200, { ok: true });
    },

    'POST /api/users/reset': async (request) => {
      const { p, person } = await who(request);
      const password = temporaryPassword();
      await deps.identity.resetPassword(person.username, password);
      await kit.record(request, p, { action: 'user', subject: { username: person.username, institution: person.unit }, detail: `重置密码：${describe(await deps.definitions.latest(), person)}` });
      return json(200, { username: person.username, temporaryPassword: password });
    },
  };
}

/** A unit of the county: one of its institutions or its commission. */
export const inCounty = (unit: string, county: string): boolean => unit.startsWith(`${county}-`);

function unitName(defs: Definitions, unit: string): string {
  return defs.institution(unit)?.institution.name ?? defs.countiesOf(unit)[0]?.city.name ?? unit;
}
