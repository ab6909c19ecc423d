/**
 * Where the portal's Lambda takes its origin secret from (functions/handlers/portal-api.ts
 * secretFromEnv): PORTAL_ORIGIN_SECRET as given, else the Secrets Manager secret
 * PORTAL_ORIGIN_SECRET_ARN names. The selection only: the fetch is a plain function here, the AWS call
 * itself is not exercised. (Sign-in has no secret of its own any more: the user pool keeps passwords.)
 */
import { describe, expect, it } from 'vitest';
import { secretFromEnv } from '../../functions/handlers/portal-api.ts';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:OriginSecret-AbCdEf';
const SECRET = 'from-secrets-manager-0123456789-0123456789';
const NAME = 'PORTAL_ORIGIN_SECRET';

function recorder(value: string | undefined) {
  const calls: string[] = [];
  return { calls, fetch: async (arn: string) => (calls.push(arn), value) };
}

describe('the origin secret', () => {
  it('PORTAL_ORIGIN_SECRET wins and nothing is fetched', async () => {
    const r = recorder(SECRET);
    expect(await secretFromEnv({ PORTAL_ORIGIN_SECRET: ' kept exactly ', PORTAL_ORIGIN_SECRET_ARN: ARN }, NAME, r.fetch)).toBe(' kept exactly ');
    expect(r.calls).toEqual([]);
  });

  it('else the secret named by PORTAL_ORIGIN_SECRET_ARN, fetched once; an empty value counts as unset', async () => {
    const r = recorder(SECRET);
    expect(await secretFromEnv({ PORTAL_ORIGIN_SECRET: '', PORTAL_ORIGIN_SECRET_ARN: ` ${ARN} ` }, NAME, r.fetch)).toBe(SECRET);
    expect(r.calls).toEqual([ARN]);
  });

  it("neither set: '' (no check: local runs), nothing fetched; a secret without a SecretString is an error naming the variable", async () => {
    const r = recorder(SECRET);
    expect(await secretFromEnv({}, NAME, r.fetch)).toBe('');
    expect(r.calls).toEqual([]);
    await expect(secretFromEnv({ PORTAL_ORIGIN_SECRET_ARN: ARN }, NAME, recorder(undefined).fetch)).rejects.toThrow(/PORTAL_ORIGIN_SECRET_ARN/);
  });
});
