/**
 * A small stand-in for a Cognito user pool on one machine: the AWS SDK's own Cognito client talks to
 * it over Cognito's JSON protocol (`X-Amz-Target: AWSCognitoIdentityProviderService.<Operation>`), and
 * it issues RS256 access tokens with Cognito's claims, its JWKS at `/<poolId>/.well-known/jwks.json`.
 * So the portal signs people in and verifies tokens (aws-jwt-verify) with one code path, here and in AWS
 * (functions/adapters/cognito/identity.ts).
 *
 * Why not cognito-local (5.3.0): it lacks AdminUserGlobalSignOut, GlobalSignOut and
 * AdminResetUserPassword, supports RevokeToken only partly, runs as its own process on a fixed port
 * with its database in the working directory, and brings the end-of-support AWS SDK v2. The portal
 * needs exactly the operations below, with revocation seen by GetUser.
 *
 * Operations: InitiateAuth (USER_PASSWORD_AUTH), RespondToAuthChallenge (NEW_PASSWORD_REQUIRED),
 * GetUser, RevokeToken, GlobalSignOut; with the stack's credentials (as Cognito requires IAM
 * credentials for them): AdminCreateUser, AdminAddUserToGroup, AdminGetUser, AdminListGroupsForUser,
 * AdminDisableUser, AdminEnableUser, AdminSetUserPassword, AdminUserGlobalSignOut, ListUsers,
 * ListUsersInGroup. Behaviour as Cognito's where the portal depends on it: one answer for an unknown
 * user and a wrong password (PreventUserExistenceErrors), a disabled user cannot sign in and its
 * tokens stop working at GetUser, a temporary password must be changed at the first sign-in and
 * expires after 7 days, a revoked refresh token revokes the access tokens issued with it.
 *
 * <dataDir>/idp.json keeps users (scrypt password hashes), sessions and the pool's ids;
 * <dataDir>/idp-key.pem the signing key (mode 600). Token times are real time, whatever clock the
 * stack simulates: aws-jwt-verify checks them against the real one.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, scrypt, sign, timingSafeEqual, verify as verifySignature, type KeyObject } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PASSWORD_POLICY, passwordProblem, ROLES } from '../../core/people.ts';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export interface LocalIdpOptions {
  dataDir: string;
  region: string;
  /** 0 = a free port */
  port?: number;
  /** the access key id admin operations must be signed with */
  accessKeyId: string;
  /** access token lifetime, seconds (the user pool client's: 12 h) */
  accessTokenSeconds?: number;
  now?: () => number;
}

export interface LocalIdp {
  url: string;
  userPoolId: string;
  clientId: string;
  issuer: string;
  jwksUrl: string;
  close(): Promise<void>;
}

interface StoredUser {
  sub: string;
  attributes: Record<string, string>;
  groups: string[];
  enabled: boolean;
  status: 'FORCE_CHANGE_PASSWORD' | 'CONFIRMED';
  passwordHash: string;
  passwordSetAt: number;
  createdAt: number;
  modifiedAt: number;
}

interface StoredSession {
  username: string;
  refreshHash: string;
  expiresAt: number;
  revoked: boolean;
}

interface State {
  userPoolId: string;
  clientId: string;
  users: Record<string, StoredUser>;
  /** by origin_jti: a sign-in, its refresh token and whether it was revoked */
  sessions: Record<string, StoredSession>;
}

/** Cognito's error shape: the SDK reads `__type`. */
class CognitoError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const REFRESH_SECONDS = 30 * 24 * 3600;
const CHALLENGE_SECONDS = 180;

export async function startLocalIdp(options: LocalIdpOptions): Promise<LocalIdp> {
  const now = options.now ?? Date.now;
  const stateFile = join(options.dataDir, 'idp.json');
  const keyFile = join(options.dataDir, 'idp-key.pem');
  const accessSeconds = options.accessTokenSeconds ?? 12 * 3600;

  const state: State = JSON.parse(await readFile(stateFile, 'utf8').catch(() => 'null')) ?? {
    userPoolId: `${options.region}_hmisLocal`,
    clientId: randomBytes(13).toString('hex'),
    users: {},
    sessions: {},
  };
  let privateKey: KeyObject;
  const pem = await readFile(keyFile, 'utf8').catch(() => '');
  if (pem) {
    privateKey = createPrivateKey(pem);
  } else {
    privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
  }
  const publicKey = createPublicKey(privateKey);
  const kid = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url').slice(0, 20);
  const issuer = `https://cognito-idp.${options.region}.amazonaws.com/${state.userPoolId}`;
  const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] };
  const challenges = new Map<string, { username: string; expiresAt: number }>();

  let saving = Promise.resolve();
  const save = () => {
    const t = now();
    for (const [id, s] of Object.entries(state.sessions)) if (s.expiresAt < t) delete state.sessions[id];
    const text = JSON.stringify(state, null, 1);
    saving = saving.then(async () => {
      const tmp = `${stateFile}.${process.pid}.tmp`;
      await writeFile(tmp, text, { mode: 0o600 });
      await rename(tmp, stateFile);
    });
    return saving;
  };
  await save();

  const seconds = () => Math.floor(now() / 1000);
  const b64 = (data: unknown) => Buffer.from(JSON.stringify(data)).toString('base64url');
  function jwt(payload: Record<string, unknown>): string {
    const data = `${b64({ kid, alg: 'RS256' })}.${b64(payload)}`;
    return `${data}.${sign('sha256', Buffer.from(data), privateKey).toString('base64url')}`;
  }

  /** The payload of a token this pool signed, unexpired; else NotAuthorized. */
  function readToken(token: unknown): Record<string, unknown> {
    const parts = typeof token === 'string' ? token.split('.') : [];
    const bad = () => new CognitoError('NotAuthorizedException', 'Invalid Access Token');
    if (parts.length !== 3) throw bad();
    const ok = verifySignature('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2]!, 'base64url'));
    if (!ok) throw bad();
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (payload.token_use !== 'access' || payload.iss !== issuer) throw bad();
    if (typeof payload.exp !== 'number' || payload.exp <= seconds()) throw new CognitoError('NotAuthorizedException', 'Access Token has expired');
    return payload;
  }

  async function hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    return `${salt.toString('base64')}:${(await scryptAsync(password, salt, 32)).toString('base64')}`;
  }

  async function matches(password: string, stored: string | undefined): Promise<boolean> {
    // an unknown user costs the same as a wrong password
    const [salt, want] = (stored ?? `${randomBytes(16).toString('base64')}:${randomBytes(32).toString('base64')}`).split(':') as [string, string];
    const got = await scryptAsync(String(password ?? ''), Buffer.from(salt, 'base64'), 32);
    return timingSafeEqual(got, Buffer.from(want, 'base64'));
  }

  function user(username: unknown): StoredUser {
    const u = typeof username === 'string' ? state.users[username] : undefined;
    if (!u) throw new CognitoError('UserNotFoundException', 'User does not exist.');
    return u;
  }

  function checkPassword(password: unknown): string {
    const problem = passwordProblem(String(password ?? ''));
    if (problem) throw new CognitoError('InvalidPasswordException', `Password does not conform to policy: ${problem}`);
    return String(password);
  }

  function issue(username: string): Record<string, unknown> {
    const u = state.users[username]!;
    const t = seconds();
    const originJti = randomUUID();
    const refreshToken = randomBytes(48).toString('base64url');
    state.sessions[originJti] = { username, refreshHash: createHash('sha256').update(refreshToken).digest('hex'), expiresAt: now() + REFRESH_SECONDS * 1000, revoked: false };
    const common = { sub: u.sub, 'cognito:groups': u.groups, iss: issuer, origin_jti: originJti, event_id: randomUUID(), auth_time: t, iat: t, exp: t + accessSeconds };
    return {
      AccessToken: jwt({ ...common, client_id: state.clientId, token_use: 'access', scope: 'aws.cognito.signin.user.admin', jti: randomUUID(), username }),
      IdToken: jwt({ ...common, aud: state.clientId, token_use: 'id', 'cognito:username': username, jti: randomUUID(), ...u.attributes }),
      RefreshToken: refreshToken,
      ExpiresIn: accessSeconds,
      TokenType: 'Bearer',
    };
  }

  function signOutEverywhere(username: string): void {
    for (const s of Object.values(state.sessions)) if (s.username === username) s.revoked = true;
  }

  const attributesOf = (u: StoredUser) => [{ Name: 'sub', Value: u.sub }, ...Object.entries(u.attributes).map(([Name, Value]) => ({ Name, Value }))];

  const userType = (username: string, u: StoredUser) => ({
    Username: username,
    Attributes: attributesOf(u),
    Enabled: u.enabled,
    UserStatus: u.status,
    UserCreateDate: u.createdAt / 1000,
    UserLastModifiedDate: u.modifiedAt / 1000,
  });

  function page<T>(items: T[], limit: unknown, token: unknown): { items: T[]; next?: string } {
    const size = Math.min(60, Math.max(1, Number(limit) || 60));
    const start = typeof token === 'string' && /^\d+$/.test(token) ? Number(token) : 0;
    const next = start + size < items.length ? String(start + size) : undefined;
    return { items: items.slice(start, start + size), ...(next ? { next } : {}) };
  }

  const client = (id: unknown) => {
    if (id !== state.clientId) throw new CognitoError('ResourceNotFoundException', 'User pool client does not exist.');
  };
  const pool = (id: unknown) => {
    if (id !== state.userPoolId) throw new CognitoError('ResourceNotFoundException', 'User pool does not exist.');
  };
  const group = (name: unknown) => {
    if (!(ROLES as readonly unknown[]).includes(name)) throw new CognitoError('ResourceNotFoundException', 'Group not found.');
    return name as string;
  };

  const open: Record<string, (body: Record<string, any>) => Promise<unknown>> = {
    async InitiateAuth(body) {
      client(body.ClientId);
      if (body.AuthFlow !== 'USER_PASSWORD_AUTH') throw new CognitoError('InvalidParameterException', `${String(body.AuthFlow)} is not supported by the local user pool`);
      const username = String(body.AuthParameters?.USERNAME ?? '');
      const u = state.users[username];
      const ok = await matches(String(body.AuthParameters?.PASSWORD ?? ''), u?.passwordHash);
      if (!u || !ok) throw new CognitoError('NotAuthorizedException', 'Incorrect username or password.');
      if (!u.enabled) throw new CognitoError('NotAuthorizedException', 'User is disabled.');
      if (u.status === 'FORCE_CHANGE_PASSWORD') {
        if (now() - u.passwordSetAt > PASSWORD_POLICY.temporaryPasswordValidityDays * 86_400_000) {
          throw new CognitoError('NotAuthorizedException', 'Temporary password has expired and must be reset by an administrator.');
        }
        const session = randomBytes(32).toString('base64url');
        challenges.set(session, { username, expiresAt: now() + CHALLENGE_SECONDS * 1000 });
        return { ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: session, ChallengeParameters: { USER_ID_FOR_SRP: username, requiredAttributes: '[]', userAttributes: JSON.stringify(u.attributes) } };
      }
      const result = issue(username);
      await save();
      return { AuthenticationResult: result, ChallengeParameters: {} };
    },
    async RespondToAuthChallenge(body) {
      client(body.ClientId);
      if (body.ChallengeName !== 'NEW_PASSWORD_REQUIRED') throw new CognitoError('InvalidParameterException', `${String(body.ChallengeName)} is not supported by the local user pool`);
      const challenge = challenges.get(String(body.Session ?? ''));
      const username = String(body.ChallengeResponses?.USERNAME ?? '');
      if (!challenge || challenge.expiresAt < now() || challenge.username !== username) throw new CognitoError('NotAuthorizedException', 'Invalid session for the user, session is expired.');
      const password = checkPassword(body.ChallengeResponses?.NEW_PASSWORD);
      const u = user(username);
      challenges.delete(String(body.Session));
      Object.assign(u, { passwordHash: await hash(password), passwordSetAt: now(), status: 'CONFIRMED', modifiedAt: now() });
      const result = issue(username);
      await save();
      return { AuthenticationResult: result, ChallengeParameters: {} };
    },
    async GetUser(body) {
      const payload = readToken(body.AccessToken);
      const username = String(payload.username);
      const u = state.users[username];
      const session = state.sessions[String(payload.origin_jti)];
      if (!u || u.sub !== payload.sub) throw new CognitoError('NotAuthorizedException', 'Invalid Access Token');
      if (!u.enabled) throw new CognitoError('NotAuthorizedException', 'User is disabled.');
      if (!session || session.revoked) throw new CognitoError('NotAuthorizedException', 'Access Token has been revoked');
      return { Username: username, UserAttributes: attributesOf(u), MFAOptions: [] };
    },
    async RevokeToken(body) {
      client(body.ClientId);
      const refreshHash = createHash('sha256').update(String(body.Token ?? '')).digest('hex');
      const session = Object.values(state.sessions).find((s) => s.refreshHash === refreshHash);
      if (session) {
        session.revoked = true;
        await save();
      }
      return {};
    },
    async GlobalSignOut(body) {
      const payload = readToken(body.AccessToken);
      signOutEverywhere(String(payload.username));
      await save();
      return {};
    },
  };

  const admin: Record<string, (body: Record<string, any>) => Promise<unknown>> = {
    async AdminCreateUser(body) {
      const username = String(body.Username ?? '');
      if (!/^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u.test(username)) throw new CognitoError('InvalidParameterException', 'Invalid username.');
      if (state.users[username]) throw new CognitoError('UsernameExistsException', 'User account already exists');
      const password = checkPassword(body.TemporaryPassword);
      const attributes: Record<string, string> = {};
      for (const a of (body.UserAttributes ?? []) as Array<{ Name: string; Value: string }>) attributes[a.Name] = a.Value;
      const t = now();
      state.users[username] = { sub: randomUUID(), attributes, groups: [], enabled: true, status: 'FORCE_CHANGE_PASSWORD', passwordHash: await hash(password), passwordSetAt: t, createdAt: t, modifiedAt: t };
      await save();
      return { User: userType(username, state.users[username]!) };
    },
    async AdminAddUserToGroup(body) {
      const u = user(body.Username);
      const g = group(body.GroupName);
      if (!u.groups.includes(g)) u.groups.push(g);
      await save();
      return {};
    },
    async AdminGetUser(body) {
      const u = user(body.Username);
      const { Attributes, ...rest } = userType(String(body.Username), u);
      return { ...rest, UserAttributes: Attributes };
    },
    async AdminListGroupsForUser(body) {
      const u = user(body.Username);
      return { Groups: u.groups.map((GroupName) => ({ GroupName, UserPoolId: state.userPoolId })) };
    },
    async AdminDisableUser(body) {
      const u = user(body.Username);
      Object.assign(u, { enabled: false, modifiedAt: now() });
      signOutEverywhere(String(body.Username));
      await save();
      return {};
    },
    async AdminEnableUser(body) {
      Object.assign(user(body.Username), { enabled: true, modifiedAt: now() });
      await save();
      return {};
    },
    async AdminSetUserPassword(body) {
      const u = user(body.Username);
      const password = checkPassword(body.Password);
      Object.assign(u, { passwordHash: await hash(password), passwordSetAt: now(), status: body.Permanent ? 'CONFIRMED' : 'FORCE_CHANGE_PASSWORD', modifiedAt: now() });
      await save();
      return {};
    },
    async AdminUserGlobalSignOut(body) {
      user(body.Username);
      signOutEverywhere(String(body.Username));
      await save();
      return {};
    },
    async ListUsers(body) {
      const all = Object.keys(state.users).sort().map((name) => userType(name, state.users[name]!));
      const { items, next } = page(all, body.Limit, body.PaginationToken);
      return { Users: items, ...(next ? { PaginationToken: next } : {}) };
    },
    async ListUsersInGroup(body) {
      const g = group(body.GroupName);
      const all = Object.keys(state.users)
        .sort()
        .filter((name) => state.users[name]!.groups.includes(g))
        .map((name) => userType(name, state.users[name]!));
      const { items, next } = page(all, body.Limit, body.NextToken);
      return { Users: items, ...(next ? { NextToken: next } : {}) };
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === `/${state.userPoolId}/.well-known/jwks.json`) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
      return;
    }
    const reply = (status: number, data: unknown, type?: string) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...(type ? { 'x-amzn-errortype': type } : {}) }).end(JSON.stringify(data));
    };
    try {
      if (req.method !== 'POST') throw new CognitoError('UnknownOperationException', 'POST only', 404);
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith('AWSCognitoIdentityProviderService.') ? target.slice('AWSCognitoIdentityProviderService.'.length) : '';
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > 64 * 1024) throw new CognitoError('InvalidParameterException', 'request too large');
        chunks.push(chunk as Buffer);
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, any>;
      let run = open[operation];
      if (!run && admin[operation]) {
        // Cognito wants IAM credentials for these: a request signed with the stack's key id
        if (!String(req.headers.authorization ?? '').includes(`Credential=${options.accessKeyId}/`)) throw new CognitoError('UnrecognizedClientException', 'The security token included in the request is invalid.');
        pool(body.UserPoolId);
        run = admin[operation];
      }
      if (!run) throw new CognitoError('UnknownOperationException', `${operation || target} is not supported by the local user pool`);
      reply(200, await run(body));
    } catch (err) {
      if (err instanceof CognitoError) reply(err.status, { __type: err.type, message: err.message }, err.type);
      else reply(500, { __type: 'InternalErrorException', message: err instanceof Error ? err.message : String(err) }, 'InternalErrorException');
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    userPoolId: state.userPoolId,
    clientId: state.clientId,
    issuer,
    jwksUrl: `${url}/${state.userPoolId}/.well-known/jwks.json`,
    async close() {
      await saving;
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
    },
  };
}
