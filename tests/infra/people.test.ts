/**
 * The user pool in the synthesised template (infra/constructs/people.ts): no self sign-up, the
 * mobile number as user name, the unit attribute, the password policy the local stand-in enforces
 * too (functions/core/people.ts), one group per role, the portal's app client (USER_PASSWORD_AUTH
 * only, no secret, revocable 12-hour tokens, existence never revealed), retained; the scheduled
 * function's audit export grant and the audit exports' retention. One synth, no bundling.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD_POLICY, ROLES, UNIT_ATTRIBUTE } from '../../functions/core/people.ts';
import { MAX_SESSION_SECONDS } from '../../functions/portal/auth.ts';
import { loadDeployConfig } from '../../infra/config.ts';
import { AUDIT_RETENTION_DAYS } from '../../infra/constructs/storage.ts';
import { HmisStack } from '../../infra/stack.ts';
import { actionsOf, flat, inspect, PORTAL_API_CONTEXT, ref, resourcesOf, type Resource } from './template.ts';

let stack: HmisStack;
let resources: Record<string, Resource>;
let outdir: string;
let logicalId: ReturnType<typeof inspect>['logicalId'];
let roleStatements: ReturnType<typeof inspect>['roleStatements'];

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'hmis-people-infra-'));
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, outdir });
  stack = new HmisStack(app, 'hmis-people', { config: loadDeployConfig((k) => ({ ...PORTAL_API_CONTEXT, stage: 'people', counties: '150525' })[k]) });
  resources = Template.fromStack(stack).toJSON().Resources;
  ({ logicalId, roleStatements } = inspect(stack, resources));
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('the user pool', () => {
  it('administrators create people: no self sign-up, the mobile number as user name, name, phone and the unit attribute', () => {
    const pool = resources[logicalId(stack.people.pool)]!;
    expect(pool.DeletionPolicy).toBe('Retain');
    expect(pool.Properties).toMatchObject({
      UserPoolName: 'hmis-people-people',
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      DeletionProtection: 'ACTIVE',
      MfaConfiguration: 'OFF',
      UsernameConfiguration: { CaseSensitive: false },
      AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'admin_only', Priority: 1 }] },
    });
    expect(pool.Properties.AliasAttributes).toBeUndefined();
    expect(pool.Properties.UsernameAttributes).toBeUndefined();
    const schema = pool.Properties.Schema as Array<{ Name: string; Required?: boolean; Mutable?: boolean; AttributeDataType?: string; StringAttributeConstraints?: unknown }>;
    expect(schema).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Name: 'name', Required: true }),
        expect.objectContaining({ Name: 'phone_number', Required: true }),
        { Name: UNIT_ATTRIBUTE.replace('custom:', ''), AttributeDataType: 'String', Mutable: true, StringAttributeConstraints: { MinLength: '4', MaxLength: '20' } },
      ]),
    );
  });

  it('the password policy is the one the local stand-in enforces; a temporary password lasts 7 days', () => {
    expect(resources[logicalId(stack.people.pool)]!.Properties.Policies).toEqual({
      PasswordPolicy: {
        MinimumLength: PASSWORD_POLICY.minLength,
        RequireLowercase: true,
        RequireUppercase: true,
        RequireNumbers: true,
        RequireSymbols: true,
        TemporaryPasswordValidityDays: PASSWORD_POLICY.temporaryPasswordValidityDays,
      },
    });
  });

  it('one group per role', () => {
    const groups = Object.values(resources).filter((r) => r.Type === 'AWS::Cognito::UserPoolGroup');
    expect(groups.map((g) => g.Properties.GroupName).sort()).toEqual([...ROLES].sort());
    for (const g of groups) expect(g.Properties.UserPoolId).toEqual(ref(logicalId(stack.people.pool)));
  });

  it("the portal's client: USER_PASSWORD_AUTH only, no secret, no OAuth, revocable tokens of the portal's session bound, existence never revealed", () => {
    const client = resources[logicalId(stack.people.client)]!.Properties;
    expect(client).toMatchObject({
      UserPoolId: ref(logicalId(stack.people.pool)),
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      PreventUserExistenceErrors: 'ENABLED',
      EnableTokenRevocation: true,
      AccessTokenValidity: MAX_SESSION_SECONDS / 60,
      IdTokenValidity: MAX_SESSION_SECONDS / 60,
      RefreshTokenValidity: MAX_SESSION_SECONDS / 60,
      TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes', RefreshToken: 'minutes' },
      AuthSessionValidity: 3,
    });
    expect(client.AllowedOAuthFlows).toBeUndefined();
    expect(client.CallbackURLs).toBeUndefined();
  });

  it('only the portal function manages people', () => {
    const managers = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.PolicyDocument).includes('cognito-idp:'));
    expect(managers.map(([, r]) => r.Properties.Roles)).toEqual([[ref(logicalId(stack.portal.function.role))]]);
  });
});

describe('the audit trail’s export', () => {
  it('the scheduled function writes audit/ only; the exports are kept ten years', () => {
    const f = stack.consolidate.function;
    const reports = logicalId(stack.storage.reports);
    const exportGrant = roleStatements(logicalId(f.role)).find((s) => s.Sid === 'ExportAudit')!;
    expect([actionsOf(exportGrant), resourcesOf(exportGrant).map(flat)]).toEqual([['s3:PutObject'], [`<${reports}>/audit/*`]]);
    const rules = resources[reports]!.Properties.LifecycleConfiguration.Rules as Array<Record<string, unknown>>;
    expect(rules.find((r) => r.Id === 'audit-retention')).toEqual({
      Id: 'audit-retention',
      Prefix: 'audit/',
      Status: 'Enabled',
      ExpirationInDays: AUDIT_RETENTION_DAYS,
      Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }],
    });
    expect(AUDIT_RETENTION_DAYS).toBe(3650);
  });
});
