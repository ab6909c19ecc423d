/**
 * Portal sign-in without a user database: every institution and every county commission
 * (`<county>-000`) has an access code derived from one secret, and a session is a signed token.
 *
 *   access code   = base32(HMAC-SHA256(K_access, code))[0..10], shown as XXXXX-XXXXX
 *   session token = base64url(JSON payload) "." base64url(HMAC-SHA256(K_session, payload))
 *                   payload {c: code, k: county, r: role, i: issued at, e: expires at} (seconds)
 *   K_access, K_session = HMAC-SHA256(secret, "hmis-portal/access" | "hmis-portal/session")
 *
 * A token is refused past its own expiry and, whatever that says, MAX_SESSION_SECONDS after it was
 * issued. Rotating the secret changes every access code and ends every session. node:crypto only.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Definitions } from '../core/definitions/definitions.ts';

export type Role = 'institution' | 'commission';

/** Who is signed in: derived from the definitions at sign-in, carried in the token. */
export interface Principal {
  /** institution code, `<county>-000` for the commission */
  code: string;
  county: string;
  role: Role;
  /** issued at, seconds since the epoch */
  iat: number;
  /** expiry, seconds since the epoch */
  exp: number;
}

/** 31 letters and digits without 0/O, 1/I/L: read aloud over the phone, typed from paper. */
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const CODE_LENGTH = 10;
export const MIN_SECRET_LENGTH = 32;
export const SESSION_TTL_SECONDS = 12 * 3600;
/** The server's own bound on a session, however long its token claims to last (a workday and a half). */
export const MAX_SESSION_SECONDS = 12 * 3600;
/** Clocks of two Lambda instances may differ a little: a token issued this far "in the future" still counts. */
const CLOCK_SKEW_SECONDS = 60;

const key = (secret: string, purpose: string) => createHmac('sha256', secret).update(`hmis-portal/${purpose}`).digest();

export function checkSecret(secret: string): void {
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
    throw new Error(`PORTAL_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
  }
}

/** The access code of an institution or commission, e.g. `7KQ2M-XH9RD`. */
export function accessCode(secret: string, code: string): string {
  const mac = createHmac('sha256', key(secret, 'access')).update(code).digest();
  let out = '';
  for (let i = 0; i < CODE_LENGTH; i++) out += ALPHABET[mac[i]! % ALPHABET.length];
  return `${out.slice(0, 5)}-${out.slice(5)}`;
}

/** What people type: spaces, dashes and lower case do not matter. */
export function normalizeAccessCode(text: string): string {
  return String(text).toUpperCase().replace(/[\s\-–—_]/g, '');
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The role an institution code signs in with, or null when the definitions do not know it. */
export function roleOf(defs: Definitions, code: string): { county: string; role: Role } | null {
  const found = defs.institution(code);
  if (!found) return null;
  return { county: found.county.code, role: found.institution.type === 'commission' && code === `${found.county.code}-000` ? 'commission' : 'institution' };
}

/** Checks a code and access code; the principal when both match, else null (one answer for both mistakes). */
export function signIn(defs: Definitions, secret: string, code: string, typed: string, now: Date, ttlSeconds = SESSION_TTL_SECONDS): Principal | null {
  const who = typeof code === 'string' ? roleOf(defs, code.trim()) : null;
  const expected = accessCode(secret, who ? code.trim() : 'unknown');
  const ok = equal(normalizeAccessCode(typed ?? ''), normalizeAccessCode(expected));
  if (!who || !ok) return null;
  const iat = Math.floor(now.getTime() / 1000);
  return { code: code.trim(), county: who.county, role: who.role, iat, exp: iat + Math.min(ttlSeconds, MAX_SESSION_SECONDS) };
}

const b64url = (b: Buffer) => b.toString('base64url');

export function issueToken(secret: string, principal: Principal): string {
  const payload = b64url(Buffer.from(JSON.stringify({ c: principal.code, k: principal.county, r: principal.role, i: principal.iat, e: principal.exp })));
  const mac = b64url(createHmac('sha256', key(secret, 'session')).update(payload).digest());
  return `${payload}.${mac}`;
}

/**
 * The principal of a valid token whose institution is still in the definitions: not past its expiry,
 * issued (iat) no more than MAX_SESSION_SECONDS ago and not in the future. Else null; a token
 * without an issue time (before iat existed) too.
 */
export function verifyToken(defs: Definitions, secret: string, token: string | undefined | null, now: Date): Principal | null {
  if (typeof token !== 'string' || token.length > 1024) return null;
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return null;
  const payload = token.slice(0, dot);
  const mac = b64url(createHmac('sha256', key(secret, 'session')).update(payload).digest());
  if (!equal(mac, token.slice(dot + 1))) return null;
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const d = data as { c?: unknown; k?: unknown; r?: unknown; i?: unknown; e?: unknown };
  if (typeof d.c !== 'string' || typeof d.k !== 'string' || typeof d.i !== 'number' || typeof d.e !== 'number' || (d.r !== 'institution' && d.r !== 'commission')) return null;
  const seconds = now.getTime() / 1000;
  if (d.e <= seconds || d.i > seconds + CLOCK_SKEW_SECONDS || seconds - d.i > MAX_SESSION_SECONDS) return null;
  // the definitions decide, not the token alone: a removed institution loses access at once
  const who = roleOf(defs, d.c);
  if (!who || who.county !== d.k || who.role !== d.r) return null;
  return { code: d.c, county: d.k, role: d.r, iat: d.i, exp: Math.min(d.e, d.i + MAX_SESSION_SECONDS) };
}

/** Every sign-in of a county (commission first): what `hmis serve` prints and an operator hands out. */
export function countyAccessCodes(defs: Definitions, secret: string, county: string): Array<{ code: string; name: string; role: Role; accessCode: string }> {
  const c = defs.county(county);
  if (!c) return [];
  return c.institutions
    .map((i) => ({ code: i.code, name: i.name, role: roleOf(defs, i.code)!.role, accessCode: accessCode(secret, i.code) }))
    .sort((a, b) => (a.role === b.role ? a.code.localeCompare(b.code) : a.role === 'commission' ? -1 : 1));
}
