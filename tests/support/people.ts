/**
 * People in a test's user pool: created as an administrator would (temporary password), then signed
 * in once to set their own password, so a test can sign in with it. Over the real Cognito client and
 * the local stand-in (functions/adapters/local/idp.ts), as the portal does.
 */
import { CognitoIdentity } from '../../functions/adapters/cognito/identity.ts';
import { makeClients, type ClientEndpoints } from '../../functions/adapters/aws/clients.ts';
import type { Person, Role } from '../../functions/core/people.ts';

export const TEST_PASSWORD = 'Test-pass-2025';

/** A person of the unit with these roles and the mobile number given; their password is TEST_PASSWORD. */
export async function addPeople(endpoints: ClientEndpoints, people: Array<{ username: string; name: string; roles: Role[]; unit: string }>): Promise<Person[]> {
  const clients = makeClients(endpoints);
  try {
    const identity = new CognitoIdentity({ client: clients.cognito!, ...endpoints.cognito! });
    const out: Person[] = [];
    for (const p of people) {
      const person: Person = { ...p, phone: `+86${p.username}` };
      await identity.createUser(person, 'Temp-pass-0000');
      const first = await identity.signIn(p.username, 'Temp-pass-0000');
      if (first.kind !== 'new-password') throw new Error(`first sign-in of ${p.username}: ${first.kind}`);
      const done = await identity.completeNewPassword(p.username, first.session, TEST_PASSWORD);
      if (done.kind !== 'signed-in') throw new Error(`new password of ${p.username}: ${done.kind}`);
      out.push(person);
    }
    return out;
  } finally {
    clients.destroy();
  }
}
