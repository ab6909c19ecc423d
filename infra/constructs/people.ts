/**
 * The people who sign in to the portal: one Cognito user pool (functions/core/people.ts for what
 * each role may do).
 *
 *   groups      reporter (填报员), reviewer (审核员), admin (管理员), viewer (查看)
 *   attribute   custom:institution: the unit (institution code, <county>-000, or a city code)
 *   sign-in     the mobile number as user name and a password (USER_PASSWORD_AUTH, from the portal
 *               function only); no self sign-up: administrators create people (AdminCreateUser, the
 *               temporary password handed over, never sent by Cognito) and reset them
 *   tokens      12 h (the portal's bound on a session), revocable (logout), existence never revealed
 *
 * RETAINed with deletion protection: every person and password is here.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { PASSWORD_POLICY, ROLES, UNIT_ATTRIBUTE, type Role } from '../../functions/core/people.ts';

const ROLE_DESCRIPTIONS: Record<Role, string> = {
  reporter: 'tianbaoyuan: downloads, uploads and reads the returns of its institution',
  reviewer: 'shenheyuan: reads the county, reviews (approves or returns) accepted returns',
  admin: 'guanliyuan: reads the county, manages its people and definitions, regenerates, closes months, reads the audit trail',
  viewer: 'chakan: reads the approved data of the counties of its city',
};

/** The token lifetime: the portal's MAX_SESSION_SECONDS (functions/portal/auth.ts). */
export const SESSION_HOURS = 12;

export class People extends Construct {
  readonly pool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  readonly groups: cognito.CfnUserPoolGroup[];

  constructor(scope: Construct, id: string, props: { stage: string }) {
    super(scope, id);
    this.pool = new cognito.UserPool(this, 'Pool', {
      userPoolName: `hmis-${props.stage}-people`,
      selfSignUpEnabled: false,
      signInAliases: { username: true },
      signInCaseSensitive: false,
      standardAttributes: { fullname: { required: true, mutable: true }, phoneNumber: { required: true, mutable: true } },
      customAttributes: { [UNIT_ATTRIBUTE.replace(/^custom:/, '')]: new cognito.StringAttribute({ minLen: 4, maxLen: 20, mutable: true }) },
      passwordPolicy: {
        minLength: PASSWORD_POLICY.minLength,
        requireLowercase: PASSWORD_POLICY.requireLowercase,
        requireUppercase: PASSWORD_POLICY.requireUppercase,
        requireDigits: PASSWORD_POLICY.requireDigits,
        requireSymbols: PASSWORD_POLICY.requireSymbols,
        tempPasswordValidity: Duration.days(PASSWORD_POLICY.temporaryPasswordValidityDays),
      },
      // an administrator resets a password (a new temporary one); Cognito sends no messages
      accountRecovery: cognito.AccountRecovery.NONE,
      autoVerify: {},
      mfa: cognito.Mfa.OFF,
      featurePlan: cognito.FeaturePlan.ESSENTIALS,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.pool).acknowledge(
      {
        id: 'AwsSolutions-COG2',
        reason:
          'Township statisticians sign in from shared office computers and phones without an authenticator app, and SMS codes need an origination identity China mainland numbers do not get; passwords follow the full policy, the web ACL limits sign-in attempts per address, failed sign-ins alarm and are in the audit trail, and an administrator can disable a person at once.',
      },
      {
        id: 'AwsSolutions-COG8',
        reason:
          'Threat protection (the Plus plan, about $0.02 a month per active person) is left to the operator: the web ACL throttles sign-in per address, the API throttles the sign-in route, failed sign-ins alarm, and every sign-in is in the audit trail with its address.',
      },
    );

    this.client = this.pool.addClient('Portal', {
      userPoolClientName: 'portal',
      // the portal function signs people in server-side: no secret in a browser, no hosted UI
      generateSecret: false,
      authFlows: { userPassword: true },
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(SESSION_HOURS),
      idTokenValidity: Duration.hours(SESSION_HOURS),
      refreshTokenValidity: Duration.hours(SESSION_HOURS),
      authSessionValidity: Duration.minutes(3),
    });

    this.groups = ROLES.map(
      (role) =>
        new cognito.CfnUserPoolGroup(this, `Group-${role}`, {
          userPoolId: this.pool.userPoolId,
          groupName: role,
          // ASCII: Cognito's descriptions are not meant for Chinese (the page names the roles)
          description: ROLE_DESCRIPTIONS[role],
        }),
    );
  }
}
