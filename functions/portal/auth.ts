/**
 * Who is signed in to the portal. People sign in with their mobile number and password at the user
 * pool (IdentityProvider: Cognito in AWS, the local stand-in on one machine); the page keeps the pool's
 * access token in an HttpOnly cookie and the refresh token in another, sent to /api/logout only, which
 * revokes it. Every request's token is verified (functions/adapters/cognito/identity.ts) and the
 * person's unit placed in the newest definitions (core/people.ts scopeOf): an institution
 * deactivated takes its people's access with it.
 *
 * The server's own bound on a session: MAX_SESSION_SECONDS after the sign-in (auth_time), whatever
 * the token says. Token times are real time (the pool's), not the simulated clock of a demo.
 */
import type { Definitions } from '../core/definitions/definitions.ts';
import { scopeOf, type Role, type Scope } from '../core/people.ts';
import type { Session } from '../ports/index.ts';

export const SESSION_COOKIE = 'hmis_session';
/** The line every failed sign-in logs; the stack's metric filter counts it (infra/constructs/portal.ts). */
export const SIGN_IN_FAILED_EVENT = 'portal-sign-in-failed';
/** the refresh token: sent with logout only (Path), which revokes it */
export const REFRESH_COOKIE = 'hmis_refresh';
export const LOGOUT_PATH = '/api/logout';
/** A workday and a half: the user pool client's token lifetime, and the server's bound on a session. */
export const MAX_SESSION_SECONDS = 12 * 3600;
/** Clocks of the pool and a function may differ a little. */
const CLOCK_SKEW_SECONDS = 60;

/** A signed-in person, placed in the definitions. */
export interface Principal extends Scope {
  username: string;
  name: string;
  roles: Role[];
  unit: string;
  /** the sign-in (auth_time) and the token's expiry, seconds since the epoch */
  authTime: number;
  expiresAt: number;
}

/** The principal of a verified session, or the Chinese reason the person cannot act now. */
export function principalOf(defs: Definitions, session: Session, nowSeconds: number): Principal | string {
  if (nowSeconds - session.authTime > MAX_SESSION_SECONDS || session.authTime > nowSeconds + CLOCK_SKEW_SECONDS) return '登录已超过 12 小时，请重新登录';
  const scope = scopeOf(defs, session.person);
  if (typeof scope === 'string') return `账号无法使用：${scope}，请联系管理员`;
  const { username, name, roles, unit } = session.person;
  return { ...scope, username, name, roles, unit, authTime: session.authTime, expiresAt: Math.min(session.expiresAt, session.authTime + MAX_SESSION_SECONDS) };
}

export const has = (p: Pick<Principal, 'roles'>, role: Role): boolean => p.roles.includes(role);

/** Reads the county's returns, grid and workbooks: its reviewers and administrators. */
export const readsCounty = (p: Principal, county: string): boolean => p.county === county && (has(p, 'reviewer') || has(p, 'admin'));
