/**
 * IdentityProvider over a Cognito user pool, through the AWS SDK's Cognito client: the real pool in
 * AWS, the local stand-in (functions/adapters/local/idp.ts) on one machine. Only where the JWKS is
 * fetched differs (`jwksUrl`: the stand-in answers over http, which aws-jwt-verify's https fetcher
 * does not speak).
 *
 * A token is verified with aws-jwt-verify (signature against the pool's JWKS, issuer, expiry,
 * token_use access, client_id), then checked with the pool itself (GetUser, which also gives the
 * person's attributes): a revoked token (logout, a reset) or a disabled user is refused there. That
 * answer is kept per token for `recheckSeconds` (default 30): disabling a user ends its access within
 * that time on every running function, at once on the one that disabled it.
 */
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  AdminSetUserPasswordCommand,
  AdminUserGlobalSignOutCommand,
  CognitoIdentityProviderServiceException,
  GetUserCommand,
  InitiateAuthCommand,
  ListUsersCommand,
  ListUsersInGroupCommand,
  RespondToAuthChallengeCommand,
  RevokeTokenCommand,
  type AttributeType,
  type AuthenticationResultType,
  type CognitoIdentityProviderClient,
  type UserType,
} from '@aws-sdk/client-cognito-identity-provider';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { ROLES, UNIT_ATTRIBUTE, type Person, type PersonRecord, type Role } from '../../core/people.ts';
import { IdentityError, type IdentityProvider, type Session, type SignInOutcome } from '../../ports/index.ts';

/** How long a token's GetUser answer is trusted: revocation and disabling take effect within it. */
export const RECHECK_SECONDS = 30;
const CACHE_MAX = 5_000;

export interface CognitoIdentityOptions {
  client: CognitoIdentityProviderClient;
  userPoolId: string;
  clientId: string;
  /** the JWKS's address when it is not Cognito's own (the local stand-in) */
  jwksUrl?: string;
  recheckSeconds?: number;
  /** ms since the epoch; the cache's clock (tests) */
  now?: () => number;
}

interface Checked {
  session: Session;
  checkedAt: number;
}

export class CognitoIdentity implements IdentityProvider {
  private readonly verifier;
  private readonly checked = new Map<string, Checked>();
  private readonly now: () => number;

  constructor(private readonly options: CognitoIdentityOptions) {
    this.now = options.now ?? Date.now;
    const url = options.jwksUrl;
    const jwksCache = url
      ? new SimpleJwksCache({ fetcher: { fetch: async () => (await fetch(url, { signal: AbortSignal.timeout(3_000) })).arrayBuffer() } })
      : undefined;
    this.verifier = CognitoJwtVerifier.create({ userPoolId: options.userPoolId, clientId: options.clientId, tokenUse: 'access' }, jwksCache ? { jwksCache } : undefined);
  }

  private get client() {
    return this.options.client;
  }

  async signIn(username: string, password: string): Promise<SignInOutcome> {
    return this.authenticate(() =>
      this.client.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: this.options.clientId, AuthParameters: { USERNAME: username, PASSWORD: password } })),
    );
  }

  async completeNewPassword(username: string, session: string, newPassword: string): Promise<SignInOutcome> {
    return this.authenticate(() =>
      this.client.send(
        new RespondToAuthChallengeCommand({ ClientId: this.options.clientId, ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: session, ChallengeResponses: { USERNAME: username, NEW_PASSWORD: newPassword } }),
      ),
    );
  }

  private async authenticate(call: () => Promise<{ AuthenticationResult?: AuthenticationResultType; ChallengeName?: string; Session?: string }>): Promise<SignInOutcome> {
    try {
      const out = await call();
      const r = out.AuthenticationResult;
      if (r?.AccessToken && r.RefreshToken) return { kind: 'signed-in', tokens: { accessToken: r.AccessToken, refreshToken: r.RefreshToken, expiresIn: r.ExpiresIn ?? 3600 } };
      if (out.ChallengeName === 'NEW_PASSWORD_REQUIRED' && out.Session) return { kind: 'new-password', session: out.Session };
      throw new Error(`Cognito answered neither tokens nor NEW_PASSWORD_REQUIRED (${out.ChallengeName ?? 'nothing'})`);
    } catch (err) {
      if (!(err instanceof CognitoIdentityProviderServiceException)) throw err;
      const message = err.message ?? '';
      if (err.name === 'InvalidPasswordException') return { kind: 'refused', reason: 'password-policy', message };
      if (err.name !== 'NotAuthorizedException' && err.name !== 'UserNotFoundException' && err.name !== 'PasswordResetRequiredException') throw err;
      if (/disabled/i.test(message)) return { kind: 'refused', reason: 'disabled', message };
      if (/temporary password has expired/i.test(message)) return { kind: 'refused', reason: 'temporary-expired', message };
      if (/session/i.test(message)) return { kind: 'refused', reason: 'session-expired', message };
      return { kind: 'refused', reason: 'credentials', message };
    }
  }

  async verify(accessToken: string): Promise<Session | null> {
    if (typeof accessToken !== 'string' || accessToken.length > 8_192) return null;
    let payload: Record<string, unknown>;
    try {
      payload = (await this.verifier.verify(accessToken)) as unknown as Record<string, unknown>;
    } catch {
      return null;
    }
    const jti = String(payload.jti ?? '');
    const cached = this.checked.get(jti);
    const t = this.now();
    if (cached && t - cached.checkedAt < (this.options.recheckSeconds ?? RECHECK_SECONDS) * 1000) return cached.session;
    let user;
    try {
      user = await this.client.send(new GetUserCommand({ AccessToken: accessToken }));
    } catch (err) {
      this.checked.delete(jti);
      if (err instanceof CognitoIdentityProviderServiceException && (err.name === 'NotAuthorizedException' || err.name === 'UserNotFoundException')) return null;
      throw err;
    }
    const groups = Array.isArray(payload['cognito:groups']) ? (payload['cognito:groups'] as unknown[]) : [];
    const session: Session = {
      person: personOf(user.Username ?? String(payload.username), user.UserAttributes ?? [], groups),
      tokenId: jti,
      issuedAt: Number(payload.iat),
      authTime: Number(payload.auth_time ?? payload.iat),
      expiresAt: Number(payload.exp),
    };
    this.checked.delete(jti);
    this.checked.set(jti, { session, checkedAt: t });
    if (this.checked.size > CACHE_MAX) this.checked.delete(this.checked.keys().next().value!);
    return session;
  }

  async signOut(tokens: { accessToken?: string; refreshToken?: string }): Promise<void> {
    if (tokens.accessToken) this.checked.delete(jtiOf(tokens.accessToken));
    if (tokens.refreshToken) await this.client.send(new RevokeTokenCommand({ ClientId: this.options.clientId, Token: tokens.refreshToken }));
  }

  async createUser(person: Person, temporaryPassword: string): Promise<void> {
    await this.admin(() =>
      this.client.send(
        new AdminCreateUserCommand({
          UserPoolId: this.options.userPoolId,
          Username: person.username,
          TemporaryPassword: temporaryPassword,
          // the administrator hands the temporary password over; Cognito sends nothing
          MessageAction: 'SUPPRESS',
          UserAttributes: [
            { Name: 'name', Value: person.name },
            { Name: 'phone_number', Value: person.phone },
            { Name: UNIT_ATTRIBUTE, Value: person.unit },
          ],
        }),
      ),
    );
    for (const role of person.roles) await this.admin(() => this.client.send(new AdminAddUserToGroupCommand({ UserPoolId: this.options.userPoolId, Username: person.username, GroupName: role })));
  }

  async getUser(username: string): Promise<PersonRecord | null> {
    try {
      const u = await this.client.send(new AdminGetUserCommand({ UserPoolId: this.options.userPoolId, Username: username }));
      const groups = await this.client.send(new AdminListGroupsForUserCommand({ UserPoolId: this.options.userPoolId, Username: username }));
      return recordOf({ Username: u.Username, Attributes: u.UserAttributes, Enabled: u.Enabled, UserStatus: u.UserStatus, UserCreateDate: u.UserCreateDate }, (groups.Groups ?? []).map((g) => g.GroupName));
    } catch (err) {
      if (err instanceof CognitoIdentityProviderServiceException && err.name === 'UserNotFoundException') return null;
      throw err;
    }
  }

  /** Every user of the pool with their groups (ListUsers cannot filter on custom attributes: the caller filters). */
  async listUsers(): Promise<PersonRecord[]> {
    const users: UserType[] = [];
    let token: string | undefined;
    do {
      const out = await this.client.send(new ListUsersCommand({ UserPoolId: this.options.userPoolId, Limit: 60, PaginationToken: token }));
      users.push(...(out.Users ?? []));
      token = out.PaginationToken;
    } while (token);
    const roles = new Map<string, Role[]>();
    for (const role of ROLES) {
      let next: string | undefined;
      do {
        const out = await this.client.send(new ListUsersInGroupCommand({ UserPoolId: this.options.userPoolId, GroupName: role, Limit: 60, NextToken: next }));
        for (const u of out.Users ?? []) roles.set(u.Username!, [...(roles.get(u.Username!) ?? []), role]);
        next = out.NextToken;
      } while (next);
    }
    return users.map((u) => recordOf(u, roles.get(u.Username!) ?? []));
  }

  async setEnabled(username: string, enabled: boolean): Promise<void> {
    const Command = enabled ? AdminEnableUserCommand : AdminDisableUserCommand;
    await this.admin(() => this.client.send(new Command({ UserPoolId: this.options.userPoolId, Username: username })));
    if (!enabled) await this.signOutEverywhere(username);
  }

  async resetPassword(username: string, temporaryPassword: string): Promise<void> {
    await this.admin(() => this.client.send(new AdminSetUserPasswordCommand({ UserPoolId: this.options.userPoolId, Username: username, Password: temporaryPassword, Permanent: false })));
    await this.signOutEverywhere(username);
  }

  /** Revokes the user's refresh tokens in the pool and forgets its checked tokens here. */
  private async signOutEverywhere(username: string): Promise<void> {
    await this.admin(() => this.client.send(new AdminUserGlobalSignOutCommand({ UserPoolId: this.options.userPoolId, Username: username })));
    for (const [jti, c] of this.checked) if (c.session.person.username === username) this.checked.delete(jti);
  }

  private async admin<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof CognitoIdentityProviderServiceException)) throw err;
      if (err.name === 'UsernameExistsException') throw new IdentityError('user-exists', '该手机号已有账号', { cause: err });
      if (err.name === 'UserNotFoundException') throw new IdentityError('user-not-found', '账号不存在', { cause: err });
      if (err.name === 'InvalidPasswordException') throw new IdentityError('invalid-password', '密码不符合要求', { cause: err });
      if (err.name === 'InvalidParameterException') throw new IdentityError('invalid-parameter', err.message, { cause: err });
      throw err;
    }
  }
}

function attribute(attributes: readonly AttributeType[], name: string): string {
  return attributes.find((a) => a.Name === name)?.Value ?? '';
}

function rolesOf(groups: readonly unknown[]): Role[] {
  return ROLES.filter((r) => groups.includes(r));
}

function personOf(username: string, attributes: readonly AttributeType[], groups: readonly unknown[]): Person {
  return { username, name: attribute(attributes, 'name'), phone: attribute(attributes, 'phone_number'), roles: rolesOf(groups), unit: attribute(attributes, UNIT_ATTRIBUTE) };
}

function recordOf(u: Pick<UserType, 'Username' | 'Attributes' | 'Enabled' | 'UserStatus' | 'UserCreateDate'>, groups: readonly unknown[]): PersonRecord {
  return {
    ...personOf(u.Username ?? '', u.Attributes ?? [], groups),
    enabled: u.Enabled ?? true,
    status: u.UserStatus ?? 'UNKNOWN',
    createdAt: u.UserCreateDate ? new Date(u.UserCreateDate).toISOString() : null,
  };
}

/** The jti of a token without verifying it (to forget it at logout). */
function jtiOf(token: string): string {
  try {
    return String((JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { jti?: unknown }).jti ?? '');
  } catch {
    return '';
  }
}
