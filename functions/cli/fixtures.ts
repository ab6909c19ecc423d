import { UsageError } from './args.ts';

export async function run(_args: string[]): Promise<number> {
  throw new UsageError('fixtures: not built yet');
}
