/**
 * The user pool as the portal uses it, over HTTP: the AWS SDK's own Cognito client against the local
 * stand-in (functions/adapters/local/idp.ts), tokens verified by aws-jwt-verify against its JWKS
 * (functions/adapters/cognito/identity.ts): the flows the portal needs, Cognito's claim names, and
 * revocation (logout, disable, reset) seen by GetUser; on another function instance within the
 * recheck time.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminCreateUserCommand, CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CognitoIdentity } from '../../functions/adapters/cognito/identity.ts';
import { startLocalIdp, type LocalIdp } from '../../functions/adapters/local/idp.ts';
import type { Person } from '../../functions/core/people.ts';
import { IdentityError } from '../../functions/ports/index.ts';

const stack = inject('stack');
const TEMP = 'Temp-pass-1234';
const PASSWORD = 'Own-pass-5678';
let client: CognitoIdentityProviderClient;
let identity: CognitoIdentity;
const person = (n: number): Person => ({ username: `1350000${String(n).padStart(4, '0')}`, name: `测试${n}`, phone: `+861350000${String(n).padStart(4, '0')}`, roles: ['reporter'], unit: '150525-101' });

/** a person who has set their own password; their tokens */
async function signedIn(p: Person, id = identity) {
  await id.createUser(p, TEMP);
  const first = await id.signIn(p.username, TEMP);
  if (first.kind !== 'new-password') throw new Error(first.kind);
  const done = await id.completeNewPassword(p.username, first.session, PASSWORD);
  if (done.kind !== 'signed-in') throw new Error(done.kind);
  return done.tokens;
}

beforeAll(() => {
  client = new CognitoIdentityProviderClient({ region: stack.region, endpoint: stack.cognito!.url, credentials: stack.credentials });
  identity = new CognitoIdentity({ client, ...stack.cognito! });
});

afterAll(() => client.destroy());

describe('the local user pool through the Cognito client', () => {
  it('a new person signs in with the temporary password only to choose a new one that meets the policy', async () => {
    const p = person(1);
    await identity.createUser(p, TEMP);
    expect(await identity.getUser(p.username)).toMatchObject({ ...p, enabled: true, status: 'FORCE_CHANGE_PASSWORD' });
    const first = await identity.signIn(p.username, TEMP);
    expect(first.kind).toBe('new-password');
    const session = (first as { session: string }).session;
    expect(await identity.completeNewPassword(p.username, session, 'weakpass')).toMatchObject({ kind: 'refused', reason: 'password-policy' });
    const done = await identity.completeNewPassword(p.username, session, PASSWORD);
    expect(done.kind).toBe('signed-in');
    expect(await identity.getUser(p.username)).toMatchObject({ status: 'CONFIRMED' });
    expect(await identity.signIn(p.username, TEMP)).toMatchObject({ kind: 'refused', reason: 'credentials' });
    expect((await identity.signIn(p.username, PASSWORD)).kind).toBe('signed-in');
    // the challenge session is used up
    expect(await identity.completeNewPassword(p.username, session, 'Another-pass-9')).toMatchObject({ kind: 'refused', reason: 'session-expired' });
  });

  it('one answer for a wrong password and an unknown user; a duplicate is refused', async () => {
    const p = person(2);
    await signedIn(p);
    expect(await identity.signIn(p.username, 'Wrong-pass-1')).toEqual(await identity.signIn('13500009999', 'Wrong-pass-1'));
    await expect(identity.createUser(p, TEMP)).rejects.toThrow(IdentityError);
    await expect(identity.createUser(p, TEMP)).rejects.toMatchObject({ code: 'user-exists' });
  });

  it('access tokens are Cognito’s: RS256 with a kid from the JWKS, its claim names, verified by aws-jwt-verify', async () => {
    const tokens = await signedIn({ ...person(3), roles: ['reviewer', 'admin'], unit: '150525-000' });
    const [header, payload] = tokens.accessToken.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>);
    expect(header).toEqual({ kid: expect.any(String), alg: 'RS256' });
    expect(Object.keys(payload!).sort()).toEqual(['auth_time', 'client_id', 'cognito:groups', 'event_id', 'exp', 'iat', 'iss', 'jti', 'origin_jti', 'scope', 'sub', 'token_use', 'username'].sort());
    expect(payload).toMatchObject({ 'cognito:groups': ['reviewer', 'admin'], token_use: 'access', client_id: stack.cognito!.clientId, iss: `https://cognito-idp.${stack.region}.amazonaws.com/${stack.cognito!.userPoolId}`, username: person(3).username, scope: 'aws.cognito.signin.user.admin' });
    expect(Number(payload!.exp) - Number(payload!.iat)).toBe(12 * 3600);
    const jwks = (await (await fetch(stack.cognito!.jwksUrl)).json()) as { keys: Array<{ kid: string; alg: string; kty: string }> };
    expect(jwks.keys).toEqual([expect.objectContaining({ kid: header!.kid, alg: 'RS256', kty: 'RSA' })]);
    // aws-jwt-verify on its own, given the JWKS: the token is a Cognito access token of this pool and client
    const verifier = CognitoJwtVerifier.create({ userPoolId: stack.cognito!.userPoolId, clientId: stack.cognito!.clientId, tokenUse: 'access' });
    verifier.cacheJwks(jwks as never);
    await expect(verifier.verify(tokens.accessToken)).resolves.toMatchObject({ username: person(3).username });
    const forged = `${tokens.accessToken.split('.').slice(0, 2).join('.')}.${Buffer.from('forged').toString('base64url')}`;
    await expect(verifier.verify(forged)).rejects.toThrow();
    const otherClient = CognitoJwtVerifier.create({ userPoolId: stack.cognito!.userPoolId, clientId: 'another', tokenUse: 'access' });
    otherClient.cacheJwks(jwks as never);
    await expect(otherClient.verify(tokens.accessToken)).rejects.toThrow();
    // and the adapter: who holds it, with the attributes the pool keeps
    expect(await identity.verify(tokens.accessToken)).toMatchObject({ person: { ...person(3), roles: ['reviewer', 'admin'], unit: '150525-000' }, authTime: payload!.auth_time });
  });

  it('logout revokes the session: the access token issued with the refresh token stops working, another session does not', async () => {
    const p = person(4);
    const tokens = await signedIn(p);
    const laptop = await identity.signIn(p.username, PASSWORD);
    expect(await identity.verify(tokens.accessToken)).not.toBeNull();
    await identity.signOut(tokens);
    expect(await identity.verify(tokens.accessToken)).toBeNull();
    expect(await identity.verify((laptop as { tokens: { accessToken: string } }).tokens.accessToken)).not.toBeNull();
  });

  it('disabling ends every session and every sign-in; on another instance within its recheck time; enabling lets the person back', async () => {
    const p = person(5);
    const tokens = await signedIn(p);
    let t = Date.now();
    const elsewhere = new CognitoIdentity({ client, ...stack.cognito!, recheckSeconds: 30, now: () => t });
    expect(await elsewhere.verify(tokens.accessToken)).not.toBeNull();
    await identity.setEnabled(p.username, false);
    // this instance (the one that disabled): at once
    expect(await identity.verify(tokens.accessToken)).toBeNull();
    expect(await identity.signIn(p.username, PASSWORD)).toMatchObject({ kind: 'refused', reason: 'disabled' });
    // another instance trusts its last check for at most 30 s, then asks the pool
    t += 29_000;
    expect(await elsewhere.verify(tokens.accessToken)).not.toBeNull();
    t += 2_000;
    expect(await elsewhere.verify(tokens.accessToken)).toBeNull();
    await identity.setEnabled(p.username, true);
    expect((await identity.signIn(p.username, PASSWORD)).kind).toBe('signed-in');
    expect(await identity.verify(tokens.accessToken)).toBeNull(); // the old session stays ended
  });

  it('a reset gives a new temporary password and ends the sessions', async () => {
    const p = person(6);
    const tokens = await signedIn(p);
    await identity.resetPassword(p.username, 'Reset-pass-0001');
    expect(await identity.verify(tokens.accessToken)).toBeNull();
    expect(await identity.signIn(p.username, PASSWORD)).toMatchObject({ kind: 'refused', reason: 'credentials' });
    expect((await identity.signIn(p.username, 'Reset-pass-0001')).kind).toBe('new-password');
  });

  it('lists people with their groups', async () => {
    const all = await identity.listUsers();
    const mine = all.filter((u) => u.username.startsWith('1350000'));
    expect(mine.find((u) => u.username === person(3).username)).toMatchObject({ roles: ['reviewer', 'admin'], unit: '150525-000', enabled: true });
    expect(mine.find((u) => u.username === person(5).username)).toMatchObject({ roles: ['reporter'], enabled: true });
    expect(all.every((u) => u.unit !== '')).toBe(true);
  });

  it('admin operations need the stack’s credentials, as Cognito needs IAM credentials', async () => {
    const stranger = new CognitoIdentityProviderClient({ region: stack.region, endpoint: stack.cognito!.url, credentials: { accessKeyId: 'NOTOURS', secretAccessKey: 'x' } });
    try {
      await expect(stranger.send(new AdminCreateUserCommand({ UserPoolId: stack.cognito!.userPoolId, Username: '13500000099', TemporaryPassword: TEMP }))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
      // sign-in is public (the client id is enough), as in Cognito
      expect((await new CognitoIdentity({ client: stranger, ...stack.cognito! }).signIn(person(2).username, PASSWORD)).kind).toBe('signed-in');
    } finally {
      stranger.destroy();
    }
  });
});

describe('a user pool of its own data dir', () => {
  let dir: string;
  let now = Date.now();
  let idp: LocalIdp;
  let own: CognitoIdentityProviderClient;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hmis-idp-'));
    idp = await startLocalIdp({ dataDir: dir, region: 'us-east-1', accessKeyId: 'KEY', now: () => now });
    own = new CognitoIdentityProviderClient({ region: 'us-east-1', endpoint: idp.url, credentials: { accessKeyId: 'KEY', secretAccessKey: 'x' } });
  });

  afterAll(async () => {
    own.destroy();
    await idp.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the key and the people survive a restart; passwords are stored hashed; a temporary password expires after 7 days', async () => {
    const id = new CognitoIdentity({ client: own, userPoolId: idp.userPoolId, clientId: idp.clientId, jwksUrl: idp.jwksUrl });
    const tokens = await signedIn(person(8), id);
    await id.createUser(person(7), TEMP);
    const state = await readFile(join(dir, 'idp.json'), 'utf8');
    expect(state).not.toContain(PASSWORD);
    expect(state).not.toContain(TEMP);
    expect((await stat(join(dir, 'idp-key.pem'))).mode & 0o777).toBe(0o600);
    await idp.close();
    idp = await startLocalIdp({ dataDir: dir, region: 'us-east-1', accessKeyId: 'KEY', now: () => now, port: Number(new URL(idp.url).port) });
    const again = new CognitoIdentity({ client: own, userPoolId: idp.userPoolId, clientId: idp.clientId, jwksUrl: idp.jwksUrl });
    expect(await again.verify(tokens.accessToken)).toMatchObject({ person: { username: person(8).username, unit: '150525-101' } });
    now += 7 * 86_400_000 - 60_000;
    expect((await again.signIn(person(7).username, TEMP)).kind).toBe('new-password');
    now += 120_000;
    expect(await again.signIn(person(7).username, TEMP)).toMatchObject({ kind: 'refused', reason: 'temporary-expired' });
    await again.resetPassword(person(7).username, TEMP);
    expect((await again.signIn(person(7).username, TEMP)).kind).toBe('new-password');
  });

  it('lists every person across pages of 60', async () => {
    const id = new CognitoIdentity({ client: own, userPoolId: idp.userPoolId, clientId: idp.clientId, jwksUrl: idp.jwksUrl });
    for (let n = 100; n < 161; n++) await id.createUser({ ...person(n), roles: n % 2 ? ['reporter'] : ['reviewer'], unit: n % 2 ? '150525-101' : '150525-000' }, TEMP);
    const all = await id.listUsers();
    expect(all.filter((u) => u.username >= person(100).username && u.username <= person(160).username)).toHaveLength(61);
    expect(all.find((u) => u.username === person(160).username)).toMatchObject({ roles: ['reviewer'], unit: '150525-000' });
  });
});
