/**
 * Where the portal's Lambda takes its secrets from (functions/handlers/portal-api.ts secretFromEnv):
 * PORTAL_SECRET as given, else the Secrets Manager secret PORTAL_SECRET_ARN names; the origin secret
 * likewise. The selection only: the fetch is a plain function here, the AWS call itself is not exercised.
 */
import { describe, expect, it } from 'vitest';
import { portalSecret, secretFromEnv } from '../../functions/handlers/portal-api.ts';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:PortalSecret-AbCdEf';
const SECRET = 'from-secrets-manager-0123456789-0123456789';

function recorder(value: string | undefined) {
  const calls: string[] = [];
  return { calls, fetch: async (arn: string) => (calls.push(arn), value) };
}

describe('portalSecret', () => {
  it('PORTAL_SECRET wins and nothing is fetched', async () => {
    const r = recorder(SECRET);
    expect(await portalSecret({ PORTAL_SECRET: ' local secret kept exactly ', PORTAL_SECRET_ARN: ARN }, r.fetch)).toBe(' local secret kept exactly ');
    expect(r.calls).toEqual([]);
  });

  it('else the secret named by PORTAL_SECRET_ARN, fetched once', async () => {
    const r = recorder(SECRET);
    expect(await portalSecret({ PORTAL_SECRET_ARN: ARN }, r.fetch)).toBe(SECRET);
    expect(r.calls).toEqual([ARN]);
  });

  it('an empty PORTAL_SECRET (as CDK and shells produce) counts as unset', async () => {
    const r = recorder(SECRET);
    expect(await portalSecret({ PORTAL_SECRET: '', PORTAL_SECRET_ARN: ` ${ARN} ` }, r.fetch)).toBe(SECRET);
    expect(r.calls).toEqual([ARN]);
  });

  it("neither set: '' (createPortalApi then refuses to start), nothing fetched", async () => {
    const r = recorder(SECRET);
    expect(await portalSecret({}, r.fetch)).toBe('');
    expect(r.calls).toEqual([]);
  });

  it('a secret without a SecretString (binary) is an error naming the variable', async () => {
    await expect(portalSecret({ PORTAL_SECRET_ARN: ARN }, recorder(undefined).fetch)).rejects.toThrow(/PORTAL_SECRET_ARN/);
  });
});

describe('the origin secret', () => {
  it('PORTAL_ORIGIN_SECRET, else PORTAL_ORIGIN_SECRET_ARN; never the portal secret', async () => {
    const r = recorder(SECRET);
    expect(await secretFromEnv({ PORTAL_ORIGIN_SECRET: 'given', PORTAL_SECRET: 'other' }, 'PORTAL_ORIGIN_SECRET', r.fetch)).toBe('given');
    expect(await secretFromEnv({ PORTAL_ORIGIN_SECRET_ARN: ARN, PORTAL_SECRET_ARN: 'arn:other' }, 'PORTAL_ORIGIN_SECRET', r.fetch)).toBe(SECRET);
    expect(await secretFromEnv({ PORTAL_SECRET: 'portal', PORTAL_SECRET_ARN: 'arn:other' }, 'PORTAL_ORIGIN_SECRET', r.fetch)).toBe('');
    expect(r.calls).toEqual([ARN]);
  });
});
