import { portalUsers, accessCodeTable } from '../portal/codes.ts';
import { parseArgs, stringFlag, UsageError } from './args.ts';
import { commandDefinitions } from './local.ts';

/**
 * `PORTAL_SECRET=… hmis portal-codes [COUNTY…] [--data-dir D]`: the access codes of every institution
 * (the definitions stored on D, else the bundled ones), from the same secret the portal-api function has.
 */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { 'data-dir': 'string' });
  const secret = process.env.PORTAL_SECRET ?? '';
  const source = await commandDefinitions(stringFlag(args, 'data-dir'));
  try {
    const defs = await source.definitions.latest();
    let users;
    try {
      users = portalUsers(defs, secret, args.positionals);
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
    console.log(accessCodeTable(users));
    return 0;
  } finally {
    await source.close();
  }
}
